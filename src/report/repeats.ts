/**
 * --repeat in words and tables, one source for the table, Markdown, CSV and HTML: how many
 * repeats a phase ran, each repeat's window and headline figures, and their spread.
 */
import { variance } from '../compare/spread.js';
import type { PhaseResult, PhaseSample, RunResult } from '../metrics/run-result.js';
import { HANDSHAKE_CLASSES, type HandshakeClass } from '../metrics/tally.js';
import { cpuMicros } from './server-cost-labels.js';
import { ms, percent, rate } from './table.js';
import type { TextTable } from './text-table.js';

/** Repeats behind a result's figures: 1 without --repeat (a merge of machines keeps none). */
export function repeatCount(result: RunResult): number {
  return Math.max(1, ...result.phases.map((p) => p.samples?.length ?? 1));
}

/** The samples of a phase that ran more than once, or null. */
export function repeatsOf(phase: PhaseResult): PhaseSample[] | null {
  return phase.samples && phase.samples.length > 1 ? phase.samples : null;
}

const seconds = (windowMs: number) => `${(windowMs / 1000).toFixed(2)} s`;

/**
 * "window 5.00 s", or with repeats the total said as what it is, a sum:
 * "window 3 repeats: 1.70 s + 1.71 s + 1.69 s = 5.10 s measured".
 */
export function windowLabel(phase: PhaseResult): string {
  const repeats = repeatsOf(phase);
  if (!repeats) return `window ${seconds(phase.windowMs)}`;
  return `window ${repeats.length} repeats: ${repeats.map((r) => seconds(r.windowMs)).join(' + ')} = ${seconds(phase.windowMs)} measured`;
}

export interface Spread {
  min: number;
  max: number;
  mean: number;
  /** Standard deviation of the repeats (n − 1), the figure `compare` builds its noise band from. */
  stdev: number;
}

export function spreadOf(values: readonly number[]): Spread | null {
  if (values.length < 2) return null;
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return { min: Math.min(...values), max: Math.max(...values), mean, stdev: Math.sqrt(variance(values)) };
}

/** One column of the repeats table: a figure of each sample, and how to print it. */
interface RepeatColumn {
  head: string;
  pick: (s: PhaseSample) => number | null | undefined;
  show: (x: number) => string;
  /** Hit rates spread in points; every other figure relative to its mean. */
  points?: boolean;
}

function columns(samples: readonly PhaseSample[]): RepeatColumn[] {
  const has = (cls: HandshakeClass) => samples.some((s) => s.classes[cls]);
  const classes = HANDSHAKE_CLASSES.filter(has);
  const cols: RepeatColumn[] = [{ head: 'handshakes/s', pick: (s) => s.rate, show: rate }];
  for (const cls of classes) {
    if (classes.length > 1) cols.push({ head: `${cls}/s`, pick: (s) => s.classes[cls]?.rate, show: rate });
    cols.push({ head: `${cls} p50 ms`, pick: (s) => s.classes[cls]?.p50, show: ms });
    cols.push({ head: `${cls} p99 ms`, pick: (s) => s.classes[cls]?.p99, show: ms });
  }
  if (samples.some((s) => s.hitRate !== null)) cols.push({ head: 'hit rate', pick: (s) => s.hitRate, show: percent, points: true });
  if (samples.some((s) => s.serverCpuUs !== undefined)) cols.push({ head: 'server µs', pick: (s) => s.serverCpuUs, show: (x) => cpuMicros(x) });
  return cols;
}

/** Each repeat's window and figures, then their spread; null when the phase ran once. */
export function repeatTable(phase: PhaseResult): TextTable | null {
  const samples = repeatsOf(phase);
  if (!samples) return null;
  const cols = columns(samples);
  const rows = samples.map((s, i) => [String(i + 1), seconds(s.windowMs), ...cols.map((c) => {
    const v = c.pick(s);
    return v === null || v === undefined ? '—' : c.show(v);
  })]);
  const spreads = cols.map((c) => spreadOf(samples.map(c.pick).filter((v): v is number => typeof v === 'number')));
  const windows = spreadOf(samples.map((s) => s.windowMs));
  rows.push(['min–max', windows ? `${seconds(windows.min)}–${seconds(windows.max)}` : '—',
    ...cols.map((c, i) => (spreads[i] ? `${c.show(spreads[i]!.min)}–${c.show(spreads[i]!.max)}` : '—'))]);
  rows.push(['stdev', '', ...cols.map((c, i) => stdevText(spreads[i], c.points))]);
  return { head: ['repeat', 'window', ...cols.map((c) => c.head)], rows };
}

function stdevText(spread: Spread | null | undefined, points = false): string {
  if (!spread) return '—';
  if (points) return `${(spread.stdev * 100).toFixed(2)} pp`;
  return spread.mean > 0 ? `±${((spread.stdev / spread.mean) * 100).toFixed(1)} %` : '—';
}

/** "3 repeats · handshakes/s 115–121 (±2.6 %)": the spread of the headline figure in one line. */
export function spreadLine(phase: PhaseResult): string | null {
  const samples = repeatsOf(phase);
  if (!samples) return null;
  const s = spreadOf(samples.map((x) => x.rate))!;
  return `${samples.length} repeats · handshakes/s ${rate(s.min)}–${rate(s.max)} (stdev ${stdevText(s)})`;
}
