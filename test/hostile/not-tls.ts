// (3) Not TLS on the TLS port: by default answers the ClientHello as a plain-HTTP server answers
// a request it cannot parse, with a 400, then closes.
import { afterClientHello, listenHostile, type HostileServer } from './hostile-server.js';

const BAD_REQUEST = [
  'HTTP/1.1 400 Bad Request',
  'Content-Type: text/plain',
  'Content-Length: 40',
  'Connection: close',
  '',
  'This port speaks plain HTTP, not HTTPS.\n',
].join('\r\n');

/**
 * Garbage that starts like TLS: a handshake record header announcing 64 KiB, more than any TLS
 * record may hold (OpenSSL 3.0 and 3.5 report it under different codes).
 */
export const OVERSIZED_RECORD_HEADER = Buffer.from([0x16, 0x03, 0x03, 0xff, 0xff]);

export function startNotTls(reply: string | Buffer = BAD_REQUEST): Promise<HostileServer> {
  return listenHostile((socket) => afterClientHello(socket, () => socket.end(reply)));
}
