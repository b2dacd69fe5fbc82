// A real TLS server built from a plain TCP listener: each accepted socket is wrapped in a
// server-side TLSSocket. Keeping hold of the raw TCP socket is what lets a fixture do what
// tls.Server cannot: reset the connection (resetAndDestroy works on TCP handles only).
import type net from 'node:net';
import tls from 'node:tls';
import { listenHostile, type HostileServer, type StopHook } from './hostile-server.js';

/** Serves TLS on one accepted socket; `onSecure` runs once the server side finished the handshake. */
export function serveTls(raw: net.Socket, context: tls.SecureContext, onSecure?: (raw: net.Socket) => void): void {
  const secure = new tls.TLSSocket(raw, { isServer: true, secureContext: context });
  secure.on('error', () => {});
  if (onSecure) secure.once('secure', () => onSecure(raw));
}

/** A well-behaved TLS server, as good as its `options` (a certificate that is expired, a version cap…). */
export function startTlsServer(options: tls.SecureContextOptions, onStop?: StopHook): Promise<HostileServer> {
  const context = tls.createSecureContext(options);
  return listenHostile((raw) => serveTls(raw, context), onStop);
}
