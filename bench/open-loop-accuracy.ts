// How exactly tlsbench's open loop keeps to the rate it was asked for, and how late attempts
// start against their intended start times, at rates well below the client's saturation.
//
//   npm run build && node dist/bench/open-loop-accuracy.js [--node PATH] [--rates 200,500] [--duration 10]
//
// Method. Each rate is one `tlsbench run --rate R -d Ns --warmup 1s --json` (full handshakes,
// one worker, client pinned to CPU 0, the server pinned to CPU 1).
// - Achieved rate = attempts ÷ measured window, both from the JSON. Attempts are the measured
//   attempts that finished inside the window (successes + errors); arrivals that found no free
//   slot (dropped) and attempts cut off by the window's end (unfinished) are shown beside it.
// - Start lateness (jitter) = actual start − intended start of each attempt. tlsbench records two
//   latencies per handshake: `scheduled` (intended start → secureConnect) and `connect` (actual
//   start → secureConnect), so lateness = scheduled − connect per attempt. Only their histograms
//   are kept, not the pairs, so: the MEAN lateness is exact (mean of a difference = difference
//   of the means, up to µs truncation); p50 and p99 are approximated by the differences of the
//   two distributions' p50 and p99, which is exact only when lateness is the same for every
//   attempt, and otherwise a rough guide (it can under- or overstate a tail).
import { fileURLToPath } from 'node:url';
import { UsageError } from '../src/config/usage-error.js';
import type { RunResult } from '../src/metrics/run-result.js';
import type { LatencySummary } from '../src/metrics/summary.js';
import { describeEnvironment, environmentLines, type BenchEnvironment } from './lab/environment.js';
import { runMeasured } from './lab/measured-run.js';
import { parseBenchOptions } from './lab/options.js';
import { startPinnedTarget } from './lab/pinned-target.js';
import { markdownTable, writeResults } from './lab/results-file.js';

const CLIENT_CPU = '0';
const SERVER_CPU = '1';
const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
/** The bound on |achieved ÷ asked − 1|. */
const RATE_TOLERANCE = 0.01;

interface RateResult {
  askedPerSecond: number;
  windowSec: number;
  attempts: number;
  successes: number;
  errors: number;
  dropped: number;
  unfinished: number;
  achievedPerSecond: number;
  /** achieved ÷ asked − 1. */
  rateError: number;
  withinTolerance: boolean;
  /** Start lateness in µs: mean exact, p50/p99 approximate (see the method). */
  lateness: { meanUs: number; p50Us: number; p99Us: number; maxScheduledUs: number };
  scheduled: LatencySummary | null;
  connect: LatencySummary | null;
  elu: number[];
  clientCpuUtilisation: number;
}

/** Merges the per-class summaries of one metric into count-weighted figures. Only `full` is
 * expected here (no resumption), but a class split must not hide attempts. */
function classSummaries(result: RunResult, metric: 'scheduled' | 'connect'): LatencySummary[] {
  return Object.values(result.phases[0]!.summary.classes)
    .map((c) => c?.latency[metric])
    .filter((l): l is LatencySummary => l !== undefined && l.count > 0);
}

function weightedMean(list: LatencySummary[], pick: (l: LatencySummary) => number): number {
  const n = list.reduce((a, l) => a + l.count, 0);
  return n ? list.reduce((a, l) => a + pick(l) * l.count, 0) / n : 0;
}

async function measureRate(node: string, host: string, port: number, caPath: string, rate: number, durationSec: number): Promise<RateResult> {
  const args = [
    CLI, `${host}:${port}`, '--ca', caPath, '--resume', 'none', '-w', '1', '--rate', String(rate),
    '-d', `${durationSec}s`, '--warmup', '1s', '--json', '--quiet',
  ];
  const run = await runMeasured(CLIENT_CPU, node, args, { timeoutMs: (durationSec + 30) * 1000 });
  if (run.exitCode !== 0) throw new Error(`tlsbench --rate ${rate} exited ${run.exitCode}:\n${run.stderr}`);
  const result = JSON.parse(run.stdout) as RunResult;
  const phase = result.phases[0]!;
  const s = phase.summary;
  const windowSec = phase.windowMs / 1000;
  const achievedPerSecond = s.attempts / windowSec;
  const scheduled = classSummaries(result, 'scheduled');
  const connect = classSummaries(result, 'connect');
  const single = (list: LatencySummary[]) => (list.length === 1 ? list[0]! : null);
  const cpu = run.sampler.cpuBetween(phase.windowStartedAt, phase.windowStartedAt + phase.windowMs);
  return {
    askedPerSecond: rate,
    windowSec,
    attempts: s.attempts,
    successes: s.successes,
    errors: s.errorCount,
    dropped: s.dropped,
    unfinished: s.unfinished,
    achievedPerSecond,
    rateError: achievedPerSecond / rate - 1,
    withinTolerance: Math.abs(achievedPerSecond / rate - 1) <= RATE_TOLERANCE,
    lateness: {
      meanUs: weightedMean(scheduled, (l) => l.mean) - weightedMean(connect, (l) => l.mean),
      p50Us: weightedMean(scheduled, (l) => l.p50) - weightedMean(connect, (l) => l.p50),
      p99Us: weightedMean(scheduled, (l) => l.p99) - weightedMean(connect, (l) => l.p99),
      maxScheduledUs: Math.max(0, ...scheduled.map((l) => l.max)),
    },
    scheduled: single(scheduled),
    connect: single(connect),
    elu: phase.client.elu,
    clientCpuUtilisation: cpu / windowSec,
  };
}

function parseOptions(argv: string[]) {
  return parseBenchOptions(argv, {
    rates: { type: 'string', default: '200,500' },
    duration: { type: 'string', default: '10' },
  }, (v, problems) => {
    const rates = v.rates!.split(',').map(Number);
    const durationSec = Number(v.duration);
    if (rates.some((r) => !Number.isFinite(r) || r <= 0)) problems.push(`--rates: '${v.rates}' must be positive handshakes per second, comma-separated (e.g. 200,500)`);
    if (!Number.isFinite(durationSec) || durationSec < 1) problems.push(`--duration: '${v.duration}' must be seconds ≥ 1`);
    return { rates, durationSec };
  });
}

const msOf = (us: number) => (us / 1000).toFixed(3);
const pct = (v: number) => `${(v * 100).toFixed(0)} %`;

function renderMarkdown(env: BenchEnvironment, serverDescription: string, durationSec: number, results: RateResult[]): string {
  const rows = results.map((r) => [
    String(r.askedPerSecond),
    r.achievedPerSecond.toFixed(1),
    `${(r.rateError * 100).toFixed(2)} % ${r.withinTolerance ? '✓' : '✗'}`,
    `${r.attempts} / ${r.windowSec.toFixed(2)} s`,
    `${r.errors} / ${r.dropped} / ${r.unfinished}`,
    msOf(r.lateness.meanUs),
    msOf(r.lateness.p50Us),
    msOf(r.lateness.p99Us),
    `${r.connect ? msOf(r.connect.p50) : '—'} / ${r.scheduled ? msOf(r.scheduled.p50) : '—'}`,
    `${r.connect ? msOf(r.connect.p99) : '—'} / ${r.scheduled ? msOf(r.scheduled.p99) : '—'}`,
    `${r.elu.map(pct).join(',')} (CPU ${pct(r.clientCpuUtilisation)})`,
  ]);
  return [
    `# Open-loop accuracy (Node ${env.client.node})`,
    '',
    ...environmentLines(env),
    `- server: ${serverDescription}`,
    `- client: \`tlsbench --rate R -w 1 --resume none -d ${durationSec}s --warmup 1s --ca CA\`, pinned to CPU ${CLIENT_CPU}`,
    '',
    markdownTable(
      ['asked /s', 'achieved /s', 'error (±1 %)', 'attempts / window', 'errors / dropped / unfinished', 'lateness mean ms (exact)', 'lateness p50 ms (≈)', 'lateness p99 ms (≈)', 'connect / scheduled p50 ms', 'connect / scheduled p99 ms', 'client ELU'],
      rows,
    ),
    '',
    'Achieved = measured attempts that finished inside the window ÷ the window (both from the JSON).',
    'Lateness = actual start − intended start of an attempt = `scheduled` − `connect` (intended start →',
    'secureConnect, minus actual start → secureConnect). The mean is exact (difference of the means); p50 and p99',
    'are differences of the two distributions\' percentiles, exact only if every attempt were equally late: an',
    'approximation, since tlsbench keeps the histograms, not per-attempt pairs.',
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const env = describeEnvironment(opts.node);
  const target = await startPinnedTarget(opts.server, SERVER_CPU);
  const results: RateResult[] = [];
  try {
    for (const rate of opts.rates) {
      process.stderr.write(`rate ${rate}/s… `);
      const r = await measureRate(opts.node, target.host, target.port, target.caPath, rate, opts.durationSec);
      process.stderr.write(`achieved ${r.achievedPerSecond.toFixed(1)}/s (${(r.rateError * 100).toFixed(2)} %), lateness mean ${msOf(r.lateness.meanUs)} ms\n`);
      results.push(r);
    }
  } finally {
    await target.stop();
  }
  const markdown = renderMarkdown(env, target.description, opts.durationSec, results);
  const files = writeResults('open-loop-accuracy', env.client.node, {
    bench: 'open-loop-accuracy', environment: env, server: target.description, durationSec: opts.durationSec,
    tolerance: RATE_TOLERANCE, results,
  }, markdown, opts.resultsDir);
  process.stdout.write(`${markdown}\nwritten: ${files.json}, ${files.md}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`open-loop-accuracy: ${err instanceof UsageError ? err.message : ((err as Error)?.stack ?? String(err))}\n`);
  process.exit(err instanceof UsageError ? 2 : 1);
});
