import type { RunConfig } from '../config/run-config.js';
import { UsageError } from '../config/usage-error.js';
import { loadFindings, resumptionFindings, SATURATION_ELU } from '../metrics/findings.js';
import { resumptionGain, resummarize, SCHEMA_VERSION, type MachineInfo, type PhaseResult, type RunResult } from '../metrics/run-result.js';
import { mergeTallies } from '../metrics/tally.js';
import { mergeTimelines, type TimelinePoint } from '../metrics/timeline.js';
import { mergeServerCpu } from './server-cpu-merge.js';
import { configDifferences, describeDifference, PER_MACHINE_SETTINGS } from './config-diff.js';
import { phaseSample } from './samples.js';

export interface MergeOptions {
  /** Merge even when the configurations differ in what they measure. */
  force?: boolean;
  /** One name per result for messages (file names in the CLI); default #1, #2, … */
  labels?: string[];
}

/**
 * How the measured windows of the inputs relate:
 * - `concurrent`: several machines loaded one target at the same time; the merged window is
 *   the union of theirs (first open → last close) and rates are totals over it;
 * - `sequential`: repeats of one configuration, one after another; the merged window is the
 *   sum of theirs, so the rate is the mean rate of the repeats weighted by their length.
 */
type WindowPolicy = 'concurrent' | 'sequential';

function mergePhase(parts: readonly PhaseResult[], policy: WindowPolicy, closeWaitMs: number): PhaseResult {
  const first = parts[0]!;
  const windowStartedAt = Math.min(...parts.map((p) => p.windowStartedAt));
  const windowMs = policy === 'concurrent'
    ? Math.max(...parts.map((p) => p.windowStartedAt + p.windowMs)) - windowStartedAt
    : parts.reduce((sum, p) => sum + p.windowMs, 0);
  const tally = mergeTallies(parts.map((p) => p.tally));
  // Points of the same wall-clock second add up; each is renumbered from the merged window.
  const timeline: TimelinePoint[] = mergeTimelines(parts.map((p) => p.timeline)).map((point) => ({
    ...point,
    second: Math.round((point.at - windowStartedAt) / 1000),
  }));
  const elu = policy === 'concurrent' ? parts.flatMap((p) => p.client.elu) : meanByIndex(parts.map((p) => p.client.elu));
  const merged = resummarize({
    name: first.name,
    resume: first.resume,
    windowStartedAt,
    windowMs,
    interrupted: parts.some((p) => p.interrupted),
    tally,
    summary: first.summary,
    timeline,
    client: { elu, saturated: parts.some((p) => p.client.saturated) || elu.some((u) => u >= SATURATION_ELU) },
    findings: [],
    ...mergeServerCpu(parts, policy === 'concurrent', windowStartedAt, windowMs),
  });
  merged.findings = [
    ...resumptionFindings(merged.resume, merged.tally, merged.summary, closeWaitMs),
    ...loadFindings(merged.summary, elu),
  ];
  if (policy === 'sequential') merged.samples = parts.flatMap((p) => p.samples ?? [phaseSample(p)]);
  return merged;
}

function meanByIndex(lists: readonly (readonly number[])[]): number[] {
  const length = Math.max(0, ...lists.map((l) => l.length));
  return Array.from({ length }, (_, i) => {
    const values = lists.map((l) => l[i]).filter((v): v is number => v !== undefined);
    return values.reduce((a, b) => a + b, 0) / values.length;
  });
}

function mergePhases(results: readonly RunResult[], policy: WindowPolicy, labels: readonly string[], force: boolean, warnings: string[]): PhaseResult[] {
  const names = [...new Set(results.flatMap((r) => r.phases.map((p) => p.name)))];
  return names.map((name) => {
    const parts = results.map((r) => r.phases.find((p) => p.name === name));
    const missing = labels.filter((_, i) => !parts[i]);
    if (missing.length) {
      const message = `phase '${name}' is missing from ${missing.join(', ')} (an interrupted run?)`;
      if (!force) throw new UsageError(`${message}: merge only complete results, or pass --force to merge the phases that are there`);
      warnings.push(`${message}: merged from the other results only`);
    }
    return mergePhase(parts.filter((p): p is PhaseResult => !!p), policy, results[0]!.config.closeWaitMs);
  });
}

function envelope(results: readonly RunResult[], config: RunConfig, phases: PhaseResult[], warnings: string[]): RunResult {
  const first = results[0]!;
  return {
    schemaVersion: SCHEMA_VERSION,
    tool: first.tool,
    startedAt: results.map((r) => r.startedAt).sort()[0]!,
    finishedAt: results.map((r) => r.finishedAt).sort().at(-1)!,
    interrupted: results.some((r) => r.interrupted),
    config,
    target: first.target,
    runtime: first.runtime,
    phases,
    resumptionGain: resumptionGain(phases),
    warnings: [...new Set([...results.flatMap((r) => r.warnings), ...warnings])],
  };
}

const sumOrNull = (values: readonly (number | null)[]) => (values.some((v) => v === null) ? null : values.reduce<number>((a, b) => a + b!, 0));

/**
 * Several load machines against one target, into one result: counters summed, histograms
 * added (exact, not averaged percentiles), timelines aligned on wall-clock seconds, rates over
 * the union of the windows. The load settings of the result are the machines' totals.
 */
export function mergeMachines(results: readonly RunResult[], options: MergeOptions = {}): RunResult {
  if (results.length < 2) throw new UsageError('merge needs at least two results');
  const labels = options.labels ?? results.map((_, i) => `#${i + 1}`);
  const warnings: string[] = [];
  const differences = configDifferences(results.map((r) => r.config), PER_MACHINE_SETTINGS);
  if (differences.length) {
    const list = differences.map((d) => describeDifference(d, labels));
    if (!options.force) {
      throw new UsageError(`the results measured different things, so their sum would mean nothing:\n  - ${list.join('\n  - ')}\n` +
        'Merge results of one configuration, or pass --force to merge anyway (the first result\'s settings are kept)');
    }
    warnings.push(`merged with --force although the configurations differ: ${list.join('; ')}`);
  }
  results.forEach((r, i) => {
    const c = r.config;
    const opened = r.phases[0]?.windowStartedAt;
    if (c.startAt === null) return;
    const planned = c.startAt + c.rampMs + c.warmupMs;
    if (opened !== undefined && opened !== planned) {
      warnings.push(`${labels[i]} missed the shared --start-at: its window opened ${opened - planned} ms late (it was not ready in time)`);
    }
  });
  if (results.some((r) => r.config.startAt === null)) {
    warnings.push('the machines did not share a --start-at, so their windows only partly overlap; rates are over the union of the windows');
  }
  if (results.every((r) => r.target.builtIn)) {
    warnings.push('each result measured its own built-in server: the sum is over separate servers, not one target');
  }
  if (results.some((r) => r.phases.some((p) => p.samples))) {
    warnings.push('per-repeat samples (--repeat) are dropped: repeats on different machines do not line up, so no spread is known for the sum');
  }

  const configs = results.map((r) => r.config);
  const config: RunConfig = {
    ...configs[0]!,
    workers: configs.reduce((a, c) => a + c.workers, 0),
    connections: configs.reduce((a, c) => a + c.connections, 0),
    maxConnections: configs.reduce((a, c) => a + c.maxConnections, 0),
    rate: sumOrNull(configs.map((c) => c.rate)),
    handshakes: sumOrNull(configs.map((c) => c.handshakes)),
  };
  const phases = mergePhases(results.map(stripSamples), 'concurrent', labels, !!options.force, warnings);
  const machines = results.flatMap((r, i) => r.machines ?? [machineOf(r, labels[i]!)]);
  return { ...envelope(results, config, phases, warnings), machines };
}

/** One machine's own result, reduced to what a merged result keeps of it. */
export function machineOf(result: RunResult, source: string): MachineInfo {
  return {
    ...result.runtime,
    source,
    workers: result.config.workers,
    startAt: result.config.startAt,
    phases: result.phases.map((p) => ({ name: p.name, windowStartedAt: p.windowStartedAt, windowMs: p.windowMs, rate: p.summary.rate, client: p.client })),
  };
}

function stripSamples(result: RunResult): RunResult {
  return { ...result, phases: result.phases.map(({ samples: _samples, ...phase }) => phase) };
}

/**
 * Repeats of one configuration on this machine, into one result whose figures cover every
 * repeat, and whose phases keep each repeat's headline figures (`samples`) for the spread.
 */
export function mergeRepeats(results: readonly RunResult[]): RunResult {
  if (results.length === 0) throw new Error('mergeRepeats: no results');
  const warnings: string[] = [];
  const phases = mergePhases(results, 'sequential', results.map((_, i) => `repeat ${i + 1}`), true, warnings);
  return envelope(results, results[0]!.config, phases, warnings);
}
