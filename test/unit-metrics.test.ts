import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createHistogram, decodeHistogram, encodeHistogram, mergeHistograms } from '../src/metrics/histogram.js';
import { mergeTallies, emptyTally, type Tally } from '../src/metrics/tally.js';
import { summarizeTally } from '../src/metrics/summary.js';

/** Deterministic pseudo-random latencies with a long tail (µs). */
function samples(n: number, seed: number): number[] {
  let x = seed;
  return Array.from({ length: n }, () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    const u = x / 2 ** 31;
    return Math.floor(200 + 5000 * u ** 6 + 3 * (x % 97));
  });
}

test('the merged histogram of W workers equals one histogram fed every sample', () => {
  const all = createHistogram();
  const workers = [1, 2, 3, 4].map((seed) => {
    const h = createHistogram();
    for (const v of samples(5000, seed)) {
      h.recordValue(v);
      all.recordValue(v);
    }
    return encodeHistogram(h);
  });
  const merged = mergeHistograms(workers);
  assert.equal(merged.totalCount, all.totalCount);
  assert.equal(merged.minNonZeroValue, all.minNonZeroValue);
  assert.equal(merged.maxValue, all.maxValue);
  for (let p = 0; p <= 100; p += 0.5) assert.equal(merged.getValueAtPercentile(p), all.getValueAtPercentile(p), `p${p}`);
  assert.equal(merged.getValueAtPercentile(99.99), all.getValueAtPercentile(99.99));
  // And it survives another round trip through the wire format.
  assert.equal(decodeHistogram(encodeHistogram(merged)).getValueAtPercentile(99.9), all.getValueAtPercentile(99.9));
});

test('tallies merge exactly: counters summed, errors by class, histograms added', () => {
  const make = (seed: number, n: number): Tally => {
    const h = createHistogram();
    for (const v of samples(n, seed)) h.recordValue(v);
    return {
      ...emptyTally(), attempts: n + 2, successes: n, offered: n, errors: { 'tcp.refused': 2 },
      classes: { resumed: { handshakes: n, requests: 0, bytesRead: 0, histograms: { tls: encodeHistogram(h) } } },
    };
  };
  const merged = mergeTallies([make(1, 100), make(2, 300)]);
  assert.equal(merged.attempts, 404);
  assert.equal(merged.errors['tcp.refused'], 4);
  assert.equal(merged.classes.resumed!.handshakes, 400);
  const summary = summarizeTally(merged, 2000);
  assert.equal(summary.classes.resumed!.rate, 200);
  assert.equal(summary.classes.resumed!.latency.tls!.count, 400);
  assert.equal(summary.hitRate, 1);
});
