import { createHistogram, encodeHistogram, type Histogram } from '../metrics/histogram.js';
import { emptyCounts, type Snapshot } from '../metrics/timeline.js';
import type { HandshakeClass } from '../metrics/tally.js';

/** What one second of one worker accumulates before its snapshot goes out. */
export class SecondCounts {
  readonly counts = emptyCounts();
  readonly errorClasses: Record<string, number> = {};
  errors = 0;
  dropped = 0;
  readonly latency: Histogram = createHistogram();

  handshake(cls: HandshakeClass, tlsUs: number): void {
    this.counts[cls]++;
    this.latency.recordValue(tlsUs);
  }

  error(errorClass: string): void {
    this.errorClasses[errorClass] = (this.errorClasses[errorClass] ?? 0) + 1;
    this.errors++;
  }

  /** The snapshot fields these counts fill. */
  fields(): Pick<Snapshot, 'handshakes' | 'errors' | 'errorClasses' | 'dropped' | 'p50' | 'p99' | 'latency'> {
    const h = this.latency;
    return {
      handshakes: this.counts,
      errors: this.errors,
      errorClasses: this.errorClasses,
      dropped: this.dropped,
      p50: h.totalCount ? h.getValueAtPercentile(50) : 0,
      p99: h.totalCount ? h.getValueAtPercentile(99) : 0,
      ...(h.totalCount ? { latency: encodeHistogram(h) } : {}),
    };
  }
}

/**
 * A worker's per-second counts, keyed by the second an outcome was decided in (seconds from the
 * window's opening; negative: ramp and warm-up), never by when it was recorded. The snapshot
 * timer may fire late (the native engine hands its outcomes over in slices, a busy event loop
 * delays timers): an outcome decided inside the window still lands in a second of the window,
 * so the timeline always sums to the tally whatever the timer's lateness.
 *
 * `open` is the oldest second not yet sent; an outcome of a second already sent goes into the
 * open one (it was recorded late; its count must not be lost).
 */
export class SnapshotSeconds {
  private readonly seconds = new Map<number, SecondCounts>();

  constructor(
    /** The oldest second not yet sent. */
    public open: number,
    private readonly windowAt: number,
  ) {}

  /** The second `at` (local ms) falls in, never one already sent. */
  secondOf(at: number): number {
    return Math.max(this.open, Math.floor((at - this.windowAt) / 1000));
  }

  at(second: number): SecondCounts {
    let counts = this.seconds.get(second);
    if (!counts) this.seconds.set(second, (counts = new SecondCounts()));
    return counts;
  }

  /** Takes the open second's counts (empty when nothing happened in it) and opens the next. */
  take(): { second: number; counts: SecondCounts } {
    const second = this.open;
    const counts = this.seconds.get(second) ?? new SecondCounts();
    this.seconds.delete(second);
    this.open++;
    return { second, counts };
  }

  /** The last second holding anything, or the one before the open one when none does. */
  get last(): number {
    return Math.max(this.open - 1, ...this.seconds.keys());
  }
}
