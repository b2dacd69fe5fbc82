import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { fitLine } from '../src/report/live-view.js';
import { MAIN_JS, runCli } from './support/cli.js';
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
  assert.match(stdout, /\n\[full\] 1\/2s · full \d+\/s · resumed 0\/s · errors 0 · p50 [\d.]+ ms · p99 [\d.]+ ms · in flight \d+ · client busy \d+ %/);
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
      if (!resizedAt && pane.lines().some((l) => /^\[full\] 1\/3s · .* · client busy \d+ %$/.test(l))) {
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
    assert.ok(pane.lines(true).some((l) => /^tlsbench → built-in server at .*, 3s per phase$/.test(l)), pane.lines(true).join('\n'));
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
