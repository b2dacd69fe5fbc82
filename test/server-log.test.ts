// tlsbench's counts checked against what a real server logged: nginx writes one access-log line
// per request with its own word on resumption (`$ssl_session_reused`) and the time (`$msec`).
// Every run sends one HTTP request per connection (--http /), so one line is one handshake.
// The client's figures must agree with the server's, not with the client's own arithmetic.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loggingNginxSuite } from './support/logging-nginx-suite.js';
import type { NginxLogLine } from './support/nginx-server.js';
import { tlsRun, type TlsRun } from './support/tls-run.js';

const SLOTS = 4;
/** No warm-up: every connection nginx sees is a measured attempt, so the log and the result must match line for line. */
const EXACT = ['-w', '1', '-c', String(SLOTS), '--warmup', '0', '--http', '/'];

const suite = loggingNginxSuite();

function counts(lines: NginxLogLine[]): { lines: number; reused: number; full: number; connections: number } {
  const reused = lines.filter((l) => l.reused).length;
  return { lines: lines.length, reused, full: lines.length - reused, connections: new Set(lines.map((l) => l.connection)).size };
}

/** The run's class counts (0 for a class that did not occur). */
function classes(run: TlsRun): { full: number; resumed: number; miss: number } {
  const c = run.phase.summary.classes;
  return { full: c.full?.handshakes ?? 0, resumed: c.resumed?.handshakes ?? 0, miss: c.miss?.handshakes ?? 0 };
}

describe('counts against nginx access log', () => {
  for (const [name, args, protocol] of [
    ['TLS 1.2 tickets', ['--tls', '1.2', '--resume', 'ticket'], 'TLSv1.2'],
    ['TLS 1.3 tickets', ['--tls', '1.3', '--resume', 'ticket'], 'TLSv1.3'],
  ] as const) {
    test(`${name}: -n 120 makes exactly 120 connections; full and resumed as nginx logged them`, async (t) => {
      const server = await suite.start(t);
      if (!server) return;
      const run = await tlsRun([...suite.target(server), ...args, ...EXACT, '-n', '120']);
      const log = counts(await server.accessLog());
      // -n is exact: nginx saw 120 connections, one request each, and nothing else.
      assert.deepEqual({ lines: log.lines, connections: log.connections }, { lines: 120, connections: 120 });
      assert.ok((await server.accessLog()).every((l) => l.protocol === protocol && l.status === 200 && l.request === 1));
      const mine = classes(run);
      // Only each slot's first attempt has nothing to offer.
      assert.deepEqual(mine, { full: log.full, resumed: log.reused, miss: 0 });
      assert.deepEqual(mine, { full: SLOTS, resumed: 120 - SLOTS, miss: 0 }, 'hand count: one full handshake per slot, then resumed');
      assert.equal(run.phase.summary.offered, 120 - SLOTS);
      assert.equal(run.phase.summary.hitRate, 1);
    });
  }

  // Two ways a real nginx hands out sessions it then refuses: a TLS 1.2 session ID with
  // `ssl_session_cache none` (IDs issued, nothing stored), and a TLS 1.3 stateful ticket with
  // tickets and cache both off. Each refused offer is a `miss`, never a plain full handshake.
  for (const [name, opts, args] of [
    ['TLS 1.2 session IDs, ssl_session_cache none', { sessionCache: 'none', tickets: false }, ['--tls', '1.2', '--resume', 'id']],
    ['TLS 1.3 tickets, tickets and cache off', { sessionCache: false, tickets: false }, ['--tls', '1.3', '--resume', 'ticket']],
  ] as const) {
    test(`${name}: every offered session refused, counted as a miss`, async (t) => {
      const server = await suite.start(t, opts);
      if (!server) return;
      const run = await tlsRun([...suite.target(server), ...args, ...EXACT, '-n', '60']);
      const log = counts(await server.accessLog());
      assert.equal(log.lines, 60);
      assert.equal(log.reused, 0, 'nginx resumed nothing');
      const mine = classes(run);
      assert.deepEqual(mine, { full: SLOTS, resumed: 0, miss: 60 - SLOTS }, `result: ${JSON.stringify(run.phase.summary)}`);
      assert.equal(mine.full + mine.miss, log.full);
      assert.equal(run.phase.summary.offered, 60 - SLOTS);
      assert.equal(run.phase.summary.hitRate, 0);
      assert.ok(run.phase.findings.some((f) => f.includes(`refused all ${60 - SLOTS} offered sessions`)), run.phase.findings.join(' | '));
      if (args[1] === '1.3') {
        // nginx with tickets off issues stateful TLS 1.3 tickets: the finding names them, and no other cause.
        assert.deepEqual(run.result.phases[0]!.tally.offeredMechanisms, { 'tls13-psk-stateful': 60 - SLOTS });
        assert.ok(run.phase.findings.some((f) => f.includes('tickets are stateful') && !f.includes('cannot decrypt')), run.phase.findings.join(' | '));
      }
    });
  }

  test('the measured window holds what nginx logged inside it; warm-up is outside', async (t) => {
    const server = await suite.start(t);
    if (!server) return;
    const run = await tlsRun([...suite.target(server), '--resume', 'none', '-w', '1', '-c', String(SLOTS), '--warmup', '500ms',
      '-d', '2s', '--http', '/']);
    const lines = await server.accessLog();
    const start = run.phase.windowStartedAt;
    const end = start + run.phase.windowMs;
    const before = lines.filter((l) => l.msec < start).length;
    const inside = lines.filter((l) => l.msec >= start && l.msec <= end).length;
    // The warm-up loaded the server too, and is not counted in the window.
    assert.ok(before > 0, `nginx logged nothing before the window opened at ${start}`);
    // A request that ends in the window's first or last moments may be on either side of the
    // edge (its handshake started before, or ended after): at most one per slot at each edge.
    const s = run.phase.summary;
    assert.ok(Math.abs(s.successes - inside) <= 2 * SLOTS,
      `tlsbench counted ${s.successes} handshakes in the window, nginx logged ${inside} requests in it (${before} before, ${lines.length} in all)`);
    assert.ok(s.successes < lines.length - SLOTS, 'the window count excludes the warm-up');
  });
});
