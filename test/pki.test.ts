import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { ensureChain, generateChain, issueCertificate, KEY_TYPES, type CertificateChain } from '../src/server/pki.js';

const execFileP = promisify(execFile);

const scratch = await mkdtemp(join(tmpdir(), 'tlsbench-pki-'));
process.on('exit', () => void rm(scratch, { recursive: true, force: true }));

/** One cache for the whole file, so each key type is generated once. */
const cacheDir = join(scratch, 'cache');
const chains = new Map<string, Promise<CertificateChain>>();
function chainFor(keyType: (typeof KEY_TYPES)[number]): Promise<CertificateChain> {
  let chain = chains.get(keyType);
  if (!chain) chains.set(keyType, (chain = ensureChain({ keyType, cacheDir })));
  return chain;
}

interface HandshakeOutcome {
  ok: boolean;
  code?: string;
  protocol?: string | null;
  peerCN?: string;
}

/** One handshake against a server holding `cert`/`key`, the client trusting `ca`. */
async function handshake(server: { cert: string; key: string }, client: { ca: string; servername?: string; host?: string }): Promise<HandshakeOutcome> {
  const srv = tls.createServer({ cert: server.cert, key: server.key }, (socket) => socket.end());
  srv.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as AddressInfo;
  try {
    return await new Promise<HandshakeOutcome>((resolve) => {
      const socket = tls.connect({
        host: client.host ?? '127.0.0.1',
        port,
        ca: client.ca,
        ...(client.servername ? { servername: client.servername } : {}),
      });
      socket.once('secureConnect', () => {
        const peer = socket.getPeerCertificate();
        resolve({ ok: true, protocol: socket.getProtocol(), peerCN: String(peer.subject?.CN) });
        socket.destroy();
      });
      socket.once('error', (err: NodeJS.ErrnoException) => resolve({ ok: false, code: err.code ?? err.message }));
    });
  } finally {
    await new Promise<void>((resolve) => srv.close(() => resolve()));
  }
}

test('generated chain verifies: CA signs both leaves, names and usages are as specified', async () => {
  const dir = join(scratch, 'explicit');
  const chain = await generateChain({ keyType: 'ecdsa-p256', dir, hosts: ['bench.example', '10.9.8.7', 'fd00::1'] });
  const ca = new X509Certificate(chain.caCert);
  const server = new X509Certificate(chain.serverCert);
  const client = new X509Certificate(chain.clientCert);

  assert.equal(ca.ca, true);
  assert.equal(server.ca, false);
  assert.equal(ca.verify(ca.publicKey), true);
  assert.equal(server.verify(ca.publicKey), true);
  assert.equal(client.verify(ca.publicKey), true);
  assert.equal(server.checkIssued(ca), true);

  assert.equal(server.checkHost('localhost'), 'localhost');
  assert.equal(server.checkHost('bench.example'), 'bench.example');
  assert.equal(server.checkHost('other.example'), undefined);
  assert.equal(server.checkIP('127.0.0.1'), '127.0.0.1');
  assert.equal(server.checkIP('::1'), '::1');
  assert.equal(server.checkIP('10.9.8.7'), '10.9.8.7');
  assert.equal(server.checkIP('fd00::1'), 'fd00::1');
  assert.equal(server.checkIP('10.9.8.6'), undefined);

  assert.deepEqual(server.keyUsage, ['1.3.6.1.5.5.7.3.1']); // serverAuth
  assert.deepEqual(client.keyUsage, ['1.3.6.1.5.5.7.3.2']); // clientAuth
  assert.match(client.subject, /CN=tlsbench-client/);

  // 30-day leaves, 1-year CA (give or take the backdating for clock skew).
  const days = (c: X509Certificate) => (Date.parse(c.validTo) - Date.parse(c.validFrom)) / 86_400_000;
  assert.ok(Math.abs(days(server) - 30) < 0.1, `server validity ${days(server)} days`);
  assert.ok(Math.abs(days(ca) - 365) < 0.1, `CA validity ${days(ca)} days`);
  assert.notEqual(server.serialNumber, client.serialNumber);

  // Files on disk are the PEM returned, keys private.
  assert.equal(chain.caCertPath, join(dir, 'ca.pem'));
  assert.equal((await stat(chain.serverKeyPath)).mode & 0o777, 0o600);
  assert.equal((await stat(chain.clientKeyPath)).mode & 0o777, 0o600);
  assert.equal((await stat(dir)).mode & 0o777, 0o700);
});

test('signature algorithms follow the key type (as openssl reads them)', async () => {
  // The signature algorithm of each certificate, read by openssl from the certificate's own
  // signatureAlgorithm field. (Searching the DER for the algorithm's OID cannot tell Ed25519's
  // signature from its public key: both carry 1.3.101.112.)
  const expected: Record<string, string> = {
    'rsa-2048': 'sha256WithRSAEncryption',
    'rsa-3072': 'sha256WithRSAEncryption',
    'rsa-4096': 'sha256WithRSAEncryption',
    'ecdsa-p256': 'ecdsa-with-SHA256',
    'ecdsa-p384': 'ecdsa-with-SHA384',
    ed25519: 'ED25519',
  };
  for (const keyType of KEY_TYPES) {
    const chain = await chainFor(keyType);
    for (const [name, path] of [['CA', chain.caCertPath], ['server', chain.serverCertPath], ['client', chain.clientCertPath]] as const) {
      const { stdout } = await execFileP('openssl', ['x509', '-in', path, '-noout', '-text']);
      const algorithms = [...stdout.matchAll(/Signature Algorithm: (\S+)/g)].map((m) => m[1]);
      // Once in the signed part, once beside the signature: the same both times.
      assert.deepEqual(algorithms, [expected[keyType], expected[keyType]], `${keyType} ${name}: ${algorithms.join(', ')}`);
    }
    assert.equal(chain.keyType, keyType);
  }
});

test('ensureChain reuses a valid cached chain and regenerates a damaged one', async () => {
  const dir = join(scratch, 'cache-reuse');
  const first = await ensureChain({ keyType: 'ecdsa-p256', cacheDir: dir });
  const again = await ensureChain({ keyType: 'ecdsa-p256', cacheDir: dir });
  assert.equal(again.dir, first.dir);
  assert.equal(again.serverCert, first.serverCert);
  assert.equal(again.caCert, first.caCert);

  // Another set of extra hosts is another cache entry.
  const withHost = await ensureChain({ keyType: 'ecdsa-p256', cacheDir: dir, hosts: ['bench.example'] });
  assert.notEqual(withHost.dir, first.dir);
  assert.equal(new X509Certificate(withHost.serverCert).checkHost('bench.example'), 'bench.example');

  // A key readable by others is not reused.
  const { chmod } = await import('node:fs/promises');
  await chmod(first.serverKeyPath, 0o644);
  const regenerated = await ensureChain({ keyType: 'ecdsa-p256', cacheDir: dir });
  assert.equal(regenerated.dir, first.dir);
  assert.notEqual(regenerated.serverCert, first.serverCert);
  assert.equal((await stat(regenerated.serverKeyPath)).mode & 0o777, 0o600);
});

test('two concurrent ensureChain calls agree on one consistent chain', async () => {
  const dir = join(scratch, 'cache-race');
  const [a, b] = await Promise.all([
    ensureChain({ keyType: 'ecdsa-p256', cacheDir: dir }),
    ensureChain({ keyType: 'ecdsa-p256', cacheDir: dir }),
  ]);
  const onDisk = await ensureChain({ keyType: 'ecdsa-p256', cacheDir: dir });
  // Whichever won, what is on disk is one chain whose server cert the CA signed.
  assert.ok([a.serverCert, b.serverCert].includes(onDisk.serverCert));
  assert.equal(new X509Certificate(onDisk.serverCert).verify(new X509Certificate(onDisk.caCert).publicKey), true);
});

for (const keyType of KEY_TYPES) {
  test(`${keyType} chain gives a working TLS handshake`, async () => {
    const chain = await chainFor(keyType);
    const outcome = await handshake({ cert: chain.serverCert, key: chain.serverKey }, { ca: chain.caCert, servername: 'localhost' });
    assert.deepEqual(outcome, { ok: true, protocol: 'TLSv1.3', peerCN: 'localhost' });
  });
}

test('hostile certificates fail verification with the expected codes', async () => {
  // The cached chain keeps no CA key, so these fixtures get a CA of their own.
  const issuer = await issueCertificate({ keyType: 'ecdsa-p256', commonName: 'fixture CA', names: [], ca: true });
  const ca = issuer;

  const good = await issueCertificate({ keyType: 'ecdsa-p256', commonName: 'localhost', names: ['localhost', '127.0.0.1'], issuer });
  const expired = await issueCertificate({
    keyType: 'ecdsa-p256',
    commonName: 'localhost',
    names: ['localhost', '127.0.0.1'],
    notBefore: new Date(Date.now() - 10 * 86_400_000),
    notAfter: new Date(Date.now() - 86_400_000),
    issuer,
  });
  const otherName = await issueCertificate({ keyType: 'ecdsa-p256', commonName: 'elsewhere', names: ['elsewhere.example'], issuer });
  const selfSigned = await issueCertificate({ keyType: 'ed25519', commonName: 'localhost', names: ['localhost'], issuer: 'self' });

  // The fixture CA is self-signed; a leaf issued by it verifies.
  assert.equal(new X509Certificate(good.cert).verify(new X509Certificate(ca.cert).publicKey), true);
  assert.equal(new X509Certificate(selfSigned.cert).verify(new X509Certificate(selfSigned.cert).publicKey), true);

  assert.deepEqual(await handshake(good, { ca: ca.cert, servername: 'localhost' }), { ok: true, protocol: 'TLSv1.3', peerCN: 'localhost' });
  assert.deepEqual(await handshake(expired, { ca: ca.cert, servername: 'localhost' }), { ok: false, code: 'CERT_HAS_EXPIRED' });
  assert.deepEqual(await handshake(otherName, { ca: ca.cert, servername: 'localhost' }), { ok: false, code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
  assert.deepEqual(await handshake(selfSigned, { ca: ca.cert, servername: 'localhost' }), { ok: false, code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
});

test('issueCertificate signs with an RSA issuer for an EC leaf (mixed key types)', async () => {
  const ca = await issueCertificate({ keyType: 'rsa-2048', commonName: 'rsa CA', names: [], ca: true });
  const leaf = await issueCertificate({ keyType: 'ecdsa-p384', commonName: 'localhost', names: ['localhost'], issuer: ca });
  const leafCert = new X509Certificate(leaf.cert);
  assert.equal(leafCert.verify(new X509Certificate(ca.cert).publicKey), true);
  assert.equal(leafCert.publicKey.asymmetricKeyDetails?.namedCurve, 'secp384r1');
  assert.match(leafCert.issuer, /CN=rsa CA/);
});
