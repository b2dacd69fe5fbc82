import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { test } from 'node:test';
import { MAIN_JS } from './support/cli.js';
import { alive, childPids, gone } from './support/proc.js';
import type { RunResult } from '../src/metrics/run-result.js';

interface LongRun {
  child: ChildProcess;
  closed: Promise<number | null>;
  stderr(): string;
  /** Resolves once stderr matches `pattern`; rejects with what the run said if it exits first. */
  said(pattern: RegExp): Promise<void>;
}

/**
 * Starts a 5-minute run against the built-in server and waits until it reports its first
 * measured second. The bound (60 s) only catches a run that ignores a signal.
 */
async function startLongRun(out: string): Promise<LongRun> {
  const child = spawn(process.execPath, [MAIN_JS, '-d', '5m', '--warmup', '0', '-c', '2', '-w', '1', '--resume', 'none', '--out', out],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stdout!.resume();
  child.stderr!.setEncoding('utf8').on('data', (t: string) => (stderr += t));
  const closed = new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  const bound = setTimeout(() => child.kill('SIGKILL'), 60_000);
  void closed.then(() => clearTimeout(bound));
  // A child that exits (or is killed by the bound) before the awaited line fails the test at
  // once, with what it said, instead of leaving the wait to the runner's timeout.
  const said = (pattern: RegExp) => new Promise<void>((resolve, reject) => {
    const check = () => {
      if (pattern.test(stderr)) {
        child.stderr!.off('data', check);
        resolve();
      }
    };
    child.stderr!.on('data', check);
    check();
    void closed.then((code) => reject(new Error(`the run exited (${code}) before saying ${pattern}: ${stderr}`)));
  });
  await said(/\[full\] \d+\/300s/);
  return { child, closed, stderr: () => stderr, said };
}

/** Starts a long run, signals it once its first second is measured, and reads what it wrote. */
async function interruptRun(signal: NodeJS.Signals): Promise<{ code: number | null; result: RunResult; stderr: string; wallMs: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'tlsbench-int-'));
  const out = join(dir, 'result.json');
  try {
    const spawnedAt = performance.now();
    const run = await startLongRun(out);
    run.child.kill(signal);
    const code = await run.closed;
    const wallMs = performance.now() - spawnedAt;
    assert.ok(existsSync(out), `no results file; stderr: ${run.stderr()}`);
    return { code, result: JSON.parse(readFileSync(out, 'utf8')) as RunResult, stderr: run.stderr(), wallMs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('Ctrl-C stops gracefully: partial results written, marked interrupted', async () => {
  const { code, result, stderr, wallMs } = await interruptRun('SIGINT');
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
  const { code, result } = await interruptRun('SIGTERM');
  assert.equal(code, 130);
  assert.equal(result.interrupted, true);
});

test('a second Ctrl-C exits at once: no waiting for the graceful stop, no result written, the built-in server killed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tlsbench-int2-'));
  const out = join(dir, 'result.json');
  let server: number | undefined;
  try {
    const run = await startLongRun(out);
    const children = childPids(run.child.pid!);
    assert.equal(children.length, 1, `the run's only child is its built-in server: ${children.join(',')}`);
    server = children[0]!;
    // A stopped server cannot answer the graceful stop's SIGTERM: that stop now lasts its whole
    // grace period (3 s, then SIGKILL) before the table and the file, so a second Ctrl-C lands
    // while the first is still under way.
    process.kill(server, 'SIGSTOP');
    run.child.kill('SIGINT');
    // The first must have been taken before the second is sent, or the kernel merges the two.
    await run.said(/stopping gracefully/);
    run.child.kill('SIGINT');
    const code = await run.closed;
    assert.equal(code, 130, run.stderr());
    assert.match(run.stderr(), /second SIGINT: exiting now/);
    // The graceful path would have written the result and said so: the exit came first.
    assert.equal(existsSync(out), false, 'a result was written: the second Ctrl-C waited for the graceful stop');
    assert.doesNotMatch(run.stderr(), /results written to/);
    // Exiting at once leaves no server behind (killed on exit, though stopped).
    assert.ok(await gone(server, 10_000), `the built-in server (pid ${server}) outlived the run`);
  } finally {
    if (server !== undefined && alive(server)) {
      process.kill(server, 'SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  }
});
