// Session resumption through the real CLI against three real servers: the built-in (Node) one,
// openssl s_server and nginx. Each server is set up to offer exactly one mechanism where it can,
// so a resumption proves that mechanism (TLS 1.2 tickets cannot hide behind a session cache).
// Mechanisms a server does not offer must come out as "not resumed" with a finding, never as errors.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestCerts, type TestCerts } from './support/certs.js';
import { startNginx } from './support/nginx-server.js';
import { startOpenSslServer, type ExternalServer } from './support/openssl-server.js';
import { externalTarget, LOAD, tlsRun } from './support/tls-run.js';

const HANDSHAKES = ['-n', '150'];

interface Mechanism {
  name: string;
  args: string[];
  protocol: string;
}

const TLS12_ID: Mechanism = { name: 'TLS 1.2 session ID', args: ['--tls', '1.2', '--resume', 'id'], protocol: 'TLSv1.2' };
const TLS12_TICKET: Mechanism = { name: 'TLS 1.2 ticket', args: ['--tls', '1.2', '--resume', 'ticket'], protocol: 'TLSv1.2' };
const TLS13_TICKET: Mechanism = { name: 'TLS 1.3 ticket', args: ['--tls', '1.3', '--resume', 'ticket'], protocol: 'TLSv1.3' };

/** Resumes at ≥ 99 % once every slot holds a session; --require-resumption agrees (exit 0). */
async function assertResumes(target: string[], mechanism: Mechanism): Promise<void> {
  const run = await tlsRun([...target, ...mechanism.args, ...LOAD, ...HANDSHAKES, '--require-resumption']);
  const s = run.phase.summary;
  assert.deepEqual(s.errors, {});
  assert.equal(s.attempts, 150);
  // The warm-up gave every slot its first full handshake: every measured attempt offers.
  assert.equal(s.offered, s.attempts, `offered ${s.offered} of ${s.attempts}`);
  assert.ok(s.hitRate !== null && s.hitRate >= 0.99, `hit rate ${s.hitRate}; findings: ${run.phase.findings.join(' | ')}`);
  assert.equal(s.classes.resumed?.handshakes, Math.round(s.offered * s.hitRate));
  for (const sample of s.classes.resumed?.negotiated ?? []) {
    assert.equal(sample.protocol, mechanism.protocol);
    // A resumed handshake carries no certificate.
    assert.equal(sample.certificate, 'not sent (resumed)');
  }
}

/** Never resumes: a 0 % (or n/a) hit rate explained by a finding, no errors, and --require-resumption exits 1. */
async function assertNotResumed(target: string[], mechanism: Mechanism, finding: RegExp): Promise<string[]> {
  const run = await tlsRun([...target, ...mechanism.args, ...LOAD, ...HANDSHAKES, '--require-resumption'], 1);
  const s = run.phase.summary;
  assert.deepEqual(s.errors, {}, 'not resuming is not an error');
  assert.equal(s.successes, s.attempts);
  assert.ok(s.hitRate === null || s.hitRate === 0, `hit rate ${s.hitRate}`);
  assert.equal(s.classes.resumed, undefined);
  assert.ok(run.phase.findings.some((f) => finding.test(f)), `no finding matching ${finding}: ${run.phase.findings.join(' | ')}`);
  assert.match(run.outcome.stderr, /--require-resumption: hit rate .* below 99 %/);
  return [...run.phase.findings, ...run.result.warnings];
}

describe('built-in server', () => {
  test('TLS 1.2 session ID resumes (tickets off: the cache alone)', () => assertResumes(['--server-tickets', 'off'], TLS12_ID));
  test('TLS 1.2 ticket resumes (session cache off: tickets alone)', () => assertResumes(['--server-session-cache', 'off'], TLS12_TICKET));
  test('TLS 1.3 ticket resumes', () => assertResumes([], TLS13_TICKET));

  const nothing = ['--server-tickets', 'off', '--server-session-cache', 'off'];
  test('no tickets, no cache: TLS 1.2 session ID is not resumed, with a finding', async () => void (await assertNotResumed(nothing, TLS12_ID, /never resumed/)));
  test('no tickets, no cache: TLS 1.2 ticket is not resumed, with a finding', async () => void (await assertNotResumed(nothing, TLS12_TICKET, /never resumed/)));
  test('no tickets, no cache: TLS 1.3 ticket is not resumed, with a finding', async () => void (await assertNotResumed(nothing, TLS13_TICKET, /never resumed/)));
  test('tickets off: TLS 1.3 never resumes on a Node server, and the result says why', async () => {
    const notes = await assertNotResumed(['--server-tickets', 'off'], TLS13_TICKET, /never resumed.*ticket/);
    assert.ok(notes.some((n) => n.includes('nodejs/node#60847')), notes.join(' | '));
  });
});

describe('openssl s_server', () => {
  let certs: TestCerts;
  // Tickets only (-no_cache), and a session cache only (-no_ticket).
  let ticketsOnly: ExternalServer;
  let cacheOnly: ExternalServer;
  before(async () => {
    certs = await createTestCerts();
    const files = { certPath: certs.certPath, keyPath: certs.keyPath };
    [ticketsOnly, cacheOnly] = await Promise.all([
      startOpenSslServer({ ...files, extraArgs: ['-no_cache'] }),
      startOpenSslServer({ ...files, noTicket: true }),
    ]);
  });
  after(async () => {
    await Promise.all([ticketsOnly?.stop(), cacheOnly?.stop()]);
    await certs?.cleanup();
  });

  test('TLS 1.2 session ID resumes (-no_ticket)', () => assertResumes(externalTarget(cacheOnly, certs), TLS12_ID));
  test('TLS 1.2 ticket resumes (-no_cache)', () => assertResumes(externalTarget(ticketsOnly, certs), TLS12_TICKET));
  test('TLS 1.3 ticket resumes (-no_cache)', () => assertResumes(externalTarget(ticketsOnly, certs), TLS13_TICKET));
  test('no session cache: TLS 1.2 session ID is not resumed, with a finding', async () => {
    await assertNotResumed(externalTarget(ticketsOnly, certs), TLS12_ID, /never resumed.*session cache/);
  });
});

describe('nginx', () => {
  let certs: TestCerts;
  let ticketsOnly: ExternalServer | null = null;
  let cacheOnly: ExternalServer | null = null;
  before(async () => {
    certs = await createTestCerts();
    const files = { certPath: certs.certPath, keyPath: certs.keyPath };
    ticketsOnly = await startNginx({ ...files, sessionCache: false });
    if (ticketsOnly) cacheOnly = await startNginx({ ...files, tickets: false });
  });
  after(async () => {
    await Promise.all([ticketsOnly?.stop(), cacheOnly?.stop()]);
    await certs?.cleanup();
  });
  /** Skips (locally) when nginx is missing; startNginx throws instead under TLSBENCH_REQUIRE_NGINX=1. */
  const withNginx = (server: () => ExternalServer | null, body: (s: ExternalServer) => Promise<unknown>) =>
    async (t: { skip(message: string): void }) => {
      const s = server();
      if (!s) return t.skip('nginx is not installed');
      await body(s);
    };

  test('TLS 1.2 session ID resumes (tickets off)', withNginx(() => cacheOnly, (s) => assertResumes(externalTarget(s, certs), TLS12_ID)));
  test('TLS 1.2 ticket resumes (session cache off)', withNginx(() => ticketsOnly, (s) => assertResumes(externalTarget(s, certs), TLS12_TICKET)));
  test('TLS 1.3 ticket resumes (session cache off)', withNginx(() => ticketsOnly, (s) => assertResumes(externalTarget(s, certs), TLS13_TICKET)));
  test('no session cache: TLS 1.2 session ID is not resumed, with a finding', withNginx(() => ticketsOnly, (s) =>
    assertNotResumed(externalTarget(s, certs), TLS12_ID, /never resumed.*session cache/)));
});
