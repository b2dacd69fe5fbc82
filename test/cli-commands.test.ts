// README claims about the commands around `run`: TLS options rejected up front, `certs`, and
// `serve` (its warning off loopback, its count, its graceful stop on SIGINT).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { MAIN_JS, runCli, runJson } from './support/cli.js';
import { createNetns, netnsUnavailable } from './support/netns.js';
import { skipUnlessCi } from './support/required.js';

const execFileP = promisify(execFile);

test('a --ciphersuites, --groups or --sigalgs value OpenSSL rejects is bad input, said before any connection', async () => {
  // A plain TCP listener counts connections: a value checked up front never gets that far.
  let connections = 0;
  const server = net.createServer((s) => {
    connections++;
    s.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const target = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    for (const [option, value, advice] of [
      ['--ciphersuites', 'TLS_NO_SUCH_SUITE', /List TLS 1\.3 suites/],
      ['--groups', 'P-999', /Use names such as X25519/],
      ['--sigalgs', 'no_such_sigalg', /./],
    ] as const) {
      const outcome = await runCli([target, '--insecure', '-n', '5', '--warmup', '0', option, value]);
      assert.equal(outcome.code, 2, `${option} ${value}: exit ${outcome.code}\n${outcome.stderr}`);
      assert.match(outcome.stderr, new RegExp(`^tlsbench: ${option} '${value}': rejected by this runtime's OpenSSL`));
      assert.match(outcome.stderr, advice);
      assert.doesNotMatch(outcome.stderr, /\n\s+at /);
    }
    assert.equal(connections, 0, 'a rejected option still made connections');
  } finally {
    server.close();
  }
});

test('certs writes a chain that openssl verifies, with the extra names, keys private', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'tlsbench-certs-cmd-'));
  try {
    const out = path.join(dir, 'chain');
    const outcome = await runCli(['certs', '--out', out, '--key-type', 'ed25519', '--host', 'bench.example.test', '--host', '10.1.2.3']);
    assert.equal(outcome.code, 0, outcome.stderr);
    const file = (name: string) => path.join(out, name);
    const verify = await execFileP('openssl', ['verify', '-CAfile', file('ca.pem'), '-purpose', 'sslserver', file('server.pem')]);
    assert.match(verify.stdout, /: OK/);
    const client = await execFileP('openssl', ['verify', '-CAfile', file('ca.pem'), '-purpose', 'sslclient', file('client.pem')]);
    assert.match(client.stdout, /: OK/);
    const text = (await execFileP('openssl', ['x509', '-in', file('server.pem'), '-noout', '-text'])).stdout;
    assert.match(text, /Public Key Algorithm: ED25519/);
    assert.match(text, /DNS:bench\.example\.test/);
    assert.match(text, /IP Address:10\.1\.2\.3/);
    for (const key of ['server.key', 'client.key']) {
      assert.equal((await stat(file(key))).mode & 0o777, 0o600, `${key} is not private`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('serve: warns off loopback, serves a run, counts its handshakes, stops gracefully on SIGINT', async (t) => {
  // 0.0.0.0 only inside a namespace made for the test: the warning is real, the exposure is not.
  const unavailable = netnsUnavailable();
  if (unavailable) return void skipUnlessCi(t, unavailable);
  const ns = createNetns();
  const cache = await mkdtemp(path.join(tmpdir(), 'tlsbench-serve-cache-'));
  const env = { ...process.env, TLSBENCH_CACHE_DIR: cache };
  const child = spawn(ns.exec[0]!, [...ns.exec.slice(1), process.execPath, MAIN_JS, 'serve', '--port', '0', '--host', '0.0.0.0'],
    { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const bound = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
  try {
    const listening = await new Promise<{ port: number; ca: string }>((resolve, reject) => {
      const onText = (chunk: Buffer): void => {
        output += chunk.toString();
        const port = /listening on 0\.0\.0\.0:(\d+)/.exec(output);
        const ca = /CA to trust \(--ca\): (\S+)/.exec(output);
        if (port && ca) resolve({ port: Number(port[1]), ca: ca[1]! });
      };
      child.stdout.on('data', onText);
      child.stderr.on('data', onText);
      void closed.then((code) => reject(new Error(`serve exited (${code}) before listening:\n${output}`)));
    });
    assert.match(output, /warning: listening on 0\.0\.0\.0, not loopback/);
    assert.ok(listening.ca.startsWith(cache), `the CA is not in $TLSBENCH_CACHE_DIR: ${listening.ca}`);
    const { result } = await runJson([`127.0.0.1:${listening.port}`, '--ca', listening.ca, '--resume', 'ticket', '-n', '40', '-w', '1', '-c', '2',
      '--warmup', '0'], { prefix: ns.exec });
    const s = result.phases[0]!.summary;
    assert.equal(s.successes, 40);
    // Each slot's first handshake is full, every later one resumes.
    assert.equal(s.classes.resumed?.handshakes, 38);
    child.kill('SIGINT');
    const code = await closed;
    assert.equal(code, 0, output);
    assert.match(output, /stopping \(SIGINT\)/);
    // The server's own count agrees with the client's.
    assert.match(output, /stopped after 40 handshakes \(38 resumed\), 0 failed/);
  } finally {
    clearTimeout(bound);
    if (child.exitCode === null) child.kill('SIGKILL');
    ns.remove();
    await rm(cache, { recursive: true, force: true });
  }
});
