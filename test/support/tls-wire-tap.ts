// A TCP relay in front of a TLS server that reads the handshake's cleartext on the wire: what the
// client offered (ClientHello: random, SNI, ALPN) and what the server answered (ServerHello:
// version, cipher, group, ALPN, PSK; the TLS 1.2 ServerKeyExchange's signature algorithm; whether a
// Certificate followed). An independent view of what was negotiated: neither the client under test
// nor its key log is involved. TLS 1.3 encrypts everything after the ServerHello, so its ALPN and
// signature algorithm are not visible here.
import net from 'node:net';

/** One connection as seen on the wire; fields stay undefined until their message passed. */
export interface WireHandshake {
  clientRandom?: string;
  sni?: string;
  alpnOffered?: string[];
  /** 'TLSv1' … 'TLSv1.3', from supported_versions (TLS 1.3) or server_version. */
  version?: string;
  cipher?: number;
  /** TLS 1.3 key_share group id, or the TLS 1.2 ECDHE curve id from the ServerKeyExchange. */
  group?: number;
  alpn?: string;
  /** TLS 1.2 ServerKeyExchange signature algorithm (e.g. 0x0804 rsa_pss_rsae_sha256). */
  sigalg?: number;
  /** The server resumed: TLS 1.3 pre_shared_key in its ServerHello, or TLS ≤ 1.2 no Certificate before its ChangeCipherSpec. */
  resumed?: boolean;
}

export interface WireTap {
  port: number;
  handshakes: WireHandshake[];
  stop(): Promise<void>;
}

const VERSIONS: Record<number, string> = { 0x0301: 'TLSv1', 0x0302: 'TLSv1.1', 0x0303: 'TLSv1.2', 0x0304: 'TLSv1.3' };

/** Standard names of the suites and algorithms the tests ask for, by their wire numbers. */
export const CIPHER_IDS: Record<string, number> = {
  TLS_AES_128_GCM_SHA256: 0x1301, TLS_AES_256_GCM_SHA384: 0x1302, TLS_CHACHA20_POLY1305_SHA256: 0x1303,
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: 0xc013, TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: 0xc014,
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 0xc02f, TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 0xc030,
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 0xcca8,
};
export const SIGALG_IDS: Record<string, number> = { rsa_pkcs1_sha256: 0x0401, rsa_pkcs1_sha384: 0x0501, rsa_pss_rsae_sha256: 0x0804, rsa_pss_rsae_sha384: 0x0805 };

/** Reads TLS records from one direction and hands each complete handshake message to `onMessage`, until encryption starts. */
class HandshakeReader {
  private records = Buffer.alloc(0);
  private messages = Buffer.alloc(0);
  private done = false;
  constructor(private readonly onMessage: (type: number, body: Buffer) => void, private readonly onChangeCipherSpec: () => void) {}

  push(chunk: Buffer): void {
    if (this.done) return;
    this.records = Buffer.concat([this.records, chunk]);
    while (!this.done && this.records.length >= 5) {
      const type = this.records[0]!;
      const length = this.records.readUInt16BE(3);
      if (this.records.length < 5 + length) return;
      const fragment = this.records.subarray(5, 5 + length);
      this.records = this.records.subarray(5 + length);
      if (type === 20) {
        this.onChangeCipherSpec();
        this.done = true; // everything after it is encrypted (TLS ≤ 1.2), or was already (TLS 1.3)
      } else if (type === 22) {
        this.messages = Buffer.concat([this.messages, fragment]);
        while (this.messages.length >= 4) {
          const bodyLength = this.messages.readUIntBE(1, 3);
          if (this.messages.length < 4 + bodyLength) break;
          this.onMessage(this.messages[0]!, this.messages.subarray(4, 4 + bodyLength));
          this.messages = this.messages.subarray(4 + bodyLength);
        }
      } else if (type === 23 || type === 21) {
        this.done = true;
      }
    }
  }
}

/** Extensions of a hello from `offset`: type → body. */
function extensions(body: Buffer, offset: number): Map<number, Buffer> {
  const found = new Map<number, Buffer>();
  if (offset + 2 > body.length) return found;
  const end = offset + 2 + body.readUInt16BE(offset);
  for (let at = offset + 2; at + 4 <= end;) {
    const type = body.readUInt16BE(at);
    const length = body.readUInt16BE(at + 2);
    found.set(type, body.subarray(at + 4, at + 4 + length));
    at += 4 + length;
  }
  return found;
}

function alpnList(ext: Buffer): string[] {
  const names: string[] = [];
  for (let at = 2; at < ext.length; at += 1 + ext[at]!) names.push(ext.subarray(at + 1, at + 1 + ext[at]!).toString('latin1'));
  return names;
}

function readClientHello(h: WireHandshake, body: Buffer): void {
  h.clientRandom = body.subarray(2, 34).toString('hex');
  let at = 34;
  at += 1 + body[at]!; // session id
  at += 2 + body.readUInt16BE(at); // cipher suites
  at += 1 + body[at]!; // compression methods
  const ext = extensions(body, at);
  const sni = ext.get(0);
  if (sni) h.sni = sni.subarray(5, 5 + sni.readUInt16BE(3)).toString('latin1');
  const alpn = ext.get(16);
  if (alpn) h.alpnOffered = alpnList(alpn);
}

function readServerHello(h: WireHandshake, body: Buffer): void {
  let at = 34;
  at += 1 + body[at]!;
  h.cipher = body.readUInt16BE(at);
  const ext = extensions(body, at + 3);
  const supported = ext.get(43);
  h.version = VERSIONS[supported ? supported.readUInt16BE(0) : body.readUInt16BE(0)];
  const share = ext.get(51);
  if (share) h.group = share.readUInt16BE(0);
  const alpn = ext.get(16);
  if (alpn) h.alpn = alpnList(alpn)[0];
  if (h.version === 'TLSv1.3') h.resumed = ext.has(41);
}

/** ECDHE ServerKeyExchange: curve type 3, named curve, point, then (TLS 1.2) the signature algorithm. */
function readServerKeyExchange(h: WireHandshake, body: Buffer): void {
  if (body[0] !== 3) return;
  h.group = body.readUInt16BE(1);
  if (h.version === 'TLSv1.2') h.sigalg = body.readUInt16BE(4 + body[3]!);
}

/** Starts a relay on 127.0.0.1 to `target`; every connection through it is read as above. */
export async function startWireTap(targetPort: number, targetHost = '127.0.0.1'): Promise<WireTap> {
  const handshakes: WireHandshake[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (client) => {
    const h: WireHandshake = {};
    handshakes.push(h);
    let certificate = false;
    const upstream = net.connect({ port: targetPort, host: targetHost, allowHalfOpen: true });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => { client.destroy(); upstream.destroy(); });
      s.on('close', () => sockets.delete(s));
    }
    const fromClient = new HandshakeReader((type, body) => { if (type === 1) readClientHello(h, body); }, () => {});
    const fromServer = new HandshakeReader((type, body) => {
      if (type === 2) readServerHello(h, body);
      else if (type === 11) certificate = true;
      else if (type === 12) readServerKeyExchange(h, body);
    }, () => {
      if (h.version !== 'TLSv1.3') h.resumed = !certificate;
    });
    client.on('data', (chunk: Buffer) => { fromClient.push(chunk); upstream.write(chunk); });
    upstream.on('data', (chunk: Buffer) => { fromServer.push(chunk); client.write(chunk); });
    // Half-closes pass through, so close_notify + FIN and the server's close look as they would without the relay.
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
  });
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    handshakes,
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
