/**
 * `tlsbench capacity`: open-loop steps, each a whole `run` at one rate (the run machinery, its
 * built-in server, server CPU and saturation checks included), chosen by the rate search until
 * it settles, --max-duration runs out, or Ctrl-C. Steps done are always kept.
 */
import { runResolved, resolveRun } from '../api/run.js';
import { checkDuration, checkNumber, CAPACITY_LIMITS, LIMITS } from '../config/limits.js';
import type { RunOptionInput, RunOptions } from '../config/run-options.js';
import { RUN_OPTIONS } from '../config/run-option-table.js';
import type { ResumeMode } from '../config/run-config.js';
import { UsageError } from '../config/usage-error.js';
import { parseDuration } from '../config/duration.js';
import type { RunHooks } from '../coordinator/run.js';
import { onInterrupt } from '../coordinator/signals.js';
import { toolVersion } from '../coordinator/runtime-info.js';
import { SCHEMA_VERSION } from '../metrics/run-result.js';
import type { CapacityResult, CapacitySearch, CapacityStep } from './capacity-result.js';
import { parseObjectives, type Objective } from './objective.js';
import { answer, nextRate, type SearchPlan } from './search.js';
import { judgeStep } from './step.js';

/** The search's own options. */
export interface CapacitySearchOptions {
  /** Objectives, e.g. ['p99<50ms', 'errors<0.1%']. */
  slo?: string[];
  startRate?: number;
  maxRate?: number;
  stepFactor?: number;
  precision?: number;
  maxDuration?: string | number;
}

/** What `capacity()` takes: run's options (each step is a run) and the search's own. */
export interface CapacityRequest extends RunOptions, CapacitySearchOptions {}

/** As the command line gives it: run's options not yet checked against their choices. */
export type CapacityInput = RunOptionInput & CapacitySearchOptions;

export const CAPACITY_DEFAULTS = { startRate: 100, stepFactor: 2, precision: 0.05, maxDuration: '10m' } as const;

/** Fewest arrivals a step may expect: below that a percentile is a guess. */
const MIN_ARRIVALS_PER_STEP = 10;
/** Hard bound on the steps of one search, whatever the time budget allows. */
const MAX_STEPS_PER_SEARCH = 60;

/** Options of run that a capacity search sets itself, or that cannot apply to it. */
const NOT_FOR_CAPACITY: ReadonlyArray<readonly [string, string]> = [
  ['rate', '--rate: capacity chooses each step\'s rate; give --start-rate and --max-rate'],
  ['connections', '--connections is the closed loop; capacity steps are open loop: cap attempts in flight with --max-connections'],
  ['handshakes', '--handshakes: capacity steps are timed; give each step\'s window with --duration'],
  ['startAt', '--start-at lines up one run on several machines; a capacity search is many runs on one'],
  ['repeat', '--repeat: capacity repeats by bisecting; run the capacity search again to see its spread'],
  ['requireResumption', "--require-resumption: give it as an objective instead: --slo 'hit-rate>=99%'"],
];

export interface ResolvedCapacity {
  options: RunOptionInput;
  modes: ResumeMode[];
  objectives: Objective[];
  search: SearchPlan;
  maxDurationMs: number;
  stepMs: number;
  warmupMs: number;
}

/** Every problem with the request, before any step runs (UsageError listing them all). */
export function resolveCapacity(request: CapacityInput): ResolvedCapacity {
  const { slo, startRate, maxRate, stepFactor, precision, maxDuration, ...options } = request as CapacityInput & { repeat?: number };
  delete options.repeat;
  const problems: string[] = [];
  const attempt = <T>(fn: () => T, fallback: T): T => {
    try {
      return fn();
    } catch (err) {
      if (!(err instanceof UsageError)) throw err;
      problems.push(err.message);
      return fallback;
    }
  };
  for (const [key, why] of NOT_FOR_CAPACITY) {
    const given = (request as Record<string, unknown>)[key];
    if (given !== undefined && given !== false) problems.push(why);
  }
  const objectives = attempt(() => parseObjectives(slo), []);
  const search: SearchPlan = {
    startRate: attempt(() => checkNumber(startRate ?? CAPACITY_DEFAULTS.startRate, CAPACITY_LIMITS.startRate), CAPACITY_DEFAULTS.startRate),
    maxRate: attempt(() => checkNumber(maxRate ?? LIMITS.rate.max, CAPACITY_LIMITS.maxRate), LIMITS.rate.max),
    stepFactor: attempt(() => checkNumber(stepFactor ?? CAPACITY_DEFAULTS.stepFactor, CAPACITY_LIMITS.stepFactor), CAPACITY_DEFAULTS.stepFactor),
    precision: attempt(() => checkNumber(precision ?? CAPACITY_DEFAULTS.precision, CAPACITY_LIMITS.precision), CAPACITY_DEFAULTS.precision),
    minRate: LIMITS.rate.min,
  };
  if (search.startRate > search.maxRate) problems.push(`--start-rate ${search.startRate}/s is above --max-rate ${search.maxRate}/s: lower the start or raise the maximum`);
  const maxDurationMs = attempt(() => checkDuration(maxDuration ?? CAPACITY_DEFAULTS.maxDuration, CAPACITY_LIMITS.maxDuration), 0);
  if (problems.length) throw new UsageError(problems.length === 1 ? problems[0]! : `${problems.length} problems:\n  - ${problems.join('\n  - ')}`);

  // As `run` would: its own messages for its own options (a bad --resume, --resume-ratio without a resuming mode, …).
  const { config } = resolveRun({ ...options, rate: search.startRate });
  const modes: ResumeMode[] = config.resume === 'compare' ? ['none', 'ticket'] : [config.resume];
  // The highest rate too: its default cap of attempts in flight must be valid as well.
  for (const resume of modes) resolveRun({ ...options, rate: search.maxRate, resume });
  const stepMs = config.durationMs ?? parseDuration(RUN_OPTIONS.duration.default, '--duration');
  search.minRate = Math.max(LIMITS.rate.min, (MIN_ARRIVALS_PER_STEP * 1000) / stepMs);
  if (search.startRate < search.minRate) {
    throw new UsageError(`--start-rate ${search.startRate}/s gives fewer than ${MIN_ARRIVALS_PER_STEP} arrivals in a ${stepMs / 1000} s step: start at ${Math.ceil(search.minRate)}/s or more, or lengthen --duration`);
  }
  return { options, modes, objectives, search, maxDurationMs, stepMs, warmupMs: config.warmupMs };
}

export interface CapacityHooks extends Omit<RunHooks, 'signal' | 'handleSignals'> {
  /** Handle Ctrl-C / SIGTERM: stop the step under way and keep every step done. */
  handleSignals?: boolean;
  signal?: AbortSignal;
  /** Before a step (index 1-based within its search). */
  onStep?(search: string, index: number, rate: number): void;
  onStepDone?(search: string, step: CapacityStep): void;
}

function phaseName(resume: ResumeMode): string {
  return resume === 'none' ? 'full' : 'resumed';
}

/** Runs every search of the request in turn; what ran is returned even when stopped early. */
export async function runCapacity(resolved: ResolvedCapacity, hooks: CapacityHooks = {}): Promise<CapacityResult> {
  const startedAt = new Date();
  const deadline = startedAt.getTime() + resolved.maxDurationMs;
  const stop = new AbortController();
  let stoppedBy: CapacityResult['stoppedBy'] = null;
  let failure: string | null = null;
  const halt = (why: NonNullable<CapacityResult['stoppedBy']>) => {
    stoppedBy ??= why;
    stop.abort();
  };
  const releaseSignals = hooks.handleSignals ? onInterrupt(() => halt('interrupted')) : () => {};
  const onAbort = () => halt('interrupted');
  hooks.signal?.addEventListener('abort', onAbort, { once: true });
  // The hard bound: a step still running at the deadline is stopped (and kept, as interrupted).
  const timer = setTimeout(() => halt('max-duration'), resolved.maxDurationMs);
  const objectivesText = resolved.objectives.map((o) => o.text).join(', ');
  const searches: CapacitySearch[] = [];
  let firstStep = true;
  try {
    for (const resume of resolved.modes) {
      const phase = phaseName(resume);
      const steps: CapacityStep[] = [];
      while (!stop.signal.aborted && steps.length < MAX_STEPS_PER_SEARCH) {
        const rate = nextRate(steps, resolved.search);
        if (rate === null) break;
        // Do not start a step that cannot end inside the budget: it would only be cut short.
        const estimateMs = Math.max(resolved.stepMs + resolved.warmupMs, ...steps.map((s) => s.wallSeconds * 1000));
        if (Date.now() + estimateMs > deadline) {
          halt('max-duration');
          break;
        }
        hooks.onStep?.(phase, steps.length + 1, rate);
        const began = performance.now();
        let result;
        try {
          result = await runResolved(resolveRun({ ...resolved.options, rate, resume }), 1, {
            ...hooks, handleSignals: false, signal: stop.signal, probe: firstStep && !!hooks.probe,
          });
        } catch (err) {
          // Bad input shows on the first step, before anything is measured; later, keep what ran.
          if (firstStep) throw err;
          failure = `step at ${rate}/s (${phase}) could not run: ${(err as Error).message}`;
          hooks.onWarning?.(failure);
          stop.abort();
          break;
        }
        firstStep = false;
        const step = judgeStep(result, rate, resolved.objectives, (performance.now() - began) / 1000);
        steps.push(step);
        hooks.onStepDone?.(phase, step);
      }
      searches.push({ phase, resume, steps, answer: answer(steps, resolved.search, objectivesText, stoppedBy === 'max-duration' ? 'stopped by --max-duration' : stoppedBy === 'interrupted' ? 'interrupted' : null) });
    }
  } finally {
    clearTimeout(timer);
    releaseSignals();
    hooks.signal?.removeEventListener('abort', onAbort);
  }
  return {
    schemaVersion: SCHEMA_VERSION,
    kind: 'capacity',
    tool: { name: 'tlsbench', version: toolVersion() },
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    interrupted: stoppedBy === 'interrupted',
    stoppedBy,
    objectives: resolved.objectives,
    plan: {
      startRate: resolved.search.startRate,
      maxRate: resolved.search.maxRate,
      stepFactor: resolved.search.stepFactor,
      precision: resolved.search.precision,
      maxDurationMs: resolved.maxDurationMs,
      stepMs: resolved.stepMs,
      warmupMs: resolved.warmupMs,
    },
    searches,
    ...(failure ? { failure } : {}),
  };
}

/** Validate, then search: what the CLI does, without printing. */
export async function capacity(request: CapacityRequest, hooks: CapacityHooks = {}): Promise<CapacityResult> {
  return runCapacity(resolveCapacity(request), hooks);
}


