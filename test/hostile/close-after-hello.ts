// Reads the whole ClientHello, then closes cleanly (FIN) without answering. Nothing is left
// unread, so the kernel sends no reset: the client meets an orderly close in mid-handshake,
// which is `tls.closed` (a reset there is `tls.reset`: reset-mid-handshake.ts).
import { afterClientHello, listenHostile, type HostileServer } from './hostile-server.js';

export function startCloseAfterHello(): Promise<HostileServer> {
  return listenHostile((socket) => afterClientHello(socket, () => socket.end()));
}
