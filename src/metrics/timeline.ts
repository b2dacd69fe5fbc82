import { decodeHistogram, mergeEncoded } from './histogram.js';
import type { HandshakeClass } from './tally.js';

/**
 * One second of one worker (a Snapshot) or of the whole run (a TimelinePoint once merged).
 * `latency` is the encoded interval histogram of TLS handshake latency (µs) of that second,
 * kept so points from different workers or machines still merge exactly.
 */
export interface TimelinePoint {
  /** Seconds since the measured window opened (negative during ramp and warm-up). */
  second: number;
  /** Wall-clock start of that second, epoch ms. */
  at: number;
  handshakes: Record<HandshakeClass, number>;
  errors: number;
  dropped: number;
  /** Mean client event-loop utilisation over the workers that reported this second (0..1). */
  elu: number;
  workers: number;
  p50: number;
  p99: number;
  latency?: string;
}

export interface Snapshot extends TimelinePoint {
  worker: number;
  /** Attempts in flight at the end of the second. */
  inFlight: number;
  /** Error classes counted this second (name → count). */
  errorClasses: Record<string, number>;
}

export function emptyCounts(): Record<HandshakeClass, number> {
  return { full: 0, resumed: 0, miss: 0 };
}

/** Merges points that cover the same wall-clock second: counts add, latency histograms add exactly. */
export function mergeTimelinePoints(points: readonly TimelinePoint[]): TimelinePoint {
  const first = points[0]!;
  const handshakes = emptyCounts();
  let errors = 0, dropped = 0, eluSum = 0, workers = 0;
  for (const p of points) {
    for (const cls of Object.keys(handshakes) as HandshakeClass[]) handshakes[cls] += p.handshakes[cls];
    errors += p.errors;
    dropped += p.dropped;
    eluSum += p.elu * p.workers;
    workers += p.workers;
  }
  const latency = mergeEncoded(points.map((p) => p.latency));
  const h = latency ? decodeHistogram(latency) : null;
  const point: TimelinePoint = {
    second: first.second,
    at: first.at,
    handshakes,
    errors,
    dropped,
    elu: workers ? eluSum / workers : 0,
    workers,
    p50: h && h.totalCount ? h.getValueAtPercentile(50) : 0,
    p99: h && h.totalCount ? h.getValueAtPercentile(99) : 0,
  };
  if (latency) point.latency = latency;
  return point;
}

/** Groups points by wall-clock second and merges each group; the result is sorted by time. */
export function mergeTimelines(timelines: readonly (readonly TimelinePoint[])[]): TimelinePoint[] {
  const bySecond = new Map<number, TimelinePoint[]>();
  for (const timeline of timelines) {
    for (const p of timeline) {
      const key = Math.round(p.at / 1000);
      const group = bySecond.get(key);
      if (group) group.push(p);
      else bySecond.set(key, [p]);
    }
  }
  return [...bySecond.entries()].sort((a, b) => a[0] - b[0]).map(([, group]) => mergeTimelinePoints(group));
}
