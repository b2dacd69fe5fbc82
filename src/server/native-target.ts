/**
 * The built-in target on the native server (native/src/target_server.c): the same options and the
 * same counters as the Node server (target-server.ts), served by OpenSSL directly from threads of
 * this process. See server-engine.ts for when it is used.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import tls from 'node:tls';
import { loadNativeAddon, protocolNumber, type NativeTargetCounts } from '../engine/native-addon.js';
import { UsageError } from '../config/usage-error.js';
import { ensureChain } from './pki.js';
import { buildResponses } from './responses.js';
import { stapleSource } from './ocsp-stapler.js';
import { mtlsModeOf, serverCrlPem } from './client-certificates.js';
import { composeCipherString, DEFAULT_HANDSHAKE_TIMEOUT_MS, DEFAULT_SESSION_CACHE_ENTRIES, type ServeOptions, type TargetServer, type TargetServerStats } from './target-server.js';
import { OCSP_VALIDITY_MS } from '../trust/ocsp-responder.js';

/** How often the staple is looked at (it is rebuilt at half its validity, as the Node server's). */
const STAPLE_REFRESH_MS = OCSP_VALIDITY_MS / 8;

function shapeStats(c: NativeTargetCounts, opts: ServeOptions, ocsp: boolean): TargetServerStats {
  return {
    handshakes: c.handshakes,
    resumed: c.resumed,
    tlsClientErrors: c.tlsClientErrors,
    socketErrors: c.socketErrors,
    requests: c.requests,
    sessionCache: opts.sessionCache ? { hits: c.cacheHits, misses: c.cacheMisses, stored: c.cacheStored, evicted: c.cacheEvicted } : null,
    ocsp: ocsp ? { staples: c.staples, stapleBytes: c.stapleBytes } : null,
    clientCertificates: mtlsModeOf(opts.mtls) ? { requested: c.certRequested, sent: c.certSent, accepted: c.certAccepted, rejected: c.rejected } : null,
    lastErrors: c.lastErrors,
  };
}

/** Start the native target in this process, with `threads` handshake threads. Resolves once it is listening. */
export async function startNativeTargetServer(opts: ServeOptions, threads = 1): Promise<TargetServer> {
  const { addon, error } = loadNativeAddon();
  if (!addon) throw new UsageError(`the native server is part of the native engine, which ${error}`);
  const chain = opts.chain ?? (await ensureChain({ keyType: opts.keyType, hosts: opts.hosts ?? [], ...(opts.certDir ? { dir: opts.certDir } : {}) }));
  const responses = buildResponses(opts.responseBytes ?? 0);
  // Node's default suites when none are given, so both servers offer the same; TLS_ names are TLS 1.3's.
  const suites = (composeCipherString(opts.ciphers, opts.ciphersuites) ?? tls.DEFAULT_CIPHERS).split(':').filter(Boolean);
  const mtls = mtlsModeOf(opts.mtls);
  const crl = serverCrlPem(mtls, opts.crlFile, chain.caCert);
  const staple = opts.ocspStaple && opts.ocspStaple !== 'none' ? stapleSource(chain, opts.ocspStaple) : null;
  // Node's listen() resolves a name (localhost); the native server takes an address.
  const address = isIP(opts.host) ? opts.host : (await lookup(opts.host)).address;
  const server = new addon.TargetServer({
    host: address,
    port: opts.port,
    cert: chain.serverCert,
    key: chain.serverKey,
    minVersion: protocolNumber(opts.tls.min),
    maxVersion: protocolNumber(opts.tls.max),
    ciphers: suites.filter((s) => !s.startsWith('TLS_')).join(':'),
    ciphersuites: suites.filter((s) => s.startsWith('TLS_')).join(':'),
    ...(opts.groups ? { groups: opts.groups } : {}),
    tickets: opts.tickets,
    sessionCache: opts.sessionCache,
    sessionCacheEntries: opts.sessionCacheEntries ?? DEFAULT_SESSION_CACHE_ENTRIES,
    ...(opts.ticketKeys ? { ticketKeys: opts.ticketKeys } : {}),
    mtls: mtls === 'required' ? 1 : mtls === 'optional' ? 2 : 0,
    ...(mtls ? { ca: chain.caCert } : {}),
    ...(crl !== undefined ? { crl } : {}),
    ocsp: staple !== null,
    threads,
    handshakeTimeoutMs: opts.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
    keepAlive: responses.keepAlive,
    closeResponse: responses.close,
    raw: responses.raw,
  });
  if (staple) server.staple(staple());
  // Refreshes the staple, and keeps this process alive while the server runs, as a listening
  // tls.Server does (the server's threads are no handle of Node's event loop).
  const refresh = setInterval(() => {
    if (staple) server.staple(staple());
  }, STAPLE_REFRESH_MS);
  /** The counters at stop(), which the stop line reads after the server is gone. */
  let final: TargetServerStats | null = null;
  const read = () => shapeStats(server.stats(), opts, staple !== null);
  return {
    host: opts.host,
    port: server.port(),
    chain,
    engine: 'native',
    server: null,
    get stats() {
      return final ?? read();
    },
    stop() {
      if (!final) {
        final = read();
        clearInterval(refresh);
        server.stop();
      }
      return Promise.resolve();
    },
  };
}
