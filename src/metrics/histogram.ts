import * as hdr from 'hdr-histogram-js';

export type Histogram = hdr.Histogram;

/**
 * Latencies are integer microseconds (hdr-histogram-js truncates fractions, so callers round
 * first) with 3 significant digits. JS mode: WASM would need init and explicit destroy() in
 * every worker for a ~0.2 µs gain per record, which a TLS handshake does not notice.
 */
export function createHistogram(): Histogram {
  return hdr.build({
    bitBucketSize: 32,
    autoResize: true,
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
    useWebAssembly: false,
  });
}

export function encodeHistogram(histogram: Histogram): string {
  return hdr.encodeIntoCompressedBase64(histogram);
}

export function decodeHistogram(encoded: string): Histogram {
  return hdr.decodeFromCompressedBase64(encoded, 32, false);
}

/**
 * Exact merge: decoded histograms cannot grow (autoResize=false), so every input is added
 * into a fresh, resizable one.
 */
export function mergeHistograms(encoded: Iterable<string | undefined>): Histogram {
  const merged = createHistogram();
  for (const item of encoded) if (item) merged.add(decodeHistogram(item));
  return merged;
}

export function mergeEncoded(encoded: Iterable<string | undefined>): string | undefined {
  const list = [...encoded].filter((e): e is string => !!e);
  if (list.length === 0) return undefined;
  if (list.length === 1) return list[0];
  return encodeHistogram(mergeHistograms(list));
}

/** Microseconds from two performance.now()-style millisecond readings. */
export function elapsedMicros(fromMs: number, toMs: number): number {
  return Math.max(0, Math.round((toMs - fromMs) * 1000));
}
