// (1) Accepts the TCP connection and closes it straight away (FIN), before the ClientHello.
import { listenHostile, type HostileServer } from './hostile-server.js';

export function startCloseAtOnce(): Promise<HostileServer> {
  return listenHostile((socket) => socket.end());
}
