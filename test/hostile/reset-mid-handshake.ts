// (4) Reads the ClientHello, then resets the connection (RST) instead of answering.
import { afterClientHello, listenHostile, type HostileServer } from './hostile-server.js';

export function startResetMidHandshake(): Promise<HostileServer> {
  return listenHostile((socket) => afterClientHello(socket, () => socket.resetAndDestroy()));
}
