import type { RunResult } from './run-result.js';

/**
 * Checks a finished run against what the user required. Each failure is a sentence; any
 * failure makes the CLI exit 1 (bad input is 2, so CI can tell the two apart).
 */
export function verdict(result: RunResult): string[] {
  const failures: string[] = [];
  if (result.failure) failures.push(result.failure);
  for (const phase of result.phases) {
    const s = phase.summary;
    // A phase that made no attempt measured nothing: never a success (unless Ctrl-C cut it short).
    if (s.attempts === 0 && !phase.interrupted) failures.push(`phase ${phase.name}: no attempt was made in the measured window`);
    if (s.successes === 0 && s.attempts > 0) {
      failures.push(`phase ${phase.name}: no attempt succeeded (${s.errorCount} errors)`);
    }
    if (result.config.requireResumption && phase.resume !== 'none' && (s.hitRate === null || s.hitRate < 0.99)) {
      failures.push(`phase ${phase.name}: --require-resumption: hit rate ${s.hitRate === null ? 'n/a (no session was ever offered)' : `${(s.hitRate * 100).toFixed(1)} %`} is below 99 %`);
    }
  }
  return failures;
}
