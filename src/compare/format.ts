import { cpuMicros } from '../report/server-cost-labels.js';
import { ms, percent, rate } from '../report/table.js';
import type { ComparedMetric } from './fail-if.js';

/** A figure in the unit a reader expects: handshakes/s, ms, or %. */
export function formatFigure(metric: ComparedMetric, value: number | null): string {
  if (value === null) return '—';
  if (metric === 'throughput') return `${rate(value)}/s`;
  if (metric === 'hit-rate') return percent(value);
  if (metric === 'server-cpu') return `${cpuMicros(value)} µs`;
  return `${ms(value)} ms`;
}

/** A change: relative (%) for throughput and latency, in points for hit-rate. */
export function formatChange(metric: ComparedMetric, change: number | null, signed = true): string {
  if (change === null) return '—';
  const sign = signed && change > 0 ? '+' : '';
  return metric === 'hit-rate' ? `${sign}${(change * 100).toFixed(2)} pp` : `${sign}${(change * 100).toFixed(1)} %`;
}
