// The request phase's verdict, checked against nginx's own access log: a response that is not
// 2xx is never a success (its attempt is counted in app.http-Nxx, its handshake still in its
// handshake class), responses are counted by status class, and a server that will not keep the
// connection alive for --requests-per-connection K is said to, in one class of its own.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loggingNginxSuite } from './support/logging-nginx-suite.js';
import type { LoggingNginx } from './support/nginx-server.js';
import { runCli } from './support/cli.js';
import { tlsRun } from './support/tls-run.js';

const N = 20;
/** No warm-up: every request nginx logs is a measured attempt's. */
const EXACT = ['-w', '1', '-c', '2', '--warmup', '0', '-n', String(N), '--resume', 'none'];
const STATUS_LOCATIONS = [
  '    location = /missing { return 404; }',
  '    location = /broken { return 503; }',
  '    location = /moved { return 301 /; }',
].join('\n');

const suite = loggingNginxSuite({ extraServerConfig: STATUS_LOCATIONS });

/** nginx's log: requests by status code. */
async function loggedStatuses(server: LoggingNginx): Promise<Record<number, number>> {
  const out: Record<number, number> = {};
  for (const line of await server.accessLog()) out[line.status] = (out[line.status] ?? 0) + 1;
  return out;
}

describe('HTTP status classes against nginx', () => {
  for (const [path, status, errorClass, key] of [
    ['/missing', 404, 'app.http-4xx', '4xx'],
    ['/broken', 503, 'app.http-5xx', '5xx'],
    ['/moved', 301, 'app.http-3xx', '3xx'],
  ] as const) {
    test(`--http ${path} (nginx returns ${status}): every attempt in ${errorClass}, no success; the handshakes still count`, async (t) => {
      const server = await suite.start(t);
      if (!server) return;
      const run = await tlsRun([...suite.target(server), ...EXACT, '--http', path], 1);
      const s = run.phase.summary;
      assert.deepEqual(await loggedStatuses(server), { [status]: N });
      assert.deepEqual(s.errors, { [errorClass]: N });
      assert.equal(s.successes, 0);
      // The handshake completed: it is a full handshake, its response a non-2xx one.
      assert.equal(s.classes.full?.handshakes, N);
      assert.deepEqual(s.classes.full?.statuses, { [key]: N });
      assert.ok(run.phase.findings.some((f) => f.startsWith(`${N} × ${errorClass}:`)), run.phase.findings.join(' | '));
    });
  }

  test('--http / (200): all successes, the 2xx responses counted', async (t) => {
    const server = await suite.start(t);
    if (!server) return;
    const run = await tlsRun([...suite.target(server), ...EXACT, '--http', '/']);
    assert.deepEqual(await loggedStatuses(server), { 200: N });
    assert.deepEqual(run.phase.summary.errors, {});
    assert.equal(run.phase.summary.successes, N);
    assert.deepEqual(run.phase.summary.classes.full?.statuses, { '2xx': N });
  });

  test('the table shows the responses by status class', async (t) => {
    const server = await suite.start(t);
    if (!server) return;
    const out = await runCli([...suite.target(server), ...EXACT, '--http', '/missing']);
    assert.equal(out.code, 1, out.stderr);
    assert.match(out.stdout, /│ status +│ 4xx 20 │/);
    assert.match(out.stdout, /│ app\.http-4xx +│ +20 │/);
  });
});

describe('--requests-per-connection against a server that will not keep the connection alive', () => {
  test('keepalive_requests 2, K = 3: app.no-keep-alive on every attempt, after the 2 exchanges nginx allowed', async (t) => {
    const server = await suite.start(t, { extraServerConfig: `${STATUS_LOCATIONS}\n    keepalive_requests 2;` });
    if (!server) return;
    const run = await tlsRun([...suite.target(server), ...EXACT, '--http', '/', '--requests-per-connection', '3'], 1);
    const s = run.phase.summary;
    assert.deepEqual(s.errors, { 'app.no-keep-alive': N });
    const log = await server.accessLog();
    // nginx answered two requests per connection (its second with Connection: close), never a third.
    assert.equal(log.length, 2 * N);
    assert.equal(Math.max(...log.map((l) => l.request)), 2);
    assert.equal(s.classes.full?.requests, 2 * N);
    assert.deepEqual(s.classes.full?.statuses, { '2xx': 2 * N });
    const finding = run.phase.findings.find((f) => f.startsWith(`${N} × app.no-keep-alive:`));
    assert.ok(finding?.includes('closes the connection after each response'), run.phase.findings.join(' | '));
  });

  test('keepalive_timeout 0, raw request read to its first byte (no headers parsed): the close between exchanges is still app.no-keep-alive', async (t) => {
    const server = await suite.start(t, { extraServerConfig: `${STATUS_LOCATIONS}\n    keepalive_timeout 0;` });
    if (!server) return;
    const request = 'GET / HTTP/1.1\\r\\nHost: localhost\\r\\n\\r\\n';
    const run = await tlsRun([...suite.target(server), ...EXACT, '--request', request, '--requests-per-connection', '2'], 1);
    assert.deepEqual(run.phase.summary.errors, { 'app.no-keep-alive': N });
    assert.equal((await server.accessLog()).length, N);
  });

  test('keep-alive on, K = 3: every exchange made, nginx logs requests 1, 2, 3 on each connection', async (t) => {
    const server = await suite.start(t);
    if (!server) return;
    const run = await tlsRun([...suite.target(server), ...EXACT, '--http', '/', '--requests-per-connection', '3']);
    assert.deepEqual(run.phase.summary.errors, {});
    const log = await server.accessLog();
    assert.equal(log.length, 3 * N);
    assert.equal(new Set(log.map((l) => l.connection)).size, N);
    assert.deepEqual(run.phase.summary.classes.full?.statuses, { '2xx': 3 * N });
  });
});
