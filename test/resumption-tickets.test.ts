// Which TLS 1.3 ticket the client offers, and what kind of ticket resumed, checked against servers
// that say so: a fixture that issues two tickets per connection and resumes only the last (some
// real servers do; a client that kept the first would never resume), openssl s_server and nginx
// issuing stateless tickets (tickets on) or stateful ones (tickets off, a session cache).
import assert from 'node:assert/strict';
import tls from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { createTestCerts, type TestCerts } from './support/certs.js';
import { startLastTicketServer, type LastTicketServer } from './support/last-ticket-server.js';
import { startNginx } from './support/nginx-server.js';
import { startOpenSslServer, type ExternalServer } from './support/openssl-server.js';
import { skipUnlessCi } from './support/required.js';
import { externalTarget, tlsRun } from './support/tls-run.js';

const N = 20;
const SEQUENTIAL = ['--tls', '1.3', '--resume', 'ticket', '-w', '1', '-c', '1', '--warmup', '0', '-n', String(N)];

let certs: TestCerts;
before(async () => {
  certs = await createTestCerts();
});
after(async () => {
  await certs?.cleanup();
});

describe('a server that issues two TLS 1.3 tickets per connection and honours only the last', () => {
  let server: LastTicketServer | null = null;
  let unavailable = '';
  before(async () => {
    const started = await startLastTicketServer(certs.certPath, certs.keyPath, 2);
    if (typeof started === 'string') unavailable = started;
    else server = started;
  });
  after(async () => {
    await server?.stop();
  });

  /** One connection: the sessions Node handed over, in order, and whether it resumed. */
  const connect = (session?: Buffer): Promise<{ sessions: Buffer[]; reused: boolean }> => new Promise((resolve, reject) => {
    const sessions: Buffer[] = [];
    const socket = tls.connect({ host: '127.0.0.1', port: server!.port, ca: certs.pem.ca, servername: 'localhost', session, minVersion: 'TLSv1.3' });
    socket.on('session', (s) => sessions.push(s));
    let reused = false;
    // Read at secureConnect: after the close Node no longer knows.
    socket.on('secureConnect', () => {
      reused = socket.isSessionReused();
      socket.end();
    });
    socket.on('error', reject);
    socket.resume();
    socket.on('close', () => resolve({ sessions, reused }));
  });

  test('the fixture itself: the first ticket is refused, the second resumes', async (t) => {
    if (!server) {
      skipUnlessCi(t, unavailable);
      return;
    }
    const first = await connect();
    assert.equal(first.sessions.length, 2, 'two tickets per connection');
    const reusedWith = async (session: Buffer) => {
      const c = await connect(session);
      return { reused: c.reused, sessions: c.sessions.length };
    };
    assert.deepEqual(await reusedWith(first.sessions[0]!), { reused: false, sessions: 2 });
    assert.deepEqual(await reusedWith(first.sessions[1]!), { reused: true, sessions: 2 });
  });

  test('tlsbench offers the newest ticket: every offer resumes, as the server logged', async (t) => {
    if (!server) {
      skipUnlessCi(t, unavailable);
      return;
    }
    const before = server.log().length;
    const run = await tlsRun([`127.0.0.1:${server.port}`, '--ca', certs.caCertPath, '--sni', 'localhost', ...SEQUENTIAL]);
    const log = server.log().slice(before);
    assert.equal(log.length, N);
    assert.ok(log.every((l) => l.issued === 2), 'two tickets on every connection, resumed or not');
    // Connection i offered the second ticket of connection i - 1.
    assert.deepEqual(log.slice(1).map((l) => l.offered), log.slice(0, -1).map((l) => `${l.connection}.2`));
    assert.equal(log.filter((l) => l.resumed).length, N - 1);
    const s = run.phase.summary;
    assert.deepEqual({ full: s.classes.full?.handshakes, resumed: s.classes.resumed?.handshakes, miss: s.classes.miss?.handshakes }, { full: 1, resumed: N - 1, miss: undefined });
    assert.equal(s.hitRate, 1);
    assert.deepEqual(s.mechanisms, { 'tls13-psk-stateless': N - 1 });
  });
});

describe('stateless or stateful TLS 1.3 tickets', () => {
  const servers: ExternalServer[] = [];
  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
  });
  const mechanismsAgainst = async (server: ExternalServer) => {
    servers.push(server);
    const run = await tlsRun([...externalTarget(server, certs), ...SEQUENTIAL]);
    assert.equal(run.phase.summary.hitRate, 1, JSON.stringify(run.phase.summary));
    return run.phase.summary.mechanisms;
  };
  const files = () => ({ certPath: certs.certPath, keyPath: certs.keyPath, tls: '1.3' as const });

  test('openssl s_server: tickets on → stateless; -no_ticket (its session cache) → stateful', async () => {
    assert.deepEqual(await mechanismsAgainst(await startOpenSslServer(files())), { 'tls13-psk-stateless': N - 1 });
    assert.deepEqual(await mechanismsAgainst(await startOpenSslServer({ ...files(), noTicket: true })), { 'tls13-psk-stateful': N - 1 });
  });

  test('nginx: ssl_session_tickets on → stateless; off with a shared cache → stateful', async (t) => {
    const ticketsOn = await startNginx({ ...files(), sessionCache: false });
    if (!ticketsOn) return t.skip('nginx is not installed');
    assert.deepEqual(await mechanismsAgainst(ticketsOn), { 'tls13-psk-stateless': N - 1 });
    const cacheOnly = await startNginx({ ...files(), tickets: false });
    assert.deepEqual(await mechanismsAgainst(cacheOnly!), { 'tls13-psk-stateful': N - 1 });
  });
});
