import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { test } from 'node:test';
import tls from 'node:tls';
import { createHostileCertificates } from './hostile/index.js';
import { runJson } from './support/cli.js';
import type { PhaseResult } from '../src/metrics/run-result.js';
import { HANDSHAKE_CLASSES, type HandshakeClass } from '../src/metrics/tally.js';

function onlyPhase(phases: PhaseResult[]): PhaseResult {
  assert.equal(phases.length, 1);
  return phases[0]!;
}

test('open loop: exactly N attempts, each with latency from the intended start', async () => {
  const { result } = await runJson(['--rate', '200', '-n', '100', '--resume', 'none', '-w', '2', '--warmup', '0']);
  const s = onlyPhase(result.phases).summary;
  assert.equal(s.attempts, 100);
  assert.equal(s.successes, 100);
  const full = s.classes.full!;
  assert.equal(full.latency.scheduled!.count, 100);
  assert.equal(full.latency.connect!.count, 100);
});

test('open loop: the rate asked for is the rate of arrivals (2 s at 100/s: 200 attempts)', async () => {
  const { result } = await runJson(['--rate', '100', '-d', '2s', '--resume', 'none', '-w', '2', '--warmup', '300ms']);
  const s = onlyPhase(result.phases).summary;
  // Arrivals are on a fixed schedule: 2 s × 100/s, give or take the one on the window's edge.
  assert.ok(Math.abs(s.arrivals - 200) <= 1, `arrivals ${s.arrivals}`);
  // Each one started or was dropped; what was decided in the window is what started in it, plus
  // what was carried in from the warm-up, less what was still undecided at the end.
  assert.equal(s.arrivals, s.started + s.dropped);
  assert.equal(s.attempts + s.unfinished, s.started + s.carriedIn, `attempts ${s.attempts}, unfinished ${s.unfinished}, started ${s.started}, carried in ${s.carriedIn}`);
  assert.equal(s.dropped, 0);
});

test('open loop: coordinated omission corrected: a stall is in `scheduled`, not in `connect`', async () => {
  // The client process is stopped (SIGSTOP) for STALL_MS while the server, in this process,
  // keeps running. Arrivals due during the stall start late, all at once when it ends: their
  // latency from the intended start (`scheduled`) holds the stall, their `connect` does not.
  const STALL_MS = 1000;
  const RATE = 50;
  const certs = await createHostileCertificates();
  let child: ChildProcess | undefined;
  let stalled: Promise<number> | undefined;
  const server = tls.createServer(certs.good, (socket) => socket.on('error', () => {}).end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const origin = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    let seen = 0;
    const onAttempt = (): void => {
      // The first measured attempt reached the server (no warm-up): stall the client 500 ms into the window.
      if (++seen !== 1) return;
      stalled = (async () => {
        await new Promise((r) => setTimeout(r, 500));
        const from = performance.now();
        child!.kill('SIGSTOP');
        await new Promise((r) => setTimeout(r, STALL_MS));
        const stall = performance.now() - from;
        child!.kill('SIGCONT');
        return stall;
      })();
    };
    server.on('connection', onAttempt);
    const run = runJson([origin, '--ca', certs.caPath, '--rate', String(RATE), '-d', '3s', '--warmup', '0', '--resume', 'none', '-w', '1',
      '--max-connections', '200'], { onSpawn: (c) => (child = c) });
    const { result } = await run;
    const stall = await stalled!;
    const s = onlyPhase(result.phases).summary;
    assert.deepEqual(s.errors, {});
    assert.equal(s.dropped, 0);
    const { scheduled, connect } = s.classes.full!.latency;
    // The arrival due just after the stall began started only once it ended (one interarrival
    // gap of slack): its scheduled latency is at least the stall the test measured.
    assert.ok(scheduled!.max >= (stall - 1000 / RATE) * 1000, `scheduled max ${scheduled!.max} µs, stall ${stall} ms`);
    // The stall is in scheduled latency only: the median attempt, started on time, connected at once.
    assert.ok(connect!.max < scheduled!.max, `connect max ${connect!.max} µs ≥ scheduled max ${scheduled!.max} µs`);
    assert.ok(connect!.p50 < (stall / 4) * 1000, `connect p50 ${connect!.p50} µs holds the stall`);
  } finally {
    if (child && child.exitCode === null) child.kill('SIGCONT');
    await new Promise((resolve) => server.close(resolve));
    await certs.cleanup();
  }
});

test('open loop: warm-up arrivals a stalled client starts only after the window opened are carried in, and the books balance', async () => {
  // The client is stopped (SIGSTOP) for 1 s from its first connection, 500 ms before its window
  // opens: the warm-up arrivals due in that time start late, all at once, inside the window.
  // They were due in the warm-up, so they are its arrivals: 50/s × 0.5 s = 25 in all.
  const certs = await createHostileCertificates();
  let child: ChildProcess | undefined;
  let stall: Promise<void> | undefined;
  const server = tls.createServer(certs.good, (socket) => socket.on('error', () => {}).end());
  server.once('connection', () => {
    child!.kill('SIGSTOP');
    stall = new Promise((resolve) => setTimeout(() => resolve(void child!.kill('SIGCONT')), 1000));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const origin = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    const { result, outcome } = await runJson([origin, '--ca', certs.caPath, '--rate', '50', '--warmup', '500ms', '-d', '2s',
      '--max-connections', '200', '--resume', 'none', '-w', '1'], { onSpawn: (c) => (child = c) });
    await stall;
    assert.equal(outcome.code, 0, outcome.stderr);
    const s = onlyPhase(result.phases).summary;
    assert.equal(s.warmup.attempts + s.carriedIn, 25, `warm-up ${s.warmup.attempts} + carried in ${s.carriedIn}`);
    assert.equal(s.attempts + s.unfinished, s.started + s.carriedIn, JSON.stringify({ ...s, classes: undefined }));
    assert.equal(s.arrivals, s.started + s.dropped);
  } finally {
    if (child && child.exitCode === null) child.kill('SIGCONT');
    await new Promise((resolve) => server.close(resolve));
    await certs.cleanup();
  }
});

test('open loop: arrivals that find no free slot are dropped and counted, never delayed', async () => {
  // A server that accepts and never answers: every attempt holds its slot.
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const port = (server.address() as net.AddressInfo).port;
    const { result } = await runJson([`127.0.0.1:${port}`, '--rate', '100', '--max-connections', '2', '-d', '1s', '--warmup', '0',
      '--resume', 'none', '-w', '1', '--handshake-timeout', '30s']);
    const s = onlyPhase(result.phases).summary;
    // 100 arrivals were due in the 1 s window (give or take the one on its edge): two took the
    // two slots, every other one was dropped on the spot rather than queued behind them.
    assert.ok(Math.abs(s.dropped + s.unfinished - 100) <= 1, `dropped ${s.dropped} + unfinished ${s.unfinished}: 100 arrivals were due`);
    // The two slots stayed busy past the window: aborted, counted as unfinished, not as attempts.
    assert.equal(s.unfinished, 2);
    assert.equal(s.attempts, 0);
    assert.ok(result.phases[0]!.findings.some((f) => /dropped/.test(f)));
  } finally {
    for (const s of sockets) s.destroy();
    server.close();
  }
});

test('timeline: per-second points add up to the measured handshakes, class by class, one point per second of the window', async () => {
  const { result } = await runJson(['--resume', 'ticket', '-d', '2s', '--warmup', '300ms', '-c', '4', '-w', '2']);
  const phase = onlyPhase(result.phases);
  const timeline = phase.timeline;
  const s = phase.summary;
  const summed = (cls: HandshakeClass) => timeline.reduce((a, p) => a + p.handshakes[cls], 0);
  // Each worker counts an outcome in the second it was decided in (a handshake the window's end cut:
  // the second it completed in), whenever its snapshot timer fires, and sends every second up to
  // its last at the end: the timeline holds each class's tally exactly, however late a timer ran.
  for (const cls of HANDSHAKE_CLASSES) assert.equal(summed(cls), s.classes[cls]?.handshakes ?? 0, `${cls} handshakes`);
  assert.equal(timeline.reduce((a, p) => a + p.errors, 0), s.errorCount, 'errors');
  // Handshakes, by when they completed: those of attempts the window's end cut too (unfinished).
  const handshakes = HANDSHAKE_CLASSES.reduce((a, c) => a + summed(c), 0);
  assert.ok(handshakes >= s.successes && handshakes <= s.successes + s.unfinished, `${handshakes} handshakes, ${s.successes} successes, ${s.unfinished} unfinished`);
  assert.ok(summed('resumed') > 0, 'a ticket run resumes');
  // One point per second of the 2 s window, in order, each at its own wall-clock second: nothing of
  // the warm-up, no stray second past the end.
  assert.deepEqual(timeline.map((p) => p.second), [0, 1]);
  for (const p of timeline) assert.ok(Math.abs(p.at - phase.windowStartedAt - 1000 * p.second) <= 1, `second ${p.second} at ${p.at}, window opened ${phase.windowStartedAt}`);
  // Which worker's snapshot of a second arrived on time is no matter; the last second is sent by
  // every worker when its work ends, so both are in it.
  assert.ok(timeline.every((p) => p.workers >= 1 && p.workers <= 2), JSON.stringify(timeline.map((p) => [p.second, p.workers])));
  assert.equal(timeline.at(-1)!.workers, 2);
});

test('request phase: HTTP GET, ttfb per request, bytes read, several requests per connection', async () => {
  const { result } = await runJson(['--http', '/', '--response-bytes', '2000', '--requests-per-connection', '3',
    '-n', '40', '--resume', 'none', '-c', '2', '-w', '1', '--warmup', '0']);
  const s = onlyPhase(result.phases).summary;
  assert.equal(s.successes, 40);
  const full = s.classes.full!;
  assert.equal(full.requests, 120);
  assert.equal(full.latency.ttfb!.count, 120);
  assert.ok(full.bytesRead >= 120 * 2000, `read ${full.bytesRead}`);
});

test('request phase: raw request with --read-bytes', async () => {
  const { result } = await runJson(['--request', 'ping', '--read-bytes', '500', '--response-bytes', '500',
    '-n', '30', '--resume', 'ticket', '-c', '2', '-w', '1', '--warmup', '0']);
  const s = onlyPhase(result.phases).summary;
  assert.equal(s.successes, 30);
  const requests = (s.classes.full?.requests ?? 0) + (s.classes.resumed?.requests ?? 0);
  assert.equal(requests, 30);
  assert.ok((s.classes.resumed?.latency.ttfb?.count ?? 0) > 0, 'ttfb is split by class');
});

test('request phase: --read all reads until the server closes, every byte the server wrote, in whatever pieces', async () => {
  // The server answers with three pieces 20 ms apart and no length anywhere, then closes: only
  // the close says the response is over. Its own count of bytes written is the reference.
  const PIECE = 10_000;
  const certs = await createHostileCertificates();
  let written = 0;
  let connections = 0;
  const server = tls.createServer(certs.good, (socket) => {
    connections++;
    socket.on('error', () => {});
    socket.once('data', async () => {
      for (let i = 0; i < 3; i++) {
        if (i > 0) await new Promise((r) => setTimeout(r, 20));
        socket.write(Buffer.alloc(PIECE, 0x61));
        written += PIECE;
      }
      socket.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const origin = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    const { result, outcome } = await runJson([origin, '--ca', certs.caPath, '--request', 'ping', '--read', 'all',
      '-n', '10', '--resume', 'none', '-c', '2', '-w', '1', '--warmup', '0']);
    assert.equal(outcome.code, 0, outcome.stderr);
    const s = onlyPhase(result.phases).summary;
    assert.equal(s.successes, 10);
    assert.equal(connections, 10);
    const full = s.classes.full!;
    assert.equal(full.requests, 10);
    assert.equal(written, 10 * 3 * PIECE);
    assert.equal(full.bytesRead, written, 'the client stopped reading before the server closed');
    assert.ok(full.bytesPerSecond > 0);
  } finally {
    await new Promise((resolve) => server.close(resolve));
    await certs.cleanup();
  }
});

test('open loop with --ramp: the rate rises linearly from 0: by any time t into the ramp, at most rate·t²/(2·ramp) arrivals reached the server, rate × ramp ÷ 2 in all', async () => {
  // 200/s ramped over 2 s: rate(t) = 100·t, arrivals due by t = 50·t²: 12.5 by 0.5 s, 50 by 1 s,
  // 112.5 by 1.5 s, 200 in all (a flat rate would have 100 by 0.5 s and 200 by 1 s). The server
  // notes when each connection reaches it, on its own clock. A connection can reach it late (a
  // loaded client), never early, so what was due is an upper bound however slow the machine.
  const certs = await createHostileCertificates();
  const arrivals: number[] = [];
  const server = tls.createServer(certs.good, (socket) => socket.on('error', () => {}).end());
  server.on('connection', () => arrivals.push(Date.now()));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const origin = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    const { result, outcome } = await runJson([origin, '--ca', certs.caPath, '--rate', '200', '--ramp', '2s', '--warmup', '0', '-d', '1s',
      '--max-connections', '400', '--resume', 'none', '-w', '1']);
    assert.equal(outcome.code, 0, outcome.stderr);
    const phase = onlyPhase(result.phases);
    const s = phase.summary;
    // Every ramp arrival was made (decided before the window, or carried into it): exactly 200.
    assert.equal(s.warmup.attempts + s.carriedIn, 200, `warm-up ${s.warmup.attempts} + carried in ${s.carriedIn}`);
    assert.equal(s.warmup.errors, 0);
    // The window's books balance (README), late-started ramp arrivals included.
    assert.equal(s.attempts + s.unfinished, s.started + s.carriedIn, JSON.stringify({ ...s, classes: undefined }));
    assert.equal(s.arrivals, s.started + s.dropped);
    // After the ramp, the full rate: 1 s × 200/s (give or take the arrival on the window's edge).
    assert.ok(Math.abs(s.arrivals - 200) <= 1, `arrivals in the window ${s.arrivals}`);
    const startAt = phase.windowStartedAt - 2000;
    const reachedBy = (ms: number) => arrivals.filter((t) => t < startAt + ms).length;
    assert.equal(reachedBy(0), 0, 'connections before the ramp began');
    // One arrival of slack for the two processes' clocks.
    for (const [ms, due] of [[500, 12.5], [1000, 50], [1500, 112.5]] as const) {
      assert.ok(reachedBy(ms) <= Math.floor(due) + 1, `${reachedBy(ms)} connections reached the server ${ms} ms into the ramp; ${due} were due`);
    }
  } finally {
    await new Promise((resolve) => server.close(resolve));
    await certs.cleanup();
  }
});
