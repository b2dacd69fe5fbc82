// What the TLS options ask for is what gets negotiated, as recorded in the result
// (phases[].summary.classes[cls].negotiated), through the real CLI against the built-in server,
// openssl s_server and nginx: ciphers, suites, groups (post-quantum too), certificate key types,
// SNI, ALPN, and the key log.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createTestCerts, type TestCerts } from './support/certs.js';
import { runCli } from './support/cli.js';
import { startNginx } from './support/nginx-server.js';
import { startOpenSslServer, type ExternalServer } from './support/openssl-server.js';
import { assertNegotiated, externalTarget, tlsRun } from './support/tls-run.js';

/** Full handshakes only, no warm-up: the first attempts are the sampled ones. */
const NEGOTIATE = ['-w', '1', '-c', '2', '--warmup', '0', '-n', '20', '--resume', 'none'];

const [opensslMajor = 0, opensslMinor = 0] = process.versions.openssl.split('.').map(Number);
const postQuantum = opensslMajor > 3 || (opensslMajor === 3 && opensslMinor >= 5);

let certs: TestCerts;
/** A second chain (ECDSA P-384) that s_server presents only for the name other.test. */
let otherCerts: TestCerts;
let sServer: ExternalServer;
let nginx: ExternalServer | null = null;
let scratch: string;

before(async () => {
  [certs, otherCerts] = await Promise.all([createTestCerts(), createTestCerts({ keyType: 'ec-p384' })]);
  sServer = await startOpenSslServer({
    certPath: certs.certPath,
    keyPath: certs.keyPath,
    extraArgs: ['-alpn', 'h2,http/1.1', '-servername', 'other.test', '-cert2', otherCerts.certPath, '-key2', otherCerts.keyPath],
  });
  nginx = await startNginx({ certPath: certs.certPath, keyPath: certs.keyPath });
  scratch = await mkdtemp(path.join(tmpdir(), 'tlsbench-tls-'));
});
after(async () => {
  await Promise.all([sServer?.stop(), nginx?.stop()]);
  await Promise.all([certs?.cleanup(), otherCerts?.cleanup(), scratch && rm(scratch, { recursive: true, force: true })]);
});

/** The three servers; nginx is null (and its cases skip) when it is not installed. */
const servers: { name: string; target: () => string[] | null }[] = [
  { name: 'built-in', target: () => [] },
  { name: 'openssl s_server', target: () => externalTarget(sServer, certs) },
  { name: 'nginx', target: () => (nginx ? externalTarget(nginx, certs) : null) },
];

for (const server of servers) {
  describe(`${server.name}: what was asked is what was negotiated`, () => {
    const run = async (t: { skip(m: string): void }, args: string[], expected: Parameters<typeof assertNegotiated>[1]) => {
      const target = server.target();
      if (!target) return t.skip('nginx is not installed');
      const result = await tlsRun([...target, ...args, ...NEGOTIATE]);
      assert.deepEqual(result.phase.summary.errors, {});
      assertNegotiated(result, expected);
    };
    // Neither is the default choice (AES-128-GCM is), so a cipher list that was ignored shows.
    test('--ciphers ECDHE-ECDSA-CHACHA20-POLY1305 alone: TLS 1.2 (Node caps a TLS 1.2-only list), that cipher', (t) =>
      run(t, ['--ciphers', 'ECDHE-ECDSA-CHACHA20-POLY1305'], { protocol: 'TLSv1.2', cipher: 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256' }));
    test('--tls 1.2 --ciphers ECDHE-ECDSA-AES256-GCM-SHA384', (t) =>
      run(t, ['--tls', '1.2', '--ciphers', 'ECDHE-ECDSA-AES256-GCM-SHA384'], { protocol: 'TLSv1.2', cipher: 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384' }));
    test('--ciphersuites TLS_CHACHA20_POLY1305_SHA256 alone: TLS 1.3, that suite', (t) =>
      run(t, ['--ciphersuites', 'TLS_CHACHA20_POLY1305_SHA256'], { protocol: 'TLSv1.3', cipher: 'TLS_CHACHA20_POLY1305_SHA256' }));
    test('--tls 1.3 --groups P-384 → secp384r1', (t) => run(t, ['--tls', '1.3', '--groups', 'P-384'], { protocol: 'TLSv1.3', group: 'secp384r1' }));
    test('--groups X25519 → X25519 (not the post-quantum default of OpenSSL 3.5)', (t) => run(t, ['--groups', 'X25519'], { group: 'X25519' }));
  });
}

describe('built-in server', () => {
  test('TLS 1.2 records the group too (RSA certificate, so any curve may be offered)', async () => {
    const run = await tlsRun(['--key-type', 'rsa-2048', '--tls', '1.2', '--groups', 'P-384', ...NEGOTIATE]);
    assertNegotiated(run, { protocol: 'TLSv1.2', group: 'secp384r1', cipher: 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', certificate: 'RSA-2048' });
  });

  const keyTypes: [string, string][] = [
    ['rsa-2048', 'RSA-2048'], ['rsa-3072', 'RSA-3072'], ['rsa-4096', 'RSA-4096'],
    ['ecdsa-p256', 'ECDSA prime256v1'], ['ecdsa-p384', 'ECDSA secp384r1'], ['ed25519', 'Ed25519'],
  ];
  for (const [keyType, certificate] of keyTypes) {
    test(`--key-type ${keyType}: handshakes, and the result shows a ${certificate} certificate`, async () => {
      const run = await tlsRun(['--key-type', keyType, ...NEGOTIATE]);
      assert.deepEqual(run.phase.summary.errors, {});
      assert.equal(run.result.target.builtIn?.keyType, keyType);
      assertNegotiated(run, { certificate });
    });
  }

  test('--groups X25519MLKEM768: negotiated on OpenSSL ≥ 3.5 (Node 24), a usage error naming the runtime before', async () => {
    if (postQuantum) {
      const run = await tlsRun(['--groups', 'X25519MLKEM768', ...NEGOTIATE]);
      assertNegotiated(run, { protocol: 'TLSv1.3', group: 'X25519MLKEM768' });
    } else {
      const outcome = await runCli(['--groups', 'X25519MLKEM768', ...NEGOTIATE, '--quiet']);
      assert.equal(outcome.code, 2, outcome.stderr);
      assert.match(outcome.stderr, new RegExp(`OpenSSL ${process.versions.openssl.replace(/\./g, '\\.')}`));
      assert.match(outcome.stderr, /Node 24/);
      assert.equal(outcome.stdout, '');
    }
  });

  test('--alpn: the built-in server selects no protocol, and the handshake still succeeds', async () => {
    const run = await tlsRun(['--alpn', 'h2,http/1.1', ...NEGOTIATE]);
    assert.deepEqual(run.phase.summary.errors, {});
    assertNegotiated(run, { alpn: '' });
  });
});

describe('openssl s_server (-alpn h2,http/1.1; another certificate for other.test)', () => {
  test('--alpn: the server picks from what the client offers, in its own order', async () => {
    assertNegotiated(await tlsRun([...externalTarget(sServer, certs), '--alpn', 'http/1.1', ...NEGOTIATE]), { alpn: 'http/1.1' });
    assertNegotiated(await tlsRun([...externalTarget(sServer, certs), '--alpn', 'http/1.1,h2', ...NEGOTIATE]), { alpn: 'h2' });
  });

  test('--alpn with nothing in common: a classified TLS alert', async () => {
    const run = await tlsRun([...externalTarget(sServer, certs), '--alpn', 'not-a-protocol', ...NEGOTIATE], 1);
    assert.deepEqual(run.phase.summary.errors, { 'tls.alert.no_application_protocol': 20 });
  });

  test('--sni selects the certificate the server presents', async () => {
    const target = [`${sServer.host}:${sServer.port}`];
    const byDefault = await tlsRun([...target, '--ca', certs.caCertPath, '--sni', 'localhost', ...NEGOTIATE]);
    assertNegotiated(byDefault, { certificate: 'ECDSA prime256v1' });
    const other = await tlsRun([...target, '--sni', 'other.test', '--insecure', ...NEGOTIATE]);
    assertNegotiated(other, { certificate: 'ECDSA secp384r1' });
    assert.equal(other.result.config.tls.servername, 'other.test');
  });

  test('--sni is the name the certificate is checked against', async () => {
    const run = await tlsRun([`${sServer.host}:${sServer.port}`, '--ca', certs.caCertPath, '--sni', 'not-localhost.test', ...NEGOTIATE], 1);
    assert.deepEqual(Object.keys(run.phase.summary.errors), ['tls.verify.ERR_TLS_CERT_ALTNAME_INVALID']);
  });

  test('--keylog appends NSS key log lines (private file), for TLS 1.2 and TLS 1.3', async () => {
    const file = path.join(scratch, 'keys.log');
    const line = /^([A-Z0-9_]+) ([0-9a-f]{64}) ([0-9a-f]+)$/;
    await tlsRun([...externalTarget(sServer, certs), '--tls', '1.2', '--keylog', file, ...NEGOTIATE]);
    const tls12 = (await readFile(file, 'utf8')).trim().split('\n');
    assert.equal(tls12.length, 20, 'one CLIENT_RANDOM line per TLS 1.2 handshake');
    for (const l of tls12) assert.equal(line.exec(l)?.[1], 'CLIENT_RANDOM', l);
    assert.equal((await stat(file)).mode & 0o077, 0, 'the key log holds secrets: owner only');

    await tlsRun([...externalTarget(sServer, certs), '--tls', '1.3', '--keylog', file, ...NEGOTIATE]);
    const all = (await readFile(file, 'utf8')).trim().split('\n');
    const tls13 = all.slice(tls12.length);
    for (const l of all) assert.match(l, line);
    const labels = new Set(tls13.map((l) => line.exec(l)![1]));
    for (const label of ['CLIENT_HANDSHAKE_TRAFFIC_SECRET', 'SERVER_HANDSHAKE_TRAFFIC_SECRET', 'CLIENT_TRAFFIC_SECRET_0', 'SERVER_TRAFFIC_SECRET_0']) {
      assert.ok(labels.has(label), `${label} missing: ${[...labels].join(', ')}`);
    }
    // Each TLS 1.3 handshake has its own client random: 20 handshakes, 20 randoms.
    assert.equal(new Set(tls13.map((l) => line.exec(l)![2])).size, 20);
  });
});
