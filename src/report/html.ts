import { readFileSync } from 'node:fs';
import type { CapacityResult, CapacitySearch, CapacityStep } from '../capacity/capacity-result.js';
import type { Objective } from '../capacity/objective.js';
import { bracketRole, planLine, STEP_HEAD, stepCells } from '../capacity/render.js';
import type { MatrixResult } from '../matrix/matrix-result.js';
import { cellCosts, cellsByCost, COST_LEGEND, matrixHasStaples, relativeCost, relativeServerCost, stapleCell } from '../matrix/render.js';
import { decodeHistogram } from '../metrics/histogram.js';
import type { PhaseResult, RunResult } from '../metrics/run-result.js';
import { latencyRows } from '../metrics/summary.js';
import { HANDSHAKE_CLASSES, type HandshakeClass } from '../metrics/tally.js';
import { ZERO_RTT_ROW } from '../metrics/early-data.js';
import { describeRun } from './describe.js';
import type { ReportInput } from './format.js';
import { clientCertificateLabel, phaseFacts, runtimeLabel, speedupLabel, targetLabel } from './labels.js';
import { serverCpuPerSecond } from '../metrics/server-cpu.js';
import { cpuMicros, SERVER_NOT_MEASURED, serverCostFacts, serverSavingLabel, serverSourceLine } from './server-cost-labels.js';
import { ms, negotiatedDiffers, percent, perSecondCell, rate } from './table.js';
import { collapseRepeated } from './collapse.js';
import { machinesHeadline, machineTable } from './machines.js';
import { repeatCount, repeatsOf, repeatTable, spreadLine, windowLabel } from './repeats.js';
import type { TimelinePoint } from '../metrics/timeline.js';
import { ocspLines } from './ocsp-labels.js';
import { lacksForwardSecrecy, NO_FORWARD_SECRECY } from '../metrics/forward-secrecy.js';
import { builtInServerLine } from './built-in-server-label.js';

/*
 * One self-contained page: Chart.js (MIT; vendored with its licence in vendor/chart.js by
 * scripts/vendor-chart-js.sh, its banner kept) is inlined, the data goes in as a JSON island, and
 * a small fixed script turns chart specs into charts. Nothing is fetched, so the file can be
 * mailed, archived as a CI artifact, or opened offline.
 */

/** For text and attribute values. Every string from a result goes through it. */
export function escapeHtml(text: string | number): string {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** JSON inside <script>: no `</script>`, `<!--` or line separators can end or confuse it. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** dist/src/report → the package root's vendor/: a path inside this package, shipped with it. */
const CHART_JS = new URL('../../../vendor/chart.js/chart.umd.min.js', import.meta.url);

let chartJs: string | undefined;
/** Chart.js's UMD build (a global `Chart`); vendored without the source-map comment the page cannot follow. */
function chartJsSource(): string {
  chartJs ??= readFileSync(CHART_JS, 'utf8').replace(/<\/script/gi, '<\\/script');
  return chartJs;
}

// ─── chart data ──────────────────────────────────────────────────────────────────────────────

interface Point { x: number; y: number }
interface PercentileSeries { label: string; color: string; dashed: boolean; points: Point[] }
interface TimelineSeries { label: string; color: string; values: (number | null)[] }
/** One phase's cost in every cell (null where that cell has no such phase or figure). */
interface CostSeries { label: string; color: string; values: (number | null)[] }

/** A capacity search: one value per step, against the step's offered rate. */
interface KneeSeries { label: string; color: string; dashed: boolean; points: Point[]; verdicts: string[] }

type ChartData =
  | { kind: 'percentile'; series: PercentileSeries[] }
  | { kind: 'knee'; yTitle: string; series: KneeSeries[] }
  | { kind: 'timeline'; labels: string[]; xTitle: string; series: TimelineSeries[]; p99: (number | null)[] }
  | { kind: 'cost'; labels: string[]; series: CostSeries[]; baseline: string }
  | { kind: 'serverCpu'; labels: string[]; xTitle: string; coresBusy: (number | null)[]; perHandshakeUs: (number | null)[] };
/** What the page script receives: the data of one chart and the id of its canvas. */
type ChartSpec = ChartData & { id: string };

const CLASS_COLORS: Record<HandshakeClass | typeof ZERO_RTT_ROW, string> = { full: '#2563eb', resumed: '#059669', miss: '#d97706', [ZERO_RTT_ROW]: '#7c3aed' };
const ERROR_COLOR = '#dc2626';
/** For matrix cells, which have no class to colour by. */
const PALETTE = ['#2563eb', '#059669', '#d97706', '#7c3aed', '#db2777', '#0891b2', '#65a30d', '#ea580c', '#4b5563', '#9333ea'];

/** 1/(1-p) steps per decade: smooth enough on a log axis, small enough to inline. */
const STEPS_PER_DECADE = 20;

/**
 * Latency (ms) against 1/(1-p), HdrHistogram's plot: x = 10 is p90, 1000 is p99.9. The curve
 * stops where the data stops resolving percentiles (x = count), ending at the maximum.
 */
export function percentileCurve(encoded: string): Point[] {
  const h = decodeHistogram(encoded);
  const count = h.totalCount;
  if (count === 0) return [];
  const points: Point[] = [];
  for (let i = 0; ; i++) {
    const x = 10 ** (i / STEPS_PER_DECADE);
    if (x >= count) break;
    points.push({ x: Number(x.toPrecision(6)), y: h.getValueAtPercentile(100 * (1 - 1 / x)) / 1000 });
  }
  points.push({ x: Math.max(1, count), y: h.maxValue / 1000 });
  return points;
}

function phaseLabel(phase: PhaseResult, cls: HandshakeClass, phaseCount: number): string {
  return phaseCount === 1 || phase.name === cls ? cls : `${phase.name} · ${cls}`;
}

/** Handshake (tls) latency of every class of the given phases; open loop adds the corrected `scheduled`. */
function percentileSeries(phases: readonly PhaseResult[], phaseCount: number): PercentileSeries[] {
  const series: PercentileSeries[] = [];
  for (const phase of phases) {
    for (const cls of HANDSHAKE_CLASSES) {
      const histograms = phase.tally.classes[cls]?.histograms;
      if (!histograms?.tls) continue;
      const label = phaseLabel(phase, cls, phaseCount);
      series.push({ label: `${label} (tls)`, color: CLASS_COLORS[cls], dashed: false, points: percentileCurve(histograms.tls) });
      if (histograms.scheduled) {
        series.push({ label: `${label} (scheduled, corrected)`, color: CLASS_COLORS[cls], dashed: true, points: percentileCurve(histograms.scheduled) });
      }
    }
  }
  return series;
}

/** A measured window of a phase: the one window, or with --repeat each repeat's own. */
interface MeasuredWindow { startedAt: number; ms: number; repeat: number | null }

function measuredWindows(phase: PhaseResult): MeasuredWindow[] {
  const repeats = repeatsOf(phase);
  if (!repeats) return [{ startedAt: phase.windowStartedAt, ms: phase.windowMs, repeat: null }];
  return repeats.map((r, i) => ({ startedAt: r.windowStartedAt, ms: r.windowMs, repeat: i + 1 }));
}

/**
 * The seconds of a phase's measured windows, in order. Repeats are apart in time (a new built-in
 * server, warm-up): each repeat is its own run of seconds, with an empty slot (null) between
 * them so no bar or line joins one repeat to the next across time that was not measured.
 */
function perSecondAxis<T>(phase: PhaseResult, valueAt: (w: MeasuredWindow, second: number) => T | null): { labels: string[]; xTitle: string; values: (T | null)[] } {
  const labels: string[] = [];
  const values: (T | null)[] = [];
  measuredWindows(phase).forEach((w, i) => {
    if (i > 0) {
      labels.push('');
      values.push(null);
    }
    const seconds = Math.max(1, Math.ceil(w.ms / 1000));
    for (let second = 0; second < seconds; second++) {
      labels.push(w.repeat === null ? `${second + 1} s` : `r${w.repeat} ${second + 1} s`);
      values.push(valueAt(w, second));
    }
  });
  const xTitle = measuredWindows(phase).length > 1 ? 'repeat and second of its measured window (gaps: between repeats, not measured)' : 'second of the measured window';
  return { labels, xTitle, values };
}

/** The timeline point of a window's second, found by wall clock (merged points keep `at`). */
function pointAt(phase: PhaseResult): (w: MeasuredWindow, second: number) => TimelinePoint | null {
  const byClock = new Map(phase.timeline.map((p) => [Math.round(p.at / 1000), p]));
  return (w, second) => (w.repeat === null
    ? phase.timeline.find((p) => p.second === second) ?? null
    : byClock.get(Math.round((w.startedAt + second * 1000) / 1000)) ?? null);
}

function timelineData(phase: PhaseResult): ChartData {
  // The measured window only: warm-up, ramp and the drain after the window are in no other figure either.
  const { labels, xTitle, values: points } = perSecondAxis(phase, pointAt(phase));
  const present = points.filter((p): p is TimelinePoint => p !== null);
  const series: TimelineSeries[] = HANDSHAKE_CLASSES
    .filter((cls) => present.some((p) => p.handshakes[cls] > 0))
    .map((cls) => ({ label: cls, color: CLASS_COLORS[cls], values: points.map((p) => (p ? p.handshakes[cls] : null)) }));
  series.push({ label: 'errors', color: ERROR_COLOR, values: points.map((p) => (p ? p.errors : null)) });
  return { kind: 'timeline', labels, xTitle, series, p99: points.map((p) => (p && HANDSHAKE_CLASSES.some((c) => p.handshakes[c] > 0) ? p.p99 / 1000 : null)) };
}

/** Per second of the window(s): server cores busy, and server CPU-µs per handshake completed that second. */
function serverCpuData(phase: PhaseResult): ChartData | null {
  const server = phase.server;
  if (!server || server.readings.length < 2) return null;
  const point = pointAt(phase);
  const perWindow = new Map(measuredWindows(phase).map((w) => [w, serverCpuPerSecond(server, w.startedAt, w.ms)]));
  const { labels, xTitle, values } = perSecondAxis(phase, (w, second) => {
    const cpu = perWindow.get(w)?.[second];
    if (!cpu) return null;
    const p = point(w, second);
    const n = p ? HANDSHAKE_CLASSES.reduce((a, c) => a + p.handshakes[c], 0) : 0;
    return { cores: Number(cpu.cpuSeconds.toFixed(4)), us: n > 0 ? Number(((cpu.cpuSeconds * 1e6) / n).toFixed(1)) : null };
  });
  return { kind: 'serverCpu', labels, xTitle, coresBusy: values.map((v) => v?.cores ?? null), perHandshakeUs: values.map((v) => v?.us ?? null) };
}

// ─── page parts ──────────────────────────────────────────────────────────────────────────────

/** Collects chart specs while the page is written, so ids and specs cannot drift apart. */
class Charts {
  readonly specs: ChartSpec[] = [];

  add(title: string, note: string, data: ChartData): string {
    const id = `chart-${this.specs.length + 1}`;
    this.specs.push({ ...data, id });
    return `<figure class="chart"><figcaption>${escapeHtml(title)}<span>${escapeHtml(note)}</span></figcaption>` +
      `<div class="canvas-box"><canvas id="${id}" role="img" aria-label="${escapeHtml(title)}"></canvas></div></figure>`;
  }
}

const PERCENTILE_NOTE = 'x: percentile (log scale of 1/(1−p)) · y: ms';

function metaList(items: readonly [string, string][]): string {
  return `<dl class="meta">${items.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join('')}</dl>`;
}

/** Findings and warnings: what a person should act on, set apart from the figures; each distinct one once. */
function notes(list: readonly string[]): string {
  return list.length ? `<ul class="notes">${collapseRepeated(list).map((f) => `<li class="finding">${escapeHtml(f)}</li>`).join('')}</ul>` : '';
}

/** A table of text cells (repeats, machines); columns from `numericFrom` right-aligned. */
function textTable(caption: string, t: { head: string[]; rows: string[][] }, numericFrom: number, cls: string): string {
  const align = (i: number) => (i >= numericFrom ? ' class="num"' : '');
  return `<table class="${cls}"><caption>${escapeHtml(caption)}</caption><thead><tr>${t.head.map((h, i) => `<th${align(i)}>${escapeHtml(h)}</th>`).join('')}</tr></thead>` +
    `<tbody>${t.rows.map((r) => `<tr>${r.map((v, i) => `<td${align(i)}>${escapeHtml(v)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

function latencyTable(phase: PhaseResult): string {
  const head = ['class', 'metric', 'count', 'per s', 'min', 'p50', 'p90', 'p99', 'p99.9', 'max'];
  const rows = latencyRows(phase.summary).map((row) => {
    const l = row.latency;
    const cells = [row.count, perSecondCell(row), ms(l.min), ms(l.p50), ms(l.p90), ms(l.p99), ms(l.p999), ms(l.max)];
    return `<tr><td><span class="dot" style="background:${CLASS_COLORS[row.cls]}"></span>${row.cls}</td><td>${row.metric}</td>` +
      cells.map((v) => `<td class="num">${escapeHtml(v)}</td>`).join('') + '</tr>';
  });
  if (!rows.length) return '<p class="muted">No handshake completed in this phase.</p>';
  return `<table><caption>Latency in ms</caption><thead><tr>${head.map((h, i) => `<th${i > 1 ? ' class="num"' : ''}>${h}</th>`).join('')}</tr></thead>` +
    `<tbody>${rows.join('')}</tbody></table>`;
}

function errorTable(phase: PhaseResult): string {
  const s = phase.summary;
  if (!s.errorCount) return '';
  const rows = Object.entries(s.errors).sort((a, b) => b[1] - a[1])
    .map(([name, n]) => `<tr><td><code>${escapeHtml(name)}</code></td><td class="num">${n}</td><td class="num">${escapeHtml(percent(n / Math.max(1, s.attempts)))}</td></tr>`);
  return `<table class="errors"><caption>Errors</caption><thead><tr><th>error class</th><th class="num">count</th><th class="num">share of attempts</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function negotiatedList(phase: PhaseResult, result: RunResult): string {
  const items: string[] = [];
  for (const cls of HANDSHAKE_CLASSES) {
    const samples = phase.summary.classes[cls]?.negotiated ?? [];
    const total = samples.reduce((a, s) => a + s.count, 0);
    for (const s of samples) {
      const parts = [s.protocol, s.cipher, `group ${s.group}`, `cert ${s.certificate}`];
      if (s.alpn) parts.push(`ALPN ${s.alpn}`);
      const clientCertificate = clientCertificateLabel(s);
      if (clientCertificate) parts.push(clientCertificate);
      const share = samples.length > 1 ? ` (${((s.count / total) * 100).toFixed(0)} % of ${total} sampled)` : '';
      const differs = negotiatedDiffers(s, result.config.tls);
      const fs = lacksForwardSecrecy(s) ? `<div class="finding">${escapeHtml(NO_FORWARD_SECRECY)}</div>` : '';
      items.push(`<li><b>${cls}</b>: ${escapeHtml(parts.join(', ') + share)}${differs ? `<div class="finding">${escapeHtml(differs)}</div>` : ''}${fs}</li>`);
    }
  }
  return items.length ? `<div class="negotiated"><h4>Negotiated</h4><ul>${items.join('')}</ul></div>` : '';
}

function ocspList(phase: PhaseResult): string {
  const items = ocspLines(phase.summary).map((l) => `<li>${escapeHtml(l)}</li>`);
  const counted = builtInServerLine(phase);
  return (items.length ? `<div class="negotiated"><h4>OCSP staple</h4><ul>${items.join('')}</ul></div>` : '')
    + (counted ? `<p class="muted">${escapeHtml(counted)}</p>` : '');
}

function stat(label: string, value: string, tone = ''): string {
  return `<div class="stat ${tone}"><div class="value">${escapeHtml(value)}</div><div class="label">${escapeHtml(label)}</div></div>`;
}

function phaseStats(phase: PhaseResult): string {
  const s = phase.summary;
  const main = HANDSHAKE_CLASSES.map((c) => s.classes[c]).find((c) => c?.latency.tls);
  const stats = [stat('handshakes/s', rate(s.rate))];
  if (main?.latency.tls) stats.push(stat('p50 handshake', `${ms(main.latency.tls.p50)} ms`), stat('p99 handshake', `${ms(main.latency.tls.p99)} ms`));
  if (phase.resume !== 'none') stats.push(stat('hit rate', percent(s.hitRate), s.hitRate !== null && s.hitRate < 0.99 ? 'bad' : ''));
  stats.push(stat('errors', String(s.errorCount), s.errorCount ? 'bad' : ''));
  if (s.dropped) stats.push(stat('dropped', String(s.dropped), 'bad'));
  if (phase.serverCost) {
    stats.push(stat('server CPU-µs per handshake', cpuMicros(phase.serverCost.perHandshakeUs)));
    stats.push(stat('server cores busy', phase.serverCost.coresBusy.toFixed(2)));
  }
  const elu = Math.max(0, ...phase.client.elu);
  stats.push(stat('client busy', `${(elu * 100).toFixed(0)} %`, phase.client.saturated ? 'bad' : ''));
  return `<div class="stats">${stats.join('')}</div>`;
}

function phaseSection(phase: PhaseResult, result: RunResult, charts: Charts): string {
  const s = phase.summary;
  const facts = [windowLabel(phase), ...phaseFacts(s, phase.resume).map((f) => f.text)];
  if (phase.interrupted) facts.push('interrupted');
  const series = percentileSeries([phase], 1);
  const chartHtml = [
    series.length ? charts.add('Handshake latency by percentile', PERCENTILE_NOTE, { kind: 'percentile', series }) : '',
    charts.add('Throughput per second', 'bars: handshakes/s by class and errors · line: p99 ms', timelineData(phase)),
  ].join('');
  const serverData = serverCpuData(phase);
  const serverChart = serverData ? charts.add('Server CPU per second', 'bars: server cores busy · line: server CPU-µs per handshake', serverData) : '';
  return `<section class="phase"><h2>Phase <q>${escapeHtml(phase.name)}</q> <small>resume ${escapeHtml(phase.resume)} · ${escapeHtml(facts.join(' · '))}</small></h2>` +
    phaseStats(phase) + notes(phase.findings) + repeatsHtml(phase) + `<div class="charts">${chartHtml}${serverChart}</div>` +
    `<div class="tables">${latencyTable(phase)}${errorTable(phase)}${serverTable(phase)}</div>${negotiatedList(phase, result)}${ocspList(phase)}</section>`;
}

function repeatsHtml(phase: PhaseResult): string {
  const table = repeatTable(phase);
  return table ? `<div class="tables">${textTable(`Repeats: ${spreadLine(phase)!}`, table, 1, 'repeats')}</div>` : '';
}

function serverTable(phase: PhaseResult): string {
  if (!phase.serverCost) return '';
  const rows = serverCostFacts(phase.serverCost).map(([label, value]) => `<tr><td>${escapeHtml(label)}</td><td class="num">${escapeHtml(value)}</td></tr>`);
  return `<table class="server"><caption>Server cost <span class="muted">${escapeHtml(serverSourceLine(phase))}</span></caption><tbody>${rows.join('')}</tbody></table>`;
}

function runBody(result: RunResult, charts: Charts): string {
  const out: string[] = [];
  const machines = machineTable(result);
  out.push(metaList([
    ['Target', targetLabel(result)],
    ['Run', describeRun(result.config, repeatCount(result))],
    machines ? ['Clients', machinesHeadline(result)!] : ['Client', runtimeLabel(result)],
    ['Started', `${result.startedAt} (finished ${result.finishedAt})`],
  ]));
  if (machines) out.push(`<section class="phase machines">${textTable('Load machines (merged)', machines, 5, 'machines')}</section>`);
  if (result.interrupted) out.push(notes(['Interrupted: the figures cover the part of the window that ran.']));
  const gain = result.resumptionGain;
  if (gain) {
    out.push(`<p class="gain">Resumption speedup: <b>${escapeHtml(speedupLabel(gain))}</b></p>`);
    const saving = serverSavingLabel(result);
    if (saving) out.push(`<p class="gain">Resumption saving on the server: <b>${escapeHtml(saving)}</b></p>`);
  }
  if (!result.phases.some((p) => p.serverCost)) out.push(`<p class="muted">${escapeHtml(SERVER_NOT_MEASURED)}</p>`);
  out.push(notes(result.warnings));
  if (result.phases.length > 1) {
    const series = percentileSeries(result.phases, result.phases.length);
    if (series.length) {
      out.push(`<div class="charts wide">${charts.add('Handshake latency by percentile: every phase', PERCENTILE_NOTE, { kind: 'percentile', series })}</div>`);
    }
  }
  for (const phase of result.phases) out.push(phaseSection(phase, result, charts));
  return out.join('\n');
}

// ─── matrix ──────────────────────────────────────────────────────────────────────────────────

/** Phase names in first-seen order across the cells, so every cell's `full` lines up with the baseline's. */
function phaseNames(matrix: MatrixResult): string[] {
  return [...new Set(matrix.cells.flatMap((c) => c.result?.phases.map((p) => p.name) ?? []))];
}

function matrixBody(matrix: MatrixResult, charts: Charts): string {
  const baseline = matrix.cells.find((c) => c.name === matrix.baseline);
  const cells = cellsByCost(matrix);
  const ran = cells.filter((c) => c.result);
  const out: string[] = [];
  const first = ran[0]?.result;
  if (first) out.push(metaList([['Target', targetLabel(first)], ['Client', runtimeLabel(first)], ['Baseline', matrix.baseline ?? '—']]));
  const chartHtml: string[] = [];
  const phases = phaseNames(matrix);
  // Server CPU per handshake when every cell measured it; else the throughput-based cost.
  const byServer = ran.length > 0 && ran.every((c) => c.result!.phases.every((p) => p.serverCost?.perHandshakeUs != null));
  const costs = phases.map((name) => ran.map((c) => {
    const phase = c.result!.phases.find((p) => p.name === name);
    const cost = phase ? (byServer ? relativeServerCost(phase, baseline) : relativeCost(phase, baseline)) : null;
    return cost === null ? null : Number(cost.toFixed(4));
  }));
  if (costs.some((list) => list.some((v) => v !== null))) {
    const what = byServer ? "server CPU per handshake ÷ the baseline's" : "baseline handshakes/s ÷ the cell's (may be the client's limit)";
    chartHtml.push(charts.add(byServer ? 'Relative server cost per handshake' : 'Relative cost per handshake', `${what}, per phase · baseline ${matrix.baseline ?? '—'} = 1 · lower is cheaper`, {
      kind: 'cost', labels: ran.map((c) => c.name), baseline: matrix.baseline ?? '',
      series: phases.map((name, i) => ({ label: name, color: PALETTE[i % PALETTE.length]!, values: costs[i]! })),
    }));
  }
  // Every cell × phase × class: a cell's colour, a phase's dash, so a resumed phase reads beside its full one.
  const series: PercentileSeries[] = [];
  ran.forEach((cell, i) => {
    cell.result!.phases.forEach((phase, p) => {
      for (const cls of HANDSHAKE_CLASSES) {
        const tls = phase.tally.classes[cls]?.histograms.tls;
        if (!tls) continue;
        const label = [cell.name, phases.length > 1 ? phase.name : '', phase.name !== cls ? cls : ''].filter(Boolean).join(' · ');
        series.push({ label, color: PALETTE[i % PALETTE.length]!, dashed: p > 0, points: percentileCurve(tls) });
      }
    });
  });
  if (series.length) chartHtml.push(charts.add('Handshake latency by percentile, per cell and phase', `${PERCENTILE_NOTE} · dashed: a cell's later phases`, { kind: 'percentile', series }));
  out.push(`<div class="charts">${chartHtml.join('')}</div>`);
  const rows: string[] = [];
  const findings: { text: string; where: string }[] = [];
  const staples = matrixHasStaples(matrix);
  for (const cell of cells) {
    const name = `<td>${escapeHtml(cell.name)}${cell.name === matrix.baseline ? ' <span class="muted">(baseline)</span>' : ''}</td>`;
    if (!cell.result) {
      rows.push(`<tr>${name}<td colspan="${staples ? 9 : 8}" class="muted">skipped: ${escapeHtml(cell.skipped ?? 'not run')}</td></tr>`);
      continue;
    }
    cell.result.phases.forEach((phase, i) => {
      const tls = HANDSHAKE_CLASSES.map((c) => phase.summary.classes[c]?.latency.tls).find(Boolean);
      const costs = cellCosts(phase, baseline);
      const figures = [rate(phase.summary.rate), tls ? ms(tls.p50) : '—', tls ? ms(tls.p99) : '—', ...(staples ? [stapleCell(phase)] : []), costs.serverUs, costs.serverRelative, costs.throughputRelative, String(phase.summary.errorCount)];
      rows.push(`<tr${cell.name === matrix.baseline ? ' class="baseline"' : ''}>${i === 0 ? name : '<td></td>'}<td>${escapeHtml(phase.name)}</td>` +
        figures.map((f) => `<td class="num">${escapeHtml(f)}</td>`).join('') + '</tr>');
      for (const f of phase.findings) findings.push({ text: f, where: `${cell.name} · ${phase.name}` });
    });
  }
  out.push(`<section class="phase"><table class="matrix"><caption>Cells, cheapest first</caption><thead><tr><th>cell</th><th>phase</th><th class="num">handshakes/s</th>` +
    `<th class="num">p50 ms</th><th class="num">p99 ms</th>${staples ? '<th class="num">OCSP staple</th>' : ''}<th class="num">server µs</th><th class="num">server cost</th><th class="num">throughput cost</th><th class="num">errors</th></tr></thead><tbody>${rows.join('')}</tbody></table><p class="muted">${escapeHtml(COST_LEGEND)}</p>${matrixFindings(findings)}</section>`);
  return out.join('\n');
}

// ─── capacity ────────────────────────────────────────────────────────────────────────────────

const OFFERED_COLOR = '#94a3b8';

/** Steps that were judged, by offered rate: the knee reads left to right. */
function kneeSteps(search: CapacitySearch): CapacityStep[] {
  return search.steps.filter((s) => s.verdict !== 'interrupted').sort((a, b) => a.offered - b.offered);
}

/** p50 (solid) and p99 (dashed) of the step metric per class, and the latency objectives as flat lines. */
function kneeLatency(search: CapacitySearch, objectives: readonly Objective[]): KneeSeries[] {
  const steps = kneeSteps(search);
  const series: KneeSeries[] = [];
  for (const cls of HANDSHAKE_CLASSES) {
    const with_ = steps.filter((s) => s.classes[cls]);
    if (!with_.length) continue;
    for (const [p, dashed] of [['p50', false], ['p99', true]] as const) {
      series.push({ label: `${cls} ${p}`, color: CLASS_COLORS[cls], dashed, verdicts: with_.map((s) => s.verdict), points: with_.map((s) => ({ x: s.offered, y: s.classes[cls]![p] / 1000 })) });
    }
  }
  const xs = steps.map((s) => s.offered);
  for (const o of objectives.filter((o) => o.kind === 'latency' && o.metric === steps[0]?.metric)) {
    if (xs.length) series.push({ label: `objective: ${o.text}`, color: ERROR_COLOR, dashed: true, verdicts: [], points: [{ x: Math.min(...xs), y: o.limit / 1000 }, { x: Math.max(...xs), y: o.limit / 1000 }] });
  }
  return series;
}

/** Achieved handshakes/s per class and in total, beside the offered rate itself (y = x). */
function kneeThroughput(search: CapacitySearch): KneeSeries[] {
  const steps = kneeSteps(search);
  const series: KneeSeries[] = [{ label: 'offered', color: OFFERED_COLOR, dashed: true, verdicts: [], points: steps.map((s) => ({ x: s.offered, y: s.offered })) }];
  series.push({ label: 'achieved (all classes)', color: '#0f172a', dashed: false, verdicts: steps.map((s) => s.verdict), points: steps.map((s) => ({ x: s.offered, y: s.achieved })) });
  for (const cls of HANDSHAKE_CLASSES) {
    const with_ = steps.filter((s) => s.classes[cls]);
    if (with_.length && with_.some((s) => s.classes[cls]!.rate !== s.achieved)) {
      series.push({ label: `achieved ${cls}`, color: CLASS_COLORS[cls], dashed: false, verdicts: with_.map((s) => s.verdict), points: with_.map((s) => ({ x: s.offered, y: s.classes[cls]!.rate })) });
    }
  }
  return series;
}

function capacitySection(search: CapacitySearch, capacity: CapacityResult, charts: Charts): string {
  const metric = search.steps[0]?.metric ?? 'tls';
  const chartHtml = kneeSteps(search).length ? [
    charts.add('Latency against offered rate', `${metric} latency per class · solid p50, dashed p99 · ● pass ✕ server failed ▲ client limit`, { kind: 'knee', yTitle: 'ms', series: kneeLatency(search, capacity.objectives) }),
    charts.add('Achieved against offered rate', 'handshakes/s completed in each step\'s window · grey: offered (y = x)', { kind: 'knee', yTitle: 'handshakes/s', series: kneeThroughput(search) }),
  ].join('') : '';
  const head = [...STEP_HEAD, 'bracket', 'why'];
  const rows = search.steps.map((step, i) => {
    const cells = [...stepCells(step, i), bracketRole(search, step)];
    const tone = step.verdict === 'pass' ? '' : ' class="bad"';
    return `<tr${tone}>${cells.map((c, j) => `<td${j < cells.length - 2 ? ' class="num"' : ''}>${escapeHtml(c)}</td>`).join('')}<td>${step.verdict === 'pass' ? '' : escapeHtml(step.reason)}</td></tr>`;
  });
  const answer = search.answer;
  const tone = answer.limitedBy === 'server' || answer.limitedBy === 'max-rate' ? '' : 'bad';
  const stats = [
    stat('sustained rate', answer.rate === null ? '—' : `${answer.rate}/s`, tone),
    stat('last passing', answer.lastPassing === null ? '—' : `${answer.lastPassing}/s`),
    stat('first failing', answer.firstFailing === null ? '—' : `${answer.firstFailing}/s`),
    stat('limited by', answer.limitedBy, tone),
  ].join('');
  return `<section class="phase"><h2>${escapeHtml(search.phase)} handshakes <small>resume ${escapeHtml(search.resume)} · ${search.steps.length} steps</small></h2>` +
    `<div class="stats">${stats}</div><p class="gain">${escapeHtml(answer.text)}</p><div class="charts">${chartHtml}</div>` +
    `<table class="matrix"><caption>Steps, in the order they ran</caption><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table></section>`;
}

function capacityBody(capacity: CapacityResult, charts: Charts): string {
  const out: string[] = [];
  const first = capacity.searches.flatMap((s) => s.steps)[0]?.result;
  const meta: [string, string][] = [['Search', planLine(capacity)]];
  if (first) meta.unshift(['Target', targetLabel(first)], ['Client', runtimeLabel(first)]);
  out.push(metaList(meta));
  const stopped = [
    ...(capacity.stoppedBy ? [`Stopped early (${capacity.stoppedBy}): the steps done so far are kept.`] : []),
    ...(capacity.failure ? [capacity.failure] : []),
  ];
  out.push(notes(stopped));
  for (const search of capacity.searches) out.push(capacitySection(search, capacity, charts));
  return out.join('\n');
}

/** Each distinct finding once, with how many cell phases had it and which. */
function matrixFindings(findings: readonly { text: string; where: string }[]): string {
  if (!findings.length) return '';
  const where = new Map<string, string[]>();
  for (const f of findings) where.set(f.text, [...(where.get(f.text) ?? []), f.where]);
  const items = [...where].map(([text, list]) => `<li class="finding">${escapeHtml(list.length > 1 ? `${text} (×${list.length}: ${list.join(', ')})` : `${text} (${list[0]!})`)}</li>`);
  return `<h4>Findings</h4><ul class="notes">${items.join('')}</ul>`;
}

// ─── page ────────────────────────────────────────────────────────────────────────────────────

const STYLE = `
:root { --ink:#0f172a; --muted:#64748b; --line:#e2e8f0; --card:#fff; --bg:#f8fafc; --bad:#b91c1c; --warn-bg:#fffbeb; --warn:#92400e; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink); font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
main { max-width: 1200px; margin: 0 auto; padding: 24px 28px 40px; }
h1 { font-size: 22px; margin: 0 0 14px; } h1 small { color: var(--muted); font-weight: 400; font-size: 14px; }
h2 { font-size: 17px; margin: 0 0 12px; } h2 small { color: var(--muted); font-weight: 400; font-size: 13px; margin-left: 6px; }
h4 { margin: 14px 0 4px; font-size: 13px; }
.meta { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0 0 16px; background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; }
.meta dt { color: var(--muted); } .meta dd { margin: 0; }
.gain { font-size: 15px; margin: 0 0 16px; }
section.phase { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 18px 20px; margin: 0 0 20px; }
.stats { display: flex; flex-wrap: wrap; gap: 10px; margin: 0 0 14px; }
.stat { border: 1px solid var(--line); border-radius: 8px; padding: 8px 14px; min-width: 118px; }
.stat .value { font-size: 20px; font-weight: 600; font-variant-numeric: tabular-nums; } .stat .label { color: var(--muted); font-size: 12px; }
.stat.bad .value { color: var(--bad); }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 16px; margin: 0 0 16px; }
.chart { margin: 0; background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px 8px; }
.chart figcaption { font-weight: 600; margin: 0 0 6px; } .chart figcaption span { display: block; color: var(--muted); font-weight: 400; font-size: 12px; }
.canvas-box { position: relative; height: 300px; }
.tables { display: flex; flex-wrap: wrap; gap: 20px; align-items: flex-start; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; background: var(--card); }
caption { text-align: left; font-weight: 600; padding: 0 0 4px; }
th, td { padding: 4px 10px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { color: var(--muted); font-weight: 500; font-size: 12px; } .num { text-align: right; }
tr.baseline td { background: #f1f5f9; font-weight: 600; }
tr.bad td { color: var(--bad); }
table.matrix { width: 100%; border: 1px solid var(--line); border-radius: 8px; }
.dot { display: inline-block; width: 9px; height: 9px; border-radius: 50%; margin-right: 6px; }
.notes { list-style: none; padding: 0; margin: 0 0 14px; }
.finding { background: var(--warn-bg); color: var(--warn); border-left: 3px solid #f59e0b; padding: 6px 10px; margin: 4px 0; border-radius: 4px; }
.negotiated ul { margin: 0; padding-left: 18px; } .muted { color: var(--muted); }
footer { color: var(--muted); font-size: 12px; margin-top: 24px; }
`;

/** Runs in the page: turns the chart specs into Chart.js charts and counts what rendered. */
const PAGE_SCRIPT = `
(() => {
  'use strict';
  const specs = JSON.parse(document.getElementById('tlsbench-charts').textContent);
  window.__chartsExpected = specs.length;
  window.__chartsRendered = 0;
  if (typeof Chart === 'undefined') { console.error('tlsbench report: Chart.js did not load'); return; }
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.color = '#475569';
  Chart.register({ id: 'tlsbenchRendered', afterRender(chart) {
    if (chart.$tlsbenchRendered) return;
    chart.$tlsbenchRendered = true;
    chart.canvas.dataset.rendered = 'true';
    window.__chartsRendered++;
  } });
  const grid = { color: '#e2e8f0' };
  // 1/(1-p) → percentile text: 10 → 90, 1000 → 99.9.
  const percentile = (x, extra = 0) => (100 * (1 - 1 / x)).toFixed(Math.max(0, Math.round(Math.log10(x)) - 2 + extra));
  // Lines get a line swatch, bars a square one; entries in dataset order.
  const lineLegend = { position: 'bottom', labels: { boxWidth: 16, boxHeight: 2, padding: 12 } };
  const legend = { position: 'bottom', labels: { boxWidth: 12, boxHeight: 12, padding: 12, sort: (a, b) => a.datasetIndex - b.datasetIndex } };
  const builders = {
    percentile(spec) {
      const maxX = Math.max(2, ...spec.series.flatMap((s) => s.points.map((p) => p.x)));
      return {
        type: 'line',
        data: { datasets: spec.series.map((s) => ({
          label: s.label, data: s.points, borderColor: s.color, backgroundColor: s.color,
          borderDash: s.dashed ? [6, 4] : [], borderWidth: 2, pointRadius: 0, pointHitRadius: 6, stepped: 'after',
        })) },
        options: {
          parsing: false, interaction: { mode: 'nearest', intersect: false },
          scales: {
            x: { type: 'logarithmic', min: 1, max: maxX, grid, title: { display: true, text: 'percentile' },
              afterBuildTicks: (axis) => {
                const ticks = [{ value: 1 }, { value: 2 }];
                for (let v = 10; v <= maxX; v *= 10) ticks.push({ value: v });
                axis.ticks = ticks;
              },
              ticks: { callback: (v) => percentile(v) + '%' } },
            y: { beginAtZero: true, grid, title: { display: true, text: 'ms' } },
          },
          plugins: { legend: lineLegend, tooltip: { callbacks: {
            title: (items) => 'p' + percentile(items[0].parsed.x, 2),
            label: (item) => item.dataset.label + ': ' + item.parsed.y.toFixed(3) + ' ms',
          } } },
        },
      };
    },
    timeline(spec) {
      const bars = spec.series.map((s) => ({ type: 'bar', label: s.label, data: s.values, backgroundColor: s.color, stack: 'n', yAxisID: 'y', order: 2, maxBarThickness: 64 }));
      const hasP99 = spec.p99.some((v) => v !== null);
      const p99 = { type: 'line', label: 'p99 ms', hidden: !hasP99, data: spec.p99, borderColor: '#0f172a', backgroundColor: '#0f172a', borderWidth: 1.5, pointRadius: 2, yAxisID: 'ms', order: 1 };
      return {
        type: 'bar',
        data: { labels: spec.labels, datasets: [...bars, p99] },
        options: {
          interaction: { mode: 'index', intersect: false },
          scales: {
            x: { stacked: true, grid: { display: false }, title: { display: true, text: spec.xTitle } },
            y: { stacked: true, beginAtZero: true, grid, title: { display: true, text: 'per second' } },
            ms: { display: hasP99, position: 'right', beginAtZero: true, grid: { display: false }, title: { display: true, text: 'p99 ms' } },
          },
          plugins: { legend: { ...legend, labels: { ...legend.labels, filter: (item) => hasP99 || item.text !== 'p99 ms' } } },
        },
      };
    },
    serverCpu(spec) {
      return {
        type: 'bar',
        data: { labels: spec.labels, datasets: [
          { type: 'bar', label: 'server cores busy', data: spec.coresBusy, backgroundColor: '#7c3aed', yAxisID: 'y', order: 2, maxBarThickness: 64 },
          { type: 'line', label: 'server CPU-µs per handshake', data: spec.perHandshakeUs, borderColor: '#0f172a', backgroundColor: '#0f172a', borderWidth: 1.5, pointRadius: 2, yAxisID: 'us', order: 1 },
        ] },
        options: {
          interaction: { mode: 'index', intersect: false },
          scales: {
            x: { grid: { display: false }, title: { display: true, text: spec.xTitle } },
            y: { beginAtZero: true, grid, title: { display: true, text: 'cores busy' } },
            us: { position: 'right', beginAtZero: true, grid: { display: false }, title: { display: true, text: 'CPU-µs per handshake' } },
          },
          plugins: { legend },
        },
      };
    },
    knee(spec) {
      const marks = { pass: 'circle', fail: 'crossRot', 'client-limit': 'triangle' };
      return {
        type: 'line',
        data: { datasets: spec.series.map((s) => ({
          label: s.label, data: s.points, borderColor: s.color, backgroundColor: s.color,
          borderDash: s.dashed ? [6, 4] : [], borderWidth: 2, pointRadius: s.verdicts.length ? 4 : 0,
          pointStyle: s.verdicts.length ? s.verdicts.map((v) => marks[v] || 'circle') : 'circle',
        })) },
        options: {
          parsing: false, interaction: { mode: 'nearest', intersect: false },
          scales: {
            x: { type: 'linear', beginAtZero: true, grid, title: { display: true, text: 'offered handshakes/s' } },
            y: { beginAtZero: true, grid, title: { display: true, text: spec.yTitle } },
          },
          plugins: { legend: lineLegend },
        },
      };
    },
    cost(spec) {
      return {
        type: 'bar',
        data: { labels: spec.labels, datasets: spec.series.map((s) => ({ label: s.label, data: s.values, backgroundColor: s.color, maxBarThickness: 28 })) },
        options: {
          indexAxis: 'y',
          scales: {
            x: { beginAtZero: true, grid, title: { display: true, text: '× the baseline cost per handshake' } },
            y: { grid: { display: false }, ticks: { font: (ctx) => ({ weight: spec.labels[ctx.index] === spec.baseline ? 'bold' : 'normal' }) } },
          },
          plugins: { legend: { ...legend, display: spec.series.length > 1 }, tooltip: { callbacks: { label: (item) => item.dataset.label + ': ' + item.parsed.x.toFixed(2) + '×' } } },
        },
      };
    },
  };
  for (const spec of specs) new Chart(document.getElementById(spec.id), builders[spec.kind](spec));
})();
`;

function title(input: ReportInput): string {
  if (input.kind === 'matrix') return `tlsbench matrix · ${input.matrix.cells.length} cells`;
  if (input.kind === 'capacity') return `tlsbench capacity · ${input.capacity.objectives.map((o) => o.text).join(', ')}`;
  return `tlsbench · ${targetLabel(input.result)}`;
}

export function renderHtml(input: ReportInput): string {
  const charts = new Charts();
  let body: string;
  let version: string;
  let heading: string;
  if (input.kind === 'run') {
    body = runBody(input.result, charts);
    version = input.result.tool.version;
    heading = `tlsbench report <small>${escapeHtml(input.result.startedAt)}</small>`;
  } else if (input.kind === 'matrix') {
    body = matrixBody(input.matrix, charts);
    version = input.matrix.cells.find((c) => c.result)?.result?.tool.version ?? '';
    heading = `tlsbench matrix <small>${input.matrix.cells.length} cells</small>`;
  } else {
    body = capacityBody(input.capacity, charts);
    version = input.capacity.tool.version;
    heading = `tlsbench capacity <small>${escapeHtml(input.capacity.startedAt)}</small>`;
  }
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title(input))}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<h1>${heading}</h1>
${body}
<footer>tlsbench ${escapeHtml(version)} · charts drawn by Chart.js (MIT), included in this file</footer>
</main>
<script id="tlsbench-charts" type="application/json">${scriptJson(charts.specs)}</script>
<script>${chartJsSource()}</script>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}
