import type { RunConfig } from '../config/run-config.js';
import type { WorkerShare } from '../engine/task.js';

/** Splits n into `parts` integers that differ by at most one, larger ones first. */
export function splitEvenly(n: number, parts: number): number[] {
  const base = Math.floor(n / parts);
  const extra = n % parts;
  return Array.from({ length: parts }, (_, i) => base + (i < extra ? 1 : 0));
}

/**
 * Each worker's share of slots (closed loop) or of the rate and in-flight cap (open loop), and of
 * an exact --handshakes total. Shares always add up to the totals asked for.
 */
export function splitWork(config: RunConfig): WorkerShare[] {
  const w = config.workers;
  const slots = splitEvenly(config.rate !== null ? config.maxConnections : config.connections, w);
  const handshakes = config.handshakes !== null ? splitEvenly(config.handshakes, w) : null;
  return slots.map((s, index) => ({
    index,
    slots: s,
    rate: config.rate !== null ? config.rate / w : null,
    rateOffset: index,
    handshakes: handshakes ? handshakes[index]! : null,
  }));
}
