import type { ResumeMode } from '../config/run-config.js';
import type { RunResult } from '../metrics/run-result.js';
import type { HandshakeClass, LatencyMetric } from '../metrics/tally.js';
import type { Objective } from './objective.js';

/** One objective, checked against one step: the value it saw (µs or a ratio) and whether it held. */
export interface ObjectiveCheck {
  objective: string;
  /** null when the step measured nothing to check (no handshake completed, no attempt decided). */
  value: number | null;
  met: boolean;
}

/**
 * - `pass`: every objective held, every arrival was offered to the server.
 * - `fail`: the server broke an objective (latency, errors, hit rate) at this rate.
 * - `client-limit`: the client broke it: a saturated worker, or arrivals dropped at the client's
 *   cap of attempts in flight while the server met every objective. Says nothing of the server.
 * - `interrupted`: Ctrl-C or --max-duration cut the step short; not judged.
 */
export type StepVerdict = 'pass' | 'fail' | 'client-limit' | 'interrupted';

/** One class of one step: its handshakes/s and latency (µs) of the step's latency metric. */
export interface StepClassFigures {
  rate: number;
  p50: number;
  p99: number;
}

/** One open-loop step: a whole run at one offered rate, and what it says. */
export interface CapacityStep {
  /** Arrivals per second the client was asked to start. */
  offered: number;
  /** Handshakes of every class completed per second of the window. */
  achieved: number;
  /** The metric p50/p99 are of: the first latency objective's (tls when none names one). */
  metric: LatencyMetric;
  /** µs, every class together; null when no handshake completed. */
  p50: number | null;
  p99: number | null;
  classes: Partial<Record<HandshakeClass, StepClassFigures>>;
  /** Attempts decided in the window, failed ones, and their share (null with no attempt). */
  attempts: number;
  errors: number;
  errorRate: number | null;
  /** Arrivals scheduled in the window, and those that found every slot busy. */
  arrivals: number;
  dropped: number;
  /** Cap on attempts in flight this step ran with (--max-connections or its default). */
  maxConnections: number;
  /** The busiest worker's event-loop utilisation (0..1), and whether it counts as saturated. */
  clientBusy: number;
  clientSaturated: boolean;
  /** Server cores busy and CPU-µs per handshake; null when the server was not measured. */
  serverCoresBusy: number | null;
  serverCpuPerHandshakeUs: number | null;
  checks: ObjectiveCheck[];
  verdict: StepVerdict;
  /** Why, in a sentence: which objective broke, or what on the client did. */
  reason: string;
  /** Wall-clock seconds the step took, set-up and server start included. */
  wallSeconds: number;
  /** The step's full run: every figure above is derived from it. */
  result: RunResult;
}

/**
 * What the search found. `rate` is the highest offered rate that met every objective for a full
 * step. `limitedBy` says what bounded it:
 * - `server`: the server broke an objective at `firstFailing`: `rate` is its capacity (within the bracket);
 * - `client`: the client could not offer `firstFailing`: the server sustained at least `rate`,
 *   and its capacity is unknown above it;
 * - `max-rate`: every rate up to --max-rate held;
 * - `unknown`: the search stopped (time, Ctrl-C) before any step failed, or no step passed.
 */
export interface CapacityAnswer {
  rate: number | null;
  lastPassing: number | null;
  firstFailing: number | null;
  limitedBy: 'server' | 'client' | 'max-rate' | 'unknown';
  /** The bracket is within --precision (or the rates cannot be told apart any closer). */
  settled: boolean;
  text: string;
}

/** One search: all steps of one resumption mode, in the order they ran. */
export interface CapacitySearch {
  /** `full` or `resumed`, as a run's phase is named. */
  phase: string;
  resume: ResumeMode;
  steps: CapacityStep[];
  answer: CapacityAnswer;
}

export interface CapacityPlanSummary {
  startRate: number;
  maxRate: number;
  stepFactor: number;
  precision: number;
  maxDurationMs: number;
  /** Each step's measured window and warm-up. */
  stepMs: number;
  warmupMs: number;
}

/** The `tlsbench capacity` results file. */
export interface CapacityResult {
  schemaVersion: number;
  kind: 'capacity';
  tool: { name: 'tlsbench'; version: string };
  startedAt: string;
  finishedAt: string;
  /** Ctrl-C stopped the search: steps done so far are kept. */
  interrupted: boolean;
  /** Why the search ended early: null when every search ran to its answer. */
  stoppedBy: 'max-duration' | 'interrupted' | null;
  objectives: Objective[];
  plan: CapacityPlanSummary;
  searches: CapacitySearch[];
  /** A step that could not run after others had (the target went away, …): the search stopped there. */
  failure?: string;
}
