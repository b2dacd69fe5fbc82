import type { PhaseResult, PhaseSample, RunResult } from '../metrics/run-result.js';
import { HANDSHAKE_CLASSES, type HandshakeClass } from '../metrics/tally.js';
import { configDifferences, describeDifference } from '../merge/config-diff.js';
import { formatChange, formatFigure } from './format.js';
import { crosses, parseThresholds, type ChangeMetric, type ComparedMetric, type Threshold } from './fail-if.js';
import { noiseBand } from './spread.js';

export type NoiseVerdict = 'better' | 'worse' | 'within noise' | 'no spread known' | 'n/a';

/**
 * How a --fail-if threshold decides. `noise` (default): a change fails only when it crosses the
 * threshold AND lies beyond the repeats' noise band; a change that crosses it inside the band
 * passes, said as such. `raw`: the threshold alone, noise or not.
 */
export const GATES = ['noise', 'raw'] as const;
export type Gate = (typeof GATES)[number];

/** What a run needs so the noise gate can judge a change: the advice every output gives. */
export const REPEAT_ADVICE = 'run both sides with --repeat 5 so the gate can tell a change from noise';

/**
 * One figure of one phase and class, BASE against HEAD. Throughput is handshakes/s; p50 and
 * p99 are TLS handshake latency (µs); hit-rate (class `all`) is resumed / offered (0..1).
 */
export interface ComparisonRow {
  phase: string;
  cls: HandshakeClass | 'all';
  metric: ComparedMetric;
  base: number | null;
  head: number | null;
  /** Relative change (head / base − 1); for hit-rate the difference in points (head − base). */
  change: number | null;
  /** The noise band in the unit of `change`, or null when no spread is known. */
  noise: number | null;
  verdict: NoiseVerdict;
  /** The --fail-if thresholds whose figure this row crossed, noise or not. */
  crossed: string[];
  /** The thresholds this row failed under the gate (with --gate raw: every one it crossed). */
  failed: string[];
  /** Each repeat's figure on either side (--repeat), what the noise band is made of; empty without repeats. */
  baseSamples: number[];
  headSamples: number[];
}

/** A --fail-if threshold as it was applied: how many rows it judged, crossed and failed. */
export interface ThresholdCheck extends Threshold {
  /** Rows that had the figure on both sides (for hit-rate: on HEAD). */
  checked: number;
  /** Rows whose figure crossed the threshold, noise or not. */
  crossed: number;
  /** Crossed rows that fail it under the gate. */
  failed: number;
  /** Crossed rows that pass it because the change lies within the repeats' noise (noise gate only). */
  withinNoise: number;
  /** Failed rows judged on the raw threshold because no spread was known (no repeats on either side). */
  noSpread: number;
  /** No row failed it. */
  passed: boolean;
}

/** Which result a side of the comparison is, in the words of its file. */
export interface ComparedSide {
  label: string;
  startedAt: string;
  node: string;
  openssl: string;
  /** Repeats behind its figures (--repeat; 1 without). */
  repeats: number;
  /** Load machines merged into it (1 unless it came from tlsbench merge). */
  machines: number;
}

export interface Comparison {
  /** How the thresholds decided (--gate). */
  gate: Gate;
  base: ComparedSide;
  head: ComparedSide;
  rows: ComparisonRow[];
  /** Every --fail-if threshold, crossed or not, so a report can say what was checked. */
  thresholds: ThresholdCheck[];
  /** One sentence per crossed threshold, naming the row. */
  failures: string[];
  /** What a reader must know: phases on one side only, settings or runtimes that differ, … */
  notes: string[];
}

export interface CompareOptions {
  /** --fail-if expressions (parsed strictly: a bad one throws UsageError). */
  failIf?: readonly string[];
  labels?: [string, string];
  /** --gate: `noise` (default) or `raw`. */
  gate?: Gate;
}

type Pick = (s: PhaseSample) => number | null | undefined;

const higherIsBetter: Record<ComparedMetric, boolean> = { throughput: true, 'hit-rate': true, p50: false, p99: false, 'server-cpu': false };

function classFigure(phase: PhaseResult, cls: HandshakeClass, metric: ChangeMetric): number | null {
  const c = phase.summary.classes[cls];
  if (!c) return null;
  if (metric === 'throughput') return c.rate;
  return c.latency.tls?.[metric] ?? null;
}

function samplePick(cls: HandshakeClass, metric: ChangeMetric): Pick {
  return (s) => {
    const c = s.classes[cls];
    return c ? (metric === 'throughput' ? c.rate : c[metric]) : null;
  };
}

function values(phase: PhaseResult, pick: Pick): number[] {
  return (phase.samples ?? []).map(pick).filter((v): v is number => typeof v === 'number');
}

function row(phase: string, cls: HandshakeClass | 'all', metric: ComparedMetric, base: PhaseResult, head: PhaseResult, b: number | null, h: number | null, pick: Pick): ComparisonRow {
  const relative = metric !== 'hit-rate';
  const change = b === null || h === null ? null : relative ? (b === 0 ? null : h / b - 1) : h - b;
  const baseSamples = values(base, pick);
  const headSamples = values(head, pick);
  const band = noiseBand(baseSamples, headSamples);
  const noise = band === null || b === null ? null : relative ? (b === 0 ? null : band.width / b) : band.width;
  let verdict: NoiseVerdict;
  if (change === null) verdict = 'n/a';
  else if (noise === null) verdict = 'no spread known';
  else if (Math.abs(change) <= noise) verdict = 'within noise';
  else verdict = (change > 0) === higherIsBetter[metric] ? 'better' : 'worse';
  return { phase, cls, metric, base: b, head: h, change, noise, verdict, crossed: [], failed: [], baseSamples, headSamples };
}

function phaseRows(base: PhaseResult, head: PhaseResult): ComparisonRow[] {
  const rows: ComparisonRow[] = [];
  for (const cls of HANDSHAKE_CLASSES) {
    if (!base.summary.classes[cls] && !head.summary.classes[cls]) continue;
    for (const metric of ['throughput', 'p50', 'p99'] as const) {
      rows.push(row(head.name, cls, metric, base, head, classFigure(base, cls, metric), classFigure(head, cls, metric), samplePick(cls, metric)));
    }
  }
  if (base.summary.hitRate !== null || head.summary.hitRate !== null) {
    rows.push(row(head.name, 'all', 'hit-rate', base, head, base.summary.hitRate, head.summary.hitRate, (s) => s.hitRate));
  }
  if (base.serverCost || head.serverCost) {
    const us = (p: PhaseResult) => p.serverCost?.perHandshakeUs ?? null;
    rows.push(row(head.name, 'all', 'server-cpu', base, head, us(base), us(head), (s) => s.serverCpuUs));
  }
  return rows;
}

/** What a threshold measures on a row: the change, or for hit-rate HEAD's level. */
function thresholdFigure(t: Threshold, r: ComparisonRow): number | null {
  return t.metric === 'hit-rate' ? r.head : r.change;
}

/**
 * Whether a crossed threshold fails the row under the gate. A hit-rate threshold is a level HEAD
 * reached, not a change between two noisy figures, so it is always judged as given. Without a
 * spread the change cannot be told from noise: the raw threshold decides, and the failure says so.
 */
function gateFails(gate: Gate, t: Threshold, r: ComparisonRow): boolean {
  if (gate === 'raw' || t.metric === 'hit-rate') return true;
  return r.verdict !== 'within noise';
}

function describeCrossing(t: Threshold, r: ComparisonRow, gate: Gate): string {
  const where = `phase ${r.phase}${r.cls === 'all' ? '' : `, ${r.cls} handshakes`}`;
  if (t.metric === 'hit-rate') return `${t.text}: ${where}: hit rate ${formatFigure('hit-rate', r.head)}`;
  const noise = r.noise === null ? '' : `, noise ±${formatChange(r.metric, r.noise, false)}`;
  const why = gate === 'raw'
    ? (r.verdict === 'within noise' ? ' (within the noise of the repeats; failed because --gate raw)' : ` (--gate raw${noise})`)
    : r.verdict === 'no spread known' ? ` (no spread known: judged on the raw threshold; ${REPEAT_ADVICE})` : ` (beyond the noise${noise})`;
  return `${t.text}: ${where}: ${r.metric} ${formatChange(r.metric, r.change)} (${formatFigure(r.metric, r.base)} → ${formatFigure(r.metric, r.head)})${why}`;
}

/**
 * BASE against HEAD, phase by phase (matched by name), class by class: throughput and TLS
 * handshake latency p50/p99, each with its change and whether it is beyond the noise the
 * repeats of either side show; and the --fail-if thresholds each row crosses.
 */
export function compareResults(base: RunResult, head: RunResult, options: CompareOptions = {}): Comparison {
  const thresholds = parseThresholds(options.failIf ?? []);
  const gate = options.gate ?? 'noise';
  const [baseLabel, headLabel] = options.labels ?? ['BASE', 'HEAD'];
  const notes: string[] = [];
  const rows: ComparisonRow[] = [];
  for (const h of head.phases) {
    const b = base.phases.find((p) => p.name === h.name);
    if (b) rows.push(...phaseRows(b, h));
    else notes.push(`phase ${h.name} is only in ${headLabel}`);
  }
  for (const b of base.phases) if (!head.phases.some((p) => p.name === b.name)) notes.push(`phase ${b.name} is only in ${baseLabel}`);

  // When each side started, and where it logged keys, does not change what was measured.
  const differences = configDifferences([base.config, head.config], ['startAt', 'tls.keylogFile', 'requireResumption']);
  if (differences.length) notes.push(`settings differ: ${differences.map((d) => describeDifference(d, [baseLabel, headLabel])).join('; ')}`);
  const runtime = (r: RunResult) => `Node ${r.runtime.node}, OpenSSL ${r.runtime.openssl}`;
  if (runtime(base) !== runtime(head)) notes.push(`runtimes differ: ${runtime(base)} in ${baseLabel}, ${runtime(head)} in ${headLabel}`);
  // --server-engine auto serves --mtls natively: two results may differ in the server that ran, not only in their settings.
  const server = (r: RunResult) => (r.target.builtIn ? `${r.target.builtIn.engine ?? 'node'} built-in server` : null);
  if (server(base) && server(head) && server(base) !== server(head)) {
    notes.push(`built-in servers differ: ${server(base)} in ${baseLabel}, ${server(head)} in ${headLabel}: server CPU compares two server implementations; pin one with --server-engine`);
  }
  if (rows.some((r) => r.verdict === 'no spread known')) {
    notes.push(`no spread known for some figures (no repeats): ${REPEAT_ADVICE}`);
  }
  for (const r of [base, head]) if (r.interrupted) notes.push(`${r === base ? baseLabel : headLabel} was interrupted: its figures cover part of the window`);

  const failures: string[] = [];
  const checks: ThresholdCheck[] = [];
  for (const t of thresholds) {
    const relevant = rows.filter((r) => r.metric === t.metric);
    const check: ThresholdCheck = { ...t, checked: relevant.filter((r) => thresholdFigure(t, r) !== null).length, crossed: 0, failed: 0, withinNoise: 0, noSpread: 0, passed: true };
    checks.push(check);
    if (check.checked === 0) {
      const why = t.metric === 'hit-rate' ? ' (no session was offered)' : t.metric === 'server-cpu' ? ' (the server\'s CPU was not measured: built-in server, --server-pid, --server-cgroup or tlsbench observe)' : '';
      notes.push(`--fail-if ${t.text} checked nothing: no phase has that figure on both sides${why}`);
    }
    for (const r of relevant) {
      const x = thresholdFigure(t, r);
      if (x === null || !crosses(t, x)) continue;
      r.crossed.push(t.text);
      check.crossed++;
      if (!gateFails(gate, t, r)) {
        check.withinNoise++;
        continue;
      }
      r.failed.push(t.text);
      check.failed++;
      check.passed = false;
      if (t.metric !== 'hit-rate' && r.verdict === 'no spread known') check.noSpread++;
      failures.push(describeCrossing(t, r, gate));
    }
  }
  const side = (r: RunResult, label: string): ComparedSide => ({
    label, startedAt: r.startedAt, node: r.runtime.node, openssl: r.runtime.openssl,
    repeats: Math.max(1, ...r.phases.map((p) => p.samples?.length ?? 1)), machines: r.machines?.length ?? 1,
  });
  return { gate, base: side(base, baseLabel), head: side(head, headLabel), rows, thresholds: checks, failures, notes };
}
