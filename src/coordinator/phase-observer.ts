/**
 * What a run tells its caller as it goes (the live view, the API's hooks): kept apart from the
 * phase runner, so the API's types name none of the worker pool's (piscina's) types.
 */
import type { PhasePlan } from '../config/run-config.js';
import type { PhaseClock } from '../engine/task.js';
import type { TimelinePoint } from '../metrics/timeline.js';

/** CPU of one second of the run, for the live view: cores busy = CPU-seconds ÷ the second's length. */
export interface SecondCpu {
  /** This process (coordinator and workers), user + system; null when not read over the whole second. */
  clientCores: number | null;
  /** The measured server (built-in, --server-pid, --server-cgroup); null when none is measured. */
  server: {
    cores: number;
    /** Its CPU-µs ÷ handshakes completed in the second (every class); null when none completed. */
    perHandshakeUs: number | null;
  } | null;
}

export interface PhaseObserver {
  /** A second of the whole run, once every worker has reported it (negative: ramp/warm-up). */
  onSecond?(point: TimelinePoint, phase: PhasePlan, clock: PhaseClock, inFlight: number, cpu: SecondCpu): void;
}
