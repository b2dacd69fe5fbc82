// TLS 1.3 early data (0-RTT, --early-data N) through the real CLI against servers that say what
// they received: nginx (`ssl_early_data on`, its access log's $ssl_early_data is "1" for a request
// that came in early data) and openssl s_server (`-early_data` prints the early data it reads).
// The client's accepted / rejected / not-offered counts must equal what the server saw, exactly.
// Early data is native-engine only: every test here skips where the addon is not built (CI fails).
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { schemaProblem } from '../src/schema/result-schemas.js';
import { runCli } from './support/cli.js';
import { nativeBuilt } from './support/engines.js';
import { loggingNginxSuite } from './support/logging-nginx-suite.js';
import { openSslServerSuite } from './support/openssl-server-suite.js';
import { tlsRun } from './support/tls-run.js';
import { skipUnlessCi } from './support/required.js';
import type { RunResult } from '../src/metrics/run-result.js';
import { ClassRecorder, emptyTally, mergeTallies, type Tally } from '../src/metrics/tally.js';
import { summarizeTally, latencyRows } from '../src/metrics/summary.js';
import { decodeHistogram } from '../src/metrics/histogram.js';

/**
 * One slot, no warm-up: every attempt is measured, so the server's count of the whole run is the
 * client's. The first attempt has no session (full); each later one offers the newest ticket of the
 * one before (a replay-protected server honours a ticket's early data once).
 */
const LOAD = ['-w', '1', '-c', '1', '--warmup', '0', '--resume', 'ticket'];
const N = 40;

/** `--http /` as run-options.ts builds it for `--sni localhost`: every byte of it goes as early data. */
const HTTP_GET = 'GET / HTTP/1.1\r\nHost: localhost\r\nUser-Agent: tlsbench\r\nAccept: */*\r\nConnection: close\r\n\r\n';
const HTTP_EARLY = ['--http', '/', '--early-data', String(Buffer.byteLength(HTTP_GET))];

/**
 * nginx's debug log: per connection (`*N`), the early-data bytes its SSL_read_early_data calls read
 * (`SSL_read_early_data: 1, BYTES`, 1 being SSL_READ_EARLY_DATA_SUCCESS).
 */
function earlyBytesByConnection(debugLog: string): Map<string, number> {
  const bytes = new Map<string, number>();
  for (const m of debugLog.matchAll(/ (\*\d+) SSL_read_early_data: 1, (\d+)$/gm)) bytes.set(m[1]!, (bytes.get(m[1]!) ?? 0) + Number(m[2]));
  return bytes;
}

function needsNative(t: { skip(message: string): void }): boolean {
  if (nativeBuilt()) return false;
  return skipUnlessCi(t, 'the native engine is not built (--early-data needs it)');
}

test('early-data tallies merge exactly (workers, machines): counts add, the 0-rtt histograms add', () => {
  const worker = (accepted: number, rejected: number, none: number, firstByteUs: number): Tally => {
    const zeroRtt = new ClassRecorder();
    for (let i = 0; i < accepted; i++) {
      zeroRtt.handshakes++;
      zeroRtt.record('first-byte', firstByteUs);
    }
    return { ...emptyTally(), earlyData: { offered: accepted + rejected, accepted, rejected, notOffered: { 'ticket-allows-none': none }, zeroRtt: zeroRtt.toTally() } };
  };
  const merged = mergeTallies([worker(3, 1, 2, 1000), worker(5, 0, 1, 3000), emptyTally()]);
  const e = merged.earlyData!;
  assert.deepEqual({ offered: e.offered, accepted: e.accepted, rejected: e.rejected, notOffered: e.notOffered }, { offered: 9, accepted: 8, rejected: 1, notOffered: { 'ticket-allows-none': 3 } });
  assert.equal(e.zeroRtt!.handshakes, 8);
  assert.equal(decodeHistogram(e.zeroRtt!.histograms['first-byte']!).totalCount, 8);
  const summary = summarizeTally(merged, 1000);
  assert.equal(summary.earlyData!.acceptRate, 8 / 9);
  const rows = latencyRows(summary).filter((r) => r.cls === '0-rtt');
  assert.deepEqual(rows.map((r) => [r.metric, r.count]), [['first-byte', 8]]);
  // A run without --early-data has none, merged or not.
  assert.equal(mergeTallies([emptyTally(), emptyTally()]).earlyData, undefined);
});

describe('--early-data: bad input is refused before any work (exit 2)', () => {
  // Nothing listens on port 9: a run that started would fail with tcp errors, not exit 2.
  const target = ['127.0.0.1:9', '--insecure', '-n', '1'];
  const cases: [string, string[], RegExp][] = [
    ['the Node engine', ['--engine', 'node', ...HTTP_EARLY], /--early-data needs the native engine \(Node's TLS cannot send early data\).*--engine node/],
    ['--resume none', ['--resume', 'none', ...HTTP_EARLY], /--early-data rides on TLS 1\.3 resumption, which --resume none turns off/],
    ['--resume id', ['--resume', 'id', '--tls', '1.2', ...HTTP_EARLY], /--early-data needs TLS 1\.3 tickets/],
    ['--tls 1.2', ['--tls', '1.2', ...HTTP_EARLY], /--early-data is TLS 1\.3 0-RTT, which --tls excludes/],
    ['no request', ['--early-data', '10'], /--early-data sends the first N bytes of the request as early data: add --http PATH or --request STRING/],
    ['more bytes than the request', ['--request', 'PING', '--early-data', '5'], /--early-data 5: the request \(4-byte request\) is 4 bytes; give 1 to 4/],
    ['zero', ['--request', 'PING', '--early-data', '0'], /--early-data: '0' is out of range; give a whole number from 1 to 16384 bytes/],
    ['past the range', ['--request', 'PING', '--early-data', '16385'], /--early-data: '16385' is out of range/],
  ];
  for (const [name, args, message] of cases) {
    test(name, async () => {
      const run = await runCli([...target, ...args, '--quiet']);
      assert.equal(run.code, 2, `exit ${run.code}: ${run.stderr}`);
      assert.match(run.stderr, message);
      assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
    });
  }

  test('no engine given and the addon not built: exit 2, saying why', async () => {
    const run = await runCli([...target, ...HTTP_EARLY, '--quiet'], { env: { TLSBENCH_NATIVE_ADDON: path.join(tmpdir(), 'tlsbench-no-such-addon.node') } });
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /--early-data needs the native engine .*: native engine not built/);
  });
});

describe('--early-data against nginx', () => {
  const fleet = loggingNginxSuite({ tls: '1.3' });

  test('ssl_early_data on: the accepted count is the number of requests nginx read from early data', async (t) => {
    if (needsNative(t)) return;
    const dir = await mkdtemp(path.join(tmpdir(), 'tlsbench-early-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    // nginx's debug log names every SSL_read_early_data call and the bytes it read: the exact count.
    const debugLog = path.join(dir, 'nginx-debug.log');
    const nginx = await fleet.start(t, { extraServerConfig: `    ssl_early_data on;\n    error_log ${debugLog} debug;` });
    if (!nginx) return;
    const file = path.join(dir, 'result.json');
    const run = await tlsRun([...fleet.target(nginx), ...LOAD, '-n', String(N), ...HTTP_EARLY, '--out', file]);
    const s = run.phase.summary;
    assert.deepEqual(s.errors, {});
    assert.equal(s.attempts, N);
    const e = s.earlyData!;
    assert.ok(e, 'an earlyData summary');
    assert.equal(e.rejected, 0, `rejected ${e.rejected}`);
    assert.equal(e.offered, e.accepted);
    assert.equal(e.offered, s.offered, 'every offered session carried early data');
    assert.ok(e.accepted >= N - 1, `accepted ${e.accepted} of ${N}: ${JSON.stringify(e)}`);
    const debug = await readFile(debugLog, 'utf8');
    // Debian's nginx is built --with-debug; another build logs nothing at debug level.
    if (!debug.includes('[debug]') && skipUnlessCi(t, 'this nginx was built without --with-debug: no debug log to count early data in')) return;
    const early = earlyBytesByConnection(debug);
    const length = Buffer.byteLength(HTTP_GET);
    assert.deepEqual([...new Set(early.values())], [length], 'every early read was the whole request');
    assert.equal(early.size, e.accepted, `nginx read early data on ${early.size} connections, the client counted ${e.accepted} accepted`);
    const log = await nginx.accessLog();
    assert.equal(log.length, N);
    assert.ok(log.every((l) => l.status === 200));
    assert.equal(s.classes.resumed!.handshakes, log.filter((l) => l.reused).length);
    // $ssl_early_data is "1" only while nginx's handshake is unfinished as it logs: a lower bound.
    assert.ok(log.filter((l) => l.earlyData).length <= e.accepted);
    assert.ok(log.filter((l) => l.earlyData).every((l) => l.reused));
    // The 0-RTT handshakes are a class of their own beside full and resumed.
    const zeroRtt = e.zeroRtt!;
    assert.equal(zeroRtt.handshakes, e.accepted);
    assert.equal(zeroRtt.requests, e.accepted);
    assert.equal(zeroRtt.latency['first-byte']?.count, e.accepted);
    assert.equal(zeroRtt.latency.ttfb?.count, e.accepted);
    assert.equal(zeroRtt.statuses?.['2xx'], e.accepted);
    // first-byte is recorded for every class beside it (the comparison 0-RTT is for).
    for (const c of Object.values(s.classes)) assert.equal(c.latency['first-byte']?.count, c.handshakes);

    // The file matches the schema, and every report shows the counts and the 0-rtt rows.
    const saved = JSON.parse(await readFile(file, 'utf8')) as RunResult;
    assert.equal(schemaProblem(saved), null);
    assert.equal(saved.config.earlyData, Buffer.byteLength(HTTP_GET));
    const table = await runCli(['report', file]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, new RegExp(`0-RTT offered ${e.offered} · accepted ${e.accepted} \\(`));
    assert.match(table.stdout, /│ 0-rtt\s+│ tcp/);
    const markdown = await runCli(['report', file, '--format', 'markdown']);
    assert.match(markdown.stdout, new RegExp(`\\| 0-rtt \\| first-byte \\| ${e.accepted} \\|`));
    const csv = await runCli(['report', file, '--format', 'csv']);
    const [head, ...rows] = csv.stdout.trim().split('\n');
    const col = (name: string) => head!.split(',').indexOf(name);
    const zeroRows = rows.map((r) => r.split(',')).filter((r) => r[col('class')] === '0-rtt');
    assert.ok(zeroRows.some((r) => r[col('metric')] === 'first-byte' && r[col('count')] === String(e.accepted)));
    for (const r of rows.map((x) => x.split(','))) {
      assert.equal(r[col('early_data_accepted')], String(e.accepted));
      assert.equal(r[col('early_data_rejected')], '0');
    }
    // .hgrm: the 0-rtt class's first-byte distribution beside the resumed one's, its count the accepted.
    const hgrm = path.join(dir, 'hgrm');
    assert.equal((await runCli(['report', file, '--hgrm', hgrm, '--metric', 'first-byte'])).code, 0);
    const zeroHgrm = await readFile(path.join(hgrm, `${run.phase.name}-0-rtt-first-byte.hgrm`), 'utf8');
    assert.match(zeroHgrm, new RegExp(`^\\s+[0-9.]+\\s+1\\.000000000000\\s+${e.accepted}\\s`, 'm'));
    await readFile(path.join(hgrm, `${run.phase.name}-resumed-first-byte.hgrm`), 'utf8');
  });

  test('ssl_early_data off: nothing sent, every offer counted as "the ticket allows no early data"', async (t) => {
    if (needsNative(t)) return;
    const nginx = await fleet.start(t);
    if (!nginx) return;
    const run = await tlsRun([...fleet.target(nginx), ...LOAD, '-n', String(N), ...HTTP_EARLY]);
    const s = run.phase.summary;
    assert.deepEqual(s.errors, {});
    const e = s.earlyData!;
    assert.deepEqual({ offered: e.offered, accepted: e.accepted, rejected: e.rejected }, { offered: 0, accepted: 0, rejected: 0 });
    assert.equal(e.notOffered['ticket-allows-none'], s.offered);
    assert.equal(s.offered, N - 1);
    assert.equal(e.zeroRtt, undefined);
    const log = await nginx.accessLog();
    assert.equal(log.filter((l) => l.earlyData).length, 0);
    assert.ok(log.every((l) => l.status === 200));
  });
});

describe('--early-data against openssl s_server', () => {
  const suite = openSslServerSuite();
  const start = (extraArgs: string[], www: boolean) => suite.start({ tls: '1.3', www, extraArgs });

  test('-early_data: the client\'s accepted count is the number of early-data requests s_server printed', async (t) => {
    if (needsNative(t)) return;
    // Without -www s_server reads the early data, prints it raw on stdout (even with -quiet), and,
    // its stdin closed, closes the connection: so the response is read until that close.
    const server = await start(['-early_data'], false);
    const probe = 'EARLY-DATA-PROBE\n';
    const run = await tlsRun([...suite.target(server), ...LOAD, '-n', String(N), '--request', 'EARLY-DATA-PROBE\\n', '--read', 'all', '--early-data', String(probe.length)]);
    const s = run.phase.summary;
    assert.deepEqual(s.errors, {});
    const e = s.earlyData!;
    assert.equal(e.rejected, 0);
    assert.equal(e.offered, s.offered);
    assert.equal(e.accepted, N - 1, `accepted ${e.accepted} of the ${N - 1} resumed attempts: ${JSON.stringify(e)}`);
    assert.equal(server.output().split(probe).length - 1, e.accepted, 's_server printed one probe per accepted attempt');
  });

  test('tickets that allow early data, a server that reads none: every early request rejected and sent again', async (t) => {
    if (needsNative(t)) return;
    // -max_early_data puts early data in the tickets; without -early_data s_server never reads it,
    // so OpenSSL rejects it, and the client writes the request again after the handshake (-www answers it).
    const server = await start(['-max_early_data', '16384'], true);
    const get = 'GET / HTTP/1.0\r\n\r\n';
    const run = await tlsRun([...suite.target(server), ...LOAD, '-n', String(N), '--request', 'GET / HTTP/1.0\\r\\n\\r\\n', '--read', 'all', '--early-data', String(get.length)]);
    const s = run.phase.summary;
    assert.deepEqual(s.errors, {});
    const e = s.earlyData!;
    assert.equal(e.accepted, 0);
    assert.equal(e.rejected, N - 1, `rejected ${e.rejected}: ${JSON.stringify(e)}`);
    assert.equal(e.offered, e.rejected);
    assert.equal(e.zeroRtt, undefined);
    // The resent request was answered: one response per attempt, each with a first byte.
    const requests = Object.values(s.classes).reduce((a, c) => a + c.requests, 0);
    assert.equal(requests, N);
    assert.equal(s.classes.resumed?.latency.ttfb?.count, s.classes.resumed?.handshakes);
  });

  test('a ticket that allows fewer bytes than --early-data: not offered, counted with that reason', async (t) => {
    if (needsNative(t)) return;
    const server = await start(['-early_data', '-max_early_data', '8'], false);
    const run = await tlsRun([...suite.target(server), ...LOAD, '-n', '20', '--request', 'EARLY-DATA-PROBE\\n', '--read', 'all', '--early-data', '17']);
    const s = run.phase.summary;
    assert.deepEqual(s.errors, {});
    const e = s.earlyData!;
    assert.equal(e.offered, 0);
    assert.equal(e.notOffered['ticket-allows-fewer-bytes'], s.offered);
    assert.equal(s.offered, 19);
    assert.equal(server.output().split('EARLY-DATA-PROBE').length - 1, 0, 's_server read no early data');
  });
});
