import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { runJson } from './support/cli.js';
import type { PhaseResult } from '../src/metrics/run-result.js';

function onlyPhase(phases: PhaseResult[]): PhaseResult {
  assert.equal(phases.length, 1);
  return phases[0]!;
}

test('open loop: exactly N attempts, latency also from the intended start', async () => {
  const { result } = await runJson(['--rate', '200', '-n', '100', '--resume', 'none', '-w', '2', '--warmup', '0']);
  const s = onlyPhase(result.phases).summary;
  assert.equal(s.attempts, 100);
  assert.equal(s.successes, 100);
  const full = s.classes.full!;
  assert.equal(full.latency.scheduled!.count, 100);
  assert.equal(full.latency.connect!.count, 100);
  // Intended start is never later than the actual start.
  assert.ok(full.latency.scheduled!.max >= full.latency.connect!.min);
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
    assert.ok(s.dropped > 0, `dropped ${s.dropped}`);
    // The two slots stayed busy past the window: aborted, counted as unfinished, not as attempts.
    assert.equal(s.unfinished, 2);
    assert.equal(s.attempts, 0);
    assert.ok(result.phases[0]!.findings.some((f) => /dropped/.test(f)));
  } finally {
    for (const s of sockets) s.destroy();
    server.close();
  }
});

test('timeline: per-second points add up to the measured handshakes', async () => {
  const { result } = await runJson(['--resume', 'ticket', '-d', '2s', '--warmup', '300ms', '-c', '4', '-w', '2']);
  const phase = onlyPhase(result.phases);
  const timeline = phase.timeline;
  const sum = (cls: 'full' | 'resumed' | 'miss') => timeline.reduce((a, p) => a + p.handshakes[cls], 0);
  assert.equal(sum('full') + sum('resumed') + sum('miss'), phase.summary.successes);
  assert.equal(sum('resumed'), phase.summary.classes.resumed!.handshakes);
  assert.ok(timeline.every((p) => p.second >= 0), 'only the measured window is in the timeline');
  // Every worker reports every second of the window, the last one included (no stray second past it).
  assert.ok(timeline.every((p) => p.workers === 2), JSON.stringify(timeline.map((p) => [p.second, p.workers])));
  assert.equal(timeline.length, 2);
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
