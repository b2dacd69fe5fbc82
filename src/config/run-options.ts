import { readFileSync } from 'node:fs';
import os from 'node:os';
import { parseDuration } from './duration.js';
import {
  RESUME_MODES, type Credentials, type RequestConfig, type ResponseFraming, type ResumePlan,
  type RunConfig, type SessionScope, type TlsVersion,
} from './run-config.js';
import { parseTarget, type Target } from './target.js';
import { parseTlsRange } from './tls-versions.js';
import { UsageError } from './usage-error.js';
import { checkClientTls } from './tls-preflight.js';
import { chooseEngine } from '../engine/native-addon.js';

/** `tlsbench run` options as the user typed them (the CLI and the programmatic API share it). */
export interface RunOptions {
  target?: string;
  workers?: number;
  connections?: number;
  rate?: number;
  maxConnections?: number;
  duration?: string | number;
  handshakes?: number;
  warmup?: string | number;
  ramp?: string | number;
  resume?: string;
  resumeRatio?: number;
  sessionScope?: string;
  ticketWait?: string | number;
  tls?: string;
  ciphers?: string;
  ciphersuites?: string;
  groups?: string;
  sigalgs?: string;
  sni?: string;
  alpn?: string | string[];
  insecure?: boolean;
  ca?: string;
  cert?: string;
  key?: string;
  keyPassphrase?: string;
  keylog?: string;
  timeout?: string | number;
  connectTimeout?: string | number;
  handshakeTimeout?: string | number;
  responseTimeout?: string | number;
  request?: string;
  http?: string;
  readBytes?: number;
  read?: string;
  requestsPerConnection?: number;
  requireResumption?: boolean;
  startAt?: string;
  keyType?: string;
  mtls?: boolean;
  serverTickets?: string;
  serverSessionCache?: string;
  responseBytes?: number;
  /** native | node; default native where it is built and carries the run's options (env TLSBENCH_ENGINE=node: node). */
  engine?: string;
}

export const DEFAULTS = {
  connections: 50,
  duration: '5s',
  warmup: '1s',
  /** Bound on the measured window when only --handshakes is given. */
  maxDuration: '10m',
  ticketWait: '1s',
  timeout: '10s',
  keyType: 'ecdsa-p256',
} as const;

export const KEY_TYPE_NAMES = ['rsa-2048', 'rsa-3072', 'rsa-4096', 'ecdsa-p256', 'ecdsa-p384', 'ed25519'] as const;

export interface ResolvedRun {
  config: RunConfig;
  credentials: Credentials;
}

/**
 * Turns options into a RunConfig, collecting every problem before failing, so one attempt
 * shows the user all that is wrong. Workers default to the cores the client may use.
 */
export function resolveRunOptions(o: RunOptions, defaultWorkers = os.availableParallelism()): ResolvedRun {
  const problems: string[] = [];
  const attempt = <T>(fn: () => T, fallback: T): T => {
    try {
      return fn();
    } catch (err) {
      if (err instanceof UsageError) problems.push(err.message);
      else throw err;
      return fallback;
    }
  };
  const positiveInt = (value: number | undefined, option: string, min = 1): number | undefined => {
    if (value === undefined) return undefined;
    if (!Number.isInteger(value) || value < min) problems.push(`${option}: '${value}' must be a whole number ≥ ${min}`);
    return value;
  };

  const target: Target | null = o.target ? attempt(() => parseTarget(o.target!), null) : null;
  const builtIn = !o.target;

  const rate = o.rate;
  if (rate !== undefined && (!Number.isFinite(rate) || rate <= 0)) problems.push(`--rate: '${rate}' must be a positive number of handshakes per second`);
  const connections = positiveInt(o.connections, '--connections') ?? DEFAULTS.connections;
  const maxConnections = positiveInt(o.maxConnections, '--max-connections') ?? Math.max(connections, Math.ceil((rate ?? 0) / 10), 100);
  if (o.maxConnections !== undefined && rate === undefined) problems.push('--max-connections caps attempts in flight in open loop: give --rate too, or use --connections for a closed loop');
  if (o.connections !== undefined && rate !== undefined) problems.push('--connections is for the closed loop; with --rate, cap attempts in flight with --max-connections');
  const concurrency = rate !== undefined ? maxConnections : connections;
  let workers = positiveInt(o.workers, '--workers') ?? defaultWorkers;
  // Fewer slots than workers would leave workers idle.
  workers = Math.max(1, Math.min(workers, concurrency));

  const handshakes = positiveInt(o.handshakes, '--handshakes');
  const durationMs = o.duration !== undefined ? attempt(() => parseDuration(o.duration!, '--duration'), null)
    : handshakes !== undefined ? null : parseDuration(DEFAULTS.duration, '--duration');
  if (durationMs === 0) problems.push('--duration must be longer than 0');
  const warmupMs = attempt(() => parseDuration(o.warmup ?? DEFAULTS.warmup, '--warmup'), 0);
  const rampMs = attempt(() => parseDuration(o.ramp ?? 0, '--ramp'), 0);
  const ticketWaitMs = attempt(() => parseDuration(o.ticketWait ?? DEFAULTS.ticketWait, '--ticket-wait'), 0);
  const timeout = attempt(() => parseDuration(o.timeout ?? DEFAULTS.timeout, '--timeout'), 10_000);
  const phaseTimeout = (value: string | number | undefined, option: string) =>
    value === undefined ? timeout : attempt(() => parseDuration(value, option), timeout);
  const timeouts = {
    connectMs: phaseTimeout(o.connectTimeout, '--connect-timeout'),
    handshakeMs: phaseTimeout(o.handshakeTimeout, '--handshake-timeout'),
    responseMs: phaseTimeout(o.responseTimeout, '--response-timeout'),
  };
  for (const [name, ms] of Object.entries(timeouts)) if (ms <= 0) problems.push(`${name.replace('Ms', '')} timeout must be longer than 0`);

  let resume: ResumePlan = 'compare';
  if (o.resume !== undefined) {
    if ((RESUME_MODES as readonly string[]).includes(o.resume)) resume = o.resume as ResumePlan;
    else problems.push(`--resume: '${o.resume}' is not one of none, ticket, id (leave it out to measure full and resumed side by side)`);
  }
  const resumeRatio = o.resumeRatio ?? 1;
  if (!(resumeRatio >= 0 && resumeRatio <= 1)) problems.push(`--resume-ratio: '${o.resumeRatio}' must be between 0 and 1`);
  if (o.resumeRatio !== undefined && (resume === 'none' || resume === 'compare')) {
    problems.push('--resume-ratio needs --resume ticket or --resume id');
  }
  const sessionScope = (o.sessionScope ?? 'slot') as SessionScope;
  if (sessionScope !== 'slot' && sessionScope !== 'worker') problems.push(`--session-scope: '${o.sessionScope}' is not slot or worker`);

  const range = attempt(() => parseTlsRange(o.tls), { min: 'TLSv1.2' as TlsVersion, max: 'TLSv1.3' as TlsVersion, explicit: false });
  let { min: minVersion, max: maxVersion } = range;
  if (resume === 'id') {
    if (minVersion === 'TLSv1.3') problems.push('--resume id is TLS 1.2 session-ID resumption; TLS 1.3 has no session IDs: use --tls 1.2 or --resume ticket');
    else if (maxVersion === 'TLSv1.3') maxVersion = 'TLSv1.2';
  }
  // Node splits one cipher option by the TLS_ prefix and, when no TLS 1.3 suite is listed,
  // quietly caps the connection at TLS 1.2 (and the reverse). Resolve that here, visibly.
  const ciphers = o.ciphers || null;
  const ciphersuites = o.ciphersuites || null;
  if (ciphers && ciphers.split(':').some((c) => c.startsWith('TLS_'))) problems.push('--ciphers takes TLS 1.2 cipher names; put TLS 1.3 suites (TLS_*) in --ciphersuites');
  if (ciphersuites && ciphersuites.split(':').some((c) => !c.startsWith('TLS_'))) problems.push('--ciphersuites takes TLS 1.3 suite names (TLS_AES_128_GCM_SHA256, …); put TLS 1.2 ciphers in --ciphers');
  if (ciphers && !ciphersuites && maxVersion === 'TLSv1.3' && !range.explicit) maxVersion = 'TLSv1.2';
  if (ciphersuites && !ciphers && minVersion !== 'TLSv1.3' && !range.explicit) minVersion = 'TLSv1.3';
  if (ciphers && maxVersion === 'TLSv1.3' && minVersion === 'TLSv1.3' && !ciphersuites) {
    problems.push('--ciphers only applies to TLS 1.2 and below, but --tls 1.3 was asked for: use --ciphersuites');
  }
  if (ciphersuites && maxVersion !== 'TLSv1.3') problems.push('--ciphersuites only applies to TLS 1.3, which --tls excludes: use --ciphers');

  const alpn = (Array.isArray(o.alpn) ? o.alpn : o.alpn ? o.alpn.split(',') : []).map((p) => p.trim()).filter(Boolean);

  const credentials: Credentials = {};
  const readPem = (file: string | undefined, option: string): string | undefined => {
    if (!file) return undefined;
    try {
      return readFileSync(file, 'utf8');
    } catch (err) {
      problems.push(`${option}: cannot read '${file}' (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
      return undefined;
    }
  };
  const ca = readPem(o.ca, '--ca');
  if (ca) credentials.ca = ca;
  const cert = readPem(o.cert, '--cert');
  const key = readPem(o.key, '--key');
  if (!!o.cert !== !!o.key) problems.push('--cert and --key go together: give both for mutual TLS');
  if (cert) credentials.cert = cert;
  if (key) credentials.key = key;
  if (o.keyPassphrase) credentials.passphrase = o.keyPassphrase;
  if (o.keyPassphrase && !o.key) problems.push('--key-passphrase needs --key');

  const request = attempt(() => resolveRequest(o, target), null);

  let startAt: number | null = null;
  if (o.startAt !== undefined) {
    startAt = Date.parse(o.startAt);
    if (Number.isNaN(startAt)) {
      problems.push(`--start-at: '${o.startAt}' is not a time; use ISO 8601, e.g. 2026-11-22T14:00:00Z`);
      startAt = null;
    } else if (startAt < Date.now() - 1000) {
      problems.push(`--start-at: ${o.startAt} is in the past`);
    }
  }

  const keyType = o.keyType ?? DEFAULTS.keyType;
  if (!(KEY_TYPE_NAMES as readonly string[]).includes(keyType)) problems.push(`--key-type: '${keyType}' is not one of ${KEY_TYPE_NAMES.join(', ')}`);
  const onOff = (value: string | undefined, option: string, fallback: boolean) => {
    if (value === undefined) return fallback;
    if (value === 'on' || value === 'off') return value === 'on';
    problems.push(`${option}: '${value}' must be on or off`);
    return fallback;
  };
  const serverTickets = onOff(o.serverTickets, '--server-tickets', true);
  const serverSessionCache = onOff(o.serverSessionCache, '--server-session-cache', true);
  if (!builtIn) {
    const serverOnly = [
      ['--key-type', o.keyType], ['--mtls', o.mtls], ['--server-tickets', o.serverTickets],
      ['--server-session-cache', o.serverSessionCache], ['--response-bytes', o.responseBytes],
    ].filter(([, v]) => v !== undefined && v !== false).map(([name]) => name);
    if (serverOnly.length) problems.push(`${serverOnly.join(', ')} configure the built-in server, which only runs when no target is given`);
  }
  const responseBytes = positiveInt(o.responseBytes, '--response-bytes', 0) ?? 0;

  // TLSBENCH_ENGINE=node runs everything on the Node engine; =native is the default anyway (and,
  // unlike --engine native, never turns a run it cannot carry into an error).
  const engineChoice = chooseEngine(o.engine ?? (process.env.TLSBENCH_ENGINE === 'node' ? 'node' : undefined), { rate: rate ?? null, request });
  if ('error' in engineChoice) problems.push(engineChoice.error);

  if (problems.length) throw new UsageError(problems.length === 1 ? problems[0]! : `${problems.length} problems:\n  - ${problems.join('\n  - ')}`);

  const config: RunConfig = {
    target,
    workers,
    connections,
    rate: rate ?? null,
    maxConnections,
    durationMs,
    handshakes: handshakes ?? null,
    maxDurationMs: parseDuration(DEFAULTS.maxDuration, 'max duration'),
    warmupMs,
    rampMs,
    resume,
    resumeRatio,
    sessionScope,
    ticketWaitMs,
    tls: {
      minVersion,
      maxVersion,
      ciphers: minVersion < 'TLSv1.2' ? `${ciphers ?? 'DEFAULT'}:@SECLEVEL=0` : ciphers,
      ciphersuites,
      groups: o.groups || null,
      sigalgs: o.sigalgs || null,
      servername: o.sni ?? target?.servername ?? null,
      alpn,
      insecure: !!o.insecure,
      caFile: o.ca ?? null,
      certFile: o.cert ?? null,
      keyFile: o.key ?? null,
      keylogFile: o.keylog ?? null,
    },
    timeouts,
    request,
    requireResumption: !!o.requireResumption,
    startAt,
    server: { keyType, tickets: serverTickets, sessionCache: serverSessionCache, mtls: !!o.mtls, responseBytes },
    engine: 'choice' in engineChoice ? engineChoice.choice : { name: 'node', reason: null },
  };
  checkClientTls(config.tls, credentials);
  return { config, credentials };
}

function resolveRequest(o: RunOptions, target: Target | null): RequestConfig | null {
  const perConnection = o.requestsPerConnection ?? 1;
  if (!Number.isInteger(perConnection) || perConnection < 1) throw new UsageError(`--requests-per-connection: '${perConnection}' must be a whole number ≥ 1`);
  if (o.request !== undefined && o.http !== undefined) throw new UsageError('--request and --http both say what to send: give one');
  const readAll = o.read !== undefined;
  if (readAll && o.read !== 'all') throw new UsageError(`--read: '${o.read}' is not supported; use --read all or --read-bytes N`);
  if (readAll && o.readBytes !== undefined) throw new UsageError('--read all and --read-bytes both say how much to read: give one');
  if (o.readBytes !== undefined && (!Number.isInteger(o.readBytes) || o.readBytes < 1)) throw new UsageError(`--read-bytes: '${o.readBytes}' must be a whole number ≥ 1`);
  if (o.request === undefined && o.http === undefined) {
    if (readAll || o.readBytes !== undefined || o.requestsPerConnection !== undefined || o.responseTimeout !== undefined) {
      throw new UsageError('--read, --read-bytes, --requests-per-connection and --response-timeout need a request: add --http PATH or --request STRING');
    }
    return null;
  }
  if (readAll && perConnection > 1) throw new UsageError('--read all reads until the server closes, so the connection carries one request: drop --requests-per-connection or use --read-bytes');
  let payload: Buffer;
  let description: string;
  let framing: ResponseFraming;
  if (o.http !== undefined) {
    const path = o.http.startsWith('/') ? o.http : `/${o.http}`;
    const host = o.sni ?? target?.servername ?? target?.host ?? 'localhost';
    const connection = perConnection > 1 ? 'keep-alive' : 'close';
    payload = Buffer.from(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: tlsbench\r\nAccept: */*\r\nConnection: ${connection}\r\n\r\n`);
    description = `HTTP/1.1 GET ${path}`;
    framing = readAll ? { kind: 'until-close' } : o.readBytes !== undefined ? { kind: 'bytes', count: o.readBytes } : { kind: 'http' };
  } else {
    const text = o.request!;
    if (text.startsWith('@')) {
      try {
        payload = readFileSync(text.slice(1));
      } catch (err) {
        throw new UsageError(`--request: cannot read '${text.slice(1)}' (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
      }
      description = `${payload.length} bytes from ${text.slice(1)}`;
    } else {
      payload = Buffer.from(text.replace(/\\r/g, '\r').replace(/\\n/g, '\n'));
      description = `${payload.length}-byte request`;
    }
    if (payload.length === 0) throw new UsageError('--request: the request is empty');
    framing = readAll ? { kind: 'until-close' } : o.readBytes !== undefined ? { kind: 'bytes', count: o.readBytes } : { kind: 'first-byte' };
  }
  return { payloadBase64: payload.toString('base64'), description, framing, perConnection };
}
