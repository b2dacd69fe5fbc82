// README: tlsbench strips the server certificate from stored TLS 1.3 sessions (not needed to
// resume); TLS 1.2 sessions keep it (Node would report a resumed TLS 1.2 connection without one
// as unverified). Checked on the sessions the engine's attempts keep, read by `openssl sess_id`
// (an independent parser), and offered back to openssl s_server, which must resume them.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import tls from 'node:tls';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { Attempt, type DialSettings } from '../src/engine/attempt.js';
import type { ExternalServer } from './support/openssl-server.js';
import { openSslServerSuite } from './support/openssl-server-suite.js';

const execFileP = promisify(execFile);

const suite = openSslServerSuite();

/** Node 24 wraps the DER: "\0nodejs:tls:session:1\0", a 16-bit length, the server name. */
function der(session: Buffer): Buffer {
  const magic = Buffer.from('\0nodejs:tls:session:');
  if (!session.subarray(0, magic.length).equals(magic)) return session;
  const nameAt = session.indexOf(0, magic.length) + 1;
  return session.subarray(nameAt + 2 + session.readUInt16BE(nameAt));
}

/** What `openssl sess_id` reads in a session: its protocol and whether it holds a certificate. */
async function sessId(session: Buffer, name: string): Promise<{ protocol: string; certificate: boolean }> {
  const file = path.join(suite.certs.dir, `${name}.der`);
  await writeFile(file, der(session));
  const { stdout } = await execFileP('openssl', ['sess_id', '-inform', 'DER', '-in', file, '-text', '-cert']);
  return { protocol: /Protocol\s*:\s*(\S+)/.exec(stdout)?.[1] ?? '?', certificate: stdout.includes('-----BEGIN CERTIFICATE-----') };
}

/** The session Node itself hands out for one connection (what the engine would keep unstripped). */
function nodeSession(server: ExternalServer, version: tls.SecureVersion): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let session: Buffer | undefined;
    const socket = tls.connect({ host: server.host, port: server.port, servername: 'localhost', ca: suite.certs.pem.ca, minVersion: version, maxVersion: version });
    socket.on('session', (s: Buffer) => (session = s));
    socket.on('secureConnect', () => socket.end());
    socket.on('data', () => {});
    socket.on('error', reject);
    socket.on('close', () => (session ? resolve(session) : reject(new Error('no session'))));
  });
}

function dial(server: ExternalServer, version: tls.SecureVersion): DialSettings {
  return {
    host: server.host, port: server.port, servername: 'localhost',
    secureContext: tls.createSecureContext({ ca: suite.certs.pem.ca, minVersion: version, maxVersion: version }),
    rejectUnauthorized: true, alpn: undefined,
    timeouts: { connectMs: 10_000, handshakeMs: 10_000, responseMs: 10_000 },
    request: null, closeWaitMs: 2000, keylog: null, clientCertificate: false, ocsp: null,
  };
}

describe('sessions the engine keeps, read by openssl sess_id and resumed by openssl s_server', () => {
  for (const [version, stripped] of [['TLSv1.3', true], ['TLSv1.2', false]] as const) {
    test(`${version}: ${stripped ? 'stored without' : 'stored with'} the server certificate; offered back, it resumes, verified`, async () => {
      const server = await suite.start({ tls: version === 'TLSv1.3' ? '1.3' : '1.2' });
      // Node's own session holds the certificate: there is something to strip.
      assert.deepEqual(await sessId(await nodeSession(server, version), `node-${version}`), { protocol: version, certificate: true });
      const settings = dial(server, version);
      const first = await new Attempt(settings, { session: undefined, captureSession: true, awaitServerClose: true, sample: false }).run();
      assert.equal(first.errorClass, null);
      assert.ok(first.session, 'the attempt kept no session');
      assert.deepEqual(await sessId(first.session, `kept-${version}`), { protocol: version, certificate: !stripped });
      const second = await new Attempt(settings, { session: first.session, captureSession: true, awaitServerClose: true, sample: true }).run();
      assert.equal(second.errorClass, null, `the kept session was offered and failed: ${second.errorClass}`);
      assert.equal(second.reused, true, 'the server did not resume the kept session');
      assert.equal(second.negotiated?.protocol, version);
    });
  }
});
