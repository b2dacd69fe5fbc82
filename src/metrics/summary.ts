import { decodeHistogram, type Histogram } from './histogram.js';
import type { OcspTally } from './ocsp-tally.js';
import {
  HANDSHAKE_CLASSES, LATENCY_METRICS, type ClassTally, type HandshakeClass, type LatencyMetric, type NegotiatedSample, type ResumptionMechanism, type StatusCounts, type Tally, type WarmupTally,
} from './tally.js';
import { ZERO_RTT_ROW, type EarlyDataTally } from './early-data.js';

/** All latency figures in integer microseconds; the table shows them as ms. */
export interface LatencySummary {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  stdev: number;
}

export interface ClassSummary {
  handshakes: number;
  /** Handshakes per second of the measured window. */
  rate: number;
  requests: number;
  bytesRead: number;
  /** Response bytes per second of the measured window. */
  bytesPerSecond: number;
  latency: Partial<Record<LatencyMetric, LatencySummary>>;
  negotiated: NegotiatedSample[];
  /** Responses by HTTP status class (a non-2xx one also counts its attempt in app.http-Nxx). */
  statuses?: StatusCounts;
}

export interface PhaseSummary {
  windowSeconds: number;
  attempts: number;
  successes: number;
  errorCount: number;
  /** Handshakes of every class per second. */
  rate: number;
  offered: number;
  /** resumed / offered; null when nothing was offered. */
  hitRate: number | null;
  dropped: number;
  /** Attempts started inside the window (with --handshakes: the N counted ones). */
  started: number;
  /** Attempts started before the window and undecided when it opened (counted when decided). */
  carriedIn: number;
  unfinished: number;
  /** Open loop: arrivals scheduled inside the window. */
  arrivals: number;
  /** Resumed handshakes by how they resumed. */
  mechanisms: Partial<Record<ResumptionMechanism, number>>;
  /** Attempts decided before the window (ramp and warm-up). */
  warmup: WarmupTally;
  classes: Partial<Record<HandshakeClass, ClassSummary>>;
  errors: Record<string, number>;
  /** With --ocsp: stapling per class (see OcspTally). */
  ocsp: Partial<Record<HandshakeClass, OcspTally>>;
  /** With --early-data: the counts, and the 0-RTT handshakes summarised as a class is. */
  earlyData?: EarlyDataSummary;
}

export interface EarlyDataSummary extends Omit<EarlyDataTally, 'zeroRtt'> {
  /** accepted / offered; null when no early data was sent. */
  acceptRate: number | null;
  zeroRtt?: ClassSummary;
}

export function summarizeHistogram(h: Histogram): LatencySummary {
  return {
    count: h.totalCount,
    min: h.totalCount ? h.minNonZeroValue : 0,
    mean: Math.round(h.mean),
    p50: h.getValueAtPercentile(50),
    p90: h.getValueAtPercentile(90),
    p99: h.getValueAtPercentile(99),
    p999: h.getValueAtPercentile(99.9),
    max: h.maxValue,
    stdev: Math.round(h.stdDeviation),
  };
}

export function summarizeTally(tally: Tally, windowMs: number): PhaseSummary {
  const seconds = windowMs / 1000;
  const perSecond = (n: number) => perSecondOf(n, seconds);
  const classes: Partial<Record<HandshakeClass, ClassSummary>> = {};
  let handshakes = 0;
  for (const cls of HANDSHAKE_CLASSES) {
    const c = tally.classes[cls];
    if (!c || c.handshakes === 0) continue;
    handshakes += c.handshakes;
    classes[cls] = summarizeClass(c, tally.negotiated[cls] ?? [], seconds);
  }
  const resumed = tally.classes.resumed?.handshakes ?? 0;
  const errorCount = Object.values(tally.errors).reduce((a, b) => a + b, 0);
  return {
    windowSeconds: seconds,
    attempts: tally.attempts,
    successes: tally.successes,
    errorCount,
    rate: perSecond(handshakes),
    offered: tally.offered,
    hitRate: tally.offered > 0 ? resumed / tally.offered : null,
    dropped: tally.dropped,
    started: tally.started,
    carriedIn: tally.carriedIn,
    unfinished: tally.unfinished,
    arrivals: tally.arrivals,
    mechanisms: tally.mechanisms,
    warmup: tally.warmup,
    classes,
    errors: tally.errors,
    ocsp: tally.ocsp ?? {},
    ...(tally.earlyData ? { earlyData: summarizeEarlyData(tally.earlyData, seconds) } : {}),
  };
}

function perSecondOf(n: number, seconds: number): number {
  return seconds > 0 ? n / seconds : 0;
}

function summarizeClass(c: ClassTally, negotiated: NegotiatedSample[], seconds: number): ClassSummary {
  const perSecond = (n: number) => perSecondOf(n, seconds);
  const latency: Partial<Record<LatencyMetric, LatencySummary>> = {};
  for (const metric of LATENCY_METRICS) {
    const encoded = c.histograms[metric];
    if (encoded) latency[metric] = summarizeHistogram(decodeHistogram(encoded));
  }
  const summary: ClassSummary = {
    handshakes: c.handshakes,
    rate: perSecond(c.handshakes),
    requests: c.requests,
    bytesRead: c.bytesRead,
    bytesPerSecond: perSecond(c.bytesRead),
    latency,
    negotiated,
  };
  if (c.statuses) summary.statuses = c.statuses;
  return summary;
}

function summarizeEarlyData(e: EarlyDataTally, seconds: number): EarlyDataSummary {
  const { zeroRtt, ...counts } = e;
  return {
    ...counts,
    acceptRate: e.offered > 0 ? e.accepted / e.offered : null,
    ...(zeroRtt && zeroRtt.handshakes > 0 ? { zeroRtt: summarizeClass(zeroRtt, [], seconds) } : {}),
  };
}

export interface LatencyRow {
  /** A handshake class, or the 0-RTT handshakes (a subset of resumed, shown beside it). */
  cls: HandshakeClass | typeof ZERO_RTT_ROW;
  metric: LatencyMetric;
  /** Requests for ttfb (one per exchange), connections with a response for first-byte, handshakes for every other metric. */
  count: number;
  perSecond: number;
  latency: LatencySummary;
  /** The class's first row: reports print the class name and its byte counts once. */
  firstOfClass: boolean;
  classSummary: ClassSummary;
}

/** Every class × metric that has figures, in a fixed order: what every report format walks. */
export function latencyRows(summary: PhaseSummary): LatencyRow[] {
  const rows: LatencyRow[] = [];
  const groups: [LatencyRow['cls'], ClassSummary | undefined][] = HANDSHAKE_CLASSES.map((cls) => [cls, summary.classes[cls]]);
  groups.push([ZERO_RTT_ROW, summary.earlyData?.zeroRtt]);
  for (const [cls, c] of groups) {
    if (!c) continue;
    let firstOfClass = true;
    for (const metric of LATENCY_METRICS) {
      const latency = c.latency[metric];
      if (!latency) continue;
      // first-byte: connections whose first response byte came (a handshake the window's end cut may have none).
      const count = metric === 'ttfb' ? c.requests : metric === 'first-byte' ? latency.count : c.handshakes;
      const perSecond = summary.windowSeconds > 0 ? count / summary.windowSeconds : 0;
      rows.push({ cls, metric, count, perSecond, latency, firstOfClass, classSummary: c });
      firstOfClass = false;
    }
  }
  return rows;
}
