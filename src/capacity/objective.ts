/**
 * Service-level objectives a capacity step must meet, parsed from `--slo` text:
 *   p99<50ms  tls-p99.9<=200ms  scheduled-p99<80ms  max<1s  errors<0.1%  achieved>=95%  hit-rate>99%
 * A latency objective without a metric is of `tls` (TCP connected → handshake done).
 */
import { UsageError } from '../config/usage-error.js';
import { LATENCY_METRICS, type LatencyMetric } from '../metrics/tally.js';

export type ObjectiveKind = 'latency' | 'errors' | 'achieved' | 'hit-rate';

export interface Objective {
  /** As normalised for display: `tls p99 < 50 ms`. */
  text: string;
  kind: ObjectiveKind;
  /** Latency objectives: the metric and the percentile (100 for max). */
  metric?: LatencyMetric;
  percentile?: number;
  /** Latency: µs. errors, achieved, hit-rate: a ratio 0..1. */
  limit: number;
  /** `<=` / `>=` rather than `<` / `>`. */
  inclusive: boolean;
}

export const SLO_FORMS = "p99<50ms, tls-p99.9<200ms, scheduled-p99<80ms, max<1s, errors<0.1%, achieved>=95%, hit-rate>99%";

const UNIT_US: Record<string, number> = { us: 1, 'µs': 1, ms: 1000, s: 1_000_000 };

/** `< 50 ms` style for messages and tables. */
function describe(o: Omit<Objective, 'text'>): string {
  const op = o.kind === 'latency' || o.kind === 'errors' ? (o.inclusive ? '≤' : '<') : o.inclusive ? '≥' : '>';
  if (o.kind === 'latency') {
    const p = o.percentile === 100 ? 'max' : `p${o.percentile}`;
    return `${o.metric} ${p} ${op} ${o.limit >= 1000 ? `${o.limit / 1000} ms` : `${o.limit} µs`}`;
  }
  return `${o.kind} ${op} ${Number((o.limit * 100).toPrecision(6))} %`;
}

/** A ratio given as `0.1%` or `0.001`. */
function ratio(text: string): number | null {
  const m = /^(\d+(?:\.\d+)?)(%)?$/.exec(text);
  if (!m) return null;
  const value = m[2] ? Number(m[1]) / 100 : Number(m[1]);
  return value >= 0 && value <= 1 ? value : null;
}

export function parseObjective(raw: string): Objective {
  const bad = (why: string) => new UsageError(`--slo '${raw}': ${why}; give objectives such as ${SLO_FORMS}`);
  const m = /^\s*([a-z][a-z0-9.-]*)\s*(<=|>=|<|>)\s*(\S+?)\s*$/i.exec(raw);
  if (!m) throw bad('not an objective (NAME, then < <= > or >=, then a value)');
  const name = m[1]!.toLowerCase();
  const op = m[2]!;
  const value = m[3]!;
  const inclusive = op.length === 2;
  const below = op.startsWith('<');
  if (name === 'errors' || name === 'achieved' || name === 'hit-rate') {
    const kind = name as ObjectiveKind;
    if (kind === 'errors' ? !below : below) throw bad(`${name} takes ${kind === 'errors' ? '< or <=' : '> or >='}`);
    const limit = ratio(value);
    if (limit === null) throw bad(`'${value}' is not a share; give a percentage such as 0.1% or a ratio from 0 to 1`);
    const o = { kind, limit, inclusive };
    return { ...o, text: describe(o) };
  }
  const lm = /^(?:([a-z]+)-)?(?:p(\d+(?:\.\d+)?)|(max))$/.exec(name);
  if (!lm) throw bad(`'${m[1]}' is not an objective name (pNN, METRIC-pNN, max, errors, achieved, hit-rate)`);
  const metric = (lm[1] ?? 'tls') as LatencyMetric;
  if (!(LATENCY_METRICS as readonly string[]).includes(metric)) throw bad(`'${lm[1]}' is not a latency metric; use one of ${LATENCY_METRICS.join(', ')}`);
  const percentile = lm[3] ? 100 : Number(lm[2]);
  if (!(percentile > 0 && percentile <= 100)) throw bad(`p${lm[2]} is not a percentile; give one above 0 and at most 100`);
  if (!below) throw bad('a latency objective is a ceiling: use < or <=');
  const vm = /^(\d+(?:\.\d+)?)(us|µs|ms|s)$/.exec(value);
  if (!vm) throw bad(`'${value}' is not a latency; give a number with a unit: us, ms or s (e.g. 50ms)`);
  const limit = Math.round(Number(vm[1]) * UNIT_US[vm[2]!]!);
  if (limit < 1) throw bad('a latency ceiling below 1 µs cannot be measured (latencies are whole µs)');
  const o = { kind: 'latency' as const, metric, percentile, limit, inclusive };
  return { ...o, text: describe(o) };
}

/** Every --slo, every problem listed at once; at least one objective is required. */
export function parseObjectives(texts: readonly string[] | undefined): Objective[] {
  const list = (texts ?? []).flatMap((t) => String(t).split(',')).map((t) => t.trim()).filter(Boolean);
  if (!list.length) throw new UsageError(`capacity needs at least one objective: add --slo, e.g. --slo 'p99<50ms' --slo 'errors<0.1%' (forms: ${SLO_FORMS})`);
  const problems: string[] = [];
  const objectives: Objective[] = [];
  for (const text of list) {
    try {
      objectives.push(parseObjective(text));
    } catch (err) {
      if (!(err instanceof UsageError)) throw err;
      problems.push(err.message);
    }
  }
  if (problems.length) throw new UsageError(problems.length === 1 ? problems[0]! : `${problems.length} problems:\n  - ${problems.join('\n  - ')}`);
  return objectives;
}

/** Whether a value meets an objective (the caller gives µs for latency, a ratio otherwise). */
export function meets(o: Objective, value: number): boolean {
  const below = o.kind === 'latency' || o.kind === 'errors';
  if (below) return o.inclusive ? value <= o.limit : value < o.limit;
  return o.inclusive ? value >= o.limit : value > o.limit;
}
