import type { MatrixResult } from '../matrix/matrix-result.js';
import { cellCosts, cellsByCost, COST_LEGEND, matrixHasStaples, stapleCell } from '../matrix/render.js';
import type { PhaseResult, RunResult } from '../metrics/run-result.js';
import { latencyRows } from '../metrics/summary.js';
import { HANDSHAKE_CLASSES } from '../metrics/tally.js';
import { describeRun } from './describe.js';
import { clientCertificateLabel, phaseFacts, runtimeLabel, speedupLabel, targetLabel } from './labels.js';
import { SERVER_NOT_MEASURED, serverCostFacts, serverSavingLabel, serverSourceLine } from './server-cost-labels.js';
import { ms, negotiatedDiffers, percent, rate } from './table.js';
import { collapseRepeated } from './collapse.js';
import { machinesHeadline, machineTable } from './machines.js';
import { repeatCount, repeatTable, spreadLine, windowLabel } from './repeats.js';
import { ocspLines } from './ocsp-labels.js';
import { lacksForwardSecrecy, NO_FORWARD_SECRECY } from '../metrics/forward-secrecy.js';
import { builtInServerLine } from './built-in-server-label.js';

/**
 * Text from the result (phase names, error classes, server-chosen names) goes into a page that
 * GitHub renders, HTML included: entities stop markup, backslashes stop Markdown emphasis and
 * links, and `|` must not split a table cell.
 */
export function mdText(text: string): string {
  return text
    .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
    .replace(/([\\`*_[\]|])/g, '\\$1')
    .replace(/\r?\n/g, ' ');
}

/** A code span: shows names (ciphers, groups) verbatim; a backtick inside could end it early. */
function code(text: string): string {
  return `\`${text.replace(/`/g, "'").replace(/\r?\n/g, ' ')}\``;
}

function row(cells: readonly (string | number)[]): string {
  return `| ${cells.join(' | ')} |`;
}

function latencyTable(phase: PhaseResult): string[] {
  const s = phase.summary;
  const lines = [
    row(['class', 'metric', 'count', 'per s', 'p50 ms', 'p90 ms', 'p99 ms', 'p99.9 ms', 'max ms']),
    row([':--', ':--', '--:', '--:', '--:', '--:', '--:', '--:', '--:']),
  ];
  // Every row complete (class and per s included), so a pasted or parsed table row stands alone.
  for (const { cls, metric, count, perSecond, latency: l } of latencyRows(s)) {
    lines.push(row([cls, metric, count, rate(perSecond), ms(l.p50), ms(l.p90), ms(l.p99), ms(l.p999), ms(l.max)]));
  }
  return lines;
}

/** A table of text cells (repeats, machines), escaped; columns from `numericFrom` right-aligned. */
function textTable(t: { head: string[]; rows: string[][] }, numericFrom: number): string[] {
  return [
    row(t.head.map(mdText)),
    row(t.head.map((_, i) => (i >= numericFrom ? '--:' : ':--'))),
    ...t.rows.map((r) => row(r.map(mdText))),
  ];
}

function errorTable(phase: PhaseResult): string[] {
  const s = phase.summary;
  const lines = [row(['error class', 'count', 'share of attempts']), row([':--', '--:', '--:'])];
  for (const [name, n] of Object.entries(s.errors).sort((a, b) => b[1] - a[1])) {
    lines.push(row([code(name).replace(/\|/g, '\\|'), n, percent(n / Math.max(1, s.attempts))]));
  }
  return lines;
}

function negotiatedList(phase: PhaseResult, requested: RunResult['config']['tls']): string[] {
  const lines: string[] = [];
  for (const cls of HANDSHAKE_CLASSES) {
    const samples = phase.summary.classes[cls]?.negotiated ?? [];
    const total = samples.reduce((a, s) => a + s.count, 0);
    for (const s of samples) {
      const parts = [code(s.protocol), code(s.cipher), `group ${code(s.group)}`, `cert ${code(s.certificate)}`];
      if (s.alpn) parts.push(`ALPN ${code(s.alpn)}`);
      const clientCertificate = clientCertificateLabel(s);
      if (clientCertificate) parts.push(clientCertificate);
      const share = samples.length > 1 ? ` (${((s.count / total) * 100).toFixed(0)} % of ${total} sampled)` : '';
      lines.push(`- ${cls}: ${parts.join(', ')}${share}`);
      const differs = negotiatedDiffers(s, requested);
      if (differs) lines.push(`  - ⚠️ ${mdText(differs)}`);
      if (lacksForwardSecrecy(s)) lines.push(`  - ⚠️ ${mdText(NO_FORWARD_SECRECY)}`);
    }
  }
  return lines;
}

function phaseSection(phase: PhaseResult, result: RunResult): string[] {
  const s = phase.summary;
  const out: string[] = [];
  out.push(`#### Phase ${mdText(phase.name)} (resume ${phase.resume}) · ${windowLabel(phase)}${phase.interrupted ? ' · interrupted' : ''}`);
  out.push('');
  out.push(phaseFacts(s, phase.resume).map((f) => (f.strong ? `**${f.text}**` : f.text)).join(' · '));
  const repeats = repeatTable(phase);
  if (repeats) out.push('', `**Repeats:** ${mdText(spreadLine(phase)!)}`, '', ...textTable(repeats, 1));
  if (Object.keys(s.classes).length) out.push('', ...latencyTable(phase));
  if (s.errorCount) out.push('', ...errorTable(phase));
  const negotiated = negotiatedList(phase, result.config.tls);
  if (negotiated.length) out.push('', '**Negotiated**', '', ...negotiated);
  const ocsp = ocspLines(s);
  if (ocsp.length) out.push('', '**OCSP staple**', '', ...ocsp.map((l) => `- ${mdText(l)}`));
  const counted = builtInServerLine(phase);
  if (counted) out.push('', mdText(counted));
  if (phase.serverCost) {
    out.push('', `**Server** (${mdText(serverSourceLine(phase))})`, '', row(['figure', 'value']), row([':--', '--:']));
    for (const [label, value] of serverCostFacts(phase.serverCost)) out.push(row([mdText(label), value]));
  }
  const elu = phase.client.elu.map((u) => `${(u * 100).toFixed(0)} %`).join(', ');
  out.push('', `Client event-loop utilisation: ${elu}${phase.client.saturated ? ' ⚠️ **saturated**' : ''}`);
  if (phase.findings.length) out.push('', ...collapseRepeated(phase.findings).map((f) => `> ⚠️ ${mdText(f)}  `));
  return out;
}

/** A GitHub-flavoured summary, e.g. for `$GITHUB_STEP_SUMMARY`. */
export function renderMarkdown(result: RunResult): string {
  const out: string[] = [];
  out.push(`### tlsbench ${mdText(result.tool.version)} → ${mdText(targetLabel(result))}`);
  out.push('');
  out.push(`**Run:** ${mdText(describeRun(result.config, repeatCount(result)))}  `);
  const machines = machineTable(result);
  if (!machines) out.push(`**Client:** ${mdText(runtimeLabel(result))}  `);
  else out.push(`**Clients:** ${mdText(machinesHeadline(result)!)}  `);
  out.push(`**Started:** ${mdText(result.startedAt)}`);
  if (machines) out.push('', ...textTable(machines, 5));
  if (result.interrupted) out.push('', '> **Interrupted**: the figures cover the part of the window that ran.');
  for (const phase of result.phases) out.push('', ...phaseSection(phase, result));
  const gain = result.resumptionGain;
  if (gain) {
    out.push('', `**Resumption speedup:** ${speedupLabel(gain)}`);
    const saving = serverSavingLabel(result);
    if (saving) out.push('', `**Resumption saving on the server:** ${mdText(saving)}`);
  }
  if (!result.phases.some((p) => p.serverCost)) out.push('', `_${mdText(SERVER_NOT_MEASURED)}_`);
  if (result.warnings.length) out.push('', ...collapseRepeated(result.warnings).map((w) => `> ⚠️ ${mdText(w)}  `));
  return out.join('\n');
}

/** A matrix: the cost table first (cheapest first), then each cell's own summary. */
export function renderMatrixMarkdown(matrix: MatrixResult): string {
  const baseline = matrix.cells.find((c) => c.name === matrix.baseline);
  const staples = matrixHasStaples(matrix);
  const out = [
    `### tlsbench matrix: ${matrix.cells.length} cells, baseline ${mdText(matrix.baseline ?? '—')}`,
    '',
    row(['cell', 'phase', 'handshakes/s', 'p50 ms', 'p99 ms', ...(staples ? ['OCSP staple'] : []), 'server µs', 'server cost', 'throughput cost', 'errors']),
    row([':--', ':--', '--:', '--:', '--:', ...(staples ? ['--:'] : []), '--:', '--:', '--:', '--:']),
  ];
  for (const cell of cellsByCost(matrix)) {
    const name = mdText(cell.name) + (cell.name === matrix.baseline ? ' (baseline)' : '');
    if (!cell.result) {
      out.push(row([name, `skipped: ${mdText(cell.skipped ?? 'not run')}`, '', '', '', ...(staples ? [''] : []), '', '', '', '']));
      continue;
    }
    cell.result.phases.forEach((phase, i) => {
      const tls = HANDSHAKE_CLASSES.map((c) => phase.summary.classes[c]?.latency.tls).find(Boolean);
      const costs = cellCosts(phase, baseline);
      out.push(row([i === 0 ? name : '', mdText(phase.name), rate(phase.summary.rate), tls ? ms(tls.p50) : '—', tls ? ms(tls.p99) : '—',
        ...(staples ? [stapleCell(phase)] : []), costs.serverUs, costs.serverRelative, costs.throughputRelative, phase.summary.errorCount]));
    });
  }
  out.push('', mdText(COST_LEGEND));
  for (const cell of matrix.cells) {
    if (cell.result) out.push('', '<details>', `<summary>${mdText(cell.name)}</summary>`, '', renderMarkdown(cell.result), '', '</details>');
  }
  return out.join('\n');
}
