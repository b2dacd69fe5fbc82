import { UsageError } from '../config/usage-error.js';

/** Figures a --fail-if threshold can name: changes (signed %) or, for hit-rate, a level (%). */
export const CHANGE_METRICS = ['throughput', 'p50', 'p99'] as const;
export type ChangeMetric = (typeof CHANGE_METRICS)[number];
/** `server-cpu`: server CPU-µs per handshake of a phase, a change like the others. */
export type ComparedMetric = ChangeMetric | 'hit-rate' | 'server-cpu';

export type Operator = '<' | '<=' | '>' | '>=';

export interface Threshold {
  /** As the user wrote it, for messages. */
  text: string;
  metric: ComparedMetric;
  op: Operator;
  /** Fraction: -0.05 for -5 %; for hit-rate the level, 0.99 for 99 %. */
  value: number;
}

export const ACCEPTED_FORMS = [
  'throughput<-5%   fail when handshakes/s dropped by more than 5 %',
  'p50>+10%         fail when median TLS handshake latency rose by more than 10 %',
  'p99>+10%         fail when p99 TLS handshake latency rose by more than 10 %',
  'hit-rate<99%     fail when HEAD resumed fewer than 99 % of offered sessions',
  'server-cpu>+5%   fail when server CPU per handshake rose by more than 5 % (the server was measured on both sides)',
];

const FORM = /^\s*(throughput|p50|p99|hit-rate|server-cpu)\s*(<=|>=|<|>)\s*([+-]?)(\d+(?:\.\d+)?)\s*%\s*$/;

function bad(text: string, why: string): UsageError {
  return new UsageError(`--fail-if '${text}': ${why}. Use one of these forms (operators <, <=, >, >=):\n  ${ACCEPTED_FORMS.join('\n  ')}`);
}

/**
 * Changes carry an explicit sign (`-5%`, `+10%`) and hit-rate never does, so a threshold can
 * never be misread as the other kind.
 */
export function parseThreshold(text: string): Threshold {
  const m = FORM.exec(text);
  if (!m) throw bad(text, 'not a threshold');
  const [, metric, op, sign, digits] = m as unknown as [string, ComparedMetric, Operator, string, string];
  const magnitude = Number(digits) / 100;
  if (metric === 'hit-rate') {
    if (sign) throw bad(text, 'hit-rate is a level, not a change: write it without a sign, e.g. hit-rate<99%');
    if (magnitude > 1) throw bad(text, 'a hit rate is at most 100%');
    return { text: text.trim(), metric, op, value: magnitude };
  }
  if (!sign) throw bad(text, `a change needs its sign: ${metric}${op}+${digits}% or ${metric}${op}-${digits}%`);
  return { text: text.trim(), metric, op, value: sign === '-' ? -magnitude : magnitude };
}

export function parseThresholds(texts: readonly string[]): Threshold[] {
  return texts.map(parseThreshold);
}

export function crosses(threshold: Threshold, x: number): boolean {
  switch (threshold.op) {
    case '<': return x < threshold.value;
    case '<=': return x <= threshold.value;
    case '>': return x > threshold.value;
    case '>=': return x >= threshold.value;
  }
}
