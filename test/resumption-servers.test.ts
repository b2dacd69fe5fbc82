// Session resumption through the real CLI against three real servers: the built-in (Node) one,
// openssl s_server and nginx. Each server is set up to offer exactly one mechanism where it can,
// so a resumption proves that mechanism (TLS 1.2 tickets cannot hide behind a session cache).
// Mechanisms a server does not offer must come out as "not resumed" with a finding, never as errors,
// and the two ways of not resuming are told apart: a server that issues nothing (nothing offered,
// plain full handshakes) and one that refuses what it issued (every offer a `miss`).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestCerts, type TestCerts } from './support/certs.js';
import { startNginx } from './support/nginx-server.js';
import { startOpenSslServer, type ExternalServer } from './support/openssl-server.js';
import { externalTarget, LOAD, tlsRun } from './support/tls-run.js';
import type { PhaseSummary } from '../src/metrics/summary.js';

const HANDSHAKES = ['-n', '150'];

interface Mechanism {
  name: string;
  args: string[];
  protocol: string;
}

const TLS12_ID: Mechanism = { name: 'TLS 1.2 session ID', args: ['--tls', '1.2', '--resume', 'id'], protocol: 'TLSv1.2' };
const TLS12_TICKET: Mechanism = { name: 'TLS 1.2 ticket', args: ['--tls', '1.2', '--resume', 'ticket'], protocol: 'TLSv1.2' };
const TLS13_TICKET: Mechanism = { name: 'TLS 1.3 ticket', args: ['--tls', '1.3', '--resume', 'ticket'], protocol: 'TLSv1.3' };

/** The measured attempts of each run (HANDSHAKES): the hand count every figure is checked against. */
const N = 150;

/** Resumes at ≥ 99 % once every slot holds a session; --require-resumption agrees (exit 0). */
async function assertResumes(target: string[], mechanism: Mechanism): Promise<void> {
  const run = await tlsRun([...target, ...mechanism.args, ...LOAD, ...HANDSHAKES, '--require-resumption']);
  const s = run.phase.summary;
  assert.deepEqual(s.errors, {});
  assert.equal(s.attempts, N);
  // The warm-up gave every slot its first full handshake: every measured attempt offers, so
  // none is a plain full handshake, and each is either resumed or a miss.
  assert.equal(s.offered, N, `offered ${s.offered} of ${N}`);
  assert.equal(s.classes.full, undefined, 'an attempt that offered a session was filed as full');
  const resumed = s.classes.resumed?.handshakes ?? 0;
  const miss = s.classes.miss?.handshakes ?? 0;
  assert.equal(resumed + miss, N);
  assert.ok(resumed >= Math.ceil(0.99 * N), `resumed ${resumed} of ${N}; findings: ${run.phase.findings.join(' | ')}`);
  assert.equal(s.hitRate, resumed / N);
  for (const sample of s.classes.resumed?.negotiated ?? []) {
    assert.equal(sample.protocol, mechanism.protocol);
    // A resumed handshake carries no certificate.
    assert.equal(sample.certificate, 'not sent (resumed)');
  }
}

/** Runs a phase that must not resume: no errors, and --require-resumption exits 1. */
async function notResumedRun(target: string[], mechanism: Mechanism, finding: RegExp): Promise<{ s: PhaseSummary; notes: string[] }> {
  const run = await tlsRun([...target, ...mechanism.args, ...LOAD, ...HANDSHAKES, '--require-resumption'], 1);
  const s = run.phase.summary;
  assert.deepEqual(s.errors, {}, 'not resuming is not an error');
  assert.equal(s.attempts, N);
  assert.equal(s.successes, N);
  assert.equal(s.classes.resumed, undefined);
  assert.ok(run.phase.findings.some((f) => finding.test(f)), `no finding matching ${finding}: ${run.phase.findings.join(' | ')}`);
  assert.match(run.outcome.stderr, /--require-resumption: hit rate .* below 99 %/);
  return { s, notes: [...run.phase.findings, ...run.result.warnings] };
}

/**
 * The server issued sessions and refused every one offered back: each measured attempt offered
 * (the warm-up gave every slot a session), each came back a `miss`, none is filed as full.
 */
async function assertRefused(target: string[], mechanism: Mechanism, finding: RegExp): Promise<string[]> {
  const { s, notes } = await notResumedRun(target, mechanism, finding);
  assert.equal(s.offered, N, `offered ${s.offered} of ${N}`);
  assert.equal(s.classes.miss?.handshakes, N, `misses: ${JSON.stringify(s.classes)}`);
  assert.equal(s.classes.full, undefined);
  assert.equal(s.hitRate, 0);
  assert.ok(notes.some((n) => n.includes(`refused all ${N} offered sessions`)), notes.join(' | '));
  return notes;
}

/** The server issued nothing the client could offer: N plain full handshakes, nothing offered, no hit rate. */
async function assertNothingIssued(target: string[], mechanism: Mechanism, finding: RegExp): Promise<void> {
  const { s } = await notResumedRun(target, mechanism, finding);
  assert.equal(s.offered, 0);
  assert.equal(s.hitRate, null);
  assert.equal(s.classes.full?.handshakes, N);
  assert.equal(s.classes.miss, undefined);
}

describe('built-in server', () => {
  test('TLS 1.2 session ID resumes (tickets off: the cache alone)', () => assertResumes(['--server-tickets', 'off'], TLS12_ID));
  test('TLS 1.2 ticket resumes (session cache off: tickets alone)', () => assertResumes(['--server-session-cache', 'off'], TLS12_TICKET));
  test('TLS 1.3 ticket resumes', () => assertResumes([], TLS13_TICKET));

  // A Node server with neither tickets nor a cache still hands out sessions (an ID, a TLS 1.2
  // session, a TLS 1.3 ticket) that it cannot resume: every offer is a miss.
  const nothing = ['--server-tickets', 'off', '--server-session-cache', 'off'];
  test('no tickets, no cache: every TLS 1.2 session ID offered is refused (miss), with a finding', async () => void (await assertRefused(nothing, TLS12_ID, /never resumed.*session cache/)));
  test('no tickets, no cache: every TLS 1.2 ticket offered is refused (miss), with a finding', async () => void (await assertRefused(nothing, TLS12_TICKET, /never resumed.*tickets/)));
  test('no tickets, no cache: every TLS 1.3 ticket offered is refused (miss), with a finding', async () => void (await assertRefused(nothing, TLS13_TICKET, /never resumed.*tickets/)));
  test('tickets off: TLS 1.3 never resumes on a Node server, and the result says why', async () => {
    const notes = await assertRefused(['--server-tickets', 'off'], TLS13_TICKET, /never resumed.*ticket/);
    assert.ok(notes.some((n) => n.includes('nodejs/node#60847')), notes.join(' | '));
  });
});

describe('openssl s_server', () => {
  let certs: TestCerts;
  // Tickets only (-no_cache), a session cache only (-no_ticket), and neither.
  let ticketsOnly: ExternalServer;
  let cacheOnly: ExternalServer;
  let neither: ExternalServer;
  before(async () => {
    certs = await createTestCerts();
    const files = { certPath: certs.certPath, keyPath: certs.keyPath };
    [ticketsOnly, cacheOnly, neither] = await Promise.all([
      startOpenSslServer({ ...files, extraArgs: ['-no_cache'] }),
      startOpenSslServer({ ...files, noTicket: true }),
      startOpenSslServer({ ...files, noTicket: true, extraArgs: ['-no_cache'] }),
    ]);
  });
  after(async () => {
    await Promise.all([ticketsOnly?.stop(), cacheOnly?.stop(), neither?.stop()]);
    await certs?.cleanup();
  });

  test('TLS 1.2 session ID resumes (-no_ticket)', () => assertResumes(externalTarget(cacheOnly, certs), TLS12_ID));
  test('TLS 1.2 ticket resumes (-no_cache)', () => assertResumes(externalTarget(ticketsOnly, certs), TLS12_TICKET));
  test('TLS 1.3 ticket resumes (-no_cache)', () => assertResumes(externalTarget(ticketsOnly, certs), TLS13_TICKET));
  test('no session cache: no TLS 1.2 session ID is issued, so none is offered, with a finding', async () => {
    await assertNothingIssued(externalTarget(ticketsOnly, certs), TLS12_ID, /never resumed.*issued no resumable TLS 1\.2 session ID/);
  });
  test('no tickets, no cache: every TLS 1.3 stateful ticket offered is refused (miss)', async () => {
    await assertRefused(externalTarget(neither, certs), TLS13_TICKET, /never resumed/);
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
  test('no session cache: no TLS 1.2 session ID is issued, so none is offered, with a finding', withNginx(() => ticketsOnly, (s) =>
    assertNothingIssued(externalTarget(s, certs), TLS12_ID, /never resumed.*issued no resumable TLS 1\.2 session ID/)));
});
