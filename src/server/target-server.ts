/**
 * The built-in target: a TLS server whose handshake behaviour (versions, tickets,
 * session cache, key type, client certificates, suites, groups) is set by options, and
 * which does as little as possible after the handshake so that handshakes are what is
 * measured.
 */
import { constants as cryptoConstants } from 'node:crypto';
import type { Socket } from 'node:net';
import tls from 'node:tls';
import type { SecureVersion, TLSSocket } from 'node:tls';
import { ensureChain, type CertificateChain, type KeyType } from './pki.js';
import type { ServerEngineName, ServerEngineRequest } from './server-engine.js';
import { buildResponses, MAX_REQUEST_HEAD, type Responses } from './responses.js';
import { attachSessionCache, type SessionCacheStats } from './session-cache.js';
import { attachStapler, type StapleChoice, type StaplerStats } from './ocsp-stapler.js';
import {
  admitClient, clientCertificateOptions, serverCrlPem, countRefusedClient, emptyClientCertificateStats, mtlsModeOf, type ClientCertificateStats, type MtlsMode,
} from './client-certificates.js';

export interface ServeOptions {
  /**
   * Which server: Node's (this file), the native one (native-target.ts), or auto (native for
   * --mtls when the addon is built: see server-engine.ts). Default auto.
   */
  engine?: ServerEngineRequest;
  /** Address to listen on. Default 127.0.0.1. */
  host: string;
  /** Port; 0 picks a free one. */
  port: number;
  tls: { min: SecureVersion; max: SecureVersion };
  /** Issue session tickets (stateless resumption, TLS 1.2 and 1.3). */
  tickets: boolean;
  /** Keep a session-ID cache (stateful TLS 1.2 resumption). */
  sessionCache: boolean;
  keyType: KeyType;
  /**
   * Ask for a client certificate issued by the chain's CA: `required` (or true) fails a handshake
   * without one, `optional` accepts it; a certificate sent must verify either way.
   */
  mtls: boolean | MtlsMode;
  /** With mtls: client certificates are also checked against this CRL (PEM or DER file). */
  crlFile?: string;
  /** What to staple for a client that asks for OCSP status (status_request). Default none. */
  ocspStaple?: StapleChoice;
  /** OpenSSL cipher list for TLS 1.2 and below (TLS_* names are moved to ciphersuites). */
  ciphers?: string;
  /** TLS 1.3 cipher suites, colon-separated (TLS_AES_128_GCM_SHA256:...). */
  ciphersuites?: string;
  /** Key-exchange groups, colon-separated (X25519:P-256:...). */
  groups?: string;
  /** Bytes sent in answer to each request (HTTP body size) or each received chunk. Default 0. */
  responseBytes?: number;
  /** Use (and create if needed) the chain in this directory instead of the cache. */
  certDir?: string;
  /** Extra names for the server certificate besides localhost, 127.0.0.1 and ::1. */
  hosts?: string[];
  /** A handshake not done by then fails (ERR_TLS_HANDSHAKE_TIMEOUT). Default 120 s, Node's. */
  handshakeTimeoutMs?: number;
  /** Session-ID cache size. Default 20 000 sessions (a few MB). */
  sessionCacheEntries?: number;
  /** 48 bytes of ticket keys, shared by processes that must accept each other's tickets. */
  ticketKeys?: Buffer;
  /** An already loaded chain; skips ensureChain. */
  chain?: CertificateChain;
  /**
   * How to attach the session-ID cache when sessionCache is on. Default: an in-process
   * LRU. Cluster workers replace it with one kept in the primary (counters there: null).
   */
  attachSessionCache?: (server: tls.Server) => SessionCacheStats | null;
}

export interface TargetServerStats {
  /** Completed handshakes. */
  handshakes: number;
  /** Of which resumed (the server's own hit bit). */
  resumed: number;
  /** Handshakes that failed (tlsClientError): bad client cert, no shared cipher, resets. */
  tlsClientErrors: number;
  /** Errors on established connections (resets after the handshake, write errors). */
  socketErrors: number;
  /** HTTP requests answered. */
  requests: number;
  /** Session-ID cache counters, or null when the cache is off. */
  sessionCache: SessionCacheStats | null;
  /** OCSP staples sent, or null when stapling is off. */
  ocsp: StaplerStats | null;
  /** Client certificates asked for, sent, accepted and rejected; null without mtls. */
  clientCertificates: ClientCertificateStats | null;
  /** Last few tlsClientError codes/messages, newest last, for diagnostics. */
  lastErrors: string[];
}

export interface TargetServer {
  host: string;
  port: number;
  chain: CertificateChain;
  /** Which server this is (see server-engine.ts). */
  engine: ServerEngineName;
  /** The counters now (a live object on Node's server, a fresh read on the native one). */
  readonly stats: TargetServerStats;
  /** The underlying Node server, for callers that need more than this API; null on the native engine. */
  server: tls.Server | null;
  stop(): Promise<void>;
}

/** Node's server's default: a handshake not done within 2 minutes fails. Both servers keep it. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 120_000;
/** Session-ID cache size when none is given: a few MB. */
export const DEFAULT_SESSION_CACHE_ENTRIES = 20_000;
const LAST_ERRORS_KEPT = 10;

const VERSION_ORDER: readonly SecureVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

/**
 * Why connections to a server with these options can never be resumed, or null when
 * they can. The start message prints it, so a 0 % hit rate is explained, not silent.
 */
export function neverResumesReason(opts: Pick<ServeOptions, 'tls' | 'tickets' | 'sessionCache'>, engine: ServerEngineName = 'node'): string | null {
  if (opts.tickets) return null;
  // OpenSSL's own server resumes TLS 1.3 from its cache (stateful tickets) when tickets are off.
  if (engine === 'native') return opts.sessionCache ? null : 'no session tickets and no session cache';
  const allows13 = VERSION_ORDER.indexOf(opts.tls.max) >= VERSION_ORDER.indexOf('TLSv1.3');
  const allowsPre13 = VERSION_ORDER.indexOf(opts.tls.min) < VERSION_ORDER.indexOf('TLSv1.3');
  const node60847 = "Node's TLS 1.3 server cannot resume without tickets (nodejs/node#60847)";
  if (!opts.sessionCache) return 'no session tickets and no session cache';
  if (!allowsPre13) return node60847;
  if (allows13) {
    // Both versions allowed: a TLS 1.3 client (the default) will never resume; only a
    // client limited to TLS 1.2 can, by session ID.
    return `TLS 1.3 connections never resume: ${node60847}; only TLS 1.2 clients resume, by session ID`;
  }
  return null;
}

/**
 * Node takes TLS 1.3 suites in `ciphers` too (names starting TLS_). Build one string
 * that keeps the defaults for whichever half the user did not choose.
 */
export function composeCipherString(ciphers: string | undefined, ciphersuites: string | undefined): string | undefined {
  if (ciphers === undefined && ciphersuites === undefined) return undefined;
  const split = (list: string) => list.split(':').map((s) => s.trim()).filter(Boolean);
  const isTls13 = (name: string) => name.startsWith('TLS_');
  const given = split(ciphers ?? '');
  const defaults = split(tls.DEFAULT_CIPHERS);
  // TLS 1.3 suites: the explicit list, else any TLS_ names inside --ciphers, else Node's default.
  const suites13 = ciphersuites !== undefined ? split(ciphersuites) : given.some(isTls13) ? given.filter(isTls13) : defaults.filter(isTls13);
  const list12 = ciphers !== undefined ? given.filter((c) => !isTls13(c)) : defaults.filter((c) => !isTls13(c));
  return [...suites13, ...list12].join(':');
}

/** Start the target in this process. Resolves once it is listening. */
export async function startTargetServer(opts: ServeOptions): Promise<TargetServer> {
  const chain = opts.chain ?? (await ensureChain({ keyType: opts.keyType, hosts: opts.hosts ?? [], ...(opts.certDir ? { dir: opts.certDir } : {}) }));
  const responses = buildResponses(opts.responseBytes ?? 0);

  const ciphers = composeCipherString(opts.ciphers, opts.ciphersuites);
  const mtls = mtlsModeOf(opts.mtls);
  const crl = serverCrlPem(mtls, opts.crlFile, chain.caCert);
  const server = tls.createServer({
    key: chain.serverKey,
    cert: chain.serverCert,
    minVersion: opts.tls.min,
    maxVersion: opts.tls.max,
    handshakeTimeout: opts.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
    ...(ciphers !== undefined ? { ciphers } : {}),
    ...(opts.groups ? { ecdhCurve: opts.groups } : {}),
    // SSL_OP_NO_TICKET is the only way to stop a Node server issuing tickets.
    ...(opts.tickets ? {} : { secureOptions: cryptoConstants.SSL_OP_NO_TICKET }),
    ...(opts.ticketKeys ? { ticketKeys: opts.ticketKeys } : {}),
    ...(mtls ? clientCertificateOptions(mtls, chain.caCert, crl) : {}),
  });

  const stats: TargetServerStats = {
    handshakes: 0,
    resumed: 0,
    tlsClientErrors: 0,
    socketErrors: 0,
    requests: 0,
    sessionCache: null,
    ocsp: null,
    clientCertificates: mtls ? emptyClientCertificateStats() : null,
    lastErrors: [],
  };
  if (opts.ocspStaple && opts.ocspStaple !== 'none') stats.ocsp = attachStapler(server, chain, opts.ocspStaple);
  if (opts.sessionCache) {
    stats.sessionCache = opts.attachSessionCache
      ? opts.attachSessionCache(server)
      : attachSessionCache(server, { maxEntries: opts.sessionCacheEntries ?? DEFAULT_SESSION_CACHE_ENTRIES }).stats;
  }

  // Every raw connection, so stop() can end those still mid-handshake too.
  const connections = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    connections.add(socket);
    socket.once('close', () => connections.delete(socket));
    // A reset before the TLS layer takes over must not become an uncaught 'error'.
    socket.on('error', () => undefined);
  });
  server.on('tlsClientError', (err: NodeJS.ErrnoException, socket: TLSSocket) => {
    stats.tlsClientErrors++;
    if (stats.clientCertificates) countRefusedClient(stats.clientCertificates, err, socket);
    stats.lastErrors.push(socket.authorizationError ? `client certificate: ${String(socket.authorizationError)}` : err.code ?? err.message);
    if (stats.lastErrors.length > LAST_ERRORS_KEPT) stats.lastErrors.shift();
    socket.destroy();
  });
  server.on('secureConnection', (socket: TLSSocket) => {
    if (stats.clientCertificates && !admitClient(stats.clientCertificates, mtls!, socket)) {
      socket.destroy();
      return;
    }
    stats.handshakes++;
    if (socket.isSessionReused()) stats.resumed++;
    socket.on('error', () => {
      stats.socketErrors++;
      socket.destroy();
    });
    answer(socket, responses, stats);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: opts.host, port: opts.port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // After listening, an error on the server itself (rare: EMFILE on accept) is logged by
  // Node's accept loop retrying; keep a handler so it never crashes the process.
  server.on('error', () => undefined);

  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('target server has no TCP address');

  let stopping: Promise<void> | undefined;
  return {
    host: opts.host,
    port: address.port,
    chain,
    engine: 'node',
    stats,
    server,
    stop() {
      stopping ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of connections) socket.destroy();
      });
      return stopping;
    },
  };
}

function answer(socket: TLSSocket, responses: Responses, stats: TargetServerStats): void {
  let pending = '';
  let mode: 'unknown' | 'http' | 'raw' | 'closing' = 'unknown';

  socket.on('data', (chunk: Buffer) => {
    // After the closing response nothing more is answered, and what the client still sends must not
    // end the connection before that response has gone (a "too large head" would destroy it).
    if (mode === 'closing') return;
    if (mode === 'unknown') mode = /^[A-Z]{3,10} /.test(chunk.toString('latin1', 0, 11)) ? 'http' : 'raw';
    if (mode === 'raw') {
      if (responses.raw.length > 0) socket.write(responses.raw);
      return;
    }
    pending += chunk.toString('latin1');
    let end: number;
    // Loop: a client may pipeline several requests in one chunk.
    while ((end = pending.indexOf('\r\n\r\n')) !== -1) {
      const head = pending.slice(0, end);
      pending = pending.slice(end + 4);
      stats.requests++;
      if (/^connection:\s*close\s*$/im.test(head)) {
        mode = 'closing';
        pending = '';
        socket.end(responses.close);
        return;
      }
      socket.write(responses.keepAlive);
    }
    if (pending.length > MAX_REQUEST_HEAD) socket.destroy();
  });
}
