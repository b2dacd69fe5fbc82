/**
 * Run-to-run noise from repeated runs (--repeat). A difference between BASE and HEAD is
 * "beyond noise" when it is larger than the band these figures give; with fewer than two
 * repeats on both sides no spread is known and the comparison says so instead of guessing.
 */

export interface NoiseBand {
  /** Half-width of the band, in the unit of the figure (handshakes/s, µs, or a 0..1 rate). */
  width: number;
  /** Repeats behind it on each side (a side with fewer than 2 contributes nothing). */
  repeats: [number, number];
}

export function variance(values: readonly number[]): number {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1);
}

const range = (values: readonly number[]) => Math.max(...values) - Math.min(...values);

/**
 * max(2 × pooled standard deviation, smallest range of the repeated sides). The standard
 * deviation of single runs, not of their mean, is used on purpose: a CI gate that fails on
 * noise gets switched off, so the band errs wide.
 */
export function noiseBand(base: readonly number[], head: readonly number[]): NoiseBand | null {
  const sides = [base, head].filter((s) => s.length >= 2);
  if (sides.length === 0) return null;
  const dof = sides.reduce((a, s) => a + s.length - 1, 0);
  const pooled = Math.sqrt(sides.reduce((a, s) => a + (s.length - 1) * variance(s), 0) / dof);
  const width = Math.max(2 * pooled, Math.min(...sides.map(range)));
  return { width, repeats: [base.length, head.length] };
}
