// Proves the external-server launchers in test/support work, using plain node:tls only
// (no tlsbench code): openssl s_server and nginx resume TLS 1.2 by session ID and by
// ticket, and TLS 1.3 by ticket; stop() leaves no process behind.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { createTestCerts, type TestCerts } from './support/certs.js';
import { startNginx, type NginxOptions } from './support/nginx-server.js';
import { launchOpenSslServer, OPENSSL_BIND_FAILED, startOpenSslServer, type ExternalServer, type OpenSslServerOptions } from './support/openssl-server.js';
import { childPids, listeningInodes, listeningSockets, pidAlive, startOnFreePort } from './support/process.js';

interface Handshake {
  reused: boolean;
  protocol: string | null;
  /** Last session received through the 'session' event (TLS 1.3 tickets arrive late). */
  session: Buffer | undefined;
  /** Whether the server sent a ticket (getTLSTicket() was set at some point). */
  ticket: boolean;
  response: string;
}

type Mode = 'tls12-id' | 'tls12-ticket' | 'tls13';

function clientOptions(mode: Mode): tls.ConnectionOptions {
  switch (mode) {
    case 'tls12-id':
      return { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', secureOptions: crypto.constants.SSL_OP_NO_TICKET };
    case 'tls12-ticket':
      return { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' };
    case 'tls13':
      return { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' };
  }
}

/** One connection: handshake, GET / with Connection: close, read to the end. Captures
 * sessions from the 'session' event all along, so TLS 1.3 tickets are kept. */
function handshake(
  srv: ExternalServer,
  certs: TestCerts,
  opts: tls.ConnectionOptions,
  session?: Buffer,
): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    let result: Handshake | undefined;
    const s = tls.connect({
      host: srv.host,
      port: srv.port,
      servername: 'localhost',
      ca: certs.pem.ca,
      ...(session ? { session } : {}),
      ...opts,
    });
    const timer = setTimeout(() => s.destroy(new Error('handshake+request timed out')), 10_000);
    let response = '';
    s.on('session', (sess: Buffer) => {
      if (result) {
        result.session = sess;
        result.ticket ||= s.getTLSTicket() !== undefined;
      } else {
        // TLS 1.2: 'session' may fire before 'secureConnect'.
        pending = sess;
      }
    });
    let pending: Buffer | undefined;
    s.once('secureConnect', () => {
      result = {
        reused: s.isSessionReused(),
        protocol: s.getProtocol(),
        session: pending,
        ticket: s.getTLSTicket() !== undefined,
        response: '',
      };
      s.write('GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    });
    s.on('data', (d: Buffer) => {
      response += d.toString('latin1');
    });
    s.on('end', () => s.end());
    s.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    s.once('close', () => {
      clearTimeout(timer);
      if (!result) return reject(new Error('closed before secureConnect'));
      result.response = response;
      resolve(result);
    });
  });
}

/** First connection (full), then `n` offering the latest session; returns how many resumed. */
async function resumeCount(
  srv: ExternalServer,
  certs: TestCerts,
  mode: Mode,
  n = 3,
): Promise<{ first: Handshake; resumed: number; last: Handshake; noSession: boolean }> {
  const opts = clientOptions(mode);
  const first = await handshake(srv, certs, opts);
  assert.equal(first.reused, false, 'first handshake must be full');
  if (!first.session) return { first, resumed: 0, last: first, noSession: true };
  let session = first.session;
  let resumed = 0;
  let last = first;
  for (let i = 0; i < n; i++) {
    last = await handshake(srv, certs, opts, session);
    if (last.reused) resumed++;
    if (last.session) session = last.session;
  }
  return { first, resumed, last, noSession: false };
}

function fmt(r: { resumed: number; noSession: boolean }, n = 3): string {
  return r.noSession ? `no session to offer (0/${n})` : `${r.resumed}/${n}`;
}

const table = new Map<string, Map<string, string>>();
function record(server: string, column: string, value: string): void {
  if (!table.has(server)) table.set(server, new Map());
  table.get(server)!.set(column, value);
}

/**
 * The server's listening sockets are gone from the kernel, whoever might have held them (a
 * grandchild the pid checks do not see). Not a dial of the port: once it is free, another
 * process on the machine may listen on it, and the dial would reach that one.
 */
function assertClosed(sockets: string[], port: number): void {
  const listening = listeningInodes(port);
  assert.deepEqual(sockets.filter((inode) => listening.has(inode)), [], `a listening socket of the stopped server on port ${port} is still open`);
}

let certs: TestCerts;
before(async () => {
  certs = await createTestCerts();
});
after(async () => {
  if (table.size > 0) {
    const cols = [...new Set([...table.values()].flatMap((m) => [...m.keys()]))];
    const lines = [`| server | ${cols.join(' | ')} |`, `|---|${cols.map(() => '---').join('|')}|`];
    for (const [srv, m] of table) lines.push(`| ${srv} | ${cols.map((c) => m.get(c) ?? '-').join(' | ')} |`);
    console.log(`resumption observed (client Node ${process.version}, OpenSSL ${process.versions.openssl}):\n${lines.join('\n')}`);
  }
  await certs?.cleanup();
});

describe('test/support/certs', () => {
  test('CA signs server and client certificates (openssl verify)', async () => {
    const run = promisify(execFile);
    const srv = await run('openssl', ['verify', '-CAfile', certs.caCertPath, '-purpose', 'sslserver', certs.certPath]);
    assert.match(srv.stdout, /OK/);
    const cli = await run('openssl', ['verify', '-CAfile', certs.caCertPath, '-purpose', 'sslclient', certs.clientCertPath]);
    assert.match(cli.stdout, /OK/);
    const x = new crypto.X509Certificate(certs.pem.cert);
    assert.ok(x.checkHost('localhost'));
    assert.ok(x.checkIP('127.0.0.1'));
    assert.ok(x.checkIP('::1'));
    assert.equal(x.publicKey.asymmetricKeyType, 'ec');
  });

  test('rsa-2048 option', async () => {
    const rsa = await createTestCerts({ keyType: 'rsa-2048' });
    try {
      const x = new crypto.X509Certificate(rsa.pem.cert);
      assert.equal(x.publicKey.asymmetricKeyType, 'rsa');
      assert.equal(x.publicKey.asymmetricKeyDetails?.modulusLength, 2048);
      assert.ok(x.verify(new crypto.X509Certificate(rsa.pem.ca).publicKey));
    } finally {
      await rsa.cleanup();
    }
  });
});

describe('openssl s_server launcher', () => {
  const servers: Record<string, ExternalServer> = {};
  const start = async (name: string, o: Partial<OpenSslServerOptions> = {}): Promise<ExternalServer> => {
    servers[name] ??= await startOpenSslServer({ certPath: certs.certPath, keyPath: certs.keyPath, ...o });
    return servers[name];
  };
  after(async () => {
    await Promise.all(Object.values(servers).map((s) => s.stop()));
  });

  test('serves many connections and answers GET / (-www)', async () => {
    const srv = await start('default');
    for (let i = 0; i < 5; i++) {
      const h = await handshake(srv, certs, {});
      assert.match(h.response, /^HTTP\/1\.0 200 ok/);
    }
  });

  test('TLS 1.2 resumes by session ID', async () => {
    const { first, resumed, last } = await resumeCount(await start('default'), certs, 'tls12-id');
    assert.equal(first.protocol, 'TLSv1.2');
    assert.equal(first.ticket, false, 'SSL_OP_NO_TICKET client got a ticket');
    record('openssl s_server', 'TLS1.2 id', `${resumed}/3`);
    assert.equal(resumed, 3);
    assert.match(last.response, /^HTTP\/1\.0 200/);
  });

  test('TLS 1.2 resumes by ticket (also with -no_cache, so the ticket did it)', async () => {
    const r = await resumeCount(await start('default'), certs, 'tls12-ticket');
    assert.equal(r.first.ticket, true, 'no ticket issued');
    const nc = await resumeCount(await start('no-cache', { extraArgs: ['-no_cache'] }), certs, 'tls12-ticket');
    record('openssl s_server', 'TLS1.2 ticket', fmt(r));
    record('openssl s_server', 'TLS1.2 ticket, no cache', fmt(nc));
    assert.equal(r.resumed, 3);
    assert.equal(nc.resumed, 3);
    const id = await resumeCount(servers['no-cache']!, certs, 'tls12-id');
    record('openssl s_server', 'TLS1.2 id, no cache', fmt(id));
    // -no_cache: the server sends an empty session ID, so there is nothing to offer (not a refusal).
    assert.equal(id.noSession, true, '-no_cache issued a session the client could offer');
    assert.equal(id.resumed, 0, '-no_cache still resumed a session ID');
  });

  test('TLS 1.3 resumes by ticket', async () => {
    const r = await resumeCount(await start('default'), certs, 'tls13');
    assert.equal(r.first.protocol, 'TLSv1.3');
    record('openssl s_server', 'TLS1.3 ticket', fmt(r));
    assert.equal(r.resumed, 3);
  });

  test('-no_ticket: TLS 1.2 by ID, TLS 1.3 (stateful tickets) observed', async () => {
    const srv = await start('no-ticket', { noTicket: true });
    const t12 = await resumeCount(srv, certs, 'tls12-ticket');
    assert.equal(t12.first.ticket, false, '-no_ticket still issued a TLS 1.2 ticket');
    assert.equal(t12.resumed, 3, 'TLS 1.2 should fall back to session-ID resumption');
    const t13 = await resumeCount(srv, certs, 'tls13');
    record('openssl s_server', 'TLS1.3 tickets off', fmt(t13));
    // OpenSSL 3.0 server with SSL_OP_NO_TICKET issues stateful TLS 1.3 tickets.
    assert.equal(t13.resumed, 3);
  });

  test('-tls1_2 pins the version', async () => {
    const srv = await start('tls12', { tls: '1.2' });
    const h = await handshake(srv, certs, {});
    assert.equal(h.protocol, 'TLSv1.2');
    await assert.rejects(handshake(srv, certs, clientOptions('tls13')));
  });

  test('verifyClient requires a client certificate', async () => {
    const srv = await start('mtls', { verifyClient: true, caPath: certs.caCertPath });
    const ok = await handshake(srv, certs, { cert: certs.pem.clientCert, key: certs.pem.clientKey });
    assert.match(ok.response, /^HTTP\/1\.0 200/);
    await assert.rejects(handshake(srv, certs, clientOptions('tls12-ticket')));
  });

  test('stop() leaves no process behind', async () => {
    const srv = await startOpenSslServer({ certPath: certs.certPath, keyPath: certs.keyPath });
    assert.ok(pidAlive(srv.pid));
    await handshake(srv, certs, {});
    const sockets = listeningSockets(srv.pid, srv.port);
    assert.equal(sockets.length, 1, 's_server listens on its port');
    await srv.stop();
    assert.equal(pidAlive(srv.pid), false, `s_server pid ${srv.pid} still alive`);
    assertClosed(sockets, srv.port);
  });

  test('a port taken between getFreePort() and the server\'s bind: started again on another port, the one returned its own', async () => {
    // The race made certain: before the first s_server binds its port, a listener here takes it.
    const taken = net.createServer();
    let launches = 0;
    const launch = launchOpenSslServer({ certPath: certs.certPath, keyPath: certs.keyPath });
    const { port, launched } = await startOnFreePort(async (port) => {
      if (launches++ === 0) await new Promise<void>((resolve) => taken.listen(port, '127.0.0.1', resolve));
      return launch(port);
    }, { bindFailed: OPENSSL_BIND_FAILED });
    try {
      const takenPort = (taken.address() as net.AddressInfo).port;
      // A test dial would have reached the listener here and called the first s_server started.
      assert.equal(launches, 2, 'the s_server that could not bind was started again');
      assert.notEqual(port, takenPort);
      assert.equal(listeningSockets(launched.proc.pid, port).length, 1, 'the port returned is the one s_server listens on');
    } finally {
      await launched.proc.stop('SIGTERM', 3000);
      taken.close();
    }
  });
});

describe('nginx launcher', () => {
  const servers: Record<string, ExternalServer> = {};
  let missing = false;
  const start = async (name: string, o: Partial<NginxOptions> = {}): Promise<ExternalServer | null> => {
    if (missing) return null;
    if (!servers[name]) {
      const s = await startNginx({ certPath: certs.certPath, keyPath: certs.keyPath, ...o });
      if (s === null) {
        missing = true;
        return null;
      }
      servers[name] = s;
    }
    return servers[name];
  };
  after(async () => {
    await Promise.all(Object.values(servers).map((s) => s.stop()));
  });

  test('serves GET / with 200 ok', async (t) => {
    const srv = await start('default');
    if (!srv) return t.skip('nginx not installed');
    for (let i = 0; i < 3; i++) {
      const h = await handshake(srv, certs, {});
      assert.match(h.response, /^HTTP\/1\.1 200 OK/);
      assert.match(h.response, /\r\n\r\nok\n$/);
    }
  });

  test('TLS 1.2 resumes by session ID', async (t) => {
    const srv = await start('default');
    if (!srv) return t.skip('nginx not installed');
    const r = await resumeCount(srv, certs, 'tls12-id');
    assert.equal(r.first.ticket, false);
    record('nginx', 'TLS1.2 id', fmt(r));
    assert.equal(r.resumed, 3);
  });

  test('TLS 1.2 resumes by ticket (also with ssl_session_cache none)', async (t) => {
    const srv = await start('default');
    if (!srv) return t.skip('nginx not installed');
    const r = await resumeCount(srv, certs, 'tls12-ticket');
    assert.equal(r.first.ticket, true, 'no ticket issued');
    const nonSrv = (await start('cache-none', { sessionCache: 'none' }))!;
    const nc = await resumeCount(nonSrv, certs, 'tls12-ticket');
    const id = await resumeCount(nonSrv, certs, 'tls12-id');
    record('nginx', 'TLS1.2 ticket', fmt(r));
    record('nginx', 'TLS1.2 ticket, no cache', `${fmt(nc)} (cache none)`);
    record('nginx', 'TLS1.2 id, no cache', `${fmt(id)} (cache none)`);
    assert.equal(r.resumed, 3);
    assert.equal(nc.resumed, 3, 'ssl_session_cache none: the ticket alone should resume');
    // `none` issues session IDs and stores none: each is offered, and refused.
    assert.equal(id.noSession, false, 'ssl_session_cache none issued no session ID to offer');
    assert.equal(id.resumed, 0, 'ssl_session_cache none still resumed a session ID');
  });

  test('ssl_session_cache off: tickets alone resume TLS 1.2 and 1.3, session IDs do not', async (t) => {
    const srv = await start('cache-off', { sessionCache: false });
    if (!srv) return t.skip('nginx not installed');
    const t12 = await resumeCount(srv, certs, 'tls12-ticket');
    const t13 = await resumeCount(srv, certs, 'tls13');
    record('nginx', 'cache off: TLS1.2 ticket', fmt(t12));
    const id = await resumeCount(srv, certs, 'tls12-id');
    record('nginx', 'cache off: TLS1.3', fmt(t13));
    record('nginx', 'cache off: TLS1.2 id', fmt(id));
    assert.equal(t12.first.ticket, true);
    assert.equal(t12.resumed, 3);
    assert.equal(t13.resumed, 3);
    // `off`: an empty session ID, so nothing to offer.
    assert.equal(id.noSession, true, 'ssl_session_cache off issued a session ID to offer');
    assert.equal(id.resumed, 0);
  });

  test('TLS 1.3 resumes by ticket', async (t) => {
    const srv = await start('default');
    if (!srv) return t.skip('nginx not installed');
    const r = await resumeCount(srv, certs, 'tls13');
    assert.equal(r.first.protocol, 'TLSv1.3');
    record('nginx', 'TLS1.3 ticket', fmt(r));
    assert.equal(r.resumed, 3);
  });

  test('ssl_session_tickets off + shared cache: TLS 1.2 by ID, TLS 1.3 observed', async (t) => {
    const srv = await start('no-tickets', { tickets: false });
    if (!srv) return t.skip('nginx not installed');
    const t12 = await resumeCount(srv, certs, 'tls12-ticket');
    assert.equal(t12.first.ticket, false, 'tickets off still issued a TLS 1.2 ticket');
    assert.equal(t12.resumed, 3);
    const t13 = await resumeCount(srv, certs, 'tls13');
    record('nginx', 'TLS1.3 tickets off', fmt(t13));
    assert.equal(t13.resumed, 3, 'expected stateful TLS 1.3 resumption through the shared cache');
  });

  test('tickets off + cache off: nothing resumes', async (t) => {
    const srv = await start('none', { tickets: false, sessionCache: false });
    if (!srv) return t.skip('nginx not installed');
    const t12 = await resumeCount(srv, certs, 'tls12-ticket');
    const t13 = await resumeCount(srv, certs, 'tls13');
    record('nginx', 'nothing on: TLS1.2', fmt(t12));
    record('nginx', 'nothing on: TLS1.3', fmt(t13));
    // TLS 1.2: no ticket and an empty session ID, so nothing to offer. TLS 1.3: OpenSSL still
    // issues a stateful ticket, which is offered three times and refused three times.
    assert.equal(t12.noSession, true, 'TLS 1.2: a session to offer from a server with tickets and cache off');
    assert.equal(t12.resumed, 0);
    assert.equal(t13.noSession, false, 'TLS 1.3: no stateful ticket issued');
    assert.equal(t13.resumed, 0);
  });

  test('tls 1.2 pins the version; verifyClient requires a client certificate', async (t) => {
    const srv = await start('tls12-mtls', { tls: '1.2', verifyClient: true, caPath: certs.caCertPath });
    if (!srv) return t.skip('nginx not installed');
    const ok = await handshake(srv, certs, { cert: certs.pem.clientCert, key: certs.pem.clientKey });
    assert.equal(ok.protocol, 'TLSv1.2');
    assert.match(ok.response, /^HTTP\/1\.1 200/);
    // nginx answers a missing certificate with HTTP 400 after the handshake, not an alert.
    const none = await handshake(srv, certs, {});
    assert.match(none.response, /^HTTP\/1\.1 400/);
    assert.match(none.response, /No required SSL certificate was sent/);
  });

  test('stop() leaves no process behind (single process and master + 2 workers)', async (t) => {
    for (const workers of [1, 2]) {
      const srv = await startNginx({ certPath: certs.certPath, keyPath: certs.keyPath, workers });
      if (!srv) return t.skip('nginx not installed');
      await handshake(srv, certs, {});
      const kids = await childPids(srv.pid);
      assert.equal(kids.length, workers === 1 ? 0 : workers, `children of ${srv.pid}: ${kids.join(',')}`);
      const sockets = listeningSockets(srv.pid, srv.port);
      assert.equal(sockets.length, 1, 'nginx listens on its port');
      await srv.stop();
      for (const pid of [srv.pid, ...kids]) assert.equal(pidAlive(pid), false, `nginx pid ${pid} still alive`);
      assertClosed(sockets, srv.port);
    }
  });
});
