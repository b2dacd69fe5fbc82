import Table from 'cli-table3';
import type { Comparison, ComparisonRow } from './compare.js';
import { formatChange, formatFigure } from './format.js';

export const COMPARE_FORMATS = ['table', 'markdown'] as const;
export type CompareFormat = (typeof COMPARE_FORMATS)[number];

const HEAD = ['phase', 'class', 'metric', 'base', 'head', 'change', 'noise ±', 'verdict'];

function cells(r: ComparisonRow): string[] {
  const verdict = r.failed.length ? `${r.verdict} ✗ ${r.failed.join(', ')}` : r.verdict;
  return [
    r.phase, r.cls, r.metric, formatFigure(r.metric, r.base), formatFigure(r.metric, r.head),
    formatChange(r.metric, r.change), r.noise === null ? '—' : formatChange(r.metric, r.noise, false), verdict,
  ];
}

function renderTable(c: Comparison, labels: [string, string]): string {
  const table = new Table({
    head: HEAD.map((h, i) => (i === 3 ? labels[0] : i === 4 ? labels[1] : h)),
    colAligns: ['left', 'left', 'left', 'right', 'right', 'right', 'right', 'left'],
    style: { head: [], border: [] },
  });
  for (const r of c.rows) table.push(cells(r));
  const out = [table.toString()];
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

export function renderComparison(c: Comparison, format: CompareFormat, labels: [string, string] = ['base', 'head']): string {
  return format === 'markdown' ? renderMarkdown(c, labels) : renderTable(c, labels);
}
