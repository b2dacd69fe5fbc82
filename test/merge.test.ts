import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { createHistogram, decodeHistogram } from '../src/metrics/histogram.js';
import type { RunResult } from '../src/metrics/run-result.js';
import { mergeMachines, mergeRepeats } from '../src/merge/merge-runs.js';
import { UsageError } from '../src/config/usage-error.js';
import { runCli } from './support/cli.js';

const scratch = await mkdtemp(join(tmpdir(), 'tlsbench-merge-'));
process.on('exit', () => void rm(scratch, { recursive: true, force: true }));

const WARMUP_MS = 200;
const LOAD = ['-n', '50', '-w', '1', '-c', '4', '--resume', 'none', '--warmup', `${WARMUP_MS}ms`, '--quiet'];

const read = async (path: string) => JSON.parse(await readFile(path, 'utf8')) as RunResult;

/**
 * Two load "machines": two processes started a second apart with one --start-at. When both are
 * ready in time, the phase clock is computed from it, so both windows open at exactly start-at +
 * warm-up. Whether a process was ready is not guessed from a lead time: it says so itself. One
 * that was not ready opens its window late (its result says when), or, when the time had passed
 * before it read its options, refuses it as in the past. Then the pair runs again with twice the
 * lead (8, 16, 32 s): a slow machine costs time, never a false failure; a window that opens
 * early, or late three times over, fails the tests below.
 */
async function runPair(leadMs: number) {
  const startAt = Math.ceil((Date.now() + leadMs) / 1000) * 1000;
  const files = [join(scratch, 'a.json'), join(scratch, 'b.json')];
  const [first, second] = await Promise.all([
    runCli([...LOAD, '--start-at', new Date(startAt).toISOString(), '--out', files[0]!]),
    sleep(1000).then(() => runCli([...LOAD, '--start-at', new Date(startAt).toISOString(), '--out', files[1]!])),
  ]);
  const tooLateToStart = [first, second].some((o) => o.code === 2 && /--start-at: \S+ is in the past/.test(o.stderr));
  const openedLate = first.code === 0 && second.code === 0 &&
    (await Promise.all(files.map(read))).some((r) => r.phases[0]!.windowStartedAt > startAt + WARMUP_MS);
  return { startAt, files, first, second, late: tooLateToStart || openedLate };
}
let pair = await runPair(8000);
for (const lead of [16_000, 32_000]) {
  if (!pair.late) break;
  pair = await runPair(lead);
}
const { startAt, files, first, second } = pair;


test('two processes with one --start-at open their windows at exactly start-at + warm-up', async () => {
  assert.equal(first.code, 0, first.stderr);
  assert.equal(second.code, 0, second.stderr);
  for (const path of files) {
    const r = await read(path);
    assert.equal(r.config.startAt, startAt);
    assert.ok(r.phases[0]!.windowStartedAt >= startAt);
    assert.equal(r.phases[0]!.windowStartedAt, startAt + WARMUP_MS, `${path} did not start on the shared clock`);
  }
});

test('merge: counts are summed and the histogram merge is exact', async () => {
  const [a, b] = [await read(files[0]!), await read(files[1]!)];
  const merged = mergeMachines([a, b]);
  const [pa, pb, pm] = [a.phases[0]!, b.phases[0]!, merged.phases[0]!];
  assert.equal(pm.tally.attempts, pa.tally.attempts + pb.tally.attempts);
  assert.equal(pm.tally.successes, 100);
  assert.equal(pm.summary.classes.full!.handshakes, pa.tally.classes.full!.handshakes + pb.tally.classes.full!.handshakes);

  // One histogram fed both machines' samples gives the merged percentiles exactly.
  const both = createHistogram();
  both.add(decodeHistogram(pa.tally.classes.full!.histograms.tls!));
  both.add(decodeHistogram(pb.tally.classes.full!.histograms.tls!));
  const tls = pm.summary.classes.full!.latency.tls!;
  assert.equal(tls.count, both.totalCount);
  assert.equal(tls.p50, both.getValueAtPercentile(50));
  assert.equal(tls.p99, both.getValueAtPercentile(99));
  assert.equal(tls.max, both.maxValue);

  // Same start: one window whose length is the longer of the two; the rate is the total over it.
  assert.equal(pm.windowStartedAt, startAt + WARMUP_MS);
  assert.equal(pm.windowMs, Math.max(pa.windowMs, pb.windowMs));
  assert.ok(Math.abs(pm.summary.rate - 100 / (pm.windowMs / 1000)) < 1e-9);
  // Timelines aligned on wall-clock seconds: nothing lost, nothing counted twice.
  const total = (r: RunResult) => r.phases[0]!.timeline.reduce((n, p) => n + p.handshakes.full, 0);
  assert.equal(total(merged), total(a) + total(b));
  assert.ok(merged.phases[0]!.timeline.length <= Math.max(pa.timeline.length, pb.timeline.length) + 1);

  assert.equal(merged.machines?.length, 2);
  assert.deepEqual(merged.runtime, a.runtime);
  assert.equal(merged.config.workers, 2);
  assert.equal(merged.config.connections, 8);
  assert.equal(merged.config.handshakes, 100);
  assert.ok(!merged.warnings.some((w) => w.includes('missed the shared --start-at')), merged.warnings.join('\n'));
});

test('merge CLI writes the merged file; differing configurations are refused unless --force', async () => {
  const out = join(scratch, 'merged.json');
  const ok = await runCli(['merge', ...files, '--out', out]);
  assert.equal(ok.code, 0, ok.stderr);
  const merged = await read(out);
  assert.equal(merged.phases[0]!.summary.successes, 100);
  assert.equal(merged.machines?.length, 2);

  const other = await read(files[1]!);
  other.config.tls.groups = 'P-256';
  other.config.workers = 3; // per machine: allowed
  const otherPath = join(scratch, 'other.json');
  await writeFile(otherPath, JSON.stringify(other));
  const refused = await runCli(['merge', files[0]!, otherPath, '--out', join(scratch, 'refused.json')]);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /tls\.groups: null in .*a\.json, "P-256" in .*other\.json/);
  assert.doesNotMatch(refused.stderr, /workers/);

  const forced = await runCli(['merge', files[0]!, otherPath, '--out', join(scratch, 'forced.json'), '--force']);
  assert.equal(forced.code, 0, forced.stderr);
  const forcedResult = await read(join(scratch, 'forced.json'));
  assert.ok(forcedResult.warnings.some((w) => w.includes('--force') && w.includes('tls.groups')));
  assert.equal(forcedResult.config.workers, 4);
});

test('merge refuses a missing phase, a matrix file, and a file that is not a result', async () => {
  const a = await read(files[0]!);
  const noPhase = { ...a, phases: [] };
  assert.throws(() => mergeMachines([a, noPhase]), (err: Error) => err instanceof UsageError && /phase 'full' is missing from #2/.test(err.message));
  const junk = join(scratch, 'junk.json');
  await writeFile(junk, '{"hello": 1}');
  const res = await runCli(['merge', files[0]!, junk, '--out', join(scratch, 'x.json')]);
  assert.equal(res.code, 2);
  assert.match(res.stderr, /not a tlsbench result/);
  const matrix = join(scratch, 'matrix.json');
  await writeFile(matrix, JSON.stringify({ schemaVersion: 2, kind: 'matrix', baseline: null, cells: [] }));
  const res2 = await runCli(['merge', files[0]!, matrix, '--out', join(scratch, 'y.json')]);
  assert.equal(res2.code, 2);
  assert.match(res2.stderr, /is a matrix file/);
});

test('repeats merge sequentially: windows add up and each repeat is kept as a sample', async () => {
  const [a, b] = [await read(files[0]!), await read(files[1]!)];
  const merged = mergeRepeats([a, b]);
  const p = merged.phases[0]!;
  assert.equal(p.windowMs, a.phases[0]!.windowMs + b.phases[0]!.windowMs);
  assert.equal(p.summary.successes, 100);
  assert.equal(p.samples?.length, 2);
  assert.equal(p.samples![0]!.rate, a.phases[0]!.summary.rate);
  assert.equal(p.samples![1]!.classes.full!.p50, b.phases[0]!.summary.classes.full!.latency.tls!.p50);
});
