import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { compareResults } from '../src/compare/compare.js';
import { parseThreshold } from '../src/compare/fail-if.js';
import { renderComparison } from '../src/compare/render.js';
import { noiseBand } from '../src/compare/spread.js';
import { resolveRunOptions } from '../src/config/run-options.js';
import { UsageError } from '../src/config/usage-error.js';
import { createHistogram, encodeHistogram } from '../src/metrics/histogram.js';
import { resummarize, SCHEMA_VERSION, type PhaseResult, type PhaseSample, type RunResult } from '../src/metrics/run-result.js';
import { emptyTally } from '../src/metrics/tally.js';
import { runCli } from './support/cli.js';

const scratch = await mkdtemp(join(tmpdir(), 'tlsbench-compare-'));
process.on('exit', () => void rm(scratch, { recursive: true, force: true }));

const { config } = resolveRunOptions({ handshakes: 10, workers: 1 }, 1);

interface PhaseSpec {
  name: string;
  /** Handshakes in a 10 s window: the rate is a tenth of it. */
  full?: number;
  resumed?: number;
  /** Every handshake takes this long (µs), so p50 = p99 = it. */
  latency: number;
  offered?: number;
  samples?: PhaseSample[];
}

/** A RunResult with known numbers: the summaries are derived from real encoded histograms. */
function synthetic(phases: PhaseSpec[]): RunResult {
  const built: PhaseResult[] = phases.map((p) => {
    const tally = emptyTally();
    for (const cls of ['full', 'resumed'] as const) {
      const n = p[cls];
      if (!n) continue;
      const h = createHistogram();
      for (let i = 0; i < n; i++) h.recordValue(p.latency);
      tally.classes[cls] = { handshakes: n, requests: 0, bytesRead: 0, histograms: { tls: encodeHistogram(h) } };
      tally.attempts += n;
      tally.successes += n;
    }
    tally.offered = p.offered ?? 0;
    const phase: PhaseResult = resummarize({
      name: p.name, resume: p.resumed ? 'ticket' : 'none', windowStartedAt: 1_700_000_000_000, windowMs: 10_000,
      interrupted: false, tally, summary: undefined as never, timeline: [], client: { elu: [0.5], saturated: false }, findings: [],
    });
    if (p.samples) phase.samples = p.samples;
    return phase;
  });
  return {
    schemaVersion: SCHEMA_VERSION, tool: { name: 'tlsbench', version: '0.0.0' }, startedAt: '2026-11-01T00:00:00.000Z',
    finishedAt: '2026-11-01T00:00:10.000Z', interrupted: false, config,
    target: { host: '127.0.0.1', port: 1, servername: null, builtIn: null },
    runtime: { node: process.version, openssl: process.versions.openssl ?? '', platform: 'linux', arch: 'x64', cpuModel: 'test', cores: 2, hostname: 'test', clientCpus: null },
    phases: built, resumptionGain: null, warnings: [],
  };
}

const sample = (rate: number, p50: number, p99 = p50): PhaseSample => ({
  windowStartedAt: 0, windowMs: 10_000, rate, hitRate: null, classes: { full: { rate, p50, p99 } },
});

async function writeResult(name: string, result: RunResult): Promise<string> {
  const path = join(scratch, name);
  await writeFile(path, JSON.stringify(result));
  return path;
}

test('changes are computed per phase × class × metric, from the numbers in the results', () => {
  // Below 2048 µs the histogram resolves single microseconds, so percentiles are exact.
  const base = synthetic([{ name: 'full', full: 1000, latency: 1000 }]);
  const head = synthetic([{ name: 'full', full: 900, latency: 1200 }]);
  const c = compareResults(base, head);
  const by = (metric: string) => c.rows.find((r) => r.phase === 'full' && r.cls === 'full' && r.metric === metric)!;
  assert.equal(by('throughput').base, 100);
  assert.equal(by('throughput').head, 90);
  assert.ok(Math.abs(by('throughput').change! - -0.1) < 1e-9);
  assert.equal(by('p50').base, 1000);
  assert.equal(by('p50').head, 1200);
  assert.ok(Math.abs(by('p99').change! - 0.2) < 1e-9);
  // No repeats on either side: the comparison says so rather than guessing.
  assert.equal(by('throughput').verdict, 'no spread known');
  assert.ok(c.notes.some((n) => n.includes('--repeat')));
});

test('the noise band is max(2 × pooled stdev, smallest range) of the repeats', () => {
  // Variances 50 and 50 → pooled stdev √50 ≈ 7.07; 2× ≈ 14.14 > ranges (10, 10).
  assert.ok(Math.abs(noiseBand([100, 110], [90, 100])!.width - 2 * Math.sqrt(50)) < 1e-9);
  // The smallest range wins when it is wider than 2 × pooled stdev: [0, 0, 0, 0, 40] has stdev
  // √320 ≈ 17.9 (2× ≈ 35.8) and range 40.
  assert.equal(noiseBand([0, 0, 0, 0, 40], [])!.width, 40);
  assert.equal(noiseBand([1], [2]), null);
  // One side repeated: its spread alone.
  assert.ok(Math.abs(noiseBand([100, 104], [50])!.width - 2 * Math.sqrt(8)) < 1e-9);
});

test('a change beyond the repeats\' spread is flagged, one inside it is not', () => {
  const tight = [sample(100, 5000), sample(101, 5010), sample(99, 4990)];
  const wide = [sample(80, 5000), sample(100, 5000), sample(120, 5000)];
  const base = synthetic([{ name: 'full', full: 1000, latency: 5000, samples: tight }]);
  const worse = synthetic([{ name: 'full', full: 900, latency: 5000, samples: [sample(90, 5000), sample(91, 5000), sample(89, 5000)] }]);
  const row = (c: ReturnType<typeof compareResults>) => c.rows.find((r) => r.metric === 'throughput')!;
  assert.equal(row(compareResults(base, worse)).verdict, 'worse');
  const noisyBase = synthetic([{ name: 'full', full: 1000, latency: 5000, samples: wide }]);
  const noisyHead = synthetic([{ name: 'full', full: 900, latency: 5000, samples: wide }]);
  assert.equal(row(compareResults(noisyBase, noisyHead)).verdict, 'within noise');
  const better = synthetic([{ name: 'full', full: 1100, latency: 5000, samples: [sample(110, 5000), sample(111, 5000)] }]);
  assert.equal(row(compareResults(base, better)).verdict, 'better');
});

test('--fail-if parses strictly and lists the accepted forms', () => {
  assert.deepEqual(parseThreshold('throughput<-5%'), { text: 'throughput<-5%', metric: 'throughput', op: '<', value: -0.05 });
  assert.deepEqual(parseThreshold('p99>+10%'), { text: 'p99>+10%', metric: 'p99', op: '>', value: 0.1 });
  assert.deepEqual(parseThreshold('hit-rate<99%'), { text: 'hit-rate<99%', metric: 'hit-rate', op: '<', value: 0.99 });
  for (const bad of ['p99>10%', 'latency>+5%', 'hit-rate<+99%', 'throughput<-5', 'throughput=-5%', 'hit-rate<150%', '']) {
    assert.throws(() => parseThreshold(bad), (err: Error) => err instanceof UsageError && err.message.includes('throughput<-5%') && err.message.includes('hit-rate<99%'), bad);
  }
});

test('compare CLI: a crossed --fail-if exits 1 and names the row; an uncrossed one exits 0', async () => {
  const base = await writeResult('base.json', synthetic([{ name: 'full', full: 1000, latency: 5000 }, { name: 'resumed', resumed: 2000, offered: 2000, latency: 1000 }]));
  const head = await writeResult('head.json', synthetic([{ name: 'full', full: 880, latency: 5000 }, { name: 'resumed', resumed: 1800, offered: 2000, latency: 1000 }]));
  const failed = await runCli(['compare', base, head, '--fail-if', 'throughput<-5%', 'p99>+10%']);
  assert.equal(failed.code, 1, failed.stderr);
  assert.match(failed.stdout, /FAIL throughput<-5%: phase full, full handshakes: throughput -12\.0 %/);
  assert.match(failed.stdout, /FAIL throughput<-5%: phase resumed, resumed handshakes: throughput -10\.0 %/);
  assert.doesNotMatch(failed.stdout, /FAIL p99/);

  const hit = await runCli(['compare', base, head, '--fail-if', 'hit-rate<99%']);
  assert.equal(hit.code, 1);
  assert.match(hit.stdout, /FAIL hit-rate<99%: phase resumed: hit rate 90\.0/);

  const passed = await runCli(['compare', base, head, '--fail-if', 'throughput<-20%', 'p50>+1%']);
  assert.equal(passed.code, 0, passed.stdout + passed.stderr);
  assert.doesNotMatch(passed.stdout, /FAIL/);
});

test('compare CLI: a bad --fail-if expression or file exits 2 with what to do', async () => {
  const path = await writeResult('same.json', synthetic([{ name: 'full', full: 1000, latency: 5000 }]));
  const bad = await runCli(['compare', path, path, '--fail-if', 'p99>10%']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /needs its sign/);
  assert.match(bad.stderr, /hit-rate<99%/);
  const missing = await runCli(['compare', path, join(scratch, 'nope.json')]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /cannot read .*nope\.json/);
});

test('markdown output is a GitHub table with the failures first', () => {
  const base = synthetic([{ name: 'full', full: 1000, latency: 5000 }]);
  const head = synthetic([{ name: 'full', full: 800, latency: 5000 }]);
  const md = renderComparison(compareResults(base, head, { failIf: ['throughput<-5%'] }), 'markdown', ['main', 'pr']);
  const lines = md.split('\n');
  assert.ok(lines.includes('| phase | class | metric | main | pr | change | noise ± | verdict |'), md);
  assert.ok(lines.some((l) => l.startsWith('- ❌ throughput<-5%: phase full')), md);
  assert.ok(lines.indexOf('| phase | class | metric | main | pr | change | noise ± | verdict |') > lines.findIndex((l) => l.startsWith('- ❌')));
});

test('gate: a crossing within the noise passes by default and fails with --gate raw; without repeats the raw threshold decides and says so', () => {
  const wide = [sample(80, 5000), sample(100, 5000), sample(120, 5000)];
  const base = synthetic([{ name: 'full', full: 1000, latency: 5000, samples: wide }]);
  const head = synthetic([{ name: 'full', full: 900, latency: 5000, samples: wide }]);
  const noise = compareResults(base, head, { failIf: ['throughput<-5%'] });
  assert.equal(noise.gate, 'noise');
  assert.deepEqual(noise.failures, []);
  assert.deepEqual(noise.thresholds.map((t) => [t.checked, t.crossed, t.withinNoise, t.failed, t.passed]), [[1, 1, 1, 0, true]]);
  assert.match(renderComparison(noise, 'table'), /gate noise .*: 1 threshold checked, 1 passed, 0 failed\n {2}pass throughput<-5%: 1 row checked, 1 crossed within the noise \(passed\), none failed/);
  assert.match(renderComparison(noise, 'table'), /within noise \(crossed throughput<-5% within the noise: passed\)/);

  const raw = compareResults(base, head, { failIf: ['throughput<-5%'], gate: 'raw' });
  assert.equal(raw.failures.length, 1);
  assert.match(raw.failures[0]!, /within the noise of the repeats; failed because --gate raw/);

  const bare = compareResults(synthetic([{ name: 'full', full: 1000, latency: 5000 }]), synthetic([{ name: 'full', full: 900, latency: 5000 }]), { failIf: ['throughput<-5%'] });
  assert.equal(bare.thresholds[0]!.noSpread, 1);
  assert.match(bare.failures[0]!, /no spread known: judged on the raw threshold; run both sides with --repeat 5/);
  assert.ok(bare.notes.some((n) => n.includes('--repeat 5')));
});
