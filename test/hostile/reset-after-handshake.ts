// (5) Completes the TLS handshake properly, then resets the connection (RST): whatever the
// client does next (send a request, wait for a response) meets a reset.
import tls from 'node:tls';
import { listenHostile, type HostileServer } from './hostile-server.js';
import { serveTls } from './tls-endpoint.js';

export function startResetAfterHandshake(options: tls.SecureContextOptions): Promise<HostileServer> {
  const context = tls.createSecureContext(options);
  // The server side is 'secure' once it has the client's Finished, so the client's own
  // handshake is already complete when the reset leaves.
  return listenHostile((raw) => serveTls(raw, context, () => raw.resetAndDestroy()));
}
