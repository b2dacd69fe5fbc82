// CRLs and client-certificate verify modes, against real servers: the CRL `tlsbench certs --revoke`
// writes is the one OpenSSL, nginx and s_server enforce; the client's --crl fails a revoked server
// certificate in tls.verify.CERT_REVOKED and refuses a stale or foreign CRL before any work; the
// built-in server's --mtls required|optional and --crl reject what they should and count it, and
// where Node cannot tell the client (TLS 1.3), the run says so from the server's own count.
// The client's --crl runs on both engines (the native one loads the CRL into its own store with
// Node's flags): the same class on every attempt on each.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { serve } from '../src/api/serve.js';
import { issueCertificate, loadChain, type CertificateChain } from '../src/server/pki.js';
import { buildCrl } from '../src/trust/crl.js';
import type { RunResult } from '../src/metrics/run-result.js';
import { runCli, runJson } from './support/cli.js';
import { startNginx } from './support/nginx-server.js';
import { startOpenSslServer } from './support/openssl-server.js';
import { tlsRun } from './support/tls-run.js';
import { ENGINES, nativeBuilt } from './support/engines.js';

const execFileP = promisify(execFile);
const N = 40;
const SMALL = ['-w', '1', '-c', '2', '--warmup', '0', '-n', String(N)];

let scratch: string;
let dir: string;
let chain: CertificateChain;
const file = (name: string) => join(dir, name);
const revokedClient = () => ['--cert', file('revoked-client.pem'), '--key', file('revoked-client.key')];
const goodClient = () => ['--cert', file('client.pem'), '--key', file('client.key')];

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'tlsbench-crl-'));
  dir = join(scratch, 'pki');
  const made = await runCli(['certs', '--out', dir, '--revoke', 'revoked-client', '--revoke', 'bad-server', '--crl-entries', '100', '--crl-entries', '5000']);
  assert.equal(made.code, 0, made.stderr);
  assert.match(made.stdout, /CRL: +\S+crl\.pem +\(revoked: revoked-client, bad-server;/);
  assert.match(made.stdout, /CRL, 5000 more entries: \S+crl-5000\.pem/);
  chain = await loadChain(dir);
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

test('certs --revoke: openssl reads the CRLs (2 and 102 entries) and refuses exactly the revoked certificates', async () => {
  const entries = async (name: string) => (await execFileP('openssl', ['crl', '-in', file(name), '-noout', '-text'], { maxBuffer: 1 << 26 })).stdout.match(/Serial Number:/g)?.length;
  assert.equal(await entries('crl.pem'), 2);
  assert.equal(await entries('crl-100.pem'), 102);
  const verify = (name: string) => execFileP('openssl', ['verify', '-crl_check', '-CRLfile', file('crl.pem'), '-CAfile', chain.caCertPath, file(name)])
    .then(() => 'OK', (err: { stdout: string; stderr: string }) => err.stdout + err.stderr);
  assert.equal(await verify('client.pem'), 'OK');
  assert.equal(await verify('server.pem'), 'OK');
  assert.match(await verify('revoked-client.pem'), /certificate revoked/);
  assert.match(await verify('bad-server.pem'), /certificate revoked/);
});

describe('client --crl', () => {
  for (const engine of ENGINES) {
    test(`${engine} engine, against nginx serving a revoked certificate: every attempt is tls.verify.CERT_REVOKED, TLS 1.2 and 1.3; its good certificate passes`, async (t) => {
      if (engine === 'native' && !nativeBuilt()) return t.skip('the native engine is not built');
      const revoked = await startNginx({ certPath: file('bad-server.pem'), keyPath: file('bad-server.key') });
      if (!revoked) return t.skip('nginx is not installed');
      const good = await startNginx({ certPath: file('server.pem'), keyPath: file('server.key') });
      const at = (s: { host: string; port: number }) => [`${s.host}:${s.port}`, '--engine', engine, '--ca', chain.caCertPath, '--sni', 'localhost'];
      try {
        for (const version of ['1.2', '1.3']) {
          const run = await tlsRun([...at(revoked), '--crl', file('crl.pem'), '--tls', version, '--resume', 'none', ...SMALL], 1);
          assert.equal(run.result.config.engine.name, engine);
          assert.deepEqual(run.phase.summary.errors, { 'tls.verify.CERT_REVOKED': N }, `TLS ${version}`);
          assert.ok(run.phase.findings.some((f) => f.includes('revoked')), run.phase.findings.join(' | '));
          // Without the CRL the same server is accepted: the CRL is what refused it.
          const plain = await tlsRun([...at(revoked), '--tls', version, '--resume', 'none', ...SMALL]);
          assert.deepEqual(plain.phase.summary.errors, {});
          const ok = await tlsRun([...at(good!), '--crl', file('crl.pem'), '--tls', version, '--resume', 'none', ...SMALL]);
          assert.deepEqual(ok.phase.summary.errors, {});
          assert.equal(ok.result.config.tls.crlFile, file('crl.pem'));
        }
      } finally {
        await Promise.all([revoked.stop(), good?.stop()]);
      }
    });
  }

  test('a stale CRL, one from another CA, and a file that is no CRL: exit 2 before any connection, saying what to do', async () => {
    const target = ['127.0.0.1:1', '--ca', chain.caCertPath, '--sni', 'localhost', '-n', '1'];
    const other = join(scratch, 'other');
    assert.equal((await runCli(['certs', '--out', other, '--revoke', 'client'])).code, 0);
    const foreignRun = await runCli([...target, '--crl', join(other, 'crl.pem')]);
    assert.equal(foreignRun.code, 2);
    assert.match(foreignRun.stderr, /is not signed by any CA in the trusted certificates .*give the CRL of the CA that issued/);
    const notCrl = join(scratch, 'not-a-crl.pem');
    await writeFile(notCrl, 'hello\n');
    const junk = await runCli([...target, '--crl', notCrl]);
    assert.equal(junk.code, 2);
    assert.match(junk.stderr, /does not parse as a CRL .*give a CRL in PEM or DER form/);
    // A CA whose key this test holds signs a CRL whose nextUpdate has passed.
    const ca = await issueCertificate({ keyType: 'ecdsa-p256', commonName: 'stale CA', names: [], ca: true });
    const day = 86_400_000;
    const stale = join(scratch, 'stale.pem');
    await writeFile(stale, buildCrl({ issuer: ca, revoked: [], thisUpdate: new Date(Date.now() - 9 * day), nextUpdate: new Date(Date.now() - 2 * day) }));
    const caFile = join(scratch, 'stale-ca.pem');
    await writeFile(caFile, ca.cert);
    const staleRun = await runCli(['127.0.0.1:1', '--ca', caFile, '--sni', 'localhost', '-n', '1', '--crl', stale]);
    assert.equal(staleRun.code, 2);
    assert.match(staleRun.stderr, /is stale: its nextUpdate .* has passed.*fetch a current CRL/);
    for (const out of [foreignRun, junk, staleRun]) {
      assert.doesNotMatch(out.stderr, /\n\s+at /, 'no stack trace');
      assert.doesNotMatch(out.stdout, /tcp\.refused/, 'no connection was made');
    }
  });
});

describe('built-in server --mtls and --crl', () => {
  const builtIn = () => ['--server-cert-dir', dir, '--resume', 'none', ...SMALL];

  test('required, a valid client certificate: accepted, and the server counted what it asked and got', async () => {
    const run = await tlsRun(['--mtls', 'required', '--server-crl', file('crl.pem'), ...goodClient(), ...builtIn()]);
    assert.deepEqual(run.phase.summary.errors, {});
    assert.equal(run.result.config.server.mtls, 'required');
    assert.deepEqual(run.phase.builtInServer?.clientCertificates, { requested: N, sent: N, accepted: N, rejected: {} });
  });

  test('TLS 1.2, a revoked client certificate: every attempt fails in one class (native: the alert; Node: its drop), and the server counted each CERT_REVOKED', async () => {
    for (const [engine, expected] of [['native', 'tls.alert.certificate_revoked'], ['node', 'tls.closed']] as const) {
      const run = await tlsRun(['--mtls', '--server-crl', file('crl.pem'), ...revokedClient(), '--tls', '1.2', '--server-engine', engine, ...builtIn()], 1);
      assert.equal(run.result.target.builtIn?.engine, engine);
      assert.deepEqual(run.phase.summary.errors, { [expected]: N }, engine);
      assert.deepEqual(run.phase.builtInServer?.clientCertificates?.rejected, { CERT_REVOKED: N }, engine);
    }
  });

  test('TLS 1.3, a revoked client certificate: the native server (auto with --mtls) rejects it inside the handshake; every attempt is tls.alert.certificate_revoked, as the server counted', async () => {
    for (const args of [[], ['--server-engine', 'native']]) {
      const run = await tlsRun(['--mtls', '--server-crl', file('crl.pem'), ...revokedClient(), '--tls', '1.3', ...args, ...builtIn()], 1);
      assert.equal(run.result.target.builtIn?.engine, 'native');
      assert.deepEqual(run.phase.summary.errors, { 'tls.alert.certificate_revoked': N });
      assert.deepEqual(run.phase.builtInServer?.clientCertificates, { requested: N, sent: N, accepted: 0, rejected: { CERT_REVOKED: N } });
      assert.equal(run.phase.builtInServer?.handshakes, 0);
      assert.equal(run.phase.builtInServer?.failed, N);
      assert.deepEqual(run.phase.findings.filter((f) => f.includes('client certificates')), []);
    }
  });

  test('TLS 1.3, a revoked client certificate on Node\'s server (--server-engine node): dropped without an alert; the run says so from the server\'s count', async () => {
    const run = await tlsRun(['--mtls', '--server-crl', file('crl.pem'), ...revokedClient(), '--tls', '1.3', '--server-engine', 'node', ...builtIn()]);
    assert.equal(run.result.target.builtIn?.engine, 'node');
    assert.deepEqual(run.phase.builtInServer?.clientCertificates?.rejected, { CERT_REVOKED: N });
    assert.equal(run.phase.builtInServer?.handshakes, 0);
    assert.ok(run.phase.findings.some((f) => f.startsWith(`the built-in server rejected ${N} client certificates`) && f.includes('cannot tell it from a normal close')), run.phase.findings.join(' | '));
    const saved = join(scratch, 'mtls-result.json');
    const table = await runCli(['--mtls', '--server-crl', file('crl.pem'), ...revokedClient(), '--tls', '1.3', '--server-engine', 'node', ...builtIn(), '--quiet', '--out', saved]);
    // The saved result matches the shipped schema (report validates it), and Markdown says it too.
    const md = await runCli(['report', saved, '--format', 'markdown']);
    assert.equal(md.code, 0, md.stderr);
    assert.match(md.stdout, /built-in server counted \(phase, warm-up included\)/);
    assert.match(table.stdout, new RegExp(`built-in server counted \\(phase, warm-up included\\): 0 handshakes \\(0 resumed\\), ${N} failed · client certificates requested ${N}, sent ${N}, accepted 0, rejected ${N} \\(${N} CERT_REVOKED\\)`));
  });

  test('serve --mtls optional accepts a client without a certificate; required answers it with OpenSSL\'s alert; both count it', async () => {
    for (const [mode, version, expected] of [
      ['optional', '1.3', {}], ['required', '1.3', { 'tls.alert.certificate_required': N }], ['required', '1.2', { 'tls.alert.handshake_failure': N }],
    ] as const) for (const engine of ['node', 'native'] as const) {
      const server = await serve({ certDir: dir, mtls: mode, engine });
      try {
        const run = await tlsRun([`${server.host}:${server.port}`, '--ca', chain.caCertPath, '--sni', 'localhost', '--tls', version, '--resume', 'none', ...SMALL], mode === 'optional' ? 0 : 1);
        assert.deepEqual(run.phase.summary.errors, expected, `${engine}: ${mode}, TLS ${version}`);
        const c = server.stats.clientCertificates!;
        assert.equal(c.requested, N);
        assert.equal(c.sent, 0);
        assert.equal(c.accepted, mode === 'optional' ? N : 0);
        assert.deepEqual(c.rejected, mode === 'optional' ? {} : { 'no certificate': N });
      } finally {
        await server.stop();
      }
    }
  });

  test('a --server-crl from another CA is refused before the server starts', async () => {
    const other = join(scratch, 'other2');
    assert.equal((await runCli(['certs', '--out', other, '--revoke', 'client'])).code, 0);
    const out = await runCli(['--mtls', '--server-crl', join(other, 'crl.pem'), ...builtIn()]);
    assert.equal(out.code, 2);
    assert.match(out.stderr, /--server-crl '.*' is not signed by any CA in the trusted certificates/);
  });
});

test('matrix axis --server-crl: the cost of a CRL of 2 and of 5002 entries per mutual-TLS handshake, side by side', async () => {
  const crls = [file('crl.pem'), file('crl-5000.pem')];
  const { result, outcome } = await runJson(['matrix', '--mtls', '--server-cert-dir', dir, ...goodClient(), '--server-crl', crls.join(','), '--resume', 'none', ...SMALL]);
  assert.equal(outcome.code, 0, outcome.stderr);
  const cells = (result as unknown as { cells: { name: string; result: RunResult }[] }).cells;
  assert.deepEqual(cells.map((c) => c.name), crls.map((c) => `server-crl=${c}`));
  for (const cell of cells) {
    const phase = cell.result.phases[0]!;
    assert.deepEqual(phase.summary.errors, {}, cell.name);
    assert.equal(phase.builtInServer?.clientCertificates?.accepted, N, cell.name);
    assert.ok((phase.serverCost?.perHandshakeUs ?? 0) > 0, cell.name);
  }
});

describe('servers that reject with an alert', () => {
  test('openssl s_server -crl_check: a revoked client certificate is tls.alert.certificate_revoked on every attempt, TLS 1.2 and 1.3', async () => {
    for (const version of ['1.2', '1.3'] as const) {
      const server = await startOpenSslServer({
        certPath: file('server.pem'), keyPath: file('server.key'), caPath: chain.caCertPath, verifyClient: true, tls: version,
        extraArgs: ['-verify_return_error', '-CRL', file('crl.pem'), '-crl_check'],
      });
      try {
        const target = [`${server.host}:${server.port}`, '--ca', chain.caCertPath, '--sni', 'localhost', '--resume', 'none', ...SMALL];
        const run = await tlsRun([...target, ...revokedClient()], 1);
        assert.deepEqual(run.phase.summary.errors, { 'tls.alert.certificate_revoked': N }, `TLS ${version}`);
        assert.deepEqual(run.phase.summary.classes, {});
        const ok = await tlsRun([...target, ...goodClient()]);
        assert.deepEqual(ok.phase.summary.errors, {}, `TLS ${version}, the good client certificate`);
      } finally {
        await server.stop();
      }
    }
  });

  test('nginx ssl_crl: a revoked client certificate gets HTTP 400 on every request (nginx completes the handshake), a good one 200', async (t) => {
    const nginx = await startNginx({
      certPath: file('server.pem'), keyPath: file('server.key'), caPath: chain.caCertPath, verifyClient: true, accessLog: true,
      extraServerConfig: `    ssl_crl ${file('crl.pem')};`,
    });
    if (!nginx) return t.skip('nginx is not installed');
    try {
      const target = [`${nginx.host}:${nginx.port}`, '--ca', chain.caCertPath, '--sni', 'localhost', '--resume', 'none', '--http', '/', ...SMALL];
      // Every response is nginx's 400: each attempt fails in app.http-4xx (its handshake completed).
      const revoked = await tlsRun([...target, ...revokedClient()], 1);
      assert.deepEqual(revoked.phase.summary.errors, { 'app.http-4xx': N });
      assert.equal(revoked.phase.summary.classes.full?.handshakes, N);
      await tlsRun([...target, ...goodClient()]);
      const statuses = (await nginx.accessLog()).map((l) => l.status);
      assert.equal(statuses.filter((s) => s === 400).length, N);
      assert.equal(statuses.filter((s) => s === 200).length, N);
    } finally {
      await nginx.stop();
    }
  });
});
