/**
 * Faults that must never hang a run, lose its results, or crash it: the client out of file
 * descriptors, its own built-in server killed, the output directory gone at the end; and the
 * single sources of truth behind them (limits, error classes), checked against the README.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { joinNegativeValues } from '../src/cli/argv.js';
import { CAPACITY_LIMITS, checkDuration, checkNumber, describeRange, LIMITS, SERVE_LIMITS } from '../src/config/limits.js';
import { writeOrFallback } from '../src/config/output-path.js';
import { UsageError } from '../src/config/usage-error.js';
import { classifyError, errorHint } from '../src/engine/errors.js';
import { runMatrix } from '../src/matrix/run-matrix.js';
import { renderMatrix } from '../src/matrix/render.js';
import type { RunResult } from '../src/metrics/run-result.js';
import { verdict } from '../src/metrics/verdict.js';
import { resolveRun } from '../src/api/run.js';
import { MAIN_JS, runCli, type CliOutcome } from './support/cli.js';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
/** Node's timers hold at most 2^31-1 ms; a longer one fires at once (TimeoutOverflowWarning). */
const TIMER_MAX_MS = 2 ** 31 - 1;

/**
 * The CLI in a child process, with `act` called once stderr shows `when` (e.g. the start line),
 * so a test can pull something out from under a running run. Bounded: a hang is `killed`.
 */
function runCliWhile(command: string[], when: RegExp, act: (pid: number) => void | Promise<void>, boundMs = 90_000): Promise<CliOutcome> {
  return new Promise((resolve) => {
    const [file, ...args] = command;
    const child = spawn(file!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let acted = false;
    let killed = false;
    child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
    child.stderr.setEncoding('utf8').on('data', (t: string) => {
      stderr += t;
      if (!acted && when.test(stderr)) {
        acted = true;
        void act(child.pid!);
      }
    });
    const timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, boundMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, killed });
    });
  });
}

const START_LINE = /tlsbench → /;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('limits: one table, checked before anything starts, documented in the README', () => {
  const all = [...Object.values(LIMITS), ...Object.values(SERVE_LIMITS), ...Object.values(CAPACITY_LIMITS)];

  it('every duration fits in a timer, whole phases included', () => {
    for (const l of all.filter((x) => x.unit === 'duration')) assert.ok(l.max <= TIMER_MAX_MS, l.option);
    const longest = LIMITS.ramp.max + LIMITS.warmup.max + LIMITS.duration.max + LIMITS.startAt.max;
    assert.ok(longest < TIMER_MAX_MS, `a phase may last ${longest} ms`);
  });

  it('bounds are inclusive, values past them and NaN are UsageErrors', () => {
    assert.equal(checkNumber(LIMITS.connections.max, LIMITS.connections), LIMITS.connections.max);
    assert.throws(() => checkNumber(LIMITS.connections.max + 1, LIMITS.connections), UsageError);
    assert.throws(() => checkNumber(Number.NaN, LIMITS.connections), /--connections: not a number/);
    assert.throws(() => checkNumber(2.5, LIMITS.workers), /whole number/);
    assert.equal(checkNumber(0.25, LIMITS.resumeRatio), 0.25);
    assert.equal(checkDuration('24h', LIMITS.duration), 24 * 3_600_000);
    assert.throws(() => checkDuration('597h', LIMITS.duration), /--duration: '597h' is out of range/);
    assert.throws(() => checkDuration('-5s', LIMITS.duration), /negative/);
    assert.equal(checkDuration('0', LIMITS.warmup), 0);
  });

  it('the README lists every numeric option with the range the code enforces', () => {
    for (const l of all) {
      const line = `| \`${l.option}\` | ${describeRange(l)} |`;
      assert.ok(README.includes(line), `README lacks the row ${line}`);
    }
  });

  it('`-d -5s` reaches validation as a value, not as the flags -5 and -s', () => {
    assert.deepEqual(joinNegativeValues(['run', '-d', '-5s', '-c', '3']), ['run', '-d=-5s', '-c', '3']);
    assert.deepEqual(joinNegativeValues(['--rate', '-1', 'host:1']), ['--rate=-1', 'host:1']);
    assert.deepEqual(joinNegativeValues(['-k', 'host:1']), ['-k', 'host:1']);
  });

  it('open-loop defaults stay inside the limits at the highest rate', () => {
    const { config } = resolveRun({ target: '127.0.0.1:1', rate: LIMITS.rate.max, duration: '1s' });
    assert.ok(config.maxConnections <= LIMITS.maxConnections.max);
  });
});

describe('error classes: documented, hinted, the raw OpenSSL reason kept', () => {
  it('a TLS peer breaking the protocol is tls.protocol.<REASON>, not tls.not-tls', () => {
    // A NewSessionTicket with a bad length, a corrupted ticket: the server speaks TLS.
    assert.equal(classifyError({ code: 'ERR_SSL_BAD_LENGTH' }, 'tls'), 'tls.protocol.BAD_LENGTH');
    assert.equal(classifyError({ code: 'ERR_SSL_LENGTH_MISMATCH' }, 'tls'), 'tls.protocol.LENGTH_MISMATCH');
    assert.equal(classifyError({ code: 'ERR_SSL_DIGEST_CHECK_FAILED' }, 'tls'), 'tls.protocol.DIGEST_CHECK_FAILED');
    assert.equal(classifyError({ code: 'ERR_SSL_UNEXPECTED_MESSAGE' }, 'tls'), 'tls.protocol.UNEXPECTED_MESSAGE');
    assert.equal(classifyError({ code: 'ERR_SSL_EXCESSIVE_MESSAGE_SIZE' }, 'tls'), 'tls.message-too-large');
    // What an HTTP server or garbage produces stays not-tls (OpenSSL 3.0 and 3.5 codes).
    for (const code of ['ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_PACKET_LENGTH_TOO_LONG', 'ERR_SSL_DATA_LENGTH_TOO_LONG']) {
      assert.equal(classifyError({ code }, 'tls'), 'tls.not-tls', code);
    }
    assert.equal(classifyError({ code: 'ERR_SOMETHING_NEW' }, 'tls'), 'tls.other.ERR_SOMETHING_NEW');
  });

  it('every class family has a hint and a README entry', () => {
    const classes = ['tcp.refused', 'tcp.reset', 'tcp.timeout', 'tcp.unreachable', 'tcp.dns', 'tcp.client-resources',
      'tls.verify.CERT_HAS_EXPIRED', 'tls.alert.decode_error', 'tls.version', 'tls.cipher', 'tls.not-tls',
      'tls.message-too-large', 'tls.protocol.BAD_LENGTH', 'tls.reset', 'tls.closed', 'tls.timeout',
      'app.reset', 'app.closed', 'app.timeout', 'tls.other.ERR_X'];
    for (const c of classes) assert.ok(errorHint(c), `no hint for ${c}`);
    for (const documented of ['`tls.protocol.<REASON>`', '`tls.message-too-large`', '`tls.other.<CODE>`', '`tcp.client-resources`', '`tls.not-tls`']) {
      assert.ok(README.includes(documented), `README does not document ${documented}`);
    }
  });

  it('verification hints say what is wrong with the certificate', () => {
    assert.match(errorHint('tls.verify.CERT_HAS_EXPIRED')!, /expired/);
    assert.doesNotMatch(errorHint('tls.verify.CERT_HAS_EXPIRED')!, /--ca/);
    assert.match(errorHint('tls.verify.ERR_TLS_CERT_ALTNAME_INVALID')!, /another name/);
    assert.doesNotMatch(errorHint('tls.verify.ERR_TLS_CERT_ALTNAME_INVALID')!, /--ca/);
    assert.match(errorHint('tls.verify.UNABLE_TO_VERIFY_LEAF_SIGNATURE')!, /--ca FILE/);
  });
});

describe('faults during a run', () => {
  let dir = '';
  let good: RunResult;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tlsbench-hardening-'));
    const outcome = await runCli(['run', '-n', '5', '-c', '1', '-w', '1', '--warmup', '0', '--resume', 'none', '--quiet', '--json']);
    assert.equal(outcome.code, 0, outcome.stderr);
    good = JSON.parse(outcome.stdout) as RunResult;
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('out of descriptors (hard limit 300, 400 slots): tcp.client-resources, the run ends, memory stays flat, a warning at start', { skip: !existsSync('/usr/bin/prlimit') && 'no prlimit' }, async () => {
    // prlimit execs node, so the pid is the client's own; its RSS is sampled from the start line on.
    const rssMb: number[] = [];
    let sampling: NodeJS.Timeout | undefined;
    const outcome = await runCliWhile(['prlimit', '--nofile=300:300', process.execPath, MAIN_JS, 'run', '127.0.0.1:1', '-c', '400', '-d', '10s', '--warmup', '0', '-w', '1', '--resume', 'none', '--json'],
      START_LINE, (pid) => {
        sampling = setInterval(() => {
          const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
          if (rss) rssMb.push(Number(rss) / 1024);
        }, 500);
      }).finally(() => clearInterval(sampling));
    assert.equal(outcome.killed, false, 'the run hung');
    const result = JSON.parse(outcome.stdout) as RunResult;
    const phase = result.phases[0]!;
    assert.ok((phase.summary.errors['tcp.client-resources'] ?? 0) > 0, JSON.stringify(phase.summary.errors));
    assert.equal(phase.summary.successes + phase.summary.errorCount, phase.summary.attempts);
    assert.ok(phase.windowMs <= 10_000, `window ${phase.windowMs} ms`);
    // The spinning client of old grew from 389 MB to 1.19 GB in 15 s. Now retries back off and
    // nothing accumulates per failed attempt. V8 sizes its heap during the first seconds (Node 24
    // settles near 300 MB, Node 20 near 190 MB), then RSS is flat: the last 4 s add at most 10 %
    // to the middle of the run, and the peak stays far below the runaway's.
    const trace = rssMb.map((m) => m.toFixed(0)).join(' ');
    assert.ok(rssMb.length >= 14, `${rssMb.length} RSS samples: ${trace}`);
    const middle = rssMb[rssMb.length - 9]!;
    const late = Math.max(...rssMb.slice(-8));
    assert.ok(late <= middle * 1.1 + 20, `RSS grew from ${middle.toFixed(0)} MB to ${late.toFixed(0)} MB in the last 4 s: ${trace}`);
    assert.ok(Math.max(...rssMb) < 500, `RSS peaked at ${Math.max(...rssMb).toFixed(0)} MB: ${trace}`);
    assert.match(outcome.stderr, /warning: the open-file limit \(ulimit -n\) is 300 \(hard 300\) but --connections 400 needs about \d+/);
    assert.ok(result.warnings.some((w) => /open-file limit/.test(w)));
    assert.equal(outcome.code, 1, 'no attempt succeeded');
  });

  it('Ctrl-C stops a run that is out of descriptors', { skip: !existsSync('/usr/bin/prlimit') && 'no prlimit' }, async () => {
    const outcome = await runCliWhile(['prlimit', '--nofile=300:300', process.execPath, MAIN_JS, 'run', '127.0.0.1:1', '-c', '400', '-d', '60s', '--warmup', '0', '-w', '1', '--resume', 'none', '--json'],
      START_LINE, async (pid) => {
        await sleep(1000);
        process.kill(pid, 'SIGINT');
      });
    assert.equal(outcome.killed, false, 'Ctrl-C did not stop it');
    const result = JSON.parse(outcome.stdout) as RunResult;
    assert.equal(result.interrupted, true);
    assert.ok(result.phases[0]!.summary.attempts > 0);
  });

  it('the built-in server killed mid-run: the run stops, keeps what it measured, says so, exits 1', async () => {
    const out = join(dir, 'server-died.json');
    const outcome = await runCliWhile([process.execPath, MAIN_JS, 'run', '-d', '30s', '--warmup', '0', '-c', '2', '-w', '1', '--resume', 'none', '--out', out],
      START_LINE, async (pid) => {
        await sleep(1000);
        const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).map(Number);
        for (const child of children) process.kill(child, 'SIGKILL');
      });
    assert.equal(outcome.killed, false, 'the run went on against nothing');
    assert.equal(outcome.code, 1, outcome.stderr);
    assert.match(outcome.stderr, /the built-in server killed by SIGKILL during the run/);
    const result = JSON.parse(await readFile(out, 'utf8')) as RunResult;
    assert.match(result.failure ?? '', /killed by SIGKILL/);
    assert.equal(result.interrupted, true);
    assert.ok(result.phases.length <= 1);
    if (result.phases[0]) assert.equal(result.phases[0].interrupted, true);
  });

  it('the --out directory removed during the run: the result goes to a fallback file, exit 1', async () => {
    const sub = join(dir, 'gone');
    await mkdir(sub);
    const outcome = await runCliWhile([process.execPath, MAIN_JS, 'run', '-d', '2s', '--warmup', '0', '-c', '1', '-w', '1', '--resume', 'none', '--out', join(sub, 'result.json')],
      START_LINE, () => rm(sub, { recursive: true, force: true }));
    assert.equal(outcome.code, 1, outcome.stderr);
    const fallback = /it was written to (\S+) instead/.exec(outcome.stderr)?.[1];
    assert.ok(fallback, outcome.stderr);
    const result = JSON.parse(await readFile(fallback, 'utf8')) as RunResult;
    await rm(fallback);
    assert.ok(result.phases[0]!.summary.attempts > 0);
    assert.match(outcome.stdout, /phase full/, 'the table is still printed');
  });

  it('writeOrFallback: a destination that fails goes to the temp directory', async () => {
    const outcome = writeOrFallback(join(dir, 'missing', 'r.json'), '{"x":1}\n');
    assert.ok('fallback' in outcome, JSON.stringify(outcome));
    assert.equal(await readFile(outcome.fallback, 'utf8'), '{"x":1}\n');
    await rm(outcome.fallback);
  });

  it('a phase with 0 attempts fails; so does a run whose server died', () => {
    const empty = structuredClone(good);
    const phase = empty.phases[0]!;
    phase.summary = { ...phase.summary, attempts: 0, successes: 0, errorCount: 0 };
    assert.match(verdict(empty).join('\n'), /no attempt was made/);
    phase.interrupted = true;
    assert.deepEqual(verdict(empty), [], 'Ctrl-C before the window is not a failure');
    assert.deepEqual(verdict({ ...good, failure: 'the built-in server died' }), ['the built-in server died']);
  });

  it('an interrupted matrix: a top-level flag, the cell marked in the table, later cells not run', async () => {
    const abort = new AbortController();
    const result = await runMatrix({
      cells: [
        { name: 'first', options: { duration: '30s', warmup: '0', connections: 1, workers: 1, resume: 'none' } },
        { name: 'second', options: { duration: '30s', warmup: '0', connections: 1, workers: 1, resume: 'none' } },
      ],
    }, { signal: abort.signal, onStart: () => void sleep(1000).then(() => abort.abort()) });
    assert.equal(result.interrupted, true);
    assert.equal(result.cells[0]!.result?.interrupted, true);
    assert.equal(result.cells[1]!.result, null);
    assert.match(result.cells[1]!.skipped ?? '', /interrupted/);
    const table = renderMatrix(result);
    assert.match(table, /first \(baseline\) \(interrupted\)/);
    assert.match(table, /^interrupted: /m);
  });
});
