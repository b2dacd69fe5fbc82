import Table from 'cli-table3';
import { TLS_VERSIONS } from '../config/run-config.js';
import { formatTarget } from '../config/target.js';
import type { PhaseResult, RunResult } from '../metrics/run-result.js';
import { latencyRows, type LatencyRow, type LatencySummary } from '../metrics/summary.js';
import { HANDSHAKE_CLASSES, HTTP_STATUS_CLASSES, type StatusCounts } from '../metrics/tally.js';
import { ocspLines } from './ocsp-labels.js';
import { lacksForwardSecrecy, NO_FORWARD_SECRECY } from '../metrics/forward-secrecy.js';
import { builtInDetails, builtInServerLine } from './built-in-server-label.js';
import { describeRun } from './describe.js';
import { clientCertificateLabel, phaseFacts, speedupLabel } from './labels.js';
import { collapseRepeated } from './collapse.js';
import { machinesHeadline, machineTable } from './machines.js';
import { repeatCount, repeatTable, spreadLine, windowLabel } from './repeats.js';
import { SERVER_NOT_MEASURED, serverCostFacts, serverSavingLabel, serverSourceLine } from './server-cost-labels.js';

const plain = { head: [] as string[], border: [] as string[] };

export function ms(us: number): string {
  const v = us / 1000;
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

export function rate(n: number): string {
  return n >= 100 ? n.toFixed(0) : n.toFixed(1);
}

export function percent(x: number | null): string {
  return x === null ? '—' : `${(x * 100).toFixed(x >= 0.999 || x === 0 ? 1 : 2)} %`;
}

function latencyCells(l: LatencySummary): string[] {
  return [ms(l.min), ms(l.p50), ms(l.p90), ms(l.p99), ms(l.p999), ms(l.max)];
}

/**
 * "per s" once per class: handshakes/s on the class's first row. A ttfb row adds its own figure
 * only when it is another one (requests/s, with several requests per connection).
 */
export function perSecondCell(row: LatencyRow): string {
  if (row.firstOfClass) return rate(row.perSecond);
  if (row.metric === 'ttfb' && row.count !== row.classSummary.handshakes) return `${rate(row.perSecond)} req/s`;
  return '';
}

function plainTable(t: { head: string[]; rows: string[][] }, numericFrom: number): string {
  const table = new Table({ head: t.head, colAligns: t.head.map((_, i) => (i >= numericFrom ? 'right' : 'left')), style: plain });
  for (const r of t.rows) table.push(r);
  return table.toString();
}

function phaseTable(phase: PhaseResult): string {
  const s = phase.summary;
  const table = new Table({
    head: ['class', 'metric', 'count', 'per s', 'min ms', 'p50', 'p90', 'p99', 'p99.9', 'max'],
    colAligns: ['left', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
    style: plain,
  });
  const rows = latencyRows(s);
  rows.forEach((row, i) => {
    const { cls, metric, count, perSecond, latency, firstOfClass: first, classSummary: c } = row;
    table.push([first ? cls : '', metric, String(count), perSecondCell(row), ...latencyCells(latency)]);
    const lastOfClass = rows[i + 1]?.cls !== cls;
    if (lastOfClass && c.bytesRead > 0) table.push(['', 'read', `${c.bytesRead} B`, `${(c.bytesPerSecond / 1e6).toFixed(2)} MB/s`, '', '', '', '', '', '']);
    if (lastOfClass && c.statuses) table.push(['', 'status', statusLabel(c.statuses), '', '', '', '', '', '', '']);
  });
  return table.toString();
}

/** `2xx 18 · 4xx 2`: responses by HTTP status class. */
export function statusLabel(statuses: StatusCounts): string {
  return HTTP_STATUS_CLASSES.filter((k) => statuses[k]).map((k) => `${k} ${statuses[k]}`).join(' · ');
}

function negotiatedLines(phase: PhaseResult, requested: RunResult['config']['tls']): string[] {
  const lines: string[] = [];
  for (const cls of HANDSHAKE_CLASSES) {
    const samples = phase.summary.classes[cls]?.negotiated ?? [];
    const total = samples.reduce((a, s) => a + s.count, 0);
    for (const s of samples) {
      const share = samples.length > 1 ? ` (${((s.count / total) * 100).toFixed(0)} % of ${total} sampled)` : '';
      const parts = [s.protocol, s.cipher, `group ${s.group}`, `cert ${s.certificate}`];
      if (s.alpn) parts.push(`ALPN ${s.alpn}`);
      const clientCertificate = clientCertificateLabel(s);
      if (clientCertificate) parts.push(clientCertificate);
      lines.push(`  ${cls}: ${parts.join(', ')}${share}`);
      const differs = negotiatedDiffers(s, requested);
      if (differs) lines.push(`    ⚠ ${differs}`);
      if (lacksForwardSecrecy(s)) lines.push(`    ⚠ ${NO_FORWARD_SECRECY}`);
    }
  }
  return lines;
}

/** What the server picked that the user did not ask for. */
export function negotiatedDiffers(s: { protocol: string; cipher: string; group: string; alpn: string }, requested: RunResult['config']['tls']): string | null {
  const problems: string[] = [];
  const v = (p: string) => (TLS_VERSIONS as readonly string[]).indexOf(p);
  if (v(s.protocol) >= 0 && (v(s.protocol) < v(requested.minVersion) || v(s.protocol) > v(requested.maxVersion))) {
    problems.push(`protocol ${s.protocol} is outside the requested ${requested.minVersion}–${requested.maxVersion}`);
  }
  const list = s.protocol === 'TLSv1.3' ? requested.ciphersuites : requested.ciphers;
  if (list && s.cipher !== 'unknown' && !list.split(':').some((c) => c === s.cipher || c.replace(/-/g, '_') === s.cipher)) {
    // Standard names differ from OpenSSL names for TLS 1.2; only TLS 1.3 names compare exactly.
    if (s.protocol === 'TLSv1.3') problems.push(`cipher ${s.cipher} was not in --ciphersuites`);
  }
  if (requested.groups && s.group !== 'unknown' && !requested.groups.toLowerCase().split(':').includes(s.group.toLowerCase())) {
    const aliases: Record<string, string> = { 'p-256': 'prime256v1', 'p-384': 'secp384r1', 'p-521': 'secp521r1' };
    const asked = requested.groups.toLowerCase().split(':').map((g) => aliases[g] ?? g);
    if (!asked.includes(s.group.toLowerCase())) problems.push(`group ${s.group} was not in --groups`);
  }
  if (requested.alpn.length && !s.alpn) problems.push('the server selected no ALPN protocol');
  return problems.length ? `differs from what was asked: ${problems.join('; ')}` : null;
}

export function renderTable(result: RunResult): string {
  const out: string[] = [];
  const r = result.runtime;
  const t = result.target;
  const where = t.builtIn
    ? `built-in server (${builtInDetails(t.builtIn)})`
    : formatTarget(t) + (t.servername ? ` (SNI ${t.servername})` : '');
  out.push(`tlsbench ${result.tool.version} → ${t.builtIn ? formatTarget(t) + ' ' : ''}${where}`);
  const merged = machineTable(result);
  if (merged) {
    out.push(`clients: ${machinesHeadline(result)!}`);
    out.push(plainTable(merged, 5));
  } else {
    out.push(`client: Node ${r.node}, OpenSSL ${r.openssl}, ${r.cores} cores (${r.cpuModel}), ${result.config.workers} worker${result.config.workers === 1 ? '' : 's'}${r.clientCpus ? ` pinned to CPU ${r.clientCpus.join(',')}` : ''}`);
  }
  out.push(`run: ${describeRun(result.config, repeatCount(result))}`);
  if (result.interrupted) out.push('INTERRUPTED: the figures cover the part of the window that ran');
  for (const phase of result.phases) {
    const s = phase.summary;
    out.push('');
    out.push(`── phase ${phase.name} (resume ${phase.resume}) · ${windowLabel(phase)}${phase.interrupted ? ' · interrupted' : ''}`);
    out.push(phaseFacts(s, phase.resume).map((f) => f.text).join(' · '));
    const repeats = repeatTable(phase);
    if (repeats) out.push(spreadLine(phase)!, plainTable(repeats, 1));
    if (Object.keys(s.classes).length) out.push(phaseTable(phase));
    if (s.errorCount) {
      const errors = new Table({ head: ['error class', 'count', 'share'], colAligns: ['left', 'right', 'right'], style: plain });
      for (const [name, n] of Object.entries(s.errors).sort((a, b) => b[1] - a[1])) {
        errors.push([name, String(n), percent(n / Math.max(1, s.attempts))]);
      }
      out.push(errors.toString());
    }
    const negotiated = negotiatedLines(phase, result.config.tls);
    if (negotiated.length) out.push('negotiated:', ...negotiated);
    const ocsp = ocspLines(s);
    if (ocsp.length) out.push('OCSP staple:', ...ocsp.map((l) => `  ${l}`));
    const counted = builtInServerLine(phase);
    if (counted) out.push(counted);
    if (phase.serverCost) {
      out.push(`server: ${serverSourceLine(phase)}`);
      out.push(`  ${serverCostFacts(phase.serverCost).map(([label, value]) => `${label} ${value}`).join(' · ')}`);
    }
    out.push(`client event-loop utilisation: ${phase.client.elu.map((u) => `${(u * 100).toFixed(0)} %`).join(', ')}${phase.client.saturated ? '  ⚠ SATURATED' : ''}`);
    for (const f of collapseRepeated(phase.findings)) out.push(`⚠ ${f}`);
  }
  const gain = result.resumptionGain;
  if (gain) {
    out.push('');
    out.push(`resumption speedup: ${speedupLabel(gain)}`);
    const saving = serverSavingLabel(result);
    if (saving) out.push(`resumption saving on the server: ${saving}`);
  }
  if (!result.phases.some((p) => p.serverCost)) out.push(`note: ${SERVER_NOT_MEASURED}`);
  for (const w of collapseRepeated(result.warnings)) out.push(`⚠ ${w}`);
  return out.join('\n');
}

