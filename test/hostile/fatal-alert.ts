// (6) Answers the ClientHello with one fatal TLS alert record and closes, as a server does
// when it shares no cipher (handshake_failure) or no version (protocol_version) with the client,
// or (strict SNI) hosts no site under the name the client asked for (unrecognized_name).
import { afterClientHello, listenHostile, type HostileServer } from './hostile-server.js';

/** Alert descriptions (RFC 8446 §6) the fixtures send. */
export const ALERT = { handshakeFailure: 40, protocolVersion: 70, unrecognizedName: 112 } as const;

/** An alert record: content type 21, legacy version TLS 1.2, length 2, level fatal (2), description. */
export function fatalAlertRecord(description: number): Buffer {
  return Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, description]);
}

export function startFatalAlert(description: number): Promise<HostileServer> {
  const record = fatalAlertRecord(description);
  return listenHostile((socket) => afterClientHello(socket, () => socket.end(record)));
}
