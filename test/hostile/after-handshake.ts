// Complete the TLS handshake properly, then misbehave in the request phase: close cleanly once
// the request has arrived (no response: `app.closed`), or never answer it (`app.timeout`).
import tls from 'node:tls';
import { listenHostile, type HostileServer } from './hostile-server.js';

function startAfterHandshake(options: tls.SecureContextOptions, onRequest: (secure: tls.TLSSocket) => void): Promise<HostileServer> {
  const context = tls.createSecureContext(options);
  return listenHostile((raw) => {
    const secure = new tls.TLSSocket(raw, { isServer: true, secureContext: context });
    secure.on('error', () => {});
    secure.once('data', () => onRequest(secure));
  });
}

/** Reads the request, then closes the connection (close_notify and FIN) without a response. */
export function startCloseOnRequest(options: tls.SecureContextOptions): Promise<HostileServer> {
  return startAfterHandshake(options, (secure) => secure.end());
}

/** Reads the request and never answers (the connection stays open until the client gives up). */
export function startSilentAfterHandshake(options: tls.SecureContextOptions): Promise<HostileServer> {
  return startAfterHandshake(options, () => {});
}
