// README: with the built-in server on the same machine, tlsbench splits the cores between server
// and client and pins them (taskset), and says so. Checked against the kernel: every thread's
// Cpus_allowed_list in /proc, for the client (worker threads included) and the server, in every
// repeat of one process (a pin left behind by the first would starve the second).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { MAIN_JS } from './support/cli.js';
import { childPids, ownCpus, threadCpus } from './support/proc.js';
import type { RunResult } from '../src/metrics/run-result.js';

const onPath = (name: string) => (process.env.PATH ?? '').split(':').some((dir) => existsSync(join(dir, name)));

/** The one CPU set every thread of `pid` may run on (fails if its threads differ). */
function processCpus(pid: number, who: string): number[] {
  const threads = threadCpus(pid);
  assert.ok(threads.size > 0, `${who}: no threads`);
  const lists = new Set([...threads.values()].map((cpus) => cpus.join(',')));
  assert.equal(lists.size, 1, `${who}: threads on different CPUs: ${JSON.stringify([...threads])}`);
  return [...threads.values()][0]!;
}

test('built-in server and client on disjoint cores that together are all the run may use, every thread, every repeat', async (t) => {
  const cpus = ownCpus();
  if (cpus.length < 2) return void t.skip(`one CPU (${cpus.join(',')}): client and server share it, nothing to pin`);
  if (!onPath('taskset')) return void t.skip('taskset is not installed: the run is unpinned and says so');
  const dir = mkdtempSync(join(tmpdir(), 'tlsbench-pin-'));
  const out = join(dir, 'result.json');
  const child = spawn(process.execPath, [MAIN_JS, '--repeat', '2', '-d', '4s', '--warmup', '0', '-c', '2', '-w', '1', '--resume', 'none', '--out', out],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  const bound = setTimeout(() => child.kill('SIGKILL'), 120_000);
  const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
  child.stdout.resume();
  let stderr = '';
  const seen: { client: number[]; server: number[]; threads: number }[] = [];
  try {
    // In each repeat's first measured second (its workers are running), read /proc once.
    const sampled = new Promise<void>((resolve, reject) => {
      child.stderr.setEncoding('utf8').on('data', (text: string) => {
        stderr += text;
        while (seen.length < (stderr.match(/\[full\] 1\/4s/g) ?? []).length) {
          try {
            const servers = childPids(child.pid!);
            assert.equal(servers.length, 1, `repeat ${seen.length + 1}: the run's one child is its server: ${servers.join(',')}`);
            seen.push({ client: processCpus(child.pid!, 'client'), server: processCpus(servers[0]!, 'server'), threads: threadCpus(child.pid!).size });
          } catch (err) {
            reject(err as Error);
          }
        }
        if (seen.length === 2) resolve();
      });
      void closed.then((code) => reject(new Error(`the run exited (${code}) after ${seen.length} of 2 samples: ${stderr}`)));
    });
    await sampled;
    assert.equal(await closed, 0, stderr);
    const result = JSON.parse(readFileSync(out, 'utf8')) as RunResult;
    for (const [i, s] of seen.entries()) {
      const label = `repeat ${i + 1}: client on ${s.client.join(',')}, server on ${s.server.join(',')}`;
      assert.ok(s.client.length > 0 && s.server.length > 0, label);
      assert.ok(s.client.every((c) => !s.server.includes(c)), `${label}: they share a core`);
      assert.deepEqual([...s.client, ...s.server].sort((a, b) => a - b), cpus, `${label}: not the ${cpus.join(',')} the run may use`);
      // Main thread, worker, libuv and V8 threads alike (a Node process has more than a handful).
      assert.ok(s.threads > 4, `${label}: only ${s.threads} threads read`);
      // What the tool says is what the kernel enforces.
      assert.deepEqual(s.client, result.runtime.clientCpus, label);
      assert.deepEqual(s.server, result.target.builtIn!.cpus, label);
    }
    assert.deepEqual(seen[1], seen[0], 'the second repeat was split otherwise than the first');
    const lines = stderr.match(/built-in server on CPU [\d,]+, client on CPU [\d,]+/g) ?? [];
    assert.deepEqual(lines, Array(2).fill(`built-in server on CPU ${seen[0]!.server.join(',')}, client on CPU ${seen[0]!.client.join(',')}`), stderr);
  } finally {
    clearTimeout(bound);
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
