/**
 * The `run` options, one row each: what kind of value it takes, its choices, its default, its
 * range and its help text. Everything else is generated from this table, so the option, its
 * check and its type cannot drift apart:
 * - the CLI's yargs options (`run`, `matrix`, `capacity`: cli/run.ts, runOptionsBuilder);
 * - the check of a value against its choices (`choiceOf`, in resolveRunOptions);
 * - the API's types: `RunOptions` has each option's literal type (`resume: 'none' | 'ticket' |
 *   'id'`), so `run({ resume: 'tickets' })` fails to compile, as `tlsbench run --resume tickets`
 *   fails before any work;
 * - the `TLSBENCH_*` variables and `--config` files (option-sources.ts), by each option's kind.
 * Ranges live in limits.ts (the README's limits table is checked against it); rows point at them.
 */
import { LIMITS, describeRange, type NumericLimit } from './limits.js';
import { ENGINE_NAMES, RESUME_MODES, SESSION_SCOPES } from './run-config.js';
import type { TlsVersions } from './tls-versions.js';
import { KEY_TYPES } from '../server/pki.js';
import { MTLS_MODES } from '../server/client-certificates.js';
import { STAPLE_CHOICES } from '../server/ocsp-stapler.js';
import { SERVER_ENGINES } from '../server/server-engine.js';

/** A switch of the built-in server, as `--server-tickets on|off` (and a matrix axis). */
export const ON_OFF = ['on', 'off'] as const;
export type OnOff = (typeof ON_OFF)[number];

/** `500ms`, `10s`, `1m`, `1.5h`, `10` (seconds), or a number of seconds. */
export type Duration = `${number}${'ms' | 's' | 'm' | 'h'}` | `${number}` | number;

/** Each kind of value: its type in the API, and how yargs, the environment and files read it. */
interface Kinds {
  string: string;
  number: number;
  boolean: boolean;
  duration: Duration;
  /** `--tls`: a version, `both`, or a range. */
  tls: TlsVersions;
  /** A comma-separated list on the command line, an array in the API. */
  list: string | string[];
  /** Process IDs: `--server-pid 12,34` or numbers. */
  pids: string | number | (string | number)[];
  /** A switch that may name a mode: `--mtls` (true), `--mtls optional`; false is off. */
  'switch-or-choice': boolean;
  /** A switch given as `on`/`off` on the command line (`--server-tickets off`), a boolean in the API as in serve(). */
  'on-off': boolean;
}
export type OptionKind = keyof Kinds;

export type OptionGroup = 'Load:' | 'Resumption:' | 'TLS:' | 'Revocation:' | 'Timeouts:' | 'Request:' | 'Built-in server:' | 'Server cost:';

export interface OptionRow {
  kind: OptionKind;
  help: string;
  group?: OptionGroup;
  alias?: string;
  /** The values it takes (its literal type in the API); validation names them when another is given. */
  choices?: readonly string[];
  /** What a run uses when the option is left out (said in --help). */
  default?: string | number;
  /** The accepted range (limits.ts), checked before any work and said in --help. */
  range?: NumericLimit;
  /** Said after the choices when a value is not one of them. */
  otherwise?: string;
  /** The target: a positional argument on the command line. */
  positional?: true;
}

export const RUN_OPTIONS = {
  target: { kind: 'string', positional: true, help: 'host:port, [ipv6]:port or https://host[:port]; omit to start the built-in server' },
  // Load
  workers: { kind: 'number', alias: 'w', group: 'Load:', range: LIMITS.workers, help: 'worker threads (default: the client cores)' },
  connections: { kind: 'number', alias: 'c', group: 'Load:', range: LIMITS.connections, default: 50, help: 'concurrent connection slots in total, closed loop' },
  rate: { kind: 'number', alias: 'r', group: 'Load:', range: LIMITS.rate, help: 'open loop: handshakes per second in total' },
  maxConnections: { kind: 'number', group: 'Load:', range: LIMITS.maxConnections, help: 'open loop: cap on attempts in flight (default max(100, rate/10))' },
  duration: { kind: 'duration', alias: 'd', group: 'Load:', range: LIMITS.duration, default: '5s', help: 'measured window per phase, e.g. 10s, 1m' },
  handshakes: { kind: 'number', alias: 'n', group: 'Load:', range: LIMITS.handshakes, help: 'exactly this many measured attempts (per phase)' },
  warmup: { kind: 'duration', group: 'Load:', range: LIMITS.warmup, default: '1s', help: 'excluded from every figure' },
  ramp: { kind: 'duration', group: 'Load:', range: LIMITS.ramp, help: 'linear ramp of connections or rate before warm-up' },
  startAt: { kind: 'string', group: 'Load:', help: 'wall-clock start (ISO 8601) shared by several load machines' },
  engine: { kind: 'string', group: 'Load:', choices: ENGINE_NAMES, help: 'native (C addon, the default where built) or node (tls.connect); env TLSBENCH_ENGINE' },
  // Resumption
  resume: { kind: 'string', group: 'Resumption:', choices: RESUME_MODES, otherwise: 'leave it out to measure full and resumed side by side', help: 'resumption of every attempt (default: a full phase, then a resumed phase)' },
  resumeRatio: { kind: 'number', group: 'Resumption:', range: LIMITS.resumeRatio, help: 'share of attempts that offer a session' },
  sessionScope: { kind: 'string', group: 'Resumption:', choices: SESSION_SCOPES, default: 'slot', help: 'slot: each slot its own session; worker: the newest shared' },
  closeWait: { kind: 'duration', alias: 'ticket-wait', group: 'Resumption:', range: LIMITS.closeWait, default: '1s', help: 'bound on waiting for the server\'s close after the client\'s close_notify; TLS 1.3 tickets and a rejection of the client certificate arrive in this time' },
  requireResumption: { kind: 'boolean', group: 'Resumption:', help: 'exit 1 when the hit rate is below 99 %' },
  // TLS
  tls: { kind: 'tls', group: 'TLS:', default: 'both', help: '1.2 | 1.3 | both | a range such as 1.0-1.3' },
  ciphers: { kind: 'string', group: 'TLS:', help: 'TLS 1.2 ciphers (OpenSSL names)' },
  ciphersuites: { kind: 'string', group: 'TLS:', help: 'TLS 1.3 suites (TLS_* names)' },
  groups: { kind: 'string', group: 'TLS:', help: 'key-exchange groups, e.g. X25519:P-256 or X25519MLKEM768' },
  sigalgs: { kind: 'string', group: 'TLS:', help: 'signature algorithms, e.g. ecdsa_secp256r1_sha256' },
  sni: { kind: 'string', group: 'TLS:', help: 'server name to send (default: the host, unless an IP)' },
  alpn: { kind: 'list', group: 'TLS:', help: 'ALPN protocols, comma-separated' },
  insecure: { kind: 'boolean', alias: 'k', group: 'TLS:', help: 'do not verify the server certificate' },
  ca: { kind: 'string', group: 'TLS:', help: 'PEM file of CA certificates to trust' },
  cert: { kind: 'string', group: 'TLS:', help: 'client certificate (PEM) for mutual TLS' },
  key: { kind: 'string', group: 'TLS:', help: 'client private key (PEM)' },
  keyPassphrase: { kind: 'string', group: 'TLS:', help: 'passphrase of --key' },
  keylog: { kind: 'string', group: 'TLS:', help: 'append NSS key log lines to FILE (for Wireshark)' },
  // Revocation
  ocsp: { kind: 'boolean', group: 'Revocation:', help: 'ask for a stapled OCSP response on every handshake and check it (status, signature, freshness); a bad staple fails the attempt (tls.ocsp.*)' },
  crl: { kind: 'string', group: 'Revocation:', help: 'check the server certificate against this CRL (PEM or DER); revoked: tls.verify.CERT_REVOKED; a stale CRL or one not signed by --ca is refused before the run' },
  requireStaple: { kind: 'boolean', group: 'Revocation:', help: 'a handshake without a stapled OCSP response fails (tls.ocsp.missing); implies --ocsp' },
  // Timeouts
  timeout: { kind: 'duration', group: 'Timeouts:', range: LIMITS.timeout, default: '10s', help: 'default for every phase timeout' },
  connectTimeout: { kind: 'duration', group: 'Timeouts:', range: LIMITS.connectTimeout, help: 'TCP connect timeout' },
  handshakeTimeout: { kind: 'duration', group: 'Timeouts:', range: LIMITS.handshakeTimeout, help: 'TLS handshake timeout' },
  responseTimeout: { kind: 'duration', group: 'Timeouts:', range: LIMITS.responseTimeout, help: 'request → complete response timeout' },
  // Request
  request: { kind: 'string', group: 'Request:', help: 'bytes to send after the handshake, or @FILE' },
  http: { kind: 'string', group: 'Request:', help: 'send an HTTP/1.1 GET for PATH' },
  readBytes: { kind: 'number', group: 'Request:', range: LIMITS.readBytes, help: 'read N response bytes per request' },
  read: { kind: 'string', group: 'Request:', choices: ['all'], otherwise: 'or use --read-bytes N', help: 'all: read until the server closes' },
  earlyData: { kind: 'number', group: 'Request:', range: LIMITS.earlyData, help: 'TLS 1.3 0-RTT: send the request\'s first N bytes as early data on resumed handshakes (native engine; only idempotent requests: early data can be replayed)' },
  requestsPerConnection: { kind: 'number', group: 'Request:', range: LIMITS.requestsPerConnection, default: 1, help: 'request/response exchanges per connection' },
  // Built-in server
  serverEngine: { kind: 'string', group: 'Built-in server:', choices: SERVER_ENGINES, default: 'auto', help: 'node: Node\'s TLS server; native: OpenSSL driven by the native addon, which rejects a bad client certificate inside the handshake with an alert (Node\'s drops it after a TLS 1.3 handshake, unseen by the client); auto: native with --mtls when built, else node' },
  keyType: { kind: 'string', group: 'Built-in server:', choices: KEY_TYPES, default: 'ecdsa-p256', help: 'built-in server certificate key' },
  mtls: { kind: 'switch-or-choice', group: 'Built-in server:', choices: MTLS_MODES, otherwise: 'required is the default of a bare --mtls', help: 'built-in server asks for a client certificate: required (a bare --mtls) or optional; the generated one is presented unless --cert is given' },
  serverCertDir: { kind: 'string', group: 'Built-in server:', help: 'built-in server serves the chain in DIR (written by tlsbench certs --out DIR, e.g. with --revoke) instead of its cache' },
  serverCrl: { kind: 'string', group: 'Built-in server:', help: 'with --mtls: the built-in server rejects client certificates this CRL revokes (it must be the server CA\'s: see tlsbench certs --revoke)' },
  serverTickets: { kind: 'on-off', group: 'Built-in server:', choices: ON_OFF, default: 'on', help: 'built-in server issues session tickets' },
  serverOcspStaple: { kind: 'string', group: 'Built-in server:', choices: STAPLE_CHOICES, default: 'good', help: 'OCSP response the built-in server staples for clients that ask' },
  serverSessionCache: { kind: 'on-off', group: 'Built-in server:', choices: ON_OFF, default: 'on', help: 'built-in server keeps a TLS 1.2 session-ID cache' },
  responseBytes: { kind: 'number', group: 'Built-in server:', range: LIMITS.responseBytes, default: 0, help: 'built-in server response size' },
  // Server cost
  serverPid: { kind: 'pids', group: 'Server cost:', help: 'measure the CPU of this server on this machine: PID[,PID…], each with its children (nginx master, HAProxy)' },
  serverCgroup: { kind: 'string', group: 'Server cost:', help: 'measure the CPU of this cgroup v2 (a systemd unit, a container): a path, absolute or under the cgroup mount' },
} as const satisfies Record<string, OptionRow>;

export type RunOptionTable = typeof RUN_OPTIONS;
export type RunOptionName = keyof RunOptionTable;

/** The API's type of one option: its choices when it has them, else its kind's type. */
type ValueOf<R extends OptionRow> =
  R['kind'] extends 'on-off' ? boolean
    : R extends { choices: readonly (infer C)[] } ? (R['kind'] extends 'switch-or-choice' ? boolean | C : C)
      : Kinds[R['kind']];

/**
 * `tlsbench run`'s options for the API, camelCase, each with its literal type (the option table,
 * src/config/run-option-table.ts, is the reference: choices, defaults, ranges, help).
 */
export type RunOptions = { -readonly [K in RunOptionName]?: ValueOf<RunOptionTable[K]> };

/**
 * Run options as they arrive from a command line, `TLSBENCH_*` variables, a file or a matrix
 * axis: strings not yet checked against their choices. Validation (resolveRunOptions) takes
 * these and names each value that is not a choice. Every RunOptions is one.
 */
export type RunOptionInput = { [K in RunOptionName]?: RunOptions[K] | (RunOptionTable[K]['kind'] extends 'number' ? never : string) };

/** An on/off switch (`--server-tickets off`, or false in the API), checked: its value, or undefined after a problem. */
export function switchOf(name: RunOptionName, value: unknown, problems: string[]): boolean | undefined {
  if (typeof value === 'boolean') return value;
  const choice = choiceOf(name, value, problems);
  return choice === undefined ? undefined : choice === ON_OFF[0];
}

/** `--resume`, `--key-type`, …: the flag a message names. */
export const flagOf = (name: string): string => `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/**
 * A value checked against its option's choices: the value, or (after pushing a message that
 * names the option, the value and the choices to `problems`) undefined.
 */
export function choiceOf<K extends RunOptionName>(name: K, value: unknown, problems: string[]): Extract<RunOptions[K], string> | undefined {
  const row: OptionRow = RUN_OPTIONS[name];
  if (value === undefined) return undefined;
  if (row.choices?.includes(value as string)) return value as Extract<RunOptions[K], string>;
  const otherwise = row.otherwise ? ` (${row.otherwise})` : '';
  problems.push(`${flagOf(name)}: '${String(value)}' is not a choice; give one of ${row.choices?.join(', ')}${otherwise}`);
  return undefined;
}

/** `--help` text: the row's help, then its choices, default and range. */
export function helpOf(r: OptionRow): string {
  const notes = [
    ...(r.choices ? [r.choices.join(' | ')] : []),
    ...(r.default !== undefined ? [`default ${r.default}`] : []),
    ...(r.range ? [describeRange(r.range)] : []),
  ];
  return notes.length ? `${r.help} (${notes.join('; ')})` : r.help;
}

/** The yargs type that reads each kind from a command line (validation checks the rest). */
export function yargsTypeOf(kind: OptionKind): 'string' | 'number' | 'boolean' {
  return kind === 'number' ? 'number' : kind === 'boolean' ? 'boolean' : 'string';
}
