// Client options not covered elsewhere: an encrypted client key (--key-passphrase) and the
// legacy versions (--tls 1.0 / 1.1), which OpenSSL 3 only allows at security level 0.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createTestCerts, type TestCerts } from './support/certs.js';
import { runCli } from './support/cli.js';
import { startOpenSslServer, type ExternalServer } from './support/openssl-server.js';
import { assertNegotiated, externalTarget, tlsRun } from './support/tls-run.js';

const SMALL = ['-w', '1', '-c', '2', '--warmup', '0', '-n', '20', '--resume', 'none'];

let certs: TestCerts;
let encryptedKey: string;
before(async () => {
  certs = await createTestCerts();
  encryptedKey = join(certs.dir, 'client-encrypted.key');
  execFileSync('openssl', ['pkey', '-in', certs.clientKeyPath, '-aes256', '-passout', 'pass:s3cret', '-out', encryptedKey]);
});
after(() => certs?.cleanup());

async function withServer(extra: Partial<Parameters<typeof startOpenSslServer>[0]>, body: (s: ExternalServer) => Promise<void>): Promise<void> {
  const server = await startOpenSslServer({ certPath: certs.certPath, keyPath: certs.keyPath, caPath: certs.caCertPath, ...extra });
  try {
    await body(server);
  } finally {
    await server.stop();
  }
}

test('--key-passphrase unlocks an encrypted client key for mutual TLS; a wrong one is bad input', async () => {
  await withServer({ verifyClient: true, tls: '1.2' }, async (server) => {
    const run = await tlsRun([...externalTarget(server, certs), '--cert', certs.clientCertPath, '--key', encryptedKey, '--key-passphrase', 's3cret', ...SMALL]);
    assert.equal(run.phase.summary.successes, 20);
    assertNegotiated(run, { clientCertificate: true });
    const wrong = await runCli([...externalTarget(server, certs), '--cert', certs.clientCertPath, '--key', encryptedKey, '--key-passphrase', 'nope', ...SMALL]);
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /--cert\/--key .*--key-passphrase/);
    assert.doesNotMatch(wrong.stderr, /\n\s+at /);
  });
});

test('--tls 1.0 negotiates TLS 1.0 with a server that allows it; --tls 1.2 is refused by it', async () => {
  await withServer({ www: true, extraArgs: ['-tls1', '-cipher', 'DEFAULT@SECLEVEL=0'] }, async (server) => {
    const run = await tlsRun([...externalTarget(server, certs), '--tls', '1.0', ...SMALL]);
    assert.equal(run.phase.summary.successes, 20);
    assertNegotiated(run, { protocol: 'TLSv1' });
    const modern = await tlsRun([...externalTarget(server, certs), '--tls', '1.2', ...SMALL], 1);
    assert.deepEqual(Object.keys(modern.phase.summary.errors).length, 1);
    assert.match(Object.keys(modern.phase.summary.errors)[0]!, /^tls\.(version|alert\.protocol_version)$/);
  });
});
