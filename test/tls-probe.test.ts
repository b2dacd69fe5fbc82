// --probe: before the load, one look at the target, printed as one line on stderr and kept in
// the result (`probe`): versions accepted, what the run's settings negotiate, and which
// resumption mechanisms work. Checked against servers whose answers are known by construction.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { TargetProbe } from '../src/engine/probe.js';
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

test('a server that rejects the client: the probe names the cause, not the versions, and the load counts every rejection', async () => {
  // The rejection comes after the client's Finished (TLS 1.3): both the probe and the load read
  // to the server's close, so both see it, even with no request and no resumption.
  const run = await tlsRun([...externalTarget(verifying, certs), '--probe', ...TINY], 1);
  assert.equal(run.result.probe?.error, 'tls.alert.certificate_required');
  assert.equal(run.result.probe?.negotiated, null);
  // The versions are accepted: a missing client certificate is not "TLS 1.3 no, TLS 1.2 no".
  assert.deepEqual(run.result.probe?.versions, { 'TLSv1.3': true, 'TLSv1.2': true });
  assert.match(run.outcome.stderr, /probe: .*failed: tls\.alert\.certificate_required/);
  assert.deepEqual(run.phase.summary.errors, { 'tls.alert.certificate_required': 5 });
  assert.equal(run.phase.summary.successes, 0);
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
