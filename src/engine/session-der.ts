/**
 * Reading Node's serialised sessions (OpenSSL's SSL_SESSION in DER, ssl/ssl_asn1.c):
 * SEQUENCE { INTEGER version, INTEGER ssl_version, OCTET STRING cipher, OCTET STRING session_id,
 * …, [3] peer certificate, …, [10] ticket, … }.
 */
import type { ResumptionMechanism } from '../metrics/tally.js';

/** DER tag of SSL_SESSION's optional `tlsext_tick [10] EXPLICIT OCTET STRING`. */
const SESSION_TICKET_TAG = 0xaa;

/**
 * A TLS 1.3 ticket shorter than this cannot carry the session it resumes (a 32-byte resumption
 * secret and a 16-byte authentication tag alone take 48): it is a reference into the server's
 * session cache, a stateful ticket (OpenSSL's are its 32-byte session ID).
 */
const STATEFUL_TICKET_MAX = 47;

/**
 * How a session resumes when the server takes it: TLS 1.3 sessions by PSK, from a stateless
 * ticket (the session, encrypted) or a stateful one (a session-ID-sized reference into the
 * server's cache); older ones by the ticket they carry, else by their session ID. An OpenSSL
 * server that fails to decrypt an offered ticket does not fall back to the ID, so a taken
 * ticket-bearing session resumed by its ticket.
 */
export function resumptionMechanism(serialised: Buffer): ResumptionMechanism {
  const session = serialised.subarray(derStart(serialised));
  const header = derHeader(session, 0);
  if (!header || session[0] !== 0x30) return 'tls12-session-id';
  const version = derHeader(session, header.contentAt);
  const tls13 = !!version && session.subarray(version.end, version.end + 4).equals(TLS13_VERSION_FIELD);
  for (let at = header.contentAt; at < session.length;) {
    const field = derHeader(session, at);
    if (!field || field.end > session.length) break;
    if (session[at] === SESSION_TICKET_TAG) {
      if (!tls13) return 'tls12-ticket';
      // [10] EXPLICIT OCTET STRING: the ticket is the inner string's content.
      const ticket = derHeader(session, field.contentAt);
      if (!ticket || session[field.contentAt] !== 0x04) return 'tls13-psk';
      return ticket.end - ticket.contentAt <= STATEFUL_TICKET_MAX ? 'tls13-psk-stateful' : 'tls13-psk-stateless';
    }
    at = field.end;
  }
  return tls13 ? 'tls13-psk' : 'tls12-session-id';
}

/** DER tag of SSL_SESSION's optional `peer [3] EXPLICIT Certificate` (ssl/ssl_asn1.c). */
const SESSION_PEER_TAG = 0xa3;

/** SSL_SESSION's ssl_version field for TLS 1.3: INTEGER 0x0304. */
const TLS13_VERSION_FIELD = Buffer.from([0x02, 0x02, 0x03, 0x04]);

/**
 * A TLS 1.3 session without the server certificate OpenSSL keeps in it. Node takes a session only
 * as DER, so every offer decodes it again, and decoding the certificate's public key is the most
 * expensive part of that on OpenSSL 3.0. A TLS 1.3 client does not need it to resume: Node skips
 * the identity check on a resumed connection and accepts a certificate-less TLS 1.3 resumption as
 * verified. Not TLS 1.2: there Node reports a resumed connection without a peer certificate as
 * UNABLE_TO_GET_ISSUER_CERT. Returns the input unchanged when the DER is not what is expected.
 */
export function withoutPeerCertificate(serialised: Buffer): Buffer {
  const start = derStart(serialised);
  if (start === 0) return withoutPeerCertificateDer(serialised);
  const der = serialised.subarray(start);
  const stripped = withoutPeerCertificateDer(der);
  return stripped === der ? serialised : Buffer.concat([serialised.subarray(0, start), stripped]);
}

/**
 * Node 24 wraps the DER in an envelope of its own: "\0nodejs:tls:session:1\0", then the server
 * name behind a 16-bit length. Where the DER starts (0 for Node 20's bare DER).
 */
const NODE_SESSION_MAGIC = Buffer.from('\0nodejs:tls:session:');
function derStart(serialised: Buffer): number {
  if (!serialised.subarray(0, NODE_SESSION_MAGIC.length).equals(NODE_SESSION_MAGIC)) return 0;
  const end = serialised.indexOf(0, NODE_SESSION_MAGIC.length);
  if (end < 0 || end + 3 > serialised.length) return 0;
  return Math.min(serialised.length, end + 3 + serialised.readUInt16BE(end + 1));
}

function withoutPeerCertificateDer(session: Buffer): Buffer {
  const header = derHeader(session, 0);
  if (!header || session[0] !== 0x30 || header.end !== session.length) return session;
  // SEQUENCE { INTEGER version, INTEGER ssl_version, … }
  const version = derHeader(session, header.contentAt);
  if (!version || !session.subarray(version.end, version.end + 4).equals(TLS13_VERSION_FIELD)) return session;
  let at = header.contentAt;
  while (at < session.length) {
    const field = derHeader(session, at);
    if (!field || field.end > session.length) return session;
    if (session[at] === SESSION_PEER_TAG) {
      const content = Buffer.concat([session.subarray(header.contentAt, at), session.subarray(field.end)]);
      return Buffer.concat([derSequenceHeader(content.length), content]);
    }
    at = field.end;
  }
  return session;
}

function derHeader(der: Buffer, at: number): { contentAt: number; end: number } | null {
  if (at + 2 > der.length || (der[at]! & 0x1f) === 0x1f) return null;
  const first = der[at + 1]!;
  if (first < 0x80) return { contentAt: at + 2, end: at + 2 + first };
  const lengthBytes = first & 0x7f;
  if (lengthBytes === 0 || lengthBytes > 4 || at + 2 + lengthBytes > der.length) return null;
  let length = 0;
  for (let i = 0; i < lengthBytes; i++) length = length * 256 + der[at + 2 + i]!;
  return { contentAt: at + 2 + lengthBytes, end: at + 2 + lengthBytes + length };
}

function derSequenceHeader(length: number): Buffer {
  if (length < 0x80) return Buffer.from([0x30, length]);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n % 256);
  return Buffer.from([0x30, 0x80 | bytes.length, ...bytes]);
}
