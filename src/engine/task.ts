import type { MessagePort } from 'node:worker_threads';
import type { Credentials, PhasePlan, RunConfig } from '../config/run-config.js';
import type { Tally } from '../metrics/tally.js';
import type { Snapshot } from '../metrics/timeline.js';

/** One worker's share of a phase. */
export interface WorkerShare {
  index: number;
  /** Closed loop: slots this worker runs. Open loop: its cap on attempts in flight. */
  slots: number;
  /** Open loop: this worker's arrivals per second, and its offset in the global arrival stream. */
  rate: number | null;
  rateOffset: number;
  /** Exact number of measured attempts, or null for a timed window. */
  handshakes: number | null;
}

/** The single long task each piscina worker runs for a phase. */
export interface WorkerTask {
  config: RunConfig;
  phase: PhasePlan;
  share: WorkerShare;
  /** Resolved target (the built-in server's port is known only at run time). */
  host: string;
  port: number;
  credentials: Credentials;
  control: MessagePort;
}

/**
 * The timeline every worker follows, as wall-clock epoch ms (performance.timeOrigin +
 * performance.now() is comparable across threads and with --start-at across machines).
 */
export interface PhaseClock {
  startAt: number;
  /** Ramp ends, warm-up begins. */
  rampEndAt: number;
  /** The measured window opens. */
  windowAt: number;
  /** The measured window closes; with --handshakes the hard bound. */
  endAt: number;
}

export type CoordinatorMessage =
  | { type: 'start'; clock: PhaseClock }
  | { type: 'stop' };

export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'snapshot'; snapshot: Snapshot }
  | { type: 'setup-failed'; message: string };

export interface WorkerResult {
  index: number;
  tally: Tally;
  /** Event-loop utilisation over the measured window (0..1). */
  elu: number;
  /** When this worker's measured window actually ended (epoch ms). */
  windowEndedAt: number;
}
