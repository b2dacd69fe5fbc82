import Table from 'cli-table3';
import { SCHEMA_VERSION } from '../metrics/run-result.js';
import { toolVersion } from '../coordinator/runtime-info.js';
import { csvLine } from '../report/csv.js';
import type { Comparison, ComparisonRow, ThresholdCheck } from './compare.js';
import { formatChange, formatFigure } from './format.js';

export const COMPARE_FORMATS = ['table', 'json', 'markdown', 'csv'] as const;
export type CompareFormat = (typeof COMPARE_FORMATS)[number];

const HEAD = ['phase', 'class', 'metric', 'base', 'head', 'change', 'noise ±', 'verdict'];

function cells(r: ComparisonRow): string[] {
  const passedInNoise = r.crossed.filter((t) => !r.failed.includes(t));
  const verdict = r.verdict + (r.failed.length ? ` ✗ ${r.failed.join(', ')}` : '') +
    (passedInNoise.length ? ` (crossed ${passedInNoise.join(', ')} within the noise: passed)` : '');
  return [
    r.phase, r.cls, r.metric, formatFigure(r.metric, r.base), formatFigure(r.metric, r.head),
    formatChange(r.metric, r.change), r.noise === null ? '—' : formatChange(r.metric, r.noise, false), verdict,
  ];
}

/** "throughput<-5%: 6 rows checked, 1 crossed within the noise (passed), none failed": one line per threshold, for every text format. */
function thresholdLine(t: ThresholdCheck): string {
  if (!t.checked) return `${t.text}: nothing to check (no phase has that figure on both sides)`;
  const parts = [`${t.checked} row${t.checked === 1 ? '' : 's'} checked`];
  if (t.withinNoise) parts.push(`${t.withinNoise} crossed within the noise (passed)`);
  parts.push(t.failed ? `${t.failed} failed${t.noSpread ? ` (${t.noSpread} with no spread known)` : ''}` : 'none failed');
  return `${t.text}: ${parts.join(', ')}`;
}

/** "gate noise: 3 thresholds checked, 2 passed, 1 failed": said also when nothing failed. */
export function gateSummary(c: Comparison): string {
  const failed = c.thresholds.filter((t) => !t.passed).length;
  const how = c.gate === 'noise' ? 'a change fails only beyond the repeats\' noise' : 'raw thresholds, noise ignored';
  return `gate ${c.gate} (${how}): ${c.thresholds.length} threshold${c.thresholds.length === 1 ? '' : 's'} checked, ${c.thresholds.length - failed} passed, ${failed} failed`;
}

const NO_THRESHOLDS = 'no --fail-if threshold given: nothing can fail';

function renderTable(c: Comparison, labels: [string, string]): string {
  const table = new Table({
    head: HEAD.map((h, i) => (i === 3 ? labels[0] : i === 4 ? labels[1] : h)),
    colAligns: ['left', 'left', 'left', 'right', 'right', 'right', 'right', 'left'],
    style: { head: [], border: [] },
  });
  for (const r of c.rows) table.push(cells(r));
  const out = [table.toString()];
  if (!c.thresholds.length) out.push(NO_THRESHOLDS);
  else {
    out.push(gateSummary(c));
    for (const t of c.thresholds) out.push(`  ${t.passed ? 'pass' : 'FAIL'} ${thresholdLine(t)}`);
  }
  for (const n of c.notes) out.push(`note: ${n}`);
  for (const f of c.failures) out.push(`FAIL ${f}`);
  return out.join('\n');
}

const escapeCell = (text: string) => text.replace(/\|/g, '\\|');

/** GitHub-flavoured Markdown, for a CI job summary ($GITHUB_STEP_SUMMARY) or a PR comment. */
function renderMarkdown(c: Comparison, labels: [string, string]): string {
  const out: string[] = [`### tlsbench: ${labels[0]} → ${labels[1]}`, ''];
  if (c.failures.length) {
    out.push(`**${c.failures.length} threshold${c.failures.length > 1 ? 's' : ''} crossed:**`, '');
    for (const f of c.failures) out.push(`- ❌ ${escapeCell(f)}`);
    out.push('');
  }
  out.push('**Thresholds checked:**', '');
  if (!c.thresholds.length) out.push(`- ${NO_THRESHOLDS}`);
  else out.push(escapeCell(gateSummary(c)), '');
  for (const t of c.thresholds) out.push(`- ${t.failed ? '❌' : t.checked ? '✅' : '⚠️'} \`${t.text}\`: ${escapeCell(thresholdLine(t).slice(t.text.length + 2))}`);
  out.push('');
  const head = HEAD.map((h, i) => (i === 3 ? labels[0] : i === 4 ? labels[1] : h));
  out.push(`| ${head.map(escapeCell).join(' | ')} |`);
  out.push(`|${['---', '---', '---', '--:', '--:', '--:', '--:', '---'].join('|')}|`);
  for (const r of c.rows) out.push(`| ${cells(r).map(escapeCell).join(' | ')} |`);
  if (c.notes.length) {
    out.push('', 'Notes:', '');
    for (const n of c.notes) out.push(`- ${n}`);
  }
  return out.join('\n');
}

/**
 * The comparison as data (schema/comparison.schema.json): both sides, every threshold checked,
 * and per row the figures, each repeat's values, the change, the noise band and the verdict.
 */
export function comparisonDocument(c: Comparison) {
  return { kind: 'comparison' as const, schemaVersion: SCHEMA_VERSION, tool: { name: 'tlsbench' as const, version: toolVersion() }, passed: c.failures.length === 0, ...c };
}

/**
 * One row per phase × class × metric, in the figures' own units: handshakes/s, µs (p50, p99,
 * server-cpu), 0..1 (hit-rate); change and noise as fractions (hit-rate: points as a fraction).
 */
export const COMPARE_CSV_HEADER = ['phase', 'class', 'metric', 'base', 'head', 'change', 'noise', 'verdict', 'crossed', 'failed', 'base_samples', 'head_samples'] as const;

function renderCsv(c: Comparison): string {
  const num = (x: number | null) => (x === null ? '' : Number(x.toPrecision(8)));
  const rows = c.rows.map((r) => csvLine([
    r.phase, r.cls, r.metric, num(r.base), num(r.head), num(r.change), num(r.noise), r.verdict, r.crossed.join(' '), r.failed.join(' '),
    r.baseSamples.map((v) => num(v)).join(' '), r.headSamples.map((v) => num(v)).join(' '),
  ]));
  return [COMPARE_CSV_HEADER.join(','), ...rows].join('\n');
}

export function renderComparison(c: Comparison, format: CompareFormat, labels: [string, string] = [c.base.label, c.head.label]): string {
  switch (format) {
    case 'table': return renderTable(c, labels);
    case 'json': return JSON.stringify(comparisonDocument(c), null, 2);
    case 'markdown': return renderMarkdown(c, labels);
    case 'csv': return renderCsv(c);
  }
}
