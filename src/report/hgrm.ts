import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { decodeHistogram } from '../metrics/histogram.js';
import type { RunResult } from '../metrics/run-result.js';
import { HANDSHAKE_CLASSES, LATENCY_METRICS, type LatencyMetric } from '../metrics/tally.js';
import { writeFileAtomic } from './atomic-file.js';
import { ZERO_RTT_ROW } from '../metrics/early-data.js';

/** Reporting points per halving of the remaining distance to 100 %: HdrHistogram's default. */
const TICKS_PER_HALF_DISTANCE = 5;
/** Histograms hold µs; .hgrm files conventionally show ms (what HdrHistogram's plotter labels). */
const MICROS_PER_MS = 1000;

/**
 * HdrHistogram's percentile distribution text (the `.hgrm` format that HdrHistogram's plotter
 * and HdrHistogram tools read): a `Value Percentile TotalCount 1/(1-Percentile)` table, then
 * `#[Mean = …]`, `#[Max = …]`, `#[Buckets = …]` footer lines. Values in ms.
 */
export function percentileDistribution(encoded: string): string {
  return decodeHistogram(encoded).outputPercentileDistribution(TICKS_PER_HALF_DISTANCE, MICROS_PER_MS);
}

export interface HgrmFile {
  /** e.g. `full-full-tls.hgrm`: phase, class, metric. */
  name: string;
  content: string;
}

/** Keeps a name from a result file (phase, matrix cell) safe as part of a file name. */
export function fileNamePart(text: string): string {
  return text.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '_') || '_';
}

/**
 * One distribution per phase × class × metric that recorded anything; `prefix` names a matrix cell.
 * With --early-data the 0-RTT handshakes are a class of their own (`0-rtt`), as in every report.
 */
export function hgrmFiles(result: RunResult, metrics: readonly LatencyMetric[] = LATENCY_METRICS, prefix = ''): HgrmFile[] {
  const files: HgrmFile[] = [];
  for (const phase of result.phases) {
    const classes: [string, Partial<Record<LatencyMetric, string>> | undefined][] = HANDSHAKE_CLASSES.map((cls) => [cls, phase.tally.classes[cls]?.histograms]);
    classes.push([ZERO_RTT_ROW, phase.tally.earlyData?.zeroRtt?.histograms]);
    for (const [cls, histograms = {}] of classes) {
      for (const metric of metrics) {
        const encoded = histograms[metric];
        if (!encoded) continue;
        const name = [prefix, phase.name, cls, metric].filter(Boolean).map(fileNamePart).join('-');
        files.push({ name: `${name}.hgrm`, content: percentileDistribution(encoded) });
      }
    }
  }
  return files;
}

/** What writing the .hgrm files did: the paths written, and each file that failed with why. */
export interface HgrmWrite {
  written: string[];
  failed: { path: string; error: string }[];
}

/**
 * Writes each file atomically into `dir` (created if missing). Two inputs that map to one name
 * (phase names that differ only in characters unsafe in file names) get a numbered suffix
 * rather than silently overwriting each other. A file that cannot be written (a disk that fills
 * halfway, a name taken by a directory) does not stop the others: the caller says which failed.
 */
export function writeHgrmFiles(files: readonly HgrmFile[], dir: string): HgrmWrite {
  mkdirSync(dir, { recursive: true });
  const used = new Set<string>();
  const result: HgrmWrite = { written: [], failed: [] };
  for (const file of files) {
    let name = file.name;
    for (let n = 2; used.has(name); n++) name = file.name.replace(/\.hgrm$/, `-${n}.hgrm`);
    used.add(name);
    const path = join(dir, name);
    try {
      writeFileAtomic(path, file.content);
      result.written.push(path);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      result.failed.push({ path, error: e.code ? `${e.code}: ${e.message}` : String(err) });
    }
  }
  return result;
}
