import type { RunResult } from '../metrics/run-result.js';
import { latencyRows } from '../metrics/summary.js';

/** Latency columns stay in integer µs, as recorded, so a spreadsheet loses no precision. */
export const CSV_HEADER = [
  'phase', 'resume', 'class', 'metric', 'window_s', 'count', 'per_s',
  'min_us', 'mean_us', 'p50_us', 'p90_us', 'p99_us', 'p999_us', 'max_us', 'stdev_us',
  // The phase's server cost (empty when not measured), repeated on each of its rows.
  'server_cpu_s', 'server_cpu_us_per_handshake', 'server_handshakes_per_core_s', 'server_cores_busy', 'server_machine_share',
  // With --ocsp: the class's stapling (empty otherwise), repeated on each of its rows.
  'ocsp_handshakes', 'ocsp_stapled', 'ocsp_mean_bytes', 'ocsp_good', 'ocsp_revoked', 'ocsp_unknown', 'ocsp_signature_invalid', 'ocsp_min_s_to_next_update',
] as const;

/** RFC 4180: quote a field only when it holds a comma, a quote or a line break. */
function field(value: string | number): string {
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One row per phase × class × metric; `prefix` columns come first (e.g. a matrix cell name). */
export function csvRows(result: RunResult, prefix: readonly string[] = []): string[] {
  const rows: string[] = [];
  for (const phase of result.phases) {
    const s = phase.summary;
    const c = phase.serverCost;
    const round = (x: number | null | undefined, digits: number) => (x === null || x === undefined ? '' : Number(x.toFixed(digits)));
    const server = [round(c?.cpuSeconds, 6), round(c?.perHandshakeUs, 2), round(c?.handshakesPerCoreSecond, 2), round(c?.coresBusy, 4), round(c?.machineShare, 4)];
    for (const { cls, metric, count, perSecond, latency: l } of latencyRows(s)) {
      const o = s.ocsp?.[cls];
      const ocsp = o ? [o.handshakes, o.stapled, o.stapled ? Math.round(o.bytes / o.stapled) : '', o.status.good ?? 0, o.status.revoked ?? 0, o.status.unknown ?? 0, o.signature.invalid, o.minSecondsToNextUpdate ?? '']
        : ['', '', '', '', '', '', '', ''];
      rows.push([
        ...prefix, phase.name, phase.resume, cls, metric, s.windowSeconds, count, Number(perSecond.toFixed(3)),
        l.min, l.mean, l.p50, l.p90, l.p99, l.p999, l.max, l.stdev, ...server, ...ocsp,
      ].map(field).join(','));
    }
  }
  return rows;
}

export function renderCsv(result: RunResult): string {
  return [CSV_HEADER.join(','), ...csvRows(result)].join('\n');
}
