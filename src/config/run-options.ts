import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import os from 'node:os';
import { formatDuration, parseDuration } from './duration.js';
import { checkDuration, checkNumber, LIMITS, type NumericLimit } from './limits.js';
import type { Credentials, RequestConfig, ResponseFraming, ResumePlan, RunConfig, TlsVersion } from './run-config.js';
import { choiceOf, ON_OFF, RUN_OPTIONS, switchOf, type RunOptionInput } from './run-option-table.js';
import { checkKeylogFile } from './output-path.js';
import { isHostName, parseTarget, type Target } from './target.js';
import { parseTlsRange } from './tls-versions.js';
import { cannotRead, UsageError } from './usage-error.js';
import { checkClientTls } from './tls-preflight.js';
import { resolveMeasuredServer, type MeasuredServer } from '../server-cpu/measured-server.js';
import { checkCrl } from '../trust/crl.js';
import type { MtlsMode } from '../server/client-certificates.js';
import { chooseEngine, loadNativeAddon } from '../engine/native-addon.js';
import { resolveEarlyData } from './early-data.js';

export type { RunOptions, RunOptionInput } from './run-option-table.js';

/** Bound on the measured window when only --handshakes is given. */
const MAX_DURATION = '10m';

export interface ResolvedRun {
  config: RunConfig;
  credentials: Credentials;
  /** An external server whose CPU to measure (the built-in server is always measured). */
  measuredServer: MeasuredServer | null;
}

/**
 * Turns options into a RunConfig, collecting every problem before failing, so one attempt
 * shows the user all that is wrong. Workers default to the cores the client may use.
 */
export function resolveRunOptions(o: RunOptionInput, defaultWorkers = os.availableParallelism()): ResolvedRun {
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
  /** A number or duration checked against its documented range (limits.ts); undefined when not given. */
  const number = (value: number | undefined, l: NumericLimit): number | undefined =>
    value === undefined ? undefined : attempt(() => checkNumber(value, l), undefined);
  const duration = (value: string | number | undefined, l: NumericLimit, fallback: number): number =>
    value === undefined ? fallback : attempt(() => checkDuration(value, l), fallback);

  const target: Target | null = o.target !== undefined ? attempt(() => parseTarget(o.target!), null) : null;
  const builtIn = o.target === undefined;

  const rate = number(o.rate, LIMITS.rate);
  const connections = number(o.connections, LIMITS.connections) ?? RUN_OPTIONS.connections.default;
  const maxConnections = number(o.maxConnections, LIMITS.maxConnections)
    ?? Math.min(LIMITS.maxConnections.max, Math.max(connections, Math.ceil((rate ?? 0) / 10), 100));
  if (o.maxConnections !== undefined && o.rate === undefined) problems.push('--max-connections caps attempts in flight in open loop: give --rate too, or use --connections for a closed loop');
  if (o.connections !== undefined && o.rate !== undefined) problems.push('--connections is for the closed loop: drop it, and with --rate cap attempts in flight with --max-connections');
  const concurrency = rate !== undefined ? maxConnections : connections;
  let workers = number(o.workers, LIMITS.workers) ?? defaultWorkers;
  // Fewer slots than workers would leave workers idle.
  workers = Math.max(1, Math.min(workers, concurrency));

  const handshakes = number(o.handshakes, LIMITS.handshakes);
  const durationMs = o.duration !== undefined ? duration(o.duration, LIMITS.duration, 0)
    : handshakes !== undefined ? null : parseDuration(RUN_OPTIONS.duration.default, '--duration');
  const warmupMs = duration(o.warmup ?? RUN_OPTIONS.warmup.default, LIMITS.warmup, 0);
  const rampMs = duration(o.ramp, LIMITS.ramp, 0);
  const closeWaitMs = duration(o.closeWait ?? RUN_OPTIONS.closeWait.default, LIMITS.closeWait, 0);
  const timeout = duration(o.timeout ?? RUN_OPTIONS.timeout.default, LIMITS.timeout, 10_000);
  const timeouts = {
    connectMs: duration(o.connectTimeout, LIMITS.connectTimeout, timeout),
    handshakeMs: duration(o.handshakeTimeout, LIMITS.handshakeTimeout, timeout),
    responseMs: duration(o.responseTimeout, LIMITS.responseTimeout, timeout),
  };

  const resume: ResumePlan = choiceOf('resume', o.resume, problems) ?? 'compare';
  const resumeRatio = number(o.resumeRatio, LIMITS.resumeRatio) ?? 1;
  if (o.resumeRatio !== undefined && (resume === 'none' || resume === 'compare')) {
    problems.push('--resume-ratio needs a resuming phase: add --resume ticket or --resume id');
  }
  const sessionScope = choiceOf('sessionScope', o.sessionScope, problems) ?? RUN_OPTIONS.sessionScope.default;

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

  // An empty value is almost always a shell variable that was not set: say so rather than
  // silently sending no SNI, no ALPN, or OpenSSL's defaults.
  for (const [option, value] of EMPTY_CHECKED.map(([name, key]) => [name, o[key]] as const)) {
    if (typeof value === 'string' && value.trim() === '') problems.push(`${option} is empty; give a value or leave the option out`);
  }
  if (o.sni) attempt(() => checkServerName(o.sni!), undefined);
  const alpnList = Array.isArray(o.alpn) ? o.alpn : o.alpn ? o.alpn.split(',') : [];
  const alpn = alpnList.map((p) => p.trim());
  if (alpn.some((p) => p === '' || Buffer.byteLength(p) > 255)) {
    problems.push(`--alpn '${alpnList.join(',')}': give protocols of 1-255 bytes each, comma-separated, e.g. h2,http/1.1`);
  }
  if (o.insecure && o.ca) problems.push('--insecure skips verification, so --ca would never be used: give one of them');

  const credentials: Credentials = {};
  const readPem = (file: string | undefined, option: string): string | undefined => {
    if (!file) return undefined;
    try {
      return readFileSync(file, 'utf8');
    } catch (err) {
      problems.push(cannotRead(file, err, option).message);
      return undefined;
    }
  };
  const ca = readPem(o.ca, '--ca');
  if (ca) attempt(() => checkCertificates(ca, '--ca', o.ca!), undefined);
  if (ca) credentials.ca = ca;
  const cert = readPem(o.cert, '--cert');
  if (cert) attempt(() => checkCertificates(cert, '--cert', o.cert!), undefined);
  const key = readPem(o.key, '--key');
  if (!!o.cert !== !!o.key) problems.push('--cert and --key go together: give both for mutual TLS');
  if (cert) credentials.cert = cert;
  if (key) credentials.key = key;
  if (o.keyPassphrase) credentials.passphrase = o.keyPassphrase;
  if (o.keyPassphrase && !o.key) problems.push('--key-passphrase needs --key: add --key FILE (and --cert), or drop --key-passphrase');

  if (o.crl !== undefined) {
    if (builtIn) problems.push('--crl checks an external server\'s certificate against a CRL, and the built-in server\'s certificate is never revoked: give a target (with --mtls, --server-crl checks the client certificate)');
    else if (o.insecure) problems.push('--insecure skips verification, so --crl would never be used: give one of them');
    else {
      const crl = readCrl(o.crl, '--crl', ca, problems);
      if (crl) credentials.crl = crl;
    }
  }
  if (o.serverCrl !== undefined) {
    if (o.mtls === undefined || o.mtls === false) problems.push('--server-crl checks client certificates, which the built-in server asks for only with --mtls: add --mtls');
    // Checked against the built-in server's CA when it starts (its chain is known only then).
    else readCrl(o.serverCrl, '--server-crl', undefined, problems);
  }
  if (o.keylog?.trim()) attempt(() => checkKeylogFile(o.keylog!), undefined);
  const request = attempt(() => resolveRequest(o, target), null);

  let startAt: number | null = null;
  if (o.startAt !== undefined) {
    startAt = Date.parse(o.startAt);
    if (Number.isNaN(startAt)) {
      problems.push(`--start-at: '${o.startAt}' is not a time; use ISO 8601, e.g. 2026-11-22T14:00:00Z`);
      startAt = null;
    } else if (startAt < Date.now() - 1000) {
      problems.push(`--start-at: ${o.startAt} is in the past; give a time a little ahead, shared by every load machine`);
    } else if (startAt - Date.now() > LIMITS.startAt.max) {
      problems.push(`--start-at: ${o.startAt} is more than ${formatDuration(LIMITS.startAt.max)} ahead (${LIMITS.startAt.why}); pick a time closer to now`);
    }
  }

  if (o.serverCertDir !== undefined && o.keyType !== undefined) problems.push('--server-cert-dir serves the chain in that directory, whose key type is its own: drop --key-type');
  const keyType = choiceOf('keyType', o.keyType, problems) ?? RUN_OPTIONS.keyType.default;
  const serverTickets = switchOf('serverTickets', o.serverTickets ?? RUN_OPTIONS.serverTickets.default, problems) ?? true;
  let mtls: false | MtlsMode = false;
  if (o.mtls === true || o.mtls === '') mtls = 'required';
  else if (typeof o.mtls === 'string') mtls = choiceOf('mtls', o.mtls, problems) ?? false;
  // --ocsp is a switch; as a matrix axis it arrives as on/off (a bare --ocsp there as '').
  let ocspAsked = !!o.ocsp;
  if (typeof o.ocsp === 'string') {
    ocspAsked = o.ocsp === '' || o.ocsp === 'on';
    if (!['', ...ON_OFF].includes(o.ocsp)) problems.push(`--ocsp: '${o.ocsp}' is not a switch; give ${ON_OFF.join(' or ')}`);
  }
  if (o.requireStaple && o.ocsp !== undefined && !ocspAsked) problems.push('--require-staple asks for a staple, but --ocsp is off: drop one of them');
  const ocsp = ocspAsked || !!o.requireStaple;
  const serverOcspStaple = choiceOf('serverOcspStaple', o.serverOcspStaple, problems) ?? RUN_OPTIONS.serverOcspStaple.default;
  const serverEngine = choiceOf('serverEngine', o.serverEngine, problems) ?? RUN_OPTIONS.serverEngine.default;
  const unbuilt = builtIn && serverEngine === 'native' ? loadNativeAddon().error : null;
  if (unbuilt) problems.push(`--server-engine native: the native server is part of the native engine, which ${unbuilt}; leave the option out to serve on Node`);
  const serverSessionCache = switchOf('serverSessionCache', o.serverSessionCache ?? RUN_OPTIONS.serverSessionCache.default, problems) ?? true;
  if (!builtIn) {
    const serverOnly = [
      ['--server-engine', o.serverEngine], ['--key-type', o.keyType], ['--mtls', o.mtls], ['--server-tickets', o.serverTickets],
      ['--server-session-cache', o.serverSessionCache], ['--server-ocsp-staple', o.serverOcspStaple], ['--server-crl', o.serverCrl], ['--server-cert-dir', o.serverCertDir], ['--response-bytes', o.responseBytes],
    ].filter(([name, v]) => v !== undefined && !(name === '--mtls' && v === false)).map(([name]) => name);
    if (serverOnly.length) problems.push(`${serverOnly.join(', ')} configure the built-in server, which only runs when no target is given: drop them, or leave out the target`);
  }
  const responseBytes = number(o.responseBytes, LIMITS.responseBytes) ?? RUN_OPTIONS.responseBytes.default;
  const serverPids = o.serverPid === undefined ? [] : Array.isArray(o.serverPid) ? o.serverPid : [o.serverPid];
  if (builtIn && (serverPids.length || o.serverCgroup !== undefined)) {
    problems.push('--server-pid and --server-cgroup name an external server on this machine; the built-in server (no target given) is always measured');
  }
  const measuredServer = builtIn ? null : resolveMeasuredServer(serverPids, o.serverCgroup, { pid: '--server-pid', cgroup: '--server-cgroup' }, problems);

  // TLSBENCH_ENGINE=node runs everything on the Node engine; =native is the default anyway (and,
  // unlike --engine native, never turns a machine without the build into an error).
  const engine = o.engine === undefined ? (process.env.TLSBENCH_ENGINE === 'node' ? 'node' : undefined) : choiceOf('engine', o.engine, problems);
  const engineChoice = o.engine !== undefined && engine === undefined ? null : chooseEngine(engine);
  if (engineChoice && 'error' in engineChoice) problems.push(engineChoice.error);
  const earlyData = resolveEarlyData(o.earlyData, { resume, maxVersion, request, engine: engineChoice && 'choice' in engineChoice ? engineChoice.choice : null }, problems);

  if (problems.length) throw new UsageError(problems.length === 1 ? problems[0]! : `${problems.length} problems:\n  - ${problems.join('\n  - ')}`);

  const config: RunConfig = {
    target,
    workers,
    connections,
    rate: rate ?? null,
    maxConnections,
    durationMs,
    handshakes: handshakes ?? null,
    maxDurationMs: parseDuration(MAX_DURATION, 'max duration'),
    warmupMs,
    rampMs,
    resume,
    resumeRatio,
    sessionScope,
    closeWaitMs,
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
      ocsp,
      requireStaple: !!o.requireStaple,
      crlFile: o.crl ?? null,
    },
    timeouts,
    request,
    requireResumption: !!o.requireResumption,
    startAt,
    server: { engine: serverEngine, keyType, tickets: serverTickets, sessionCache: serverSessionCache, mtls, ocspStaple: serverOcspStaple, crlFile: o.serverCrl ?? null, certDir: o.serverCertDir ?? null, responseBytes },
    engine: engineChoice && 'choice' in engineChoice ? engineChoice.choice : { name: 'node', reason: null },
    earlyData,
  };
  checkClientTls(config.tls, credentials);
  return { config, credentials, measuredServer };
}

/**
 * A CRL file, read and checked before any work: it parses, is in force, and (when CAs are given) is
 * signed by one of them. Returned as PEM, the form Node's SecureContext takes.
 */
export function readCrl(file: string, option: string, trustedPem: string | undefined, problems: string[]): string | undefined {
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch (err) {
    problems.push(cannotRead(file, err, option).message);
    return undefined;
  }
  try {
    return checkCrl(data, option, file, trustedPem).pem;
  } catch (err) {
    problems.push((err as Error).message);
    return undefined;
  }
}

/** Options whose empty value is a mistake (an unset shell variable), not a choice. */
const EMPTY_CHECKED: ReadonlyArray<readonly [string, keyof RunOptionInput]> = [
  ['--sni', 'sni'], ['--alpn', 'alpn'], ['--ciphers', 'ciphers'], ['--ciphersuites', 'ciphersuites'],
  ['--groups', 'groups'], ['--sigalgs', 'sigalgs'], ['--ca', 'ca'], ['--cert', 'cert'], ['--key', 'key'],
  ['--keylog', 'keylog'], ['--crl', 'crl'], ['--server-crl', 'serverCrl'], ['--server-cert-dir', 'serverCertDir'], ['--http', 'http'], ['--request', 'request'], ['--key-passphrase', 'keyPassphrase'],
];

function checkServerName(name: string): void {
  if (isIP(name)) throw new UsageError(`--sni '${name}': SNI carries a host name, never an IP address (RFC 6066); leave --sni out to send none`);
  if (!isHostName(name)) throw new UsageError(`--sni '${name}' is not a host name; give a DNS name such as example.com`);
}

/**
 * A PEM file the user gave as certificates: at least one certificate block, each one parsable.
 * OpenSSL would take a file without any and fail every handshake later with a verification error.
 */
function checkCertificates(pem: string, option: string, file: string): void {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (!blocks.length) throw new UsageError(`${option} '${file}' holds no PEM certificate (-----BEGIN CERTIFICATE-----); give the certificate file in PEM form`);
  for (const block of blocks) {
    try {
      new X509Certificate(block);
    } catch (err) {
      throw new UsageError(`${option} '${file}' holds a certificate that does not parse (${(err as Error).message}); give a valid PEM certificate`);
    }
  }
}

function resolveRequest(o: RunOptionInput, target: Target | null): RequestConfig | null {
  const perConnection = o.requestsPerConnection === undefined ? RUN_OPTIONS.requestsPerConnection.default : checkNumber(o.requestsPerConnection, LIMITS.requestsPerConnection);
  if (o.request !== undefined && o.http !== undefined) throw new UsageError('--request and --http both say what to send: give one');
  const readAll = o.read !== undefined;
  const notAll: string[] = [];
  if (readAll && !choiceOf('read', o.read, notAll)) throw new UsageError(notAll[0]!);
  if (readAll && o.readBytes !== undefined) throw new UsageError('--read all and --read-bytes both say how much to read: give one');
  if (o.readBytes !== undefined) checkNumber(o.readBytes, LIMITS.readBytes);
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
        throw cannotRead(text.slice(1), err, '--request');
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
