import assert from 'node:assert/strict';
import { test } from 'node:test';
import type * as Api from '../src/index.js';

/**
 * The package as users import it: by its name, through package.json "exports", which points
 * at the built entry dist/src/index.js. (A variable specifier keeps tsc from resolving it
 * before the build has written the entry.)
 */
const entry = 'tlsbench';
const api = (await import(entry)) as typeof Api;

test('the package entry exports run, serve, matrix, compare and merge', () => {
  for (const name of ['run', 'serve', 'matrix', 'compare', 'merge'] as const) assert.equal(typeof api[name], 'function', name);
});

test('run() against the built-in server returns a RunResult; compare() and merge() take it', async () => {
  const result = await api.run({ handshakes: 50, workers: 1, connections: 4, warmup: '200ms', resume: 'ticket' });
  assert.equal(result.schemaVersion, api.SCHEMA_VERSION);
  assert.equal(result.target.builtIn?.keyType, 'ecdsa-p256');
  const phase = result.phases[0]!;
  assert.equal(phase.name, 'resumed');
  assert.equal(phase.summary.attempts, 50);
  assert.equal(phase.summary.successes, 50);
  assert.equal(phase.summary.hitRate, 1);

  // A second, different run: compare and merge must combine two results, not echo one.
  const other = await api.run({ handshakes: 30, workers: 1, connections: 2, warmup: '200ms', resume: 'ticket' });
  const [a, b] = [phase, other.phases[0]!];
  const comparison = api.compare(result, other);
  const throughput = comparison.rows.find((r) => r.phase === 'resumed' && r.cls === 'resumed' && r.metric === 'throughput');
  assert.ok(throughput, JSON.stringify(comparison.rows));
  // By hand: each side's resumed handshakes over its own window.
  const rate = (p: typeof a) => p.summary.classes.resumed!.handshakes / (p.windowMs / 1000);
  assert.ok(Math.abs(throughput.base! - rate(a)) / rate(a) < 0.01, `base ${throughput.base} vs ${rate(a)}`);
  assert.ok(Math.abs(throughput.change! - (rate(b) / rate(a) - 1)) < 0.01, `change ${throughput.change} vs ${rate(b) / rate(a) - 1}`);
  const merged = api.merge([result, other]);
  const m = merged.phases[0]!.summary;
  assert.equal(m.successes, 80);
  assert.equal(m.attempts, 80);
  const tls = (p: typeof a) => p.summary.classes.resumed!.latency.tls!;
  assert.equal(m.classes.resumed!.latency.tls!.count, tls(a).count + tls(b).count);
  assert.equal(m.classes.resumed!.latency.tls!.max, Math.max(tls(a).max, tls(b).max));
  assert.equal(m.classes.resumed!.latency.tls!.min, Math.min(tls(a).min, tls(b).min));
});

test('serve() starts the built-in target in-process; run() measures it as any target', async () => {
  const server = await api.serve({ keyType: 'ecdsa-p256' });
  try {
    const result = await api.run({
      target: `127.0.0.1:${server.port}`, ca: server.chain.caCertPath, handshakes: 50, workers: 1, connections: 4, warmup: '200ms', resume: 'none',
    });
    assert.equal(result.target.builtIn, null);
    assert.equal(result.phases[0]!.summary.successes, 50);
    // The client measured this in-process server, and closed every connection as a well-behaved
    // client does: the server completed each handshake (TLS 1.3: it reads the client's Finished
    // after the client is done) and counted no client error.
    assert.ok(server.stats.handshakes >= 50, `server saw ${server.stats.handshakes} handshakes`);
    assert.equal(server.stats.tlsClientErrors, 0, `server errors: ${server.stats.lastErrors.join(', ')}`);
  } finally {
    await server.stop();
  }
});

test('run() rejects bad options with a UsageError listing every problem', async () => {
  await assert.rejects(api.run({ connections: 0, repeat: 0 }), (err: Error) => err instanceof api.UsageError && /--repeat/.test(err.message));
  // As a JavaScript caller passes it, whom no type stops (a TypeScript caller's compile fails: api-types.test.ts).
  const untyped = { connections: 0, tls: '1.9' } as unknown as Api.RunRequest;
  await assert.rejects(api.run(untyped), (err: Error) => err instanceof api.UsageError && /2 problems/.test(err.message));
});
