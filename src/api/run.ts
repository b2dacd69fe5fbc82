import { resolveRunOptions, type ResolvedRun, type RunOptionInput, type RunOptions } from '../config/run-options.js';
import { checkNumber, LIMITS } from '../config/limits.js';
import { allowedCpus, splitCores } from '../coordinator/cores.js';
import { runBenchmark, type RunHooks } from '../coordinator/run.js';
import type { RunResult } from '../metrics/run-result.js';
import { mergeRepeats } from '../merge/merge-runs.js';

/** `tlsbench run` options plus how many times to run them. */
export interface RunRequest extends RunOptions {
  /** Run the configuration N times; the result covers all of them and keeps each one's figures. */
  repeat?: number;
}

export interface RepeatHooks extends RunHooks {
  /** Before each repeat (1-based), when there is more than one. */
  onRepeat?(index: number, total: number): void;
}

/** The cores the client may use: with the built-in server on this machine, only its share. */
export function defaultWorkers(target: string | undefined): number {
  return target ? allowedCpus().length : splitCores(allowedCpus()).client.length;
}

export function resolveRepeat(repeat: number | undefined): number {
  return repeat === undefined ? 1 : checkNumber(repeat, LIMITS.repeat);
}

/** Validates options as `tlsbench run` does (typed or as typed on a command line); throws UsageError listing every problem. */
export function resolveRun(options: RunOptionInput): ResolvedRun {
  return resolveRunOptions(options, defaultWorkers(options.target));
}

/**
 * One configuration, run `repeat` times in a row (each a full run with its own built-in server),
 * merged into one RunResult. A shared --start-at only lines up the first repeat.
 */
export async function runResolved(resolved: ResolvedRun, repeat: number, hooks: RepeatHooks = {}): Promise<RunResult> {
  const results: RunResult[] = [];
  for (let i = 1; i <= repeat; i++) {
    if (repeat > 1) hooks.onRepeat?.(i, repeat);
    // After the first repeat the shared start time is in the past: start as soon as ready.
    const config = i === 1 ? resolved.config : { ...resolved.config, startAt: null };
    const result = await runBenchmark(config, resolved.credentials, hooks, resolved.measuredServer);
    results.push(i === 1 ? result : { ...result, config: resolved.config });
    if (result.interrupted || hooks.signal?.aborted) break;
  }
  return results.length === 1 ? results[0]! : mergeRepeats(results);
}

/** What `tlsbench run` does, without printing: validate, run (repeat times), return the result. */
export async function run(options: RunRequest, hooks: RepeatHooks = {}): Promise<RunResult> {
  const repeat = resolveRepeat(options.repeat);
  return runResolved(resolveRun(options), repeat, hooks);
}
