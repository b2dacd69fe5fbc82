// Answers a TLS 1.2 ClientHello with a hand-made ServerHello that picks a cipher suite the
// client never offered (TLS_RSA_WITH_NULL_SHA, 0x0002: no client offers it), the one thing a
// client itself can see as "no cipher in common" (OpenSSL: WRONG_CIPHER_RETURNED). A real
// server with no cipher in common answers with a handshake_failure alert instead (fatal-alert.ts).
import { randomBytes } from 'node:crypto';
import { afterClientHello, listenHostile, type HostileServer } from './hostile-server.js';

export const NEVER_OFFERED_SUITE = 0x0002;

/** A TLS 1.2 ServerHello record: no session ID, `suite`, no compression, no extensions. */
export function serverHelloRecord(suite: number): Buffer {
  const body = Buffer.concat([
    Buffer.from([0x03, 0x03]), // server_version TLS 1.2
    randomBytes(32), // random (no downgrade sentinel: the client asked for 1.2 at most)
    Buffer.from([0x00]), // session_id: empty
    Buffer.from([suite >> 8, suite & 0xff]),
    Buffer.from([0x00]), // compression: null
  ]);
  const handshake = Buffer.concat([Buffer.from([0x02, 0x00, body.length >> 8, body.length & 0xff]), body]);
  return Buffer.concat([Buffer.from([0x16, 0x03, 0x03, handshake.length >> 8, handshake.length & 0xff]), handshake]);
}

export function startWrongCipher(): Promise<HostileServer> {
  return listenHostile((socket) => afterClientHello(socket, () => socket.write(serverHelloRecord(NEVER_OFFERED_SUITE))));
}
