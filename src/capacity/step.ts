/**
 * Judging one capacity step: the figures of its run, each objective checked, and whether a
 * failure was the server's or the client's. The client's failures are the ones the run itself
 * already detects: a saturated worker (PhaseResult.client.saturated, the same test as `run`'s
 * "client saturated" finding) and open-loop arrivals dropped at the cap of attempts in flight.
 */
import { mergeHistograms } from '../metrics/histogram.js';
import type { PhaseResult, RunResult } from '../metrics/run-result.js';
import { HANDSHAKE_CLASSES, type HandshakeClass, type LatencyMetric } from '../metrics/tally.js';
import type { CapacityStep, ObjectiveCheck, StepClassFigures, StepVerdict } from './capacity-result.js';
import { meets, type Objective } from './objective.js';

/** µs at a percentile of one metric over every class of a phase; null when nothing was recorded. */
function percentileOf(phase: PhaseResult, metric: LatencyMetric, percentile: number, classes: readonly HandshakeClass[] = HANDSHAKE_CLASSES): number | null {
  const h = mergeHistograms(classes.map((c) => phase.tally.classes[c]?.histograms[metric]));
  return h.totalCount ? h.getValueAtPercentile(percentile) : null;
}

/** The value an objective reads from a phase at an offered rate (µs or a ratio), null when there is none. */
function observed(o: Objective, phase: PhaseResult, offered: number): number | null {
  const s = phase.summary;
  switch (o.kind) {
    case 'latency': return percentileOf(phase, o.metric!, o.percentile!);
    case 'errors': return s.attempts > 0 ? s.errorCount / s.attempts : null;
    case 'achieved': return offered > 0 ? s.rate / offered : null;
    case 'hit-rate': return s.hitRate;
  }
}

/** A hit-rate objective says nothing of a full-handshake search, which offers no session. */
export function appliesTo(o: Objective, resume: string): boolean {
  return o.kind !== 'hit-rate' || resume !== 'none';
}

function show(o: Objective, value: number | null): string {
  if (value === null) return 'nothing measured';
  return o.kind === 'latency' ? `${(value / 1000).toFixed(value >= 100_000 ? 0 : 2)} ms` : `${Number((value * 100).toPrecision(3))} %`;
}

export function judgeStep(result: RunResult, offered: number, objectives: readonly Objective[], wallSeconds: number): CapacityStep {
  const phase = result.phases[0]!;
  const s = phase.summary;
  const applicable = objectives.filter((o) => appliesTo(o, phase.resume));
  const checks: ObjectiveCheck[] = applicable.map((o) => {
    const value = observed(o, phase, offered);
    return { objective: o.text, value, met: value !== null && meets(o, value) };
  });
  const metric = applicable.find((o) => o.kind === 'latency')?.metric ?? 'tls';
  const classes: Partial<Record<HandshakeClass, StepClassFigures>> = {};
  for (const cls of HANDSHAKE_CLASSES) {
    const c = s.classes[cls];
    const p50 = percentileOf(phase, metric, 50, [cls]);
    if (c && p50 !== null) classes[cls] = { rate: c.rate, p50, p99: percentileOf(phase, metric, 99, [cls])! };
  }
  const busiest = Math.max(0, ...phase.client.elu);
  const broken = checks.filter((c) => !c.met);
  // Drops shorten the achieved rate by themselves: that objective cannot tell the server's part.
  const serverBroken = broken.filter((c) => applicable.find((o) => o.text === c.objective)!.kind !== 'achieved');
  const brokenText = broken.map((c) => `${c.objective} (was ${show(applicable.find((o) => o.text === c.objective)!, c.value)})`).join(', ');
  const dropText = `${s.dropped} of ${s.arrivals} arrivals found all ${result.config.maxConnections} slots busy and were dropped`;
  let verdict: StepVerdict;
  let reason: string;
  if (phase.interrupted || result.interrupted) {
    verdict = 'interrupted';
    reason = 'cut short (Ctrl-C or --max-duration): not judged';
  } else if (!broken.length && s.dropped === 0) {
    verdict = 'pass';
    reason = phase.client.saturated ? `every objective held (the client was ${(busiest * 100).toFixed(0)} % busy)` : 'every objective held';
  } else if (phase.client.saturated) {
    verdict = 'client-limit';
    reason = `the client was saturated (a worker's event loop ${(busiest * 100).toFixed(0)} % busy)${broken.length ? `: ${brokenText} may be the client's own delay` : `; ${dropText}`}; add --workers or cores, or run the client on another machine`;
  } else if (!serverBroken.length) {
    verdict = 'client-limit';
    reason = `${dropText}: the rate never reached the server, which met every objective; raise --max-connections`;
  } else {
    verdict = 'fail';
    reason = `${brokenText}${s.dropped ? `; ${dropText}` : ''}`;
  }
  const cost = phase.serverCost;
  return {
    offered,
    achieved: s.rate,
    metric,
    p50: percentileOf(phase, metric, 50),
    p99: percentileOf(phase, metric, 99),
    classes,
    attempts: s.attempts,
    errors: s.errorCount,
    errorRate: s.attempts > 0 ? s.errorCount / s.attempts : null,
    arrivals: s.arrivals,
    dropped: s.dropped,
    maxConnections: result.config.maxConnections,
    clientBusy: busiest,
    clientSaturated: phase.client.saturated,
    serverCoresBusy: cost ? cost.coresBusy : null,
    serverCpuPerHandshakeUs: cost ? cost.perHandshakeUs : null,
    checks,
    verdict,
    reason,
    wallSeconds,
    result,
  };
}
