/**
 * Intended start times of an open-loop arrival stream, in ms from the phase start: a linear
 * ramp from 0 to `rate` over `rampMs`, then constant. The k-th arrival of the whole stream
 * solves n(t) = k, with n(t) = rate·t²/(2·ramp) during the ramp and rate·(t − ramp/2) after.
 * Worker i of W takes arrivals i, i+W, i+2W, … so the merged stream stays evenly spaced.
 */
export function arrivalTime(k: number, ratePerSecond: number, rampMs: number): number {
  const perMs = ratePerSecond / 1000;
  const rampArrivals = (perMs * rampMs) / 2;
  if (rampMs > 0 && k < rampArrivals) return Math.sqrt((2 * rampMs * k) / perMs);
  return rampMs + (k - rampArrivals) / perMs;
}
