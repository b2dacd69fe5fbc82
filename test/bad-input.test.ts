/**
 * Every bad command line: exit 2, one message that names the option or file at fault and says
 * what to do, and never a stack trace. One row per command line; add a row for each new check.
 * No row may start load: a line that got past validation would run against a refused port and
 * exit 1, which fails its row.
 */
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateChain } from '../src/server/pki.js';
import { runCli } from './support/cli.js';

interface BadInput {
  /** The command line after `tlsbench`; `$DIR` and `$PORT` are filled in from the fixtures. */
  args: string[];
  /** What the message must name: the option or file at fault. */
  names: string;
}

/** Words of a message that says what to do next. */
const ADVICE = /\b(give|use|pass|choose|create|pick|add|leave|drop|run|raise|lower|put|check|stop|upgrade|fix|separate|list|see|start|connect|chmod|write|render|try|remove)\b/i;

/** A port nothing listens on: if a row ever got past validation, its load fails fast. */
const REFUSED = '127.0.0.1:1';

const row = (names: string, ...args: string[]): BadInput => ({ args, names });
const run = (names: string, ...args: string[]): BadInput => row(names, 'run', REFUSED, ...args);

const TABLE: BadInput[] = [
  // counts and rates: documented ranges (src/config/limits.ts)
  run('--connections', '-c', '0'),
  run('--connections', '-c', '-5'),
  run('--connections', '-c', 'abc'),
  run('--connections', '-c', '1.5'),
  run('--connections', '-c', '1e12'),
  run('--connections', '-c', '100000', '-d', '1s'),
  run('--workers', '-w', '0'),
  run('--workers', '-w', '1000'),
  run('--workers', '-w', 'many'),
  run('--rate', '-r', '0'),
  run('--rate', '-r', '-1'),
  run('--rate', '-r', '1e9', '-d', '1s'),
  run('--rate', '-r', 'fast'),
  run('--max-connections', '-r', '100', '--max-connections', '0'),
  run('--max-connections', '-r', '1000', '--max-connections', '1e12'),
  run('--max-connections', '--max-connections', '10'),
  run('--connections', '-c', '10', '-r', '10'),
  run('--handshakes', '-n', '0'),
  run('--handshakes', '-n', '1.5'),
  run('--handshakes', '-n', '1e12'),
  run('--handshakes', '-n', 'lots'),
  run('--repeat', '--repeat', '0'),
  run('--repeat', '--repeat', '1e6'),
  run('--resume-ratio', '--resume', 'ticket', '--resume-ratio', '1.5'),
  run('--resume-ratio', '--resume', 'ticket', '--resume-ratio', '-0.1'),
  run('--resume-ratio', '--resume-ratio', '0.5'),
  run('--read-bytes', '--http', '/', '--read-bytes', '0'),
  run('--read-bytes', '--http', '/', '--read-bytes', '1e12'),
  run('--requests-per-connection', '--http', '/', '--requests-per-connection', '0'),
  run('--requests-per-connection', '--http', '/', '--requests-per-connection', '1e9'),
  row('--response-bytes', 'run', '--response-bytes', '1e12', '--http', '/'),
  row('--response-bytes', 'run', '--response-bytes', '-1'),
  // durations: never beyond what a timer holds
  run('--duration', '-d', '-5s'),
  run('--duration', '-d', '0'),
  run('--duration', '-d', '597h'),
  run('--duration', '-d', '10x'),
  run('--duration', '-d', 'abc'),
  run('--warmup', '--warmup', '999h'),
  run('--warmup', '--warmup', '-1s'),
  run('--ramp', '--ramp', '999h'),
  run('--ramp', '--ramp', 'slow'),
  run('--timeout', '--timeout', '9999h'),
  run('--timeout', '--timeout', '0'),
  run('--connect-timeout', '--connect-timeout', '2h'),
  run('--handshake-timeout', '--handshake-timeout', '-1'),
  run('--response-timeout', '--http', '/', '--response-timeout', '0'),
  run('--close-wait', '--close-wait', '2m'),
  run('--close-wait', '--ticket-wait', '-1s'),
  run('--response-timeout', '--response-timeout', '5s'),
  // targets
  row("':443'", 'run', ':443'),
  row("'127.0.0.1'", 'run', '127.0.0.1'),
  row("'127.0.0.1:0'", 'run', '127.0.0.1:0'),
  row("'127.0.0.1:70000'", 'run', '127.0.0.1:70000'),
  row("'::1:443'", 'run', '::1:443'),
  row("'http://127.0.0.1:443'", 'run', 'http://127.0.0.1:443'),
  row("'127.0.0.1:https'", 'run', '127.0.0.1:https'),
  row("'[::1]'", 'run', '[::1]'),
  row("'bogus'", 'bogus'),
  row("''", 'run', ''),
  // TLS options
  run('--tls', '--tls', '1.9'),
  run('--tls', '--tls', '1.3-1.2'),
  run('--tls', '--tls', 'newest'),
  run('--resume id', '--tls', '1.3', '--resume', 'id'),
  run('--sni', '--sni', ''),
  run('--sni', '--sni', '127.0.0.1'),
  run('--sni', '--sni', 'bad name!'),
  run('--alpn', '--alpn', ''),
  run('--alpn', '--alpn', 'h2,,http/1.1'),
  run('--alpn', '--alpn', 'x'.repeat(300)),
  run('--ciphers', '--ciphers', ''),
  run('--ciphers', '--ciphers', 'TLS_AES_128_GCM_SHA256'),
  run('--ciphersuites', '--ciphersuites', 'ECDHE-RSA-AES128-GCM-SHA256'),
  run('--ciphers', '--ciphers', 'NOPE-CIPHER'),
  run('--ciphersuites', '--ciphersuites', 'TLS_NOPE_SUITE'),
  run('--groups', '--groups', 'NOPE'),
  run('--groups', '--groups', ''),
  run('--sigalgs', '--sigalgs', 'nope_sig'),
  run('--sigalgs', '--sigalgs', ''),
  run('--ciphers', '--tls', '1.3', '--ciphers', 'ECDHE-RSA-AES128-GCM-SHA256'),
  run('--ciphersuites', '--tls', '1.2', '--ciphersuites', 'TLS_AES_128_GCM_SHA256'),
  run('/nonexistent/ca.pem', '--ca', '/nonexistent/ca.pem'),
  run('$DIR/not-a-cert.pem', '--ca', '$DIR/not-a-cert.pem'),
  run('$DIR/broken-cert.pem', '--ca', '$DIR/broken-cert.pem'),
  run('--ca', '--ca', ''),
  run('--insecure', '-k', '--ca', '$DIR/certs/ca.pem'),
  run('--cert', '--cert', '$DIR/certs/client.pem'),
  run('--cert', '--key', '$DIR/certs/client.key'),
  run('--key-passphrase', '--key-passphrase', 'secret'),
  run('$DIR/not-a-cert.pem', '--cert', '$DIR/not-a-cert.pem', '--key', '$DIR/certs/client.key'),
  run('--cert/--key', '--cert', '$DIR/certs/client.pem', '--key', '$DIR/certs/server.key'),
  run('/nonexistent/key.pem', '--cert', '$DIR/certs/client.pem', '--key', '/nonexistent/key.pem'),
  run('--keylog', '--keylog', '$DIR/wide.keylog'),
  run('--keylog', '--keylog', '/nonexistent/dir/keys.log'),
  run('--keylog', '--keylog', '$DIR'),
  run('--keylog', '--keylog', '/proc/keys.log'),
  run('--keylog', '--keylog', ''),
  run('--resume', '--resume', 'always'),
  run('--session-scope', '--session-scope', 'global'),
  row('--key-type', 'run', '--key-type', 'rsa-1'),
  row('--server-tickets', 'run', '--server-tickets', 'maybe'),
  row('--server-engine', 'run', '--server-engine', 'rust'),
  run('--server-engine', '--server-engine', 'native'),
  row('--server-session-cache', 'run', '--server-session-cache', 'maybe'),
  run('--key-type', '--key-type', 'rsa-2048'),
  run('--mtls', '--mtls'),
  run('--server-tickets', '--server-tickets', 'off'),
  // revocation and client certificates
  row('--mtls', 'run', '--mtls', 'sometimes'),
  row('--server-ocsp-staple', 'run', '--server-ocsp-staple', 'maybe'),
  run('--server-ocsp-staple', '--server-ocsp-staple', 'good'),
  row('--server-crl', 'run', '--server-crl', '$DIR/not-a-cert.pem'),
  row('--server-crl', 'run', '--mtls', '--server-crl', '$DIR/not-a-cert.pem'),
  row('--server-cert-dir', 'run', '--server-cert-dir', '$DIR/file.txt', '--key-type', 'rsa-2048'),
  row('--crl', 'run', '--crl', '$DIR/not-a-cert.pem'),
  run('--crl', '--crl', '$DIR/not-a-cert.pem'),
  run('--crl', '--crl', '$DIR/missing-crl.pem'),
  run('--crl', '--insecure', '--crl', '$DIR/not-a-cert.pem'),
  run('--require-staple', '--ocsp', 'false', '--require-staple'),
  row('ocsp-staple', 'serve', '--ocsp-staple', 'maybe'),
  row('--mtls', 'serve', '--mtls', 'sometimes'),
  row('engine', 'serve', '--engine', 'rust'),
  row('--crl', 'serve', '--crl', '$DIR/not-a-cert.pem'),
  row('--revoke', 'certs', '--out', '$DIR/revoked-certs', '--revoke', 'ca'),
  row('--revoke', 'certs', '--out', '$DIR/revoked-certs', '--revoke', '../evil'),
  row('--crl-entries', 'certs', '--out', '$DIR/revoked-certs', '--crl-entries', '-1'),
  row('--crl-entries', 'certs', '--out', '$DIR/revoked-certs', '--crl-entries', '1e9'),
  // request phase
  run('--request', '--request', 'x', '--http', '/'),
  run('--read', '--http', '/', '--read', 'all', '--read-bytes', '5'),
  run('--read', '--http', '/', '--read', 'some'),
  run('--read all', '--http', '/', '--read', 'all', '--requests-per-connection', '2'),
  run('--request', '--request', ''),
  run('/nonexistent/request.bin', '--request', '@/nonexistent/request.bin'),
  run('--http', '--http', ''),
  run('--read-bytes', '--read-bytes', '5'),
  run('--early-data', '--http', '/', '--early-data', '0'),
  run('--early-data', '--http', '/', '--early-data', '1e6'),
  run('--early-data', '--early-data', '16'),
  run('--early-data', '--http', '/', '--early-data', '16', '--resume', 'none'),
  run('--early-data', '--http', '/', '--early-data', '16', '--tls', '1.2'),
  run('--early-data', '--http', '/', '--early-data', '16', '--engine', 'node'),
  // start time
  run('--start-at', '--start-at', 'yesterday'),
  run('--start-at', '--start-at', '2000-01-01T00:00:00Z'),
  run('--start-at', '--start-at', '2999-01-01T00:00:00Z'),
  // output
  run('--format', '--format', 'xml'),
  run('/nonexistent/dir/result.json', '--out', '/nonexistent/dir/result.json'),
  run('$DIR', '--out', '$DIR'),
  run('/proc/result.json', '--out', '/proc/result.json'),
  run('--out', '--out', ''),
  run('/sys/result.json', '-o', '/sys/result.json'),
  run('$DIR/file.txt/result.json', '-o', '$DIR/file.txt/result.json'),
  row('nope', 'run', REFUSED, '--nope'),
  // matrix
  row('--tls', 'matrix', REFUSED, '--tls', '1.2,1.9'),
  row('--groups', 'matrix', REFUSED, '--groups', 'X25519,,P-256'),
  row('--resume', 'matrix', REFUSED, '--resume', 'none,bogus'),
  row('--key-type', 'matrix', '--key-types', 'ecdsa-p256,rsa-1'),
  row('--format', 'matrix', REFUSED, '--format', 'xml'),
  row('/nonexistent/grid.yaml', 'matrix', REFUSED, '--config', '/nonexistent/grid.yaml'),
  row('$DIR/not-json.json', 'matrix', REFUSED, '--config', '$DIR/not-json.json'),
  row('/nonexistent/dir/matrix.json', 'matrix', REFUSED, '--out', '/nonexistent/dir/matrix.json'),
  row('--connections', 'matrix', REFUSED, '-c', '0'),
  row('--repeat', 'matrix', REFUSED, '--repeat', '0'),
  row('--config', 'matrix', REFUSED, '--config', '$DIR/grid.json', '--tls', '1.2,1.3'),
  row('--duration', 'matrix', REFUSED, '--tls', '1.2,1.3', '-d', '-1s'),
  // serve
  row('--port', 'serve', '--port', '70000'),
  row('--port', 'serve', '--port', '-1'),
  row('--port', 'serve', '--port', 'abc'),
  row('--port $PORT', 'serve', '--port', '$PORT'),
  row('--port $PORT', 'serve', '--engine', 'native', '--port', '$PORT'),
  row('--host', 'serve', '--engine', 'native', '--host', 'nosuch.invalid'),
  row('--host', 'serve', '--host', '999.1.1.1'),
  row('--host', 'serve', '--host', ''),
  row('--host', 'serve', '--host', 'not a host'),
  row('--response-bytes', 'serve', '--response-bytes', '1e12'),
  row('--workers', 'serve', '--workers', '0'),
  row('--workers', 'serve', '--workers', '1000'),
  row('tls', 'serve', '--tls', '1.9'),
  row('tickets', 'serve', '--tickets', 'maybe'),
  row('key-type', 'serve', '--key-type', 'rsa-1'),
  row('--cert-dir', 'serve', '--cert-dir', '/proc/tlsbench'),
  row('--cert-dir', 'serve', '--cert-dir', '$DIR/file.txt'),
  row('--cert-dir', 'serve', '--cert-dir', ''),
  row('--ciphers', 'serve', '--ciphers', ''),
  row('--ciphersuites', 'serve', '--ciphersuites', 'ECDHE-RSA-AES128-GCM-SHA256'),
  // certs
  row('out', 'certs'),
  row('--out', 'certs', '--out', '$DIR/file.txt'),
  row('--out', 'certs', '--out', '/proc/tlsbench-certs'),
  row('--out', 'certs', '--out', ''),
  row('--out', 'certs', '--out', '/sys/tlsbench-certs'),
  row('key-type', 'certs', '--out', '$DIR/new-certs', '--key-type', 'rsa-1'),
  row('--host', 'certs', '--out', '$DIR/new-certs', '--host', 'bad name!'),
  row('--host', 'certs', '--out', '$DIR/new-certs', '--host', '999.1.1.1'),
  // report
  row('/nonexistent/result.json', 'report', '/nonexistent/result.json'),
  row('$DIR/not-json.json', 'report', '$DIR/not-json.json'),
  row('phases/0/tally', 'report', '$DIR/tally-wrong-type.json'),
  row('phases/0/tally/attempts', 'report', '$DIR/attempts-wrong-type.json'),
  row('$DIR/newer.json', 'report', '$DIR/newer.json'),
  row('$DIR/not-a-result.json', 'report', '$DIR/not-a-result.json'),
  row('--format', 'report', '$DIR/good.json', '--format', 'xml'),
  row('--metric', 'report', '$DIR/good.json', '--hgrm', '$DIR/hgrm', '--metric', 'nope'),
  row('--metric', 'report', '$DIR/good.json', '--metric', 'tls'),
  row('/nonexistent/dir/report.html', 'report', '$DIR/good.json', '--html', '/nonexistent/dir/report.html'),
  row('--html', 'report', '$DIR/good.json', '--html', '$DIR'),
  row('--hgrm', 'report', '$DIR/good.json', '--hgrm', '$DIR/file.txt'),
  row('--hgrm', 'report', '$DIR/good.json', '--hgrm', '/proc/hgrm'),
  row('cell', 'report', '$DIR/bad-matrix.json'),
  // merge
  row('two result files', 'merge', '$DIR/good.json', '--out', '$DIR/merged.json'),
  row('out', 'merge', '$DIR/good.json', '$DIR/good.json'),
  row('phases/0/tally', 'merge', '$DIR/good.json', '$DIR/tally-wrong-type.json', '--out', '$DIR/merged.json'),
  row('/nonexistent/dir/merged.json', 'merge', '$DIR/good.json', '$DIR/good.json', '--out', '/nonexistent/dir/merged.json'),
  row('matrix', 'merge', '$DIR/good.json', '$DIR/matrix.json', '--out', '$DIR/merged.json'),
  row('/nonexistent/result.json', 'merge', '$DIR/good.json', '/nonexistent/result.json', '--out', '$DIR/merged.json'),
  row('$DIR/newer.json', 'merge', '$DIR/good.json', '$DIR/newer.json', '--out', '$DIR/merged.json'),
  row('--out', 'merge', '$DIR/good.json', '$DIR/good.json', '--out', '$DIR'),
  // compare
  row('phases/0/tally', 'compare', '$DIR/good.json', '$DIR/tally-wrong-type.json'),
  row('phases/0/tally/attempts', 'compare', '$DIR/attempts-wrong-type.json', '$DIR/good.json'),
  row('$DIR/not-json.json', 'compare', '$DIR/good.json', '$DIR/not-json.json'),
  row('--fail-if', 'compare', '$DIR/good.json', '$DIR/good.json', '--fail-if', 'nonsense'),
  row('format', 'compare', '$DIR/good.json', '$DIR/good.json', '--format', 'xml'),
  row('head', 'compare', '$DIR/good.json'),
  row('matrix', 'compare', '$DIR/good.json', '$DIR/matrix.json'),
  row('/nonexistent/result.json', 'compare', '/nonexistent/result.json', '$DIR/good.json'),
];

describe('bad input: exit 2, a message naming the option or file and what to do, no stack trace', () => {
  let dir = '';
  let busy: Server;
  let busyPort = 0;
  const fill = (text: string) => text.replaceAll('$DIR', dir).replaceAll('$PORT', String(busyPort));

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tlsbench-bad-input-'));
    await generateChain({ keyType: 'ecdsa-p256', dir: join(dir, 'certs') });
    await writeFile(join(dir, 'not-a-cert.pem'), 'just text\n');
    const ca = await readFile(join(dir, 'certs', 'ca.pem'), 'utf8');
    await writeFile(join(dir, 'broken-cert.pem'), ca.replace(/^([^\n]*\n[A-Za-z0-9+/]{20})/, '$1!!!!'));
    await writeFile(join(dir, 'file.txt'), 'a file, not a directory\n');
    await writeFile(join(dir, 'wide.keylog'), '');
    await chmod(join(dir, 'wide.keylog'), 0o644);
    await writeFile(join(dir, 'not-json.json'), '{ this is not json');
    await writeFile(join(dir, 'not-a-result.json'), '{"a": 1}');
    await writeFile(join(dir, 'grid.json'), JSON.stringify({ axes: { tls: ['1.2', '1.3'] } }));
    await mkdir(join(dir, 'hgrm'));
    // A real result, then copies spoiled one field at a time.
    const good = await runCli(['run', '-n', '5', '-c', '1', '-w', '1', '--warmup', '0', '--resume', 'none', '--quiet', '--out', join(dir, 'good.json')]);
    assert.equal(good.code, 0, good.stderr);
    const result = JSON.parse(await readFile(join(dir, 'good.json'), 'utf8')) as { phases: { tally: Record<string, unknown> }[]; schemaVersion: number };
    const spoiled = async (name: string, spoil: (r: typeof result) => void) => {
      const copy = structuredClone(result);
      spoil(copy);
      await writeFile(join(dir, name), JSON.stringify(copy));
    };
    await spoiled('tally-wrong-type.json', (r) => ((r.phases[0] as { tally: unknown }).tally = 'lots'));
    await spoiled('attempts-wrong-type.json', (r) => (r.phases[0]!.tally.attempts = '5'));
    await spoiled('newer.json', (r) => (r.schemaVersion = 99));
    await writeFile(join(dir, 'matrix.json'), JSON.stringify({ schemaVersion: result.schemaVersion, kind: 'matrix', baseline: null, interrupted: false, cells: [] }));
    await writeFile(join(dir, 'bad-matrix.json'), JSON.stringify({ kind: 'matrix', cells: [{ options: {} }] }));
    busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    busyPort = (busy.address() as { port: number }).port;
  });

  after(async () => {
    busy?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it(`has at least 120 distinct command lines across every command`, () => {
    const lines = new Set(TABLE.map((r) => r.args.join('\u0000')));
    assert.equal(lines.size, TABLE.length, 'a command line appears twice');
    assert.ok(TABLE.length >= 120, `${TABLE.length} rows`);
    const commands = new Set(TABLE.map((r) => r.args[0]));
    for (const command of ['run', 'matrix', 'serve', 'certs', 'report', 'merge', 'compare']) assert.ok(commands.has(command), command);
  });

  for (const { args, names } of TABLE) {
    it(`tlsbench ${args.map((a) => (a === '' ? "''" : a.length > 40 ? `${a.slice(0, 12)}…` : a)).join(' ')}`, async () => {
      const outcome = await runCli(args.map(fill), { boundMs: 60_000 });
      const message = outcome.stderr;
      assert.equal(outcome.killed, false, 'it hung');
      assert.equal(outcome.code, 2, `exit ${outcome.code}: ${message}`);
      assert.doesNotMatch(message, /\n\s+at |internal error/, `a stack trace: ${message}`);
      assert.ok(message.includes(fill(names)), `the message does not name ${fill(names)}: ${message}`);
      assert.match(message, ADVICE, `the message does not say what to do: ${message}`);
      assert.equal(outcome.stdout, '', 'nothing on stdout');
    });
  }
});
