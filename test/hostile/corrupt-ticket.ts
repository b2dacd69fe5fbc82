// (14) A TLS 1.2 server whose NewSessionTicket is altered on the wire. In TLS 1.2 the ticket
// travels before the server's ChangeCipherSpec, in plaintext, so a byte-level proxy in front of a
// real TLS server can damage it the way a broken middlebox or a buggy ticket encoder does:
//   'length'  — the ticket's length field claims one byte more than the message holds
//               (OpenSSL: LENGTH_MISMATCH while decoding the message);
//   'content' — one byte of the ticket flipped: the message decodes, but the transcript the
//               server's Finished covers no longer matches the client's (DIGEST_CHECK_FAILED).
// Either way the peer speaks TLS and broke the protocol: tls.protocol.<REASON>, never tls.not-tls.
import net from 'node:net';
import tls from 'node:tls';
import { listenHostile, type HostileServer } from './hostile-server.js';

export type TicketDamage = 'length' | 'content';

const RECORD_HEADER = 5;
const CONTENT_CHANGE_CIPHER_SPEC = 20;
const CONTENT_HANDSHAKE = 22;
const HANDSHAKE_NEW_SESSION_TICKET = 4;
/** NewSessionTicket body: lifetime hint (4 bytes), ticket length (2), ticket. */
const TICKET_LENGTH_OFFSET = 4;

/**
 * Alters the NewSessionTicket messages in `record` (a whole plaintext handshake record, header
 * included) in place. Returns how many it altered.
 */
function damageTickets(record: Buffer, damage: TicketDamage): number {
  let damaged = 0;
  let at = RECORD_HEADER;
  while (at + 4 <= record.length) {
    const type = record[at]!;
    const length = record.readUIntBE(at + 1, 3);
    const body = at + 4;
    if (type === HANDSHAKE_NEW_SESSION_TICKET && body + TICKET_LENGTH_OFFSET + 2 <= record.length) {
      const lengthAt = body + TICKET_LENGTH_OFFSET;
      const ticketLength = record.readUInt16BE(lengthAt);
      if (damage === 'length') record.writeUInt16BE(ticketLength + 1, lengthAt);
      else if (ticketLength > 0) record[lengthAt + 2 + Math.floor(ticketLength / 2)]! ^= 0xff;
      damaged++;
    }
    at = body + length;
  }
  return damaged;
}

/**
 * Forwards the server's records to the client one whole record at a time, damaging the tickets
 * of the plaintext part (everything before the server's ChangeCipherSpec).
 */
function relayDamagingTickets(from: net.Socket, to: net.Socket, damage: TicketDamage): void {
  let pending = Buffer.alloc(0);
  let encrypted = false;
  from.on('data', (chunk: Buffer) => {
    if (encrypted) {
      to.write(chunk);
      return;
    }
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= RECORD_HEADER) {
      const end = RECORD_HEADER + pending.readUInt16BE(3);
      if (pending.length < end) break;
      const record = pending.subarray(0, end);
      if (record[0] === CONTENT_HANDSHAKE) damageTickets(record, damage);
      if (record[0] === CONTENT_CHANGE_CIPHER_SPEC) encrypted = true;
      to.write(record);
      pending = pending.subarray(end);
      if (encrypted) {
        if (pending.length > 0) to.write(pending);
        pending = Buffer.alloc(0);
        break;
      }
    }
  });
}

/** A real TLS 1.2 server (session tickets on) behind a proxy that damages every ticket it sends. */
export async function startCorruptTicket(options: tls.SecureContextOptions, damage: TicketDamage): Promise<HostileServer> {
  const upstream = tls.createServer({ ...options, maxVersion: 'TLSv1.2' });
  upstream.on('tlsClientError', () => {});
  upstream.on('secureConnection', (socket) => {
    socket.on('error', () => {});
    socket.end();
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const { port } = upstream.address() as net.AddressInfo;
  return listenHostile(
    (client) => {
      const server = net.connect(port, '127.0.0.1');
      server.on('error', () => client.destroy());
      client.on('close', () => server.destroy());
      server.on('close', () => client.destroy());
      client.pipe(server);
      relayDamagingTickets(server, client, damage);
    },
    () => new Promise<void>((resolve) => upstream.close(() => resolve())),
  );
}
