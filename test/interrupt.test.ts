import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { test } from 'node:test';
import { MAIN_JS } from './support/cli.js';
import type { RunResult } from '../src/metrics/run-result.js';

/**
 * Starts a long run, waits until it reports its first measured second, then signals it.
 * The bound (60 s) only catches a run that ignores the signal: it asked for 5 minutes.
 */
async function interruptRun(signals: NodeJS.Signals[]): Promise<{ code: number | null; result: RunResult; stderr: string; wallMs: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'tlsbench-int-'));
  const out = join(dir, 'result.json');
  try {
    const spawnedAt = performance.now();
    const child = spawn(process.execPath, [MAIN_JS, '-d', '5m', '--warmup', '0', '-c', '2', '-w', '1', '--resume', 'none', '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stdout.resume();
    const closed = new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    const bound = setTimeout(() => child.kill('SIGKILL'), 60_000);
    // A child that exits (or is killed by the bound) before its first measured second fails the
    // test at once, with what it said, instead of leaving this wait to the runner's timeout.
    await new Promise<void>((resolve, reject) => {
      child.stderr.setEncoding('utf8').on('data', (t: string) => {
        stderr += t;
        if (/\[full\] \d+\/300s/.test(stderr)) resolve();
      });
      void closed.then((code) => reject(new Error(`the run exited (${code}) before its first measured second: ${stderr}`)));
    });
    for (const signal of signals) child.kill(signal);
    const code = await closed;
    const wallMs = performance.now() - spawnedAt;
    clearTimeout(bound);
    assert.ok(existsSync(out), `no results file; stderr: ${stderr}`);
    return { code, result: JSON.parse(readFileSync(out, 'utf8')) as RunResult, stderr, wallMs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('Ctrl-C stops gracefully: partial results written, marked interrupted', async () => {
  const { code, result, stderr, wallMs } = await interruptRun(['SIGINT']);
  assert.equal(code, 130);
  assert.equal(result.interrupted, true);
  assert.equal(result.phases.length, 1, 'the resumed phase never starts after an interrupt');
  const phase = result.phases[0]!;
  assert.equal(phase.interrupted, true);
  assert.ok(phase.summary.successes > 0);
  // The window closed at the signal: it lasted at least the second the live status reported, and
  // less than the child lived (the 5 minutes asked for would be 300 000).
  assert.ok(phase.windowMs >= 900 && phase.windowMs < wallMs, `window ${phase.windowMs} ms, child lived ${Math.round(wallMs)} ms`);
  assert.match(stderr, /stopping gracefully/);
});

test('SIGTERM behaves like the first Ctrl-C', async () => {
  const { code, result } = await interruptRun(['SIGTERM']);
  assert.equal(code, 130);
  assert.equal(result.interrupted, true);
});
