// (9) A real TLS server that accepts `accept` connections, then closes its listener: every later
// connect is refused, while the connections it accepted finish their handshakes.
//
// Deterministic on purpose. A server that closed its listener while clients kept dialling would
// leave connections in the kernel's accept queue (TCP-connected, never accepted); the kernel
// resets those at the close, and whether a client meets that reset in its connect, its
// ClientHello write or its read (tcp.reset, tls.closed, tls.reset) is the client's timing, not
// something a test can pin. So this one answers nobody until it holds `accept` connections and
// has closed its listener. Run with exactly `accept` slots, every slot is then waiting on an
// accepted connection when the listener closes: the queue is empty, and each attempt is either
// accepted (a success) or made after the close (tcp.refused). The address is a held one (see
// holdRefusedAddress): no other process can start listening on it once the listener is gone.
import tls from 'node:tls';
import type net from 'node:net';
import type { RefusedAddress } from '../support/refused-address.js';
import { listenHostile, type HostileServer } from './hostile-server.js';
import { serveTls } from './tls-endpoint.js';

export function startStopListening(options: tls.SecureContextOptions, accept: number, at: RefusedAddress): Promise<HostileServer> {
  const context = tls.createSecureContext(options);
  const held: net.Socket[] = [];
  return listenHostile((raw, listener) => {
    held.push(raw);
    if (held.length < accept) return;
    listener.close();
    // A ClientHello that arrived while the socket was held is buffered; the TLS socket reads it.
    for (const socket of held.splice(0)) serveTls(socket, context);
  }, () => at.release(), at);
}
