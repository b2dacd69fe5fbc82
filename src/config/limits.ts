import { formatDuration, parseDuration } from './duration.js';
import { UsageError } from './usage-error.js';

/**
 * The accepted range of every numeric option, in one place: validation, the README's limits
 * table (a test checks it against this list) and the error messages all read it from here.
 * A number outside its range is bad input, rejected before anything starts, because values
 * past these bounds either cannot work (a timer longer than Node's 2^31-1 ms fires at once) or
 * would make the client, not the server, the thing that breaks (arrays of 10^12 slots).
 */
export interface NumericLimit {
  option: string;
  min: number;
  max: number;
  /** Whole numbers only. */
  integer: boolean;
  /** How the range reads to a user: count, bytes, a rate, or a duration (values in ms). */
  unit: 'count' | 'bytes' | 'per-second' | 'ratio' | 'duration';
  /** Why the bound is where it is: said in the error and in the README. */
  why: string;
}

const HOUR = 3_600_000;
/** A TCP client reaches one address:port from at most ~28k ephemeral ports by default (Linux). */
const MAX_SLOTS = 50_000;

const limit = (option: string, min: number, max: number, unit: NumericLimit['unit'], why: string, integer = unit === 'count' || unit === 'bytes'): NumericLimit =>
  ({ option, min, max, integer, unit, why });

export const LIMITS = {
  workers: limit('--workers', 1, 256, 'count', 'worker threads; more than the client\'s cores only adds contention, and a warning says so'),
  connections: limit('--connections', 1, MAX_SLOTS, 'count', 'each slot holds a socket, so a file descriptor; one client reaches one target from about 28k ephemeral ports by default'),
  maxConnections: limit('--max-connections', 1, MAX_SLOTS, 'count', 'as --connections: each attempt in flight holds a socket'),
  rate: limit('--rate', 0.01, 1_000_000, 'per-second', 'one Node client makes a few thousand handshakes/s per core; past a million/s the schedule is only drops'),
  handshakes: limit('--handshakes', 1, 1_000_000_000, 'count', 'per phase; bounded by 10 minutes without --duration'),
  repeat: limit('--repeat', 1, 1000, 'count', 'each repeat is a whole run'),
  resumeRatio: limit('--resume-ratio', 0, 1, 'ratio', 'a share of attempts', false),
  readBytes: limit('--read-bytes', 1, 1 << 30, 'bytes', 'read per request; 1 GiB at most'),
  requestsPerConnection: limit('--requests-per-connection', 1, 1_000_000, 'count', 'request/response exchanges per connection'),
  earlyData: limit('--early-data', 1, 16384, 'bytes', 'TLS 1.3 early data rides in the first flight; OpenSSL servers (nginx, s_server) allow at most 16384 bytes of it, and a ticket that allows fewer is counted as not offered'),
  responseBytes: limit('--response-bytes', 0, 64 << 20, 'bytes', 'the built-in server holds one response body in memory; 64 MiB at most'),
  duration: limit('--duration', 1, 24 * HOUR, 'duration', 'a phase\'s measured window; longer runs: --repeat, or several runs'),
  warmup: limit('--warmup', 0, HOUR, 'duration', 'before the window, not measured'),
  ramp: limit('--ramp', 0, HOUR, 'duration', 'before warm-up'),
  closeWait: limit('--close-wait', 0, 60_000, 'duration', 'a server answers a close_notify at once, or not at all'),
  timeout: limit('--timeout', 1, HOUR, 'duration', 'per attempt phase; longer than an hour is a hang, not a timeout'),
  connectTimeout: limit('--connect-timeout', 1, HOUR, 'duration', 'as --timeout'),
  handshakeTimeout: limit('--handshake-timeout', 1, HOUR, 'duration', 'as --timeout'),
  responseTimeout: limit('--response-timeout', 1, HOUR, 'duration', 'as --timeout'),
  startAt: limit('--start-at', 0, 24 * HOUR, 'duration', 'how far ahead a shared start may be'),
} as const satisfies Record<string, NumericLimit>;

/** `tlsbench capacity`'s own numbers (each step's are run's). */
export const CAPACITY_LIMITS = {
  startRate: limit('--start-rate', LIMITS.rate.min, LIMITS.rate.max, 'per-second', 'the first step\'s rate, as --rate'),
  maxRate: limit('--max-rate', LIMITS.rate.min, LIMITS.rate.max, 'per-second', 'no step above it, as --rate'),
  stepFactor: limit('--step-factor', 1.1, 100, 'ratio', 'each rate × this until a step fails; below 1.1 the search crawls', false),
  precision: limit('--precision', 0.001, 1, 'ratio', 'bisect until (first failing − last passing) ÷ last passing is at most this', false),
  maxDuration: limit('--max-duration', 1000, 24 * HOUR, 'duration', 'the whole search, every step with its set-up'),
} as const satisfies Record<string, NumericLimit>;

/** `tlsbench serve`'s numbers (its --response-bytes is run's). */
export const SERVE_LIMITS = {
  port: limit('--port', 0, 65535, 'count', 'a TCP port; 0 picks a free one'),
  workers: limit('--workers', 1, 64, 'count', 'server processes sharing the port'),
  responseBytes: LIMITS.responseBytes,
} as const satisfies Record<string, NumericLimit>;

function bounds(l: NumericLimit): [string, string] {
  const show = (v: number) => (l.unit === 'duration' ? formatDuration(v) : String(v));
  const unit = l.unit === 'per-second' ? '/s' : l.unit === 'bytes' ? ' bytes' : '';
  return [show(l.min), `${show(l.max)}${unit}`];
}

/** `1 – 50000`, `0s – 1h`: the range as the README's limits table shows it. */
export function describeRange(l: NumericLimit): string {
  return bounds(l).join(' – ');
}

/** `a whole number from 1 to 50000`: what to give, in a message. */
function whatToGive(l: NumericLimit): string {
  const kind = l.unit === 'duration' ? 'a duration' : l.integer ? 'a whole number' : 'a number';
  const [min, max] = bounds(l);
  return `${kind} from ${min} to ${max}`;
}

function outOfRange(l: NumericLimit, shown: string | number): UsageError {
  return new UsageError(`${l.option}: '${shown}' is out of range; give ${whatToGive(l)} (${l.why})`);
}

/** A number the user gave (yargs turns `abc` into NaN), checked against its range. */
export function checkNumber(value: number, l: NumericLimit): number {
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new UsageError(`${l.option}: not a number; give ${whatToGive(l)}`);
  }
  if ((l.integer && !Number.isInteger(value)) || value < l.min || value > l.max) throw outOfRange(l, value);
  return value;
}

/** A duration the user gave (`10s`, `1m`), in ms, checked against its range. */
export function checkDuration(text: string | number, l: NumericLimit): number {
  if (typeof text === 'string' ? text.trim().startsWith('-') : text < 0) {
    throw new UsageError(`${l.option}: '${text}' is negative; give ${whatToGive(l)}, e.g. 500ms, 10s, 1m`);
  }
  const ms = parseDuration(text, l.option);
  if (ms < l.min || ms > l.max) throw outOfRange(l, text);
  return ms;
}
