// Mutual TLS through the real CLI: a required client certificate that is presented succeeds (and
// the result says one was sent); one that is missing is a classified tls.* error, the same class
// on every attempt. How servers say "missing" differs, and so does when the client can see it:
// - openssl s_server -Verify: TLS 1.2 fails the handshake (handshake_failure alert); TLS 1.3
//   rejects after the client has finished its side (certificate_required alert); the client sees
//   it because it always reads to the server's close.
// - nginx (ssl_verify_client on) completes the handshake and answers the request with HTTP 400:
//   not a TLS error, but never a success either: the request phase counts it in app.http-4xx.
// "client cert sent" in the negotiated sample: the native engine sees the server's
// CertificateRequest and the client's answer on the wire, so it says "sent" only when the server
// asked and a certificate went out (checked against s_server with and without -Verify, and nginx);
// the Node engine cannot see the request, and its "sent" means configured on a full handshake.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestCerts, type TestCerts } from './support/certs.js';
import { startNginx } from './support/nginx-server.js';
import { startOpenSslServer, type ExternalServer } from './support/openssl-server.js';
import type { EngineName } from '../src/config/run-config.js';
import { ENGINES, nativeBuilt } from './support/engines.js';
import { runCli } from './support/cli.js';
import { assertNegotiated, externalTarget, tlsRun } from './support/tls-run.js';

const SMALL = ['-w', '1', '-c', '2', '--warmup', '0', '-n', '20'];

let certs: TestCerts;
let sServer: ExternalServer;
let nginx: ExternalServer | null = null;
before(async () => {
  certs = await createTestCerts();
  const files = { certPath: certs.certPath, keyPath: certs.keyPath, caPath: certs.caCertPath, verifyClient: true };
  // s_server logs an untrusted client certificate but accepts it unless told to refuse it.
  sServer = await startOpenSslServer({ ...files, extraArgs: ['-verify_return_error'] });
  nginx = await startNginx(files);
});
after(async () => {
  await Promise.all([sServer?.stop(), nginx?.stop()]);
  await certs?.cleanup();
});

const clientCert = () => ['--cert', certs.clientCertPath, '--key', certs.clientKeyPath];

/**
 * What the negotiated sample says of the client certificate on `engine` when one is configured: the
 * native engine what the wire showed (`requested`: the server asked), node always "sent" and never
 * whether it was asked.
 */
function assertClientCertificate(run: Awaited<ReturnType<typeof tlsRun>>, engine: EngineName, requested: boolean): void {
  if (engine === 'native') assertNegotiated(run, { clientCertificate: requested, clientCertificateRequested: requested });
  else assertNegotiated(run, { clientCertificate: true, clientCertificateRequested: undefined });
}

test('built-in --mtls: the run presents the generated client certificate', async () => {
  const run = await tlsRun(['--mtls', '--resume', 'none', ...SMALL]);
  assert.deepEqual(run.phase.summary.errors, {});
  assert.equal(run.phase.summary.successes, 20);
  assert.equal(run.result.target.builtIn?.mtls, 'required');
  assertNegotiated(run, { clientCertificate: true });
});

describe('openssl s_server -Verify 1', () => {
  for (const engine of ENGINES) {
    for (const version of ['1.2', '1.3']) {
      test(`${engine} engine, TLS ${version}, --cert/--key presented: succeeds, a client certificate was sent`, async (t) => {
        if (engine === 'native' && !nativeBuilt()) return t.skip('the native engine is not built');
        const run = await tlsRun([...externalTarget(sServer, certs), '--engine', engine, '--tls', version, '--resume', 'none', ...clientCert(), ...SMALL]);
        assert.deepEqual(run.phase.summary.errors, {});
        assertNegotiated(run, { protocol: `TLSv${version}` });
        assertClientCertificate(run, engine, true);
      });
    }
  }

  /** Every attempt failed, all in one tls.* class; returns it. */
  let lastFindings: string[] = [];
  const missing = async (args: string[]): Promise<string> => {
    const run = await tlsRun([...externalTarget(sServer, certs), ...args, ...SMALL], 1);
    lastFindings = run.phase.findings;
    const s = run.phase.summary;
    const classes = Object.keys(s.errors);
    assert.equal(classes.length, 1, `one error class: ${JSON.stringify(s.errors)}`);
    assert.match(classes[0]!, /^tls\./);
    assert.equal(s.errors[classes[0]!], 20);
    assert.equal(s.successes, 0);
    // A rejected handshake is not a completed one, whenever the client learnt of it.
    assert.deepEqual(s.classes, {});
    return classes[0]!;
  };

  test('TLS 1.2, no client certificate: a classified alert during the handshake', async () => {
    assert.equal(await missing(['--tls', '1.2', '--resume', 'none']), 'tls.alert.handshake_failure');
    // The finding says what to do.
    assert.ok(lastFindings.some((f) => f.startsWith('20 × tls.alert.handshake_failure:') && f.includes('pass --cert and --key')), lastFindings.join(' | '));
  });

  test('TLS 1.3, no client certificate: the certificate_required alert, seen while waiting for a ticket or reading a response', async () => {
    assert.equal(await missing(['--tls', '1.3', '--resume', 'ticket']), 'tls.alert.certificate_required');
    assert.equal(await missing(['--tls', '1.3', '--resume', 'none', '--http', '/']), 'tls.alert.certificate_required');
  });

  test('TLS 1.3, no client certificate, no request, no resumption: still the certificate_required alert, never a success', async () => {
    // The client reads to the server's close after its own close_notify, so the rejection that
    // follows its Finished is seen in every mode.
    for (const engine of ['node', 'native']) {
      assert.equal(await missing(['--engine', engine, '--tls', '1.3', '--resume', 'none']), 'tls.alert.certificate_required', engine);
    }
  });

  test('an untrusted client certificate: rejected in its alert class, TLS 1.2 and 1.3', async () => {
    const stranger = await createTestCerts();
    try {
      for (const version of ['1.2', '1.3']) {
        const errorClass = await missing(['--tls', version, '--resume', 'none', '--cert', stranger.clientCertPath, '--key', stranger.clientKeyPath]);
        // OpenSSL servers name an unknown issuer unknown_ca.
        assert.equal(errorClass, 'tls.alert.unknown_ca', `TLS ${version}`);
      }
    } finally {
      await stranger.cleanup();
    }
  });

  test('TLS 1.3, no client certificate, no request, no resumption: the native engine reads to the server\'s close and sees the alert', async (t) => {
    if (!nativeBuilt()) return t.skip('the native engine is not built');
    assert.equal(await missing(['--engine', 'native', '--tls', '1.3', '--resume', 'none']), 'tls.alert.certificate_required');
  });
});

describe('a server that asks for no client certificate (openssl s_server without -verify)', () => {
  let plain: ExternalServer;
  before(async () => {
    plain = await startOpenSslServer({ certPath: certs.certPath, keyPath: certs.keyPath });
  });
  after(async () => {
    await plain?.stop();
  });

  for (const version of ['1.2', '1.3']) {
    test(`TLS ${version}, --cert/--key given: the native engine says none was asked for or sent; node says what was configured`, async (t) => {
      for (const engine of ENGINES) {
        if (engine === 'native' && !nativeBuilt()) return t.skip('the native engine is not built');
        const run = await tlsRun([...externalTarget(plain, certs), '--engine', engine, '--tls', version, '--resume', 'none', ...clientCert(), ...SMALL]);
        assert.deepEqual(run.phase.summary.errors, {}, engine);
        assertClientCertificate(run, engine, false);
      }
    });
  }

  test('the table says "client cert requested and sent" only where it was (native engine)', async (t) => {
    if (!nativeBuilt()) return t.skip('the native engine is not built');
    const asked = await runCli([...externalTarget(sServer, certs), '--engine', 'native', '--resume', 'none', ...clientCert(), ...SMALL, '--quiet']);
    assert.equal(asked.code, 0, asked.stderr);
    assert.match(asked.stdout, /client cert requested and sent/);
    const notAsked = await runCli([...externalTarget(plain, certs), '--engine', 'native', '--resume', 'none', ...clientCert(), ...SMALL, '--quiet']);
    assert.equal(notAsked.code, 0, notAsked.stderr);
    assert.doesNotMatch(notAsked.stdout, /client cert/);
  });

  test('the Node engine, which cannot see a CertificateRequest, never says "sent": only "configured"', async () => {
    const notAsked = await runCli([...externalTarget(plain, certs), '--engine', 'node', '--resume', 'none', ...clientCert(), ...SMALL, '--quiet']);
    assert.equal(notAsked.code, 0, notAsked.stderr);
    assert.match(notAsked.stdout, /client cert configured \(sent if asked; the Node engine cannot see a request\)/);
    assert.doesNotMatch(notAsked.stdout, /client cert (requested|sent)/);
  });
});

describe('nginx ssl_verify_client on', () => {
  for (const engine of ENGINES) {
    test(`${engine} engine, --cert/--key presented: succeeds, a client certificate was sent`, async (t) => {
      if (!nginx) return t.skip('nginx is not installed');
      if (engine === 'native' && !nativeBuilt()) return t.skip('the native engine is not built');
      const run = await tlsRun([...externalTarget(nginx, certs), '--engine', engine, '--resume', 'none', '--http', '/', ...clientCert(), ...SMALL]);
      assert.deepEqual(run.phase.summary.errors, {});
      assertClientCertificate(run, engine, true);
    });
  }

  /** nginx completes the handshake and answers 400: every attempt in app.http-4xx, each handshake a full one. */
  const rejectedByStatus = async (args: string[], label: string): Promise<void> => {
    const run = await tlsRun([...externalTarget(nginx!, certs), '--resume', 'none', '--http', '/', ...args, ...SMALL], 1);
    const s = run.phase.summary;
    assert.deepEqual(s.errors, { 'app.http-4xx': 20 }, label);
    assert.equal(s.successes, 0, label);
    assert.equal(s.classes.full?.handshakes, 20, label);
    assert.deepEqual(s.classes.full?.statuses, { '4xx': 20 }, label);
    assert.ok(run.phase.findings.some((f) => f.startsWith('20 × app.http-4xx:') && f.includes('pass --cert and --key')), run.phase.findings.join(' | '));
  };

  test('no client certificate: the handshake completes, nginx answers HTTP 400, counted in app.http-4xx (never ok)', async (t) => {
    if (!nginx) return t.skip('nginx is not installed');
    for (const version of ['1.2', '1.3']) await rejectedByStatus(['--tls', version], `TLS ${version}`);
  });

  test('an untrusted client certificate: HTTP 400 too, counted in app.http-4xx, TLS 1.2 and 1.3', async (t) => {
    if (!nginx) return t.skip('nginx is not installed');
    const stranger = await createTestCerts();
    try {
      for (const version of ['1.2', '1.3']) {
        await rejectedByStatus(['--tls', version, '--cert', stranger.clientCertPath, '--key', stranger.clientKeyPath], `TLS ${version}`);
      }
    } finally {
      await stranger.cleanup();
    }
  });
});
