import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { promisify } from 'node:util';
import type { RunResult } from '../src/metrics/run-result.js';
import { fitLine } from '../src/report/live-view.js';
import { createTestCerts } from './support/certs.js';
import { MAIN_JS, runCli } from './support/cli.js';
import { startOpenSslServer } from './support/openssl-server.js';
import { childPids, commandLine, processCpuSeconds } from './support/proc.js';
import { externalTarget } from './support/tls-run.js';
import { skipUnlessCi } from './support/required.js';
import { TmuxPane, tmuxAvailable } from './support/tmux.js';

const run = promisify(execFile);
const ARGS = ['-d', '2s', '--warmup', '0', '-c', '2', '-w', '1', '--resume', 'none'];
/** Both phases (full, then resumed): the widest status line, with both rates. */
const BOTH_PHASES = ['-d', '3s', '--warmup', '0', '-c', '2', '-w', '1'];
const STATUS = /\[(full|resumed)\] (warm-up -?\d+s|\d+\/\d+s)/;

test('on a wide TTY: one status line rewritten in place every second, every figure in it', async () => {
  // `script` gives the child a pseudo-terminal, as a user's shell would; stty gives it a width.
  const { stdout } = await run('script', ['-qec', `stty cols 200; ${[process.execPath, MAIN_JS, ...ARGS].join(' ')}`, '/dev/null'], { timeout: 120_000 });
  assert.match(stdout, /\n\[full\] 1\/2s · full \d+\/s · resumed 0\/s · errors 0 · p50 [\d.]+ ms · p99 [\d.]+ ms · in flight \d+ · client busy \d+ % · client CPU [\d.]+ cores · server CPU [\d.]+ cores · server CPU [\d.]+ µs\/handshake/);
  assert.match(stdout, /\r\x1b\[2K\[full\] 2\/2s/);
});

test('off a TTY: plain lines, from the first second of every phase; --quiet: none', async () => {
  // Both phases (no --resume): the resumed phase reports its first second too, not only once
  // five seconds have passed since the full phase's last line.
  const plain = await runCli(ARGS.filter((a) => a !== '--resume' && a !== 'none'));
  assert.equal(plain.code, 0);
  assert.match(plain.stderr, /^\[full\] 1\/2s .*$/m);
  assert.match(plain.stderr, /^\[resumed\] 1\/2s .*$/m);
  assert.doesNotMatch(plain.stderr, /\x1b\[/);
  const quiet = await runCli([...ARGS, '--quiet']);
  assert.equal(quiet.code, 0);
  assert.doesNotMatch(quiet.stderr, /\[full\]/);
});

/** Cumulative CPU-seconds of the client (the CLI's process) and of the built-in server, read by the test. */
interface CpuSample { at: number; client: number; server: number | null }

/** CPU-seconds of `which` between two moments, interpolated at both edges; null unless samples span them. */
function cpuOver(samples: readonly CpuSample[], which: 'client' | 'server', from: number, to: number): number | null {
  const known = samples.filter((s) => s[which] !== null);
  const at = (t: number): number | null => {
    const i = known.findIndex((s) => s.at >= t);
    if (i <= 0) return null;
    const a = known[i - 1]!;
    const b = known[i]!;
    return a[which]! + ((t - a.at) / (b.at - a.at)) * (b[which]! - a[which]!);
  };
  const a = at(from);
  const b = at(to);
  return a === null || b === null ? null : b - a;
}

/** A plain status line with every CPU figure: `[full] N/6s · full H/s · … · client CPU c cores · server CPU s cores · server CPU u µs/handshake`. */
const CPU_LINE = /^\[full\] (\d+)\/6s · full (\d+)\/s · .* · client busy \d+ % · client CPU ([\d.]+) cores · server CPU ([\d.]+) cores · server CPU ([\d.]+) µs\/handshake$/gm;

test('off a TTY: each plain line has the client\'s and the built-in server\'s CPU of its second, as /proc reads them', async (t) => {
  // The test reads /proc/PID/stat of the CLI's process and of the built-in server (its child
  // running `serve`) every 100 ms; the CLI's lines are then compared with these readings over
  // the same wall-clock second (the window's start is in the JSON on stdout).
  const samples: CpuSample[] = [];
  let serverPid: number | null = null;
  let poller: NodeJS.Timeout | undefined;
  const outcome = await runCli(['-d', '6s', '--warmup', '0', '-c', '2', '-w', '1', '--resume', 'none', '--json'], {
    onSpawn: (child) => {
      const poll = () => {
        const pid = child.pid!;
        try {
          serverPid ??= childPids(pid).find((c) => /\bserve\b/.test(commandLine(c))) ?? null;
        } catch {
          // the CLI has exited
        }
        const client = processCpuSeconds(pid);
        const server = serverPid === null ? null : processCpuSeconds(serverPid);
        if (client !== null) samples.push({ at: Date.now(), client, server });
        poller = setTimeout(poll, 100);
      };
      poll();
    },
  });
  clearTimeout(poller);
  assert.equal(outcome.code, 0, outcome.stderr);
  assert.ok(serverPid !== null, 'the built-in server was never seen among the CLI\'s children');
  const phase = (JSON.parse(outcome.stdout) as RunResult).phases[0]!;
  const lines = [...outcome.stderr.matchAll(CPU_LINE)];
  // Off a TTY: the first second, then every 5 s, and the last: 1/6s and 6/6s.
  assert.deepEqual(lines.map((m) => Number(m[1])), [1, 6], outcome.stderr);
  // The first second always has its reference (the run goes on for 5 more).
  let compared = 0;
  for (const [line, n, full, client, server, perHandshake] of lines) {
    const from = phase.windowStartedAt + (Number(n) - 1) * 1000;
    const to = Math.min(from + 1000, phase.windowStartedAt + phase.windowMs);
    const seconds = (to - from) / 1000;
    const clientCpu = cpuOver(samples, 'client', from, to);
    const serverCpu = cpuOver(samples, 'server', from, to);
    // The built-in server stops right after the window: on a loaded machine the 100 ms poller may
    // find it gone before a reading past the last second's end, and then /proc has no reference.
    if (clientCpu === null || serverCpu === null) {
      t.diagnostic(`${line}\n  /proc: no reading after this second's end (the process had exited): not compared`);
      continue;
    }
    compared++;
    const refClient = clientCpu / seconds;
    const refServer = serverCpu / seconds;
    const refPerHandshake = (refServer * seconds * 1e6) / Number(full);
    t.diagnostic(`${line}\n  /proc: client ${refClient.toFixed(3)} cores, server ${refServer.toFixed(3)} cores, ${refPerHandshake.toFixed(0)} µs/handshake`);
    assert.ok(Number(full) > 0 && refServer > 0 && refClient > 0, line);
    /*
     * /proc counts in 10 ms ticks and the test reads it every 100 ms, so each of the reference's
     * two edges is off by up to a tick plus what the load varied within 100 ms; tlsbench's own
     * readings (the server from /proc too, the client from getrusage) have the same tick. Over one
     * second that is a few hundredths of a core: the figures must agree within 0.06 cores plus a
     * quarter (a figure of the wrong process, or of a second away under a varying load, does not).
     */
    const slack = (ref: number) => 0.06 + 0.25 * ref;
    assert.ok(Math.abs(Number(client) - refClient) <= slack(refClient), `client ${client} vs /proc ${refClient}`);
    assert.ok(Math.abs(Number(server) - refServer) <= slack(refServer), `server ${server} vs /proc ${refServer}`);
    const perHandshakeSlack = (slack(refServer) * seconds * 1e6) / Number(full);
    assert.ok(Math.abs(Number(perHandshake) - refPerHandshake) <= perHandshakeSlack, `${perHandshake} µs/handshake vs /proc ${refPerHandshake}`);
  }
  assert.ok(compared >= 1, 'no second could be compared with /proc');
});

test('against openssl s_server: without --server-pid the client\'s CPU and no server figure at all; with it, the server\'s', async (t) => {
  const certs = await createTestCerts();
  const server = await startOpenSslServer({ certPath: certs.certPath, keyPath: certs.keyPath });
  t.after(async () => {
    await server.stop();
    await certs.cleanup();
  });
  const out = await runCli([...externalTarget(server, certs), ...ARGS]);
  assert.equal(out.code, 0, out.stderr);
  const status = out.stderr.split('\n').filter((l) => STATUS.test(l));
  assert.ok(status.length >= 2, out.stderr);
  for (const line of status) {
    assert.match(line, /· client CPU [\d.]+ cores$/);
    assert.doesNotMatch(line, /server/);
  }
  const measured = await runCli([...externalTarget(server, certs), ...ARGS, '--server-pid', String(server.pid)]);
  assert.equal(measured.code, 0, measured.stderr);
  const withServer = measured.stderr.split('\n').filter((l) => STATUS.test(l));
  assert.ok(withServer.length >= 2, measured.stderr);
  for (const line of withServer) assert.match(line, /· client CPU [\d.]+ cores · server CPU [\d.]+ cores · server CPU [\d.]+ µs\/handshake$/);
});

test('TERM=dumb on a TTY: plain status lines, not one cursor code', async () => {
  const { stdout } = await run('script', ['-qec', [process.execPath, MAIN_JS, ...ARGS].join(' '), '/dev/null'], {
    timeout: 120_000,
    env: { ...process.env, TERM: 'dumb', FORCE_COLOR: '0' },
  });
  assert.match(stdout, /^\[full\] \d\/2s · full \d+\/s/m);
  assert.doesNotMatch(stdout, /\x1b/);
});

/** Screens (their lines) of the pane read every 200 ms until the command exits (bounded). */
async function watch(pane: TmuxPane, during?: (screens: number) => void): Promise<{ screens: string[][]; code: number }> {
  const screens: string[][] = [];
  for (let i = 0; i < 600; i++) {
    const code = pane.exitCode();
    screens.push(pane.lines());
    if (code !== null) return { screens, code };
    during?.(screens.length);
    await sleep(200);
  }
  throw new Error(`still running after 120 s:\n${pane.lines().join('\n')}`);
}

test('on an 80-column terminal (tmux): the status line never wraps, is never stacked, and is gone before the table', async (t) => {
  if (!tmuxAvailable()) return void skipUnlessCi(t, 'tmux is not installed (bash scripts/install-tmux.sh)');
  const pane = TmuxPane.start([process.execPath, MAIN_JS, ...BOTH_PHASES], 80, 50);
  try {
    const { screens, code } = await watch(pane);
    assert.equal(code, 0, pane.lines().join('\n'));
    const withStatus = screens.filter((lines) => lines.some((l) => STATUS.test(l)));
    assert.ok(withStatus.length >= 5, `the status line was on ${withStatus.length} screens only`);
    for (const lines of withStatus) {
      const status = lines.filter((l) => STATUS.test(l));
      assert.equal(status.length, 1, `stacked status lines:\n${lines.join('\n')}`);
      assert.ok(status[0]!.length <= 79, `${status[0]!.length} columns (wrapped): ${status[0]}`);
    }
    // The resumed phase's line is the widest: it kept the rates and errors.
    assert.ok(withStatus.some((lines) => lines.some((l) => /^\[resumed\] \d\/3s · full \d+\/s · resumed \d+\/s · errors 0/.test(l))));
    const last = pane.lines(true);
    assert.ok(!last.some((l) => STATUS.test(l)), `a status line was left behind:\n${last.join('\n')}`);
    assert.ok(last.some((l) => /│ resumed │ tcp/.test(l)), 'the table was printed');
  } finally {
    pane.close();
  }
});

test('a terminal made narrower mid-run (tmux reflows): the status is redrawn at the new width, nothing above it erased', async (t) => {
  if (!tmuxAvailable()) return void skipUnlessCi(t, 'tmux is not installed (bash scripts/install-tmux.sh)');
  const pane = TmuxPane.start([process.execPath, MAIN_JS, ...BOTH_PHASES], 120, 50);
  let resizedAt = 0;
  try {
    const { screens, code } = await watch(pane, (n) => {
      // At 119 columns the line keeps rates, errors, p50, p99 and the server's CPU per handshake.
      if (!resizedAt && pane.lines().some((l) => /^\[full\] 1\/3s · .* · p99 [\d.]+ ms · server CPU [\d.]+ µs\/handshake$/.test(l))) {
        pane.resize(50);
        resizedAt = n;
      }
    });
    assert.equal(code, 0);
    assert.ok(resizedAt, 'the wide status line was never seen');
    // A second after the resize every screen has been redrawn at the new width.
    const after = screens.slice(resizedAt + 6).filter((lines) => lines.some((l) => STATUS.test(l)));
    assert.ok(after.length >= 3, `${after.length} screens with a status line after the resize`);
    for (const lines of after) {
      // tmux reflows the wide line into rows it may push into its history, out of any program's
      // reach; what is on the screen is one status line at the new width.
      const status = lines.filter((l) => STATUS.test(l));
      assert.equal(status.length, 1, `stacked status lines:\n${lines.join('\n')}`);
      assert.ok(status[0]!.length <= 49, `${status[0]!.length} columns (wrapped): ${status[0]}`);
    }
    // Going up to the reflowed line's first row erased nothing printed before it.
    assert.ok(pane.lines(true).some((l) => /^tlsbench → built-in server at .*, 3s per phase(, \w+ engine.*)?$/.test(l)), pane.lines(true).join('\n'));
  } finally {
    pane.close();
  }
});

test('fitLine: drops the least important parts first, keeps their order, never exceeds the width', () => {
  const parts = [
    { text: '[full] 3/5s', rank: 0 },
    { text: 'full 551/s', rank: 1 },
    { text: 'errors 0', rank: 2 },
    { text: 'p50 28.8 ms', rank: 4 },
    { text: 'p99 117 ms', rank: 3 },
    { text: 'in flight 50', rank: 6 },
  ];
  assert.equal(fitLine(parts, 200), '[full] 3/5s · full 551/s · errors 0 · p50 28.8 ms · p99 117 ms · in flight 50');
  assert.equal(fitLine(parts, 50), '[full] 3/5s · full 551/s · errors 0 · p99 117 ms');
  assert.equal(fitLine(parts, 11), '[full] 3/5s');
  assert.equal(fitLine(parts, 6), '[full…');
  for (let width = 1; width < 100; width++) assert.ok(fitLine(parts, width).length <= width, `width ${width}`);
});
