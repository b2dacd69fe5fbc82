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

  const comparison = api.compare(result, result, { failIf: ['throughput<-1%'] });
  assert.deepEqual(comparison.failures, []);
  assert.ok(comparison.rows.every((r) => r.change === null || r.change === 0));
  const merged = api.merge([result, result]);
  assert.equal(merged.phases[0]!.summary.successes, 100);
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
  await assert.rejects(api.run({ connections: 0, tls: '1.9' }), (err: Error) => err instanceof api.UsageError && /2 problems/.test(err.message));
});
