/**
 * The `serve` command line, in both directions: flags → ServeOptions (for the serve
 * command) and ServeOptions → flags (for spawning the target as a child process).
 * Kept together so the two cannot drift apart.
 */
import { isIP } from 'node:net';
import { checkNumber, SERVE_LIMITS, type NumericLimit } from '../config/limits.js';
import { checkOutputDir } from '../config/output-path.js';
import { UsageError } from '../config/usage-error.js';
import { isHostName } from '../config/target.js';
import { ON_OFF } from '../config/run-option-table.js';
import { parseTlsRange, shortVersion, TLS_CHOICES } from '../config/tls-versions.js';
import { isKeyType, KEY_TYPES } from './pki.js';
import type { ServeOptions } from './target-server.js';
import { STAPLE_CHOICES } from './ocsp-stapler.js';
import { MTLS_MODES, mtlsModeOf } from './client-certificates.js';
import { SERVER_ENGINES } from './server-engine.js';

/** Flags as yargs hands them over (after defaults), before validation. */
export interface ServeFlags {
  engine: string;
  port: number;
  host: string;
  tls: string;
  tickets: string;
  sessionCache: string;
  keyType: string;
  /** '' (a bare --mtls) is required; false: off. */
  mtls: string | boolean | undefined;
  crl?: string | undefined;
  ocspStaple: string;
  ciphers?: string | undefined;
  ciphersuites?: string | undefined;
  groups?: string | undefined;
  responseBytes: number;
  workers: number;
  certDir?: string | undefined;
  san?: string[] | undefined;
}

export interface ValidatedServeFlags {
  options: ServeOptions;
  workers: number;
}

export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

/** Hosts that name no single interface, so they do not belong in a certificate. */
function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '';
}

/** Validate serve flags, reporting every problem at once. */
export function serveOptionsFromFlags(flags: ServeFlags): ValidatedServeFlags {
  const problems: string[] = [];
  const oneOf = <T extends string>(name: string, value: string, choices: readonly T[]): T => {
    if (!(choices as readonly string[]).includes(value)) problems.push(`--${name}: '${value}' is not a choice; give one of ${choices.join(', ')}`);
    return value as T;
  };
  const engine = oneOf('engine', flags.engine, SERVER_ENGINES);
  const tlsChoice = oneOf('tls', flags.tls, TLS_CHOICES);
  const tickets = oneOf('tickets', flags.tickets, ON_OFF);
  const sessionCache = oneOf('session-cache', flags.sessionCache, ON_OFF);
  const ocspStaple = oneOf('ocsp-staple', flags.ocspStaple, STAPLE_CHOICES);
  const mtls = flags.mtls === undefined || flags.mtls === false ? false : flags.mtls === '' || flags.mtls === true ? 'required' : oneOf('mtls', flags.mtls, MTLS_MODES);
  if (flags.crl !== undefined && !mtls) problems.push('--crl checks client certificates, which the server asks for only with --mtls: add --mtls');
  if (!isKeyType(flags.keyType)) problems.push(`--key-type: '${flags.keyType}' is not a key type; give one of ${KEY_TYPES.join(', ')}`);
  const inRange = (value: number, l: NumericLimit) => {
    try {
      checkNumber(value, l);
    } catch (err) {
      problems.push((err as Error).message);
    }
  };
  inRange(flags.port, SERVE_LIMITS.port);
  inRange(flags.responseBytes, SERVE_LIMITS.responseBytes);
  inRange(flags.workers, SERVE_LIMITS.workers);
  if (!flags.host) problems.push('--host is empty; give an address such as 127.0.0.1 or ::1');
  else if (!isIP(flags.host) && !isHostName(flags.host)) problems.push(`--host '${flags.host}' is neither an IP address nor a host name; give e.g. 127.0.0.1 or ::1`);
  if (flags.certDir !== undefined) {
    try {
      checkOutputDir(flags.certDir, '--cert-dir');
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  for (const [name, value] of [['ciphers', flags.ciphers], ['ciphersuites', flags.ciphersuites], ['groups', flags.groups]] as const) {
    if (value !== undefined && value.trim() === '') problems.push(`--${name} is empty; give a list or leave the option out`);
  }
  if (flags.ciphersuites?.split(':').some((s) => s && !s.startsWith('TLS_'))) {
    problems.push('--ciphersuites takes TLS 1.3 suite names (TLS_AES_128_GCM_SHA256:...); put TLS 1.2 ciphers in --ciphers');
  }
  if (problems.length > 0) throw new UsageError(problems.join('\n'));

  const hosts = [...(flags.san ?? [])];
  if (!isLoopback(flags.host) && !isWildcard(flags.host)) hosts.push(flags.host);
  const options: ServeOptions = {
    engine,
    host: flags.host,
    port: flags.port,
    tls: (({ min, max }) => ({ min, max }))(parseTlsRange(tlsChoice)),
    tickets: tickets === 'on',
    sessionCache: sessionCache === 'on',
    keyType: flags.keyType as ServeOptions['keyType'],
    mtls,
    ocspStaple,
    ...(flags.crl !== undefined ? { crlFile: flags.crl } : {}),
    responseBytes: flags.responseBytes,
    ...(flags.ciphers !== undefined ? { ciphers: flags.ciphers } : {}),
    ...(flags.ciphersuites !== undefined ? { ciphersuites: flags.ciphersuites } : {}),
    ...(flags.groups !== undefined ? { groups: flags.groups } : {}),
    ...(flags.certDir !== undefined ? { certDir: flags.certDir } : {}),
    ...(hosts.length > 0 ? { hosts } : {}),
  };
  return { options, workers: flags.workers };
}

/** The `serve` arguments that reproduce `opts` (used to spawn the target as a child). */
export function serveArgsFromOptions(opts: ServeOptions, workers = 1): string[] {
  const choice = TLS_CHOICES.find((c) => {
    const range = parseTlsRange(c);
    return range.min === opts.tls.min && range.max === opts.tls.max;
  });
  if (!choice) throw new UsageError(`the built-in target supports TLS ${TLS_CHOICES.join(', ')}; not ${shortVersion(opts.tls.min)}–${shortVersion(opts.tls.max)}`);
  const args = [
    '--engine', opts.engine ?? 'auto',
    '--host', opts.host,
    '--port', String(opts.port),
    '--tls', choice,
    '--tickets', opts.tickets ? 'on' : 'off',
    '--session-cache', opts.sessionCache ? 'on' : 'off',
    '--key-type', opts.keyType,
    '--ocsp-staple', opts.ocspStaple ?? 'none',
    '--response-bytes', String(opts.responseBytes ?? 0),
    '--workers', String(workers),
  ];
  const mtls = mtlsModeOf(opts.mtls);
  if (mtls) args.push('--mtls', mtls);
  if (opts.crlFile !== undefined) args.push('--crl', opts.crlFile);
  if (opts.ciphers !== undefined) args.push('--ciphers', opts.ciphers);
  if (opts.ciphersuites !== undefined) args.push('--ciphersuites', opts.ciphersuites);
  if (opts.groups !== undefined) args.push('--groups', opts.groups);
  if (opts.certDir !== undefined) args.push('--cert-dir', opts.certDir);
  for (const host of opts.hosts ?? []) args.push('--san', host);
  return args;
}
