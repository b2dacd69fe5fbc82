// (2) Accepts, reads the ClientHello, and says nothing, ever: only the client's timer ends it.
import { listenHostile, type HostileServer } from './hostile-server.js';

export function startNeverAnswer(): Promise<HostileServer> {
  // Reading keeps the client's writes flowing; nothing is ever written back.
  return listenHostile((socket) => socket.resume());
}
