import type { RunResult } from '../metrics/run-result.js';
import { latencyRows, type PhaseSummary } from '../metrics/summary.js';
import { isHandshakeClass, RESUMPTION_MECHANISMS } from '../metrics/tally.js';
import { mergedMachines, windowSkewMs } from './machines.js';
import { repeatsOf, spreadOf } from './repeats.js';

/** Latency columns stay in integer µs, as recorded, so a spreadsheet loses no precision. */
export const CSV_HEADER = [
  'phase', 'resume', 'class', 'metric', 'window_s', 'count', 'per_s',
  'min_us', 'mean_us', 'p50_us', 'p90_us', 'p99_us', 'p999_us', 'max_us', 'stdev_us',
  // The phase's server cost (empty when not measured), repeated on each of its rows.
  'server_cpu_s', 'server_cpu_us_per_handshake', 'server_handshakes_per_core_s', 'server_cores_busy', 'server_machine_share',
  // The phase's attempts, errors (total, and `class=count` pairs separated by spaces) and resumption.
  'attempts', 'errors', 'error_classes', 'offered', 'hit_rate',
  ...RESUMPTION_MECHANISMS.map((m) => `resumed_${m.replace(/-/g, '_')}` as const),
  // --repeat: how many, and the spread of this class's handshakes/s over them (empty without).
  'repeats', 'per_s_min', 'per_s_max', 'per_s_stdev',
  // tlsbench merge: load machines, how many saturated, how far apart their windows opened (ms).
  'machines', 'machines_saturated', 'window_skew_ms',
  // With --ocsp: the class's stapling (empty otherwise), repeated on each of its rows.
  'ocsp_handshakes', 'ocsp_stapled', 'ocsp_mean_bytes', 'ocsp_good', 'ocsp_revoked', 'ocsp_unknown', 'ocsp_signature_invalid', 'ocsp_min_s_to_next_update',
  // With --early-data: the phase's early data (empty otherwise), repeated on each of its rows; the
  // 0-RTT handshakes also have rows of their own, class 0-rtt.
  'early_data_offered', 'early_data_accepted', 'early_data_rejected', 'early_data_not_offered',
] as const;

/** The OCSP cells of a class without --ocsp. */
const NO_OCSP: readonly string[] = Array<string>(8).fill('');

/** The early-data cells of a phase (empty without --early-data). */
function earlyDataCells(e: PhaseSummary['earlyData']): (string | number)[] {
  if (!e) return ['', '', '', ''];
  return [e.offered, e.accepted, e.rejected, Object.values(e.notOffered).reduce((a, b) => a + b, 0)];
}

/** RFC 4180: quote a field only when it holds a comma, a quote or a line break. */
export function field(value: string | number): string {
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One CSV record. */
export function csvLine(values: readonly (string | number)[]): string {
  return values.map(field).join(',');
}

/**
 * One row per phase × class × metric (a phase where nothing completed: one row, class and metric
 * empty); `prefix` columns come first (e.g. a matrix cell name).
 */
export function csvRows(result: RunResult, prefix: readonly string[] = []): string[] {
  const rows: string[] = [];
  const machines = mergedMachines(result);
  for (const phase of result.phases) {
    const s = phase.summary;
    const c = phase.serverCost;
    const round = (x: number | null | undefined, digits: number) => (x === null || x === undefined ? '' : Number(x.toFixed(digits)));
    const server = [round(c?.cpuSeconds, 6), round(c?.perHandshakeUs, 2), round(c?.handshakesPerCoreSecond, 2), round(c?.coresBusy, 4), round(c?.machineShare, 4)];
    const errorClasses = Object.entries(s.errors).sort((a, b) => b[1] - a[1]).map(([name, n]) => `${name}=${n}`).join(' ');
    const outcome = [s.attempts, s.errorCount, errorClasses, s.offered, round(s.hitRate, 6), ...RESUMPTION_MECHANISMS.map((m) => s.mechanisms[m] ?? 0)];
    const repeats = repeatsOf(phase);
    const skew = windowSkewMs(result, phase.name);
    const merged = machines ? [machines.length, machines.filter((m) => m.phases.find((p) => p.name === phase.name)?.client.saturated).length, skew ?? ''] : ['', '', ''];
    const latency = latencyRows(s);
    const early = earlyDataCells(s.earlyData);
    // A phase where nothing completed still has a row: its attempts and errors are the news.
    if (!latency.length) rows.push(csvLine([...prefix, phase.name, phase.resume, '', '', s.windowSeconds, 0, 0, ...Array<string>(8).fill(''), ...server, ...outcome, '', '', '', '', ...merged, ...NO_OCSP, ...early]));
    for (const { cls, metric, count, perSecond, latency: l } of latency) {
      const o = isHandshakeClass(cls) ? s.ocsp?.[cls] : undefined;
      const ocsp = o ? [o.handshakes, o.stapled, o.stapled ? Math.round(o.bytes / o.stapled) : '', o.status.good ?? 0, o.status.revoked ?? 0, o.status.unknown ?? 0, o.signature.invalid, o.minSecondsToNextUpdate ?? '']
        : NO_OCSP;
      const spread = repeats && isHandshakeClass(cls) ? spreadOf(repeats.map((r) => r.classes[cls]?.rate ?? 0)) : null;
      const spreadCells = repeats && spread ? [repeats.length, round(spread.min, 3), round(spread.max, 3), round(spread.stdev, 3)] : ['', '', '', ''];
      rows.push(csvLine([
        ...prefix, phase.name, phase.resume, cls, metric, s.windowSeconds, count, Number(perSecond.toFixed(3)),
        l.min, l.mean, l.p50, l.p90, l.p99, l.p999, l.max, l.stdev, ...server, ...outcome, ...spreadCells, ...merged, ...ocsp, ...early,
      ]));
    }
  }
  return rows;
}

export function renderCsv(result: RunResult): string {
  return [CSV_HEADER.join(','), ...csvRows(result)].join('\n');
}
