// --probe: before the load, one look at the target, printed as one line on stderr and kept in
// the result (`probe`): versions accepted, what the run's settings negotiate, and which
// resumption mechanisms work. Checked against servers whose answers are known by construction.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import tls from 'node:tls';
import { after, before, describe, test } from 'node:test';
import type { TargetProbe } from '../src/engine/probe.js';
import type { ProbeRefusal } from '../src/engine/probe-refusal.js';
import { createTestCerts, type TestCerts } from './support/certs.js';
import { startNginx } from './support/nginx-server.js';
import { startOpenSslServer, type ExternalServer } from './support/openssl-server.js';
import { externalTarget, tlsRun } from './support/tls-run.js';

const TINY = ['-w', '1', '-c', '1', '--warmup', '0', '-n', '5', '--resume', 'none'];

let certs: TestCerts;
let tls12Only: ExternalServer;
let verifying: ExternalServer;
let nginx: ExternalServer | null = null;
before(async () => {
  certs = await createTestCerts();
  const files = { certPath: certs.certPath, keyPath: certs.keyPath };
  [tls12Only, verifying] = await Promise.all([
    startOpenSslServer({ ...files, tls: '1.2' }),
    startOpenSslServer({ ...files, caPath: certs.caCertPath, verifyClient: true }),
  ]);
  nginx = await startNginx(files);
});
after(async () => {
  await Promise.all([tls12Only?.stop(), verifying?.stop(), nginx?.stop()]);
  await certs?.cleanup();
});

async function probe(args: string[]): Promise<{ probe: TargetProbe; stderr: string }> {
  const run = await tlsRun([...args, '--probe', ...TINY]);
  assert.ok(run.result.probe, 'result.probe');
  const line = run.outcome.stderr.split('\n').filter((l) => l.startsWith('probe: '));
  assert.equal(line.length, 1, `one probe line on stderr (even with --quiet): ${run.outcome.stderr}`);
  return { probe: run.result.probe, stderr: line[0]! };
}

test('built-in server, defaults: both versions, every mechanism resumes, and the line says so', async () => {
  const { probe: p, stderr } = await probe([]);
  assert.deepEqual(p.versions, { 'TLSv1.3': true, 'TLSv1.2': true });
  assert.deepEqual(p.resumption, { tls12Id: true, tls12Ticket: true, tls13Ticket: true });
  assert.equal(p.error, null);
  assert.equal(p.negotiated?.protocol, 'TLSv1.3');
  assert.equal(p.negotiated?.certificate, 'ECDSA prime256v1');
  assert.match(stderr, /TLS 1\.3 yes, TLS 1\.2 yes/);
  assert.match(stderr, /certificate ECDSA prime256v1/);
  assert.match(stderr, /resumption: TLS 1\.2 id yes, TLS 1\.2 ticket yes, TLS 1\.3 ticket yes/);
});

test('built-in server: each mechanism is reported by what the server offers', async () => {
  const noTickets = await probe(['--server-tickets', 'off']);
  // The session cache still resumes TLS 1.2 by ID; a Node server without tickets never resumes TLS 1.3.
  assert.deepEqual(noTickets.probe.resumption, { tls12Id: true, tls12Ticket: false, tls13Ticket: false });
  const noCache = await probe(['--server-session-cache', 'off']);
  assert.deepEqual(noCache.probe.resumption, { tls12Id: false, tls12Ticket: true, tls13Ticket: true });
  const nothing = await probe(['--server-tickets', 'off', '--server-session-cache', 'off', '--key-type', 'rsa-2048']);
  assert.deepEqual(nothing.probe.resumption, { tls12Id: false, tls12Ticket: false, tls13Ticket: false });
  assert.equal(nothing.probe.negotiated?.certificate, 'RSA-2048');
});

test('the run settings decide what the probe negotiates', async () => {
  const { probe: p } = await probe(['--tls', '1.2', '--ciphers', 'ECDHE-ECDSA-AES256-GCM-SHA384', '--groups', 'P-256']);
  assert.equal(p.negotiated?.protocol, 'TLSv1.2');
  assert.equal(p.negotiated?.cipher, 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384');
  assert.equal(p.negotiated?.group, 'prime256v1');
  // Versions are still tried one by one, outside the run's own range.
  assert.equal(p.versions['TLSv1.3'], true);
});

test('openssl s_server -tls1_2: TLS 1.3 not accepted, its ticket n/a', async () => {
  const { probe: p, stderr } = await probe(externalTarget(tls12Only, certs));
  assert.deepEqual(p.versions, { 'TLSv1.3': false, 'TLSv1.2': true });
  assert.deepEqual(p.resumption, { tls12Id: true, tls12Ticket: true, tls13Ticket: null });
  assert.equal(p.negotiated?.protocol, 'TLSv1.2');
  assert.match(stderr, /TLS 1\.3 no, TLS 1\.2 yes/);
  assert.match(stderr, /TLS 1\.3 ticket n\/a/);
});

test('nginx: both versions, every mechanism', async (t) => {
  if (!nginx) return t.skip('nginx is not installed');
  const { probe: p } = await probe(externalTarget(nginx, certs));
  assert.deepEqual(p.versions, { 'TLSv1.3': true, 'TLSv1.2': true });
  assert.deepEqual(p.resumption, { tls12Id: true, tls12Ticket: true, tls13Ticket: true });
});

test('without --probe there is no probe', async () => {
  const run = await tlsRun(TINY);
  assert.equal(run.result.probe, undefined);
  assert.doesNotMatch(run.outcome.stderr, /^probe: /m);
});

describe('a server that refuses the handshake for a cause other than the version: the probe names the cause', () => {
  let p384: TestCerts;
  let rsa: TestCerts;
  let otherCa: TestCerts;
  const servers: { stop(): Promise<unknown> }[] = [];
  before(async () => {
    [p384, rsa, otherCa] = await Promise.all([createTestCerts({ keyType: 'ec-p384' }), createTestCerts({ keyType: 'rsa-2048' }), createTestCerts()]);
  });
  after(async () => {
    for (const s of servers) await s.stop();
    await Promise.all([p384?.cleanup(), rsa?.cleanup(), otherCa?.cleanup()]);
  });

  /**
   * A Node.js server that requires a client certificate from the test CA. It verifies after the
   * handshake and drops a connection whose certificate does not verify without an alert: in TLS 1.2
   * before its Finished (the client sees a close), which the probe once reported as "TLS 1.2 no".
   */
  async function startNodeVerifying(): Promise<{ host: '127.0.0.1'; port: number; pid: number; output(): string; stop(): Promise<void> }> {
    const server = tls.createServer({
      key: await readFile(certs.keyPath), cert: await readFile(certs.certPath), ca: await readFile(certs.caCertPath), requestCert: true, rejectUnauthorized: true,
    }, (socket) => {
      socket.on('error', () => {});
      socket.end();
    });
    server.on('tlsClientError', () => {});
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
      host: '127.0.0.1', port: (server.address() as net.AddressInfo).port, pid: process.pid, output: () => '',
      stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
  }

  type Expected = { cause: ProbeRefusal['cause']; errorClass: string; line: RegExp } | null;
  interface RefusalCase {
    name: string;
    start: () => Promise<ExternalServer>;
    /** The server's certificates (its CA is the one the run trusts). */
    served: () => TestCerts;
    args: () => string[];
    code: number;
    refusals: { 'TLSv1.3': Expected; 'TLSv1.2': Expected };
    withDefaults?: Partial<NonNullable<ProbeRefusal['withDefaults']>>;
    /** The load's own errors, when the run's settings are refused. */
    errors?: Record<string, number>;
  }
  const required = (version: string, cls: string): Expected => ({
    cause: 'client-certificate-required', errorClass: cls,
    line: new RegExp(`TLS ${version.replace('.', '\\.')} accepted, but the server requires a client certificate \\(${cls.replace(/\./g, '\\.')}\\): give --cert and --key`),
  });
  const cases: RefusalCase[] = [
    {
      // TLS 1.3: the rejection comes after the client's Finished, as an alert; TLS 1.2: an alert in the handshake.
      name: 'openssl s_server -Verify 1, no client certificate: both versions accepted, each refused for the missing certificate',
      start: () => startOpenSslServer({ certPath: certs.certPath, keyPath: certs.keyPath, caPath: certs.caCertPath, verifyClient: true }),
      served: () => certs, args: () => [], code: 1,
      refusals: { 'TLSv1.3': required('1.3', 'tls.alert.certificate_required'), 'TLSv1.2': required('1.2', 'tls.alert.handshake_failure') },
      errors: { 'tls.alert.certificate_required': 5 },
    },
    {
      name: 'a Node.js server requiring a client certificate, given one from another CA: TLS 1.2 is accepted, the certificate rejected',
      start: startNodeVerifying, served: () => certs,
      args: () => ['--cert', otherCa.clientCertPath, '--key', otherCa.clientKeyPath], code: 0,
      // TLS 1.3: the Node server drops the connection after the client's Finished without an
      // alert, which a client cannot tell from a close (see "Client certificates: what can be seen").
      refusals: {
        'TLSv1.3': null,
        'TLSv1.2': { cause: 'client-certificate-rejected', errorClass: 'tls.closed', line: /TLS 1\.2 accepted, but the server rejected the client certificate \(tls\.closed\): give one issued by a CA the server trusts/ },
      },
    },
    {
      name: 'an ECDSA P-384 certificate and --groups X25519: TLS 1.3 completes; TLS 1.2 needs the certificate\'s curve among the groups',
      start: () => startOpenSslServer({ certPath: p384.certPath, keyPath: p384.keyPath }),
      served: () => p384, args: () => ['--groups', 'X25519'], code: 0,
      refusals: {
        'TLSv1.3': null,
        'TLSv1.2': { cause: 'group', errorClass: 'tls.alert.handshake_failure', line: /TLS 1\.2 accepted, but no shared group \(tls\.alert\.handshake_failure\): the server's certificate is ECDSA secp384r1, and TLS 1\.2 needs its curve among the groups offered \(--groups X25519\)/ },
      },
      withDefaults: { certificate: 'ECDSA secp384r1' },
    },
    {
      name: 's_server -groups P-384 and --groups X25519: TLS 1.3 has no group in common (TLS 1.2 falls back to finite-field DHE)',
      start: () => startOpenSslServer({ certPath: rsa.certPath, keyPath: rsa.keyPath, groups: 'P-384' }),
      served: () => rsa, args: () => ['--groups', 'X25519'], code: 1,
      refusals: {
        'TLSv1.3': { cause: 'group', errorClass: 'tls.alert.handshake_failure', line: /TLS 1\.3 accepted, but no shared group \(tls\.alert\.handshake_failure\): the server takes secp384r1, not the groups offered \(--groups X25519\)/ },
        'TLSv1.2': null,
      },
      withDefaults: { group: 'secp384r1' },
      errors: { 'tls.alert.handshake_failure': 5 },
    },
    {
      name: 'an RSA server and --ciphers naming only ECDSA suites: TLS 1.2 is accepted, nothing in common with --ciphers',
      start: () => startOpenSslServer({ certPath: rsa.certPath, keyPath: rsa.keyPath, tls: '1.2' }),
      served: () => rsa, args: () => ['--tls', '1.2', '--ciphers', 'ECDHE-ECDSA-AES128-GCM-SHA256'], code: 1,
      refusals: {
        'TLSv1.3': null,
        'TLSv1.2': { cause: 'settings', errorClass: 'tls.alert.handshake_failure', line: /TLS 1\.2 accepted, but nothing in common with --ciphers\/--ciphersuites\/--sigalgs \(tls\.alert\.handshake_failure\): with the defaults it negotiates TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256/ },
      },
      errors: { 'tls.alert.handshake_failure': 5 },
    },
  ];

  for (const c of cases) {
    test(c.name, async () => {
      const server = await c.start();
      servers.push(server);
      const run = await tlsRun([...externalTarget(server, c.served()), ...c.args(), '--probe', ...TINY], c.code);
      const p = run.result.probe!;
      const line = run.outcome.stderr.split('\n').find((l) => l.startsWith('probe: '))!;
      for (const version of ['TLSv1.3', 'TLSv1.2'] as const) {
        const expected = c.refusals[version];
        const got = p.refusals?.[version] ?? null;
        assert.equal(got?.cause ?? null, expected?.cause ?? null, `${version}: ${JSON.stringify(got)}`);
        if (expected) {
          assert.equal(got!.errorClass, expected.errorClass, version);
          assert.match(line, expected.line);
          // Never "TLS 1.x no" for a version the server speaks.
          assert.equal(p.versions[version], true, version);
          assert.doesNotMatch(line, new RegExp(`TLS ${version.slice(4).replace('.', '\\.')} no`));
        }
      }
      if (c.withDefaults) {
        const refusal = p.refusals!['TLSv1.3'] ?? p.refusals!['TLSv1.2'];
        for (const [k, v] of Object.entries(c.withDefaults)) assert.equal(refusal!.withDefaults?.[k as 'group'], v, k);
      }
      if (c.errors) assert.deepEqual(run.phase.summary.errors, c.errors);
      await server.stop();
    });
  }

  test('nginx ssl_verify_client on: the handshake completes and nginx answers 400, so the probe sees both versions; the request phase counts app.http-4xx', async (t) => {
    const verifyingNginx = await startNginx({ certPath: certs.certPath, keyPath: certs.keyPath, caPath: certs.caCertPath, verifyClient: true });
    if (!verifyingNginx) return t.skip('nginx is not installed');
    servers.push(verifyingNginx);
    const run = await tlsRun([...externalTarget(verifyingNginx, certs), '--probe', '--http', '/', ...TINY], 1);
    assert.deepEqual(run.result.probe!.versions, { 'TLSv1.3': true, 'TLSv1.2': true });
    assert.deepEqual(run.result.probe!.refusals, { 'TLSv1.3': null, 'TLSv1.2': null });
    assert.deepEqual(run.phase.summary.errors, { 'app.http-4xx': 5 });
  });
});
