/**
 * The text forms of a capacity result: the terminal table, Markdown and CSV all walk the same
 * step rows (stepCells), so the formats cannot disagree on a figure.
 */
import Table from 'cli-table3';
import { formatDuration } from '../config/duration.js';
import { field } from '../report/csv.js';
import { mdText } from '../report/markdown.js';
import { cpuMicros } from '../report/server-cost-labels.js';
import { ms, rate } from '../report/table.js';
import type { CapacityResult, CapacitySearch, CapacityStep } from './capacity-result.js';
import { bracket } from './search.js';

export const STEP_HEAD = ['step', 'offered/s', 'achieved/s', 'p50 ms', 'p99 ms', 'errors', 'dropped', 'client busy', 'server cores', 'server µs/hs', 'verdict'] as const;

/** Where a step sits in the answer's bracket: what the answer rests on. */
export function bracketRole(search: CapacitySearch, step: CapacityStep): 'last passing' | 'first failing' | '' {
  const { lastPassing, firstFailing } = bracket(search.steps);
  if (step === lastPassing) return 'last passing';
  if (step === firstFailing) return 'first failing';
  return '';
}

/** One step as every text format shows it (STEP_HEAD order). */
export function stepCells(step: CapacityStep, index: number): string[] {
  const optMs = (us: number | null) => (us === null ? '—' : ms(us));
  const errors = step.errorRate === null ? '—' : `${step.errors} (${Number((step.errorRate * 100).toPrecision(2))} %)`;
  return [
    String(index + 1), rate(step.offered), rate(step.achieved), optMs(step.p50), optMs(step.p99), errors, String(step.dropped),
    `${(step.clientBusy * 100).toFixed(0)} %${step.clientSaturated ? ' (saturated)' : ''}`,
    step.serverCoresBusy === null ? '—' : step.serverCoresBusy.toFixed(2), cpuMicros(step.serverCpuPerHandshakeUs),
    step.verdict,
  ];
}

function searchTitle(search: CapacitySearch): string {
  return `${search.phase} handshakes (resume ${search.resume})`;
}

export function planLine(result: CapacityResult): string {
  const p = result.plan;
  return `objectives: ${result.objectives.map((o) => o.text).join(', ')} · steps of ${formatDuration(p.stepMs)} after ${formatDuration(p.warmupMs)} warm-up, ` +
    `from ${p.startRate}/s ×${p.stepFactor}, bisected to ${Number((p.precision * 100).toPrecision(3))} % · at most ${formatDuration(p.maxDurationMs)}`;
}

function stoppedLine(result: CapacityResult): string[] {
  const lines: string[] = [];
  if (result.stoppedBy === 'max-duration') lines.push('stopped by --max-duration: the steps done so far are kept');
  if (result.stoppedBy === 'interrupted') lines.push('interrupted: the steps done so far are kept');
  if (result.failure) lines.push(`FAILED: ${result.failure}`);
  return lines;
}

export function renderCapacityTable(result: CapacityResult): string {
  const out = [`capacity · ${planLine(result)}`];
  for (const search of result.searches) {
    const table = new Table({ head: [...STEP_HEAD], colAligns: ['right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'left'], style: { head: [], border: [] } });
    search.steps.forEach((step, i) => table.push(stepCells(step, i)));
    out.push('', `── ${searchTitle(search)} · latency: ${search.steps[0]?.metric ?? 'tls'}`, table.toString());
    search.steps.forEach((step, i) => {
      if (step.verdict !== 'pass') out.push(`  step ${i + 1} ${step.verdict}: ${step.reason}`);
    });
    out.push(`answer: ${search.answer.text}`);
  }
  out.push(...stoppedLine(result));
  return out.join('\n');
}

export function renderCapacityMarkdown(result: CapacityResult): string {
  const row = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  const out = ['## tlsbench capacity', '', mdText(planLine(result))];
  for (const search of result.searches) {
    out.push('', `### ${mdText(searchTitle(search))}`, '', `**Answer:** ${mdText(search.answer.text)}`, '',
      row([...STEP_HEAD, 'why']), row(STEP_HEAD.map((_, i) => (i === STEP_HEAD.length - 1 ? ':--' : '--:')).concat(':--')));
    search.steps.forEach((step, i) => out.push(row([...stepCells(step, i), step.verdict === 'pass' ? '' : step.reason].map(mdText))));
  }
  const stopped = stoppedLine(result);
  if (stopped.length) out.push('', ...stopped.map((l) => `> ${mdText(l)}`));
  return out.join('\n');
}

/** Figures as recorded (µs, ratios), one row per step; `bracket` marks the steps the answer rests on. */
export const CAPACITY_CSV_HEADER = [
  'search', 'resume', 'step', 'offered_per_s', 'achieved_per_s', 'metric', 'p50_us', 'p99_us', 'attempts', 'errors', 'error_rate',
  'arrivals', 'dropped', 'max_connections', 'client_busy', 'client_saturated', 'server_cores_busy', 'server_cpu_us_per_handshake',
  'verdict', 'bracket', 'limited_by', 'reason',
] as const;

export function renderCapacityCsv(result: CapacityResult): string {
  const opt = (x: number | null, digits: number) => (x === null ? '' : Number(x.toFixed(digits)));
  const rows = result.searches.flatMap((search) => search.steps.map((step, i) => [
    search.phase, search.resume, i + 1, step.offered, Number(step.achieved.toFixed(3)), step.metric, step.p50 ?? '', step.p99 ?? '',
    step.attempts, step.errors, opt(step.errorRate, 6), step.arrivals, step.dropped, step.maxConnections, Number(step.clientBusy.toFixed(4)),
    String(step.clientSaturated), opt(step.serverCoresBusy, 4), opt(step.serverCpuPerHandshakeUs, 2), step.verdict, bracketRole(search, step),
    search.answer.limitedBy, step.reason,
  ].map(field).join(',')));
  return [CAPACITY_CSV_HEADER.join(','), ...rows].join('\n');
}
