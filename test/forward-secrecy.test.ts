// A key exchange without forward secrecy (TLS 1.2 RSA key transport) is said in plain words in the
// negotiated sample (every format) and the probe, against the built-in server and nginx; ECDHE and
// TLS 1.3 are not flagged.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { hasForwardSecrecy } from '../src/metrics/forward-secrecy.js';
import { runCli } from './support/cli.js';
import { startNginx } from './support/nginx-server.js';
import { assertNegotiated, tlsRun } from './support/tls-run.js';

const SMALL = ['-w', '1', '-c', '2', '--warmup', '0', '-n', '20', '--resume', 'none'];
const WARNING = /NO forward secrecy: RSA key transport/;

let scratch: string;
before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'tlsbench-fs-'));
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

test('which suites have forward secrecy, by standard and OpenSSL names', () => {
  assert.equal(hasForwardSecrecy('TLSv1.2', 'TLS_RSA_WITH_AES_128_GCM_SHA256'), false);
  assert.equal(hasForwardSecrecy('TLSv1.2', 'AES256-SHA'), false);
  assert.equal(hasForwardSecrecy('TLSv1.2', 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256'), true);
  assert.equal(hasForwardSecrecy('TLSv1.2', 'TLS_DHE_RSA_WITH_AES_128_GCM_SHA256'), true);
  assert.equal(hasForwardSecrecy('TLSv1.3', 'TLS_AES_128_GCM_SHA256'), true);
  assert.equal(hasForwardSecrecy('TLSv1.2', 'unknown'), null);
});

test('built-in server, TLS 1.2 RSA key transport: flagged in the sample, the table, Markdown and the probe; ECDHE and TLS 1.3 are not', async () => {
  const rsa = ['--key-type', 'rsa-2048', '--tls', '1.2', '--ciphers', 'AES128-GCM-SHA256', ...SMALL];
  const run = await tlsRun(rsa);
  assertNegotiated(run, { cipher: 'TLS_RSA_WITH_AES_128_GCM_SHA256', group: 'none (RSA key transport)', forwardSecrecy: false });
  const table = await runCli([...rsa, '--probe', '--quiet']);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, new RegExp(`full: TLSv1\\.2, TLS_RSA_WITH_AES_128_GCM_SHA256.*\\n +⚠ ${WARNING.source}`));
  assert.match(table.stderr, /probe: .*TLS_RSA_WITH_AES_128_GCM_SHA256.*NO forward secrecy: RSA key transport/);
  const saved = join(scratch, 'rsa-result.json');
  assert.equal((await runCli([...rsa, '--quiet', '--out', saved])).code, 0);
  // Rendered from the saved file: the schema takes forwardSecrecy, and Markdown and HTML say it.
  const md = await runCli(['report', saved, '--format', 'markdown']);
  assert.equal(md.code, 0, md.stderr);
  assert.match(md.stdout, /- ⚠️ NO forward secrecy: RSA key transport/);
  const html = join(scratch, 'rsa.html');
  assert.equal((await runCli(['report', saved, '--html', html])).code, 0);
  assert.match(await readFile(html, 'utf8'), /<div class="finding">NO forward secrecy: RSA key transport/);

  const ecdhe = await runCli(['--key-type', 'rsa-2048', '--tls', '1.2', '--ciphers', 'ECDHE-RSA-AES128-GCM-SHA256', ...SMALL, '--probe', '--quiet']);
  assert.equal(ecdhe.code, 0, ecdhe.stderr);
  assert.doesNotMatch(ecdhe.stdout + ecdhe.stderr, WARNING);
  const tls13 = await tlsRun(['--tls', '1.3', ...SMALL]);
  assertNegotiated(tls13, { forwardSecrecy: true });
});

test('nginx with ssl_ciphers AES128-GCM-SHA256: the probe and the sample say no forward secrecy', async (t) => {
  const dir = join(scratch, 'rsa');
  assert.equal((await runCli(['certs', '--out', dir, '--key-type', 'rsa-2048'])).code, 0);
  const nginx = await startNginx({ certPath: join(dir, 'server.pem'), keyPath: join(dir, 'server.key'), tls: '1.2', ciphers: 'AES128-GCM-SHA256' });
  if (!nginx) return t.skip('nginx is not installed');
  try {
    const args = [`${nginx.host}:${nginx.port}`, '--ca', join(dir, 'ca.pem'), '--sni', 'localhost', ...SMALL];
    const run = await tlsRun(args);
    assertNegotiated(run, { protocol: 'TLSv1.2', cipher: 'TLS_RSA_WITH_AES_128_GCM_SHA256', forwardSecrecy: false });
    const probed = await runCli([...args, '--probe', '--quiet']);
    assert.match(probed.stderr, /probe: .*NO forward secrecy: RSA key transport/);
  } finally {
    await nginx.stop();
  }
});
