// (9) A real TLS server that accepts `accept` connections, then closes its listener: every
// later connect is refused, while the connections already accepted finish their handshakes.
import tls from 'node:tls';
import { listenHostile, type HostileServer } from './hostile-server.js';
import { serveTls } from './tls-endpoint.js';

export function startStopListening(options: tls.SecureContextOptions, accept: number): Promise<HostileServer> {
  const context = tls.createSecureContext(options);
  let accepted = 0;
  return listenHostile((raw, listener) => {
    if (++accepted === accept) listener.close();
    serveTls(raw, context);
  });
}
