import { test } from 'node:test';
import { serveOptions } from '../src/api/serve.js';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { constants as cryptoConstants } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { ensureChain } from '../src/server/pki.js';
import { composeCipherString, neverResumesReason, type ServeOptions, type TargetServer } from '../src/server/target-server.js';
import { startBuiltInServer } from '../src/server/built-in-server.js';
import type { ServerEngineName } from '../src/server/server-engine.js';
import { spawnTargetServer } from '../src/server/target-process.js';

const scratch = await mkdtemp(join(tmpdir(), 'tlsbench-target-'));
// Children spawned below inherit this, so they reuse the chain made here.
process.env.TLSBENCH_CACHE_DIR = join(scratch, 'cache');
process.on('exit', () => void rm(scratch, { recursive: true, force: true }));
const chain = await ensureChain({ keyType: 'ecdsa-p256' });

const base: ServeOptions = { ...serveOptions(), chain };

/** Both servers, each held to the same client-side facts and to its own counters. */
const ENGINES: readonly ServerEngineName[] = ['node', 'native'];

async function withServer(engine: ServerEngineName, opts: Partial<ServeOptions>, body: (server: TargetServer) => Promise<void>): Promise<void> {
  const server = await startBuiltInServer({ ...base, engine, ...opts });
  assert.equal(server.engine, engine);
  try {
    await body(server);
  } finally {
    await server.stop();
  }
}

interface Visit {
  reused: boolean | null;
  protocol: string | null;
  session: Buffer | undefined;
  response: string;
  error?: string;
}

/**
 * One connection: handshake, one HTTP request, read the whole response (the server
 * closes on `Connection: close`). Any TLS 1.3 ticket is sent before the response data,
 * so when the response has ended the session (if any) has arrived: no timing involved.
 */
function visit(
  port: number,
  opts: { session?: Buffer | undefined; ca?: string; noTicket?: boolean; maxVersion?: tls.SecureVersion; cert?: string; key?: string } = {},
): Promise<Visit> {
  return new Promise((resolve) => {
    let session: Buffer | undefined;
    let reused: boolean | null = null;
    let protocol: string | null = null;
    let response = '';
    const socket = tls.connect({
      host: '127.0.0.1',
      port,
      servername: 'localhost',
      ca: opts.ca ?? chain.caCert,
      ...(opts.session ? { session: opts.session } : {}),
      ...(opts.noTicket ? { secureOptions: cryptoConstants.SSL_OP_NO_TICKET } : {}),
      ...(opts.maxVersion ? { maxVersion: opts.maxVersion } : {}),
      ...(opts.cert ? { cert: opts.cert, key: opts.key } : {}),
    });
    socket.on('session', (s: Buffer) => (session = s));
    socket.once('secureConnect', () => {
      reused = socket.isSessionReused();
      protocol = socket.getProtocol();
      // TLS 1.2 sessions are complete at the handshake; keep the newest either way.
      session ??= socket.getSession();
      socket.write('GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    });
    socket.setEncoding('latin1');
    socket.on('data', (text: string) => (response += text));
    socket.once('error', (err: NodeJS.ErrnoException) => resolve({ reused, protocol, session, response, error: err.code ?? err.message }));
    socket.once('end', () => resolve({ reused, protocol, session, response }));
  });
}

for (const engine of ENGINES) {
  test(`${engine}: TLS 1.2 session-ID resumption works with tickets off and the session cache on`, async () => {
    await withServer(engine, { tls: { min: 'TLSv1.2', max: 'TLSv1.2' }, tickets: false, sessionCache: true }, async (server) => {
      // maxVersion 1.2: a TLS 1.3-capable client sends a random (middlebox-compatibility)
      // session ID even when it has no session, and the server's lookup of it is a miss.
      const first = await visit(server.port, { noTicket: true, maxVersion: 'TLSv1.2' });
      assert.equal(first.error, undefined);
      assert.equal(first.protocol, 'TLSv1.2');
      assert.equal(first.reused, false);
      assert.ok(first.session, 'a TLS 1.2 session to offer');

      const second = await visit(server.port, { noTicket: true, maxVersion: 'TLSv1.2', session: first.session });
      assert.equal(second.reused, true);
      assert.equal(server.stats.handshakes, 2);
      assert.equal(server.stats.resumed, 1);
      assert.deepEqual(server.stats.sessionCache, { hits: 1, misses: 0, stored: 1, evicted: 0 });
    });
  });

  test(`${engine}: TLS 1.2 with tickets and session cache both off never resumes, and says why`, async () => {
    const opts = { tls: { min: 'TLSv1.2', max: 'TLSv1.2' }, tickets: false, sessionCache: false } as const;
    assert.equal(neverResumesReason(opts, engine), 'no session tickets and no session cache');
    await withServer(engine, opts, async (server) => {
      const first = await visit(server.port, { noTicket: true });
      const second = await visit(server.port, { noTicket: true, session: first.session });
      assert.equal(second.reused, false);
      assert.equal(server.stats.resumed, 0);
      assert.equal(server.stats.sessionCache, null);
    });
  });

  test(`${engine}: TLS 1.3 ticket resumption works`, async () => {
    await withServer(engine, { tls: { min: 'TLSv1.3', max: 'TLSv1.3' }, tickets: true }, async (server) => {
      assert.equal(neverResumesReason({ tls: { min: 'TLSv1.3', max: 'TLSv1.3' }, tickets: true, sessionCache: true }), null);
      const first = await visit(server.port);
      assert.equal(first.protocol, 'TLSv1.3');
      assert.equal(first.reused, false);
      assert.ok(first.session, 'a ticket arrived before the response ended');
      const second = await visit(server.port, { session: first.session });
      assert.equal(second.reused, true);
      assert.equal(server.stats.resumed, 1);
    });
  });

  test(`${engine}: TLS 1.3 without tickets: Node's server does not resume (nodejs/node#60847), OpenSSL's resumes from its cache; the reason says which`, async () => {
    const opts = { tls: { min: 'TLSv1.3', max: 'TLSv1.3' }, tickets: false, sessionCache: true } as const;
    if (engine === 'node') assert.match(neverResumesReason(opts, engine) ?? '', /nodejs\/node#60847/);
    else assert.equal(neverResumesReason(opts, engine), null);
    await withServer(engine, opts, async (server) => {
      const first = await visit(server.port);
      const second = await visit(server.port, { session: first.session });
      assert.equal(second.protocol, 'TLSv1.3');
      assert.equal(second.reused, engine === 'native');
      assert.equal(server.stats.resumed, engine === 'native' ? 1 : 0);
      // The native server's stateful TLS 1.3 ticket is a session-cache entry: its hit is the cache's.
      if (engine === 'native') assert.equal(server.stats.sessionCache?.hits, 1);
    });
  });

  test(`${engine}: mTLS: a client without a certificate is rejected, one with the chain client certificate is served`, async () => {
    await withServer(engine, { mtls: true, responseBytes: 5 }, async (server) => {
      const anonymous = await visit(server.port);
      assert.ok(
        anonymous.error === 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED' || anonymous.error === 'ECONNRESET',
        `unexpected outcome ${anonymous.error}`,
      );
      assert.equal(anonymous.response, '');
      assert.equal(server.stats.tlsClientErrors, 1);
      assert.equal(server.stats.handshakes, 0);

      const withCert = await visit(server.port, { cert: chain.clientCert, key: chain.clientKey });
      assert.equal(withCert.error, undefined);
      assert.match(withCert.response, /^HTTP\/1\.1 200 OK\r\n/);
      assert.equal(server.stats.handshakes, 1);
    });
  });

  test(`${engine}: HTTP request gets a 200 with a responseBytes body, and Connection: close closes`, async () => {
    await withServer(engine, { responseBytes: 1234 }, async (server) => {
      const result = await visit(server.port);
      assert.equal(result.error, undefined);
      const [head, body] = result.response.split('\r\n\r\n') as [string, string];
      assert.match(head, /^HTTP\/1\.1 200 OK\r\n/);
      assert.match(head, /\r\nContent-Length: 1234(\r\n|$)/);
      assert.match(head, /\r\nConnection: close(\r\n|$)/);
      assert.equal(body.length, 1234);
      assert.equal(server.stats.requests, 1);
    });
  });

  test(`${engine}: chosen TLS 1.3 suite and TLS 1.2 cipher are the ones negotiated`, async () => {
    await withServer(engine, { ciphersuites: 'TLS_CHACHA20_POLY1305_SHA256', ciphers: 'ECDHE-ECDSA-AES256-GCM-SHA384' }, async (server) => {
      const cipherOf = (maxVersion: tls.SecureVersion) =>
        new Promise<string>((resolve, reject) => {
          const socket = tls.connect({ host: '127.0.0.1', port: server.port, servername: 'localhost', ca: chain.caCert, maxVersion }, () => {
            resolve(socket.getCipher().standardName);
            socket.destroy();
          });
          socket.once('error', reject);
        });
      assert.equal(await cipherOf('TLSv1.3'), 'TLS_CHACHA20_POLY1305_SHA256');
      assert.equal(await cipherOf('TLSv1.2'), 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384');
    });
  });
}

test('composeCipherString keeps the default for whichever half was not chosen', () => {
  const defaults = tls.DEFAULT_CIPHERS.split(':');
  const default13 = defaults.filter((c) => c.startsWith('TLS_'));
  assert.equal(composeCipherString(undefined, undefined), undefined);
  assert.equal(composeCipherString('ECDHE-ECDSA-AES128-GCM-SHA256', undefined), [...default13, 'ECDHE-ECDSA-AES128-GCM-SHA256'].join(':'));
  assert.equal(
    composeCipherString(undefined, 'TLS_AES_128_GCM_SHA256'),
    ['TLS_AES_128_GCM_SHA256', ...defaults.filter((c) => !c.startsWith('TLS_'))].join(':'),
  );
  assert.equal(composeCipherString('ECDHE-ECDSA-AES256-GCM-SHA384', 'TLS_CHACHA20_POLY1305_SHA256'), 'TLS_CHACHA20_POLY1305_SHA256:ECDHE-ECDSA-AES256-GCM-SHA384');
});

/** Children of `pid` (Linux /proc), to check nothing is left behind. */
async function childrenOf(pid: number): Promise<number[]> {
  if (process.platform !== 'linux') return [];
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // Fields after the ")" that ends the command name: state, ppid, ...
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid === pid) found.push(Number(entry));
  }
  return found;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('spawnTargetServer starts a child that answers, and stop() leaves no process behind', async () => {
  const target = await spawnTargetServer({ ...base, chain: undefined, cpus: [0], responseBytes: 7 });
  try {
    assert.equal(target.host, '127.0.0.1');
    assert.ok(target.port > 0);
    assert.equal(target.chain.caCert, chain.caCert, 'the child used the same cached chain');
    if (target.cpus) assert.deepEqual(target.cpus, [0]);
    assert.equal(isAlive(target.pid), true);

    const result = await visit(target.port);
    assert.equal(result.error, undefined);
    assert.match(result.response, /^HTTP\/1\.1 200 OK\r\n/);
    assert.ok(result.response.endsWith('\r\n\r\nxxxxxxx'));
  } finally {
    await target.stop();
  }
  assert.equal(isAlive(target.pid), false);
});

test('two target processes resume each other\'s tickets and session IDs', async () => {
  // Round-robin in the primary (Node's own policy, chosen through its documented variable) hands
  // consecutive connections to the two processes in turn: of two resumptions in a row, one is
  // served by the process that did not issue the session. The kernel's choice (the default)
  // would leave that to chance.
  process.env.NODE_CLUSTER_SCHED_POLICY = 'rr';
  const target = await spawnTargetServer({ ...base, chain: undefined, workers: 2 }).finally(() => delete process.env.NODE_CLUSTER_SCHED_POLICY);
  const workers = await childrenOf(target.pid);
  try {
    if (process.platform === 'linux') assert.equal(workers.length, 2);
    const servedBy = (v: { response: string }) => /\r\nX-Served-By: (\d+)\r\n/.exec(v.response)?.[1];
    for (const [kind, options] of [['TLS 1.3 ticket', {}], ['TLS 1.2 session ID', { maxVersion: 'TLSv1.2', noTicket: true }]] as const) {
      const issued = await visit(target.port, options);
      const resumed = [await visit(target.port, { ...options, session: issued.session }), await visit(target.port, { ...options, session: issued.session })];
      for (const r of resumed) assert.equal(r.reused, true, `${kind}: not resumed`);
      const by = resumed.map(servedBy);
      assert.notEqual(by[0], by[1], `${kind}: two connections in a row served by one process (${by[0]})`);
      assert.ok(by.some((pid) => pid !== servedBy(issued)), `${kind}: never resumed outside process ${servedBy(issued)}`);
      for (const pid of [servedBy(issued), ...by]) assert.ok(workers.map(String).includes(pid!), `${kind}: served by ${pid}, not a worker`);
    }
  } finally {
    await target.stop();
  }
  assert.equal(isAlive(target.pid), false);
  for (const pid of workers) assert.equal(isAlive(pid), false, `worker ${pid} left behind`);
});

/** Running (not exited, not a zombie waiting to be reaped). */
async function isRunning(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return stat !== '' && !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
}

test('the target exits when the process that spawned it is killed', { skip: process.platform !== 'linux', timeout: 30_000 }, async () => {
  const moduleUrl = new URL('../src/server/target-process.js', import.meta.url).href;
  const script = `
    const { spawnTargetServer } = await import(${JSON.stringify(moduleUrl)});
    const t = await spawnTargetServer({ keyType: 'ecdsa-p256', tls: { min: 'TLSv1.2', max: 'TLSv1.3' } });
    process.stdout.write(String(t.pid) + '\\n');
    setInterval(() => {}, 1000);
  `;
  const parent = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const targetPid = await new Promise<number>((resolve, reject) => {
    let out = '';
    parent.stdout.setEncoding('utf8');
    parent.stdout.on('data', (t: string) => {
      out += t;
      if (out.includes('\n')) resolve(Number(out.trim()));
    });
    parent.once('exit', (code) => reject(new Error(`parent exited early (${code})`)));
  });
  assert.equal(await isRunning(targetPid), true);
  parent.kill('SIGKILL'); // no 'exit' handler runs: only the closed stdin pipe tells the target
  // No timing margin: poll until it is gone; the test timeout is the backstop.
  while (await isRunning(targetPid)) await new Promise((r) => setTimeout(r, 50));
  assert.equal(await isRunning(targetPid), false);
});
