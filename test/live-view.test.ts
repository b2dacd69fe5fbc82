import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { MAIN_JS, runCli } from './support/cli.js';

const run = promisify(execFile);
const ARGS = ['-d', '2s', '--warmup', '0', '-c', '2', '-w', '1', '--resume', 'none'];

test('on a TTY: one status line rewritten in place every second', async () => {
  // `script` gives the child a pseudo-terminal, as a user's shell would.
  const { stdout } = await run('script', ['-qec', [process.execPath, MAIN_JS, ...ARGS].join(' '), '/dev/null'], { timeout: 120_000 });
  assert.match(stdout, /\r\x1b\[2K\[full\] 1\/2s · full \d+\/s · resumed 0\/s · errors 0 · p50 [\d.]+ ms · p99 [\d.]+ ms · in flight \d+ · client busy \d+ %/);
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
