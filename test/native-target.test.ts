// The native built-in server (serve --engine native, native/src/target_server.c) beyond what it shares
// with Node's server (server-target.test.ts runs those on both): its threads, its counts against
// the client's, hostile clients, OCSP staples, stopping under load, and refusing to start unbuilt.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { serve, type ServeRequest } from '../src/api/serve.js';
import type { TargetServer } from '../src/server/target-server.js';
import { spawnTargetServer, type TargetProcess } from '../src/server/target-process.js';
import { runCli, runJson } from './support/cli.js';
import type { RunResult } from '../src/metrics/run-result.js';
import { tlsRun } from './support/tls-run.js';

const N = 60;
const SMALL = ['-w', '1', '-c', '4', '--warmup', '0', '-n', String(N)];

let scratch: string;
before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'tlsbench-native-target-'));
  // Children inherit this, so every server here shares one chain.
  process.env.TLSBENCH_CACHE_DIR = join(scratch, 'cache');
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** A built-in server in this process for `body`, stopped after it whatever happens. */
async function withServe(options: ServeRequest, body: (server: TargetServer) => Promise<void>): Promise<void> {
  const server = await serve(options);
  try {
    await body(server);
  } finally {
    await server.stop();
  }
}

const external = (t: TargetProcess) => [`${t.host}:${t.port}`, '--ca', t.chain.caCertPath, '--sni', 'localhost'];

test('serve --engine native --workers 2: two threads, and the server counts exactly the client\'s handshakes and resumptions (tickets, session IDs, TLS 1.2 and 1.3)', async () => {
  const target = await spawnTargetServer({ engine: 'native', workers: 2, keyType: 'ecdsa-p256', tls: { min: 'TLSv1.2', max: 'TLSv1.3' } });
  try {
    assert.equal(target.engine, 'native');
    for (const [version, resume] of [['1.3', 'ticket'], ['1.2', 'ticket'], ['1.2', 'id'], ['1.3', 'none']] as const) {
      const before = (await target.stats())!;
      const run = await tlsRun([...external(target), '--tls', version, '--resume', resume, ...SMALL]);
      const after = (await target.stats())!;
      const what = `TLS ${version}, resume ${resume}`;
      assert.deepEqual(run.phase.summary.errors, {}, what);
      const resumed = run.phase.summary.classes.resumed?.handshakes ?? 0;
      // Every handshake the client made (each slot's first is full) reached the server, and nothing else.
      assert.equal(after.handshakes - before.handshakes, run.phase.summary.attempts, what);
      assert.equal(after.resumed - before.resumed, resumed, what);
      assert.equal(after.tlsClientErrors - before.tlsClientErrors, 0, what);
      if (resume !== 'none') assert.ok(resumed >= N - 4, `${what}: ${resumed} resumed`);
      // Session IDs resume from the cache; tickets do not touch it.
      assert.equal(after.sessionCache!.hits - before.sessionCache!.hits, resume === 'id' ? resumed : 0, what);
    }
  } finally {
    await target.stop();
  }
});

test('hostile clients: a bare TCP close and garbage each fail one handshake with its reason; the server goes on serving', async () => {
  await withServe({ engine: 'native' }, async (server) => {
    await new Promise<void>((resolve) => {
      const s = connect(server.port, '127.0.0.1', () => s.end());
      s.on('close', () => resolve());
      s.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => {
      const s = connect(server.port, '127.0.0.1', () => s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
      s.on('close', () => resolve());
      s.on('error', () => undefined);
      s.resume();
    });
    // Each failure is counted before the server's FIN, so both are in once both clients closed.
    assert.equal(server.stats.tlsClientErrors, 2);
    assert.equal(server.stats.handshakes, 0);
    assert.equal(server.stats.lastErrors.length, 2);
    assert.equal(server.stats.lastErrors[0], 'ECONNRESET');
    assert.match(server.stats.lastErrors[1]!, /^ERR_SSL_(HTTP_REQUEST|WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG)/);
    const run = await tlsRun([`127.0.0.1:${server.port}`, '--ca', server.chain.caCertPath, '--sni', 'localhost', '--resume', 'none', ...SMALL]);
    assert.deepEqual(run.phase.summary.errors, {});
    assert.equal(server.stats.handshakes, N);
  });
});

test('a client that connects and stalls fails its handshake at the handshake timeout, on both servers alike', async () => {
  for (const engine of ['node', 'native'] as const) {
    await withServe({ engine, handshakeTimeoutMs: 300 }, async (server) => {
      const started = Date.now();
      await new Promise<void>((resolve) => {
        const s = connect(server.port, '127.0.0.1');
        s.on('error', () => undefined);
        s.on('close', () => resolve());
        s.resume();
      });
      assert.ok(Date.now() - started >= 250, `${engine}: closed after ${Date.now() - started} ms, before the timeout`);
      // Counted before the server closed the connection.
      assert.equal(server.stats.tlsClientErrors, 1, engine);
      assert.deepEqual(server.stats.lastErrors, ['ERR_TLS_HANDSHAKE_TIMEOUT'], engine);
    });
  }
});

test('stop() with connections open closes them and returns; the counters stay readable', async () => {
  const server = await serve({ engine: 'native' });
  const sockets: tls.TLSSocket[] = [];
  for (let i = 0; i < 5; i++) {
    sockets.push(await new Promise<tls.TLSSocket>((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port: server.port, servername: 'localhost', ca: server.chain.caCert }, () => resolve(s));
      s.once('error', reject);
    }));
  }
  // An answer on each connection: the server has read its client's Finished, so its handshake is counted.
  for (const s of sockets) {
    await new Promise<void>((resolve) => {
      s.once('data', () => resolve());
      s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    });
  }
  const closed = Promise.all(sockets.map((s) => new Promise<void>((resolve) => {
    s.on('error', () => undefined);
    s.once('close', () => resolve());
  })));
  await server.stop();
  await server.stop();
  await closed;
  assert.equal(server.stats.handshakes, 5);
});

test('the native server staples good and revoked responses; the client judges them (--ocsp) and the server counted each staple', async () => {
  for (const [staple, expected] of [['good', {}], ['revoked', { 'tls.ocsp.revoked': N }]] as const) {
    const run = await tlsRun(['--server-engine', 'native', '--server-ocsp-staple', staple, '--ocsp', '--resume', 'none', ...SMALL], staple === 'good' ? 0 : 1);
    assert.equal(run.result.target.builtIn?.engine, 'native');
    assert.deepEqual(run.phase.summary.errors, expected, staple);
    assert.equal(run.phase.builtInServer?.ocspStaples, N, staple);
  }
});

test('--server-engine native / serve --engine native where the addon does not load: exit 2 before any work, saying why', async () => {
  const env = { TLSBENCH_NATIVE_ADDON: join(scratch, 'missing.node') };
  for (const args of [['--server-engine', 'native', '-n', '1'], ['serve', '--engine', 'native', '--port', '0']]) {
    const out = await runCli(args, { env });
    assert.equal(out.code, 2, `${args.join(' ')}: ${out.stderr}`);
    assert.match(out.stderr, /native server is part of the native engine, which not built/);
    assert.doesNotMatch(out.stderr, /\n\s+at /, 'no stack trace');
  }
  // auto with --mtls falls back to Node's server and says what that costs.
  const fallback = await runCli(['serve', '--mtls', '--port', '0', '--ready-json', '--exit-on-stdin-close'], { env, onSpawn: (child) => setTimeout(() => child.kill('SIGTERM'), 3000) });
  assert.match(fallback.stdout, /"engine":"node"/);
  assert.match(fallback.stderr, /node server; auto: Node's server, as the native engine not built .*cannot see its client-certificate rejections/);
});

test('matrix: --server-engine node,native is an axis; auto is decided once per grid, so a cell without --mtls runs on the server a cell with it does', async () => {
  type Cells = { cells: { name: string; result: RunResult | null; skipped?: string }[] };
  const axis = await runJson(['matrix', '--server-engine', 'node,native', '--resume', 'none', ...SMALL]);
  assert.equal(axis.outcome.code, 0, axis.outcome.stderr);
  const axisCells = (axis.result as unknown as Cells).cells;
  assert.deepEqual(axisCells.map((c) => [c.name, c.result?.target.builtIn?.engine]), [['server-engine=node', 'node'], ['server-engine=native', 'native']]);
  for (const c of axisCells) assert.deepEqual(c.result?.phases[0]?.summary.errors, {}, c.name);

  const grid = join(scratch, 'grid.json');
  await writeFile(grid, JSON.stringify({ options: { resume: 'none' }, cells: [{ name: 'plain' }, { name: 'mutual', mtls: 'required' }] }));
  const mixed = await runJson(['matrix', '--config', grid, ...SMALL]);
  assert.equal(mixed.outcome.code, 0, mixed.outcome.stderr);
  const cells = (mixed.result as unknown as Cells).cells;
  assert.deepEqual(cells.map((c) => [c.name, c.result?.target.builtIn?.engine]), [['plain', 'native'], ['mutual', 'native']]);
  assert.equal(cells[1]!.result?.phases[0]?.builtInServer?.clientCertificates?.accepted, N);
});

test('compare: two results from different built-in servers say so (server CPU then compares implementations)', async () => {
  const files = [];
  for (const engine of ['node', 'native']) {
    const file = join(scratch, `${engine}.json`);
    const out = await runCli(['--server-engine', engine, '--resume', 'none', ...SMALL, '--quiet', '--out', file]);
    assert.equal(out.code, 0, out.stderr);
    files.push(file);
  }
  const compared = await runCli(['compare', ...files, '--format', 'json']);
  assert.equal(compared.code, 0, compared.stderr);
  const notes = (JSON.parse(compared.stdout) as { notes: string[] }).notes;
  assert.ok(notes.some((n) => n.startsWith('built-in servers differ: node built-in server in ') && n.includes('native built-in server in')), notes.join(' | '));
});

/** Writes `bytes` then ends; resolves with whether the server's side ended cleanly (FIN) and any socket error. */
function sendAndWatch(socket: NodeJS.WritableStream & NodeJS.EventEmitter, bytes: Buffer): Promise<{ ended: boolean; error: string | null; received: Buffer }> {
  return new Promise((resolve) => {
    let ended = false;
    let error: string | null = null;
    const chunks: Buffer[] = [];
    socket.on('data', (b: Buffer) => chunks.push(b));
    socket.on('end', () => (ended = true));
    socket.on('error', (err: NodeJS.ErrnoException) => (error = err.code ?? err.message));
    socket.on('close', () => resolve({ ended, error, received: Buffer.concat(chunks) }));
    socket.write(bytes);
  });
}

// Far more than one read takes, so bytes are still unread when the server ends its side: closing then
// would make the kernel answer with a reset, which can overtake the server's last bytes.
const JUNK = Buffer.alloc(1 << 20, 0x78);

test('native server: a handshake that fails with bytes still coming ends with a FIN, never a reset', async () => {
  await withServe({ engine: 'native' }, async (server) => {
    const s = connect(server.port, '127.0.0.1');
    await new Promise((r) => s.once('connect', r));
    const out = await sendAndWatch(s, Buffer.concat([Buffer.from('GET / HTTP/1.1\r\n'), JUNK]));
    assert.deepEqual([out.ended, out.error], [true, null]);
    assert.equal(server.stats.tlsClientErrors, 1);
  });
});

test('both servers: Connection: close with more bytes behind it, the whole response arrives and the close is clean', async () => {
  for (const engine of ['node', 'native'] as const) {
    await withServe({ engine, responseBytes: 100_000 }, async (server) => {
      const s = tls.connect({ host: '127.0.0.1', port: server.port, servername: 'localhost', ca: server.chain.caCert });
      await new Promise((r) => s.once('secureConnect', r));
      const out = await sendAndWatch(s, Buffer.concat([Buffer.from('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'), JUNK]));
      assert.deepEqual([out.ended, out.error], [true, null], engine);
      const text = out.received.toString('latin1');
      assert.match(text, /^HTTP\/1\.1 200 OK\r\n[^]*Connection: close\r\n\r\n/, engine);
      assert.equal(text.length - text.indexOf('\r\n\r\n') - 4, 100_000, engine);
      assert.equal(server.stats.requests, 1, engine);
    });
  }
});

