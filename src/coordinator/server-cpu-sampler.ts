/**
 * Reads the server's CPU at each measured window's open, every second of it, and at its close.
 * PhaseRunner calls openWindow once the phase clock is known and closeWindow once the workers
 * are done; everything else about server CPU is computed from the readings.
 */
import os from 'node:os';
import type { CpuSource } from '../server-cpu/cpu-source.js';
import { measureWindow, type ServerCpu, type ServerCpuOrigin } from '../metrics/server-cpu.js';
import { CpuSampler, now } from './cpu-sampler.js';

/** How far the window's end (another thread's clock) may lie ahead of this thread's reading. */
const CLOCK_SKEW_MS = 50;

export class ServerCpuSampler {
  readonly sampler: CpuSampler;
  readonly origin: ServerCpuOrigin;

  constructor(source: CpuSource, sharedWithClient: boolean, sourceLabel = source.description) {
    this.origin = { source: sourceLabel, host: os.hostname(), cores: os.cpus().length, sharedWithClient };
    this.sampler = new CpuSampler(source);
  }

  /** Reads now and on every second boundary of the phase (from `windowAt`) until `endAt`, its bound. */
  openWindow(windowAt: number, endAt: number): void {
    this.sampler.everySecond(windowAt, endAt);
  }

  /** Stops the per-second readings, reads once more, and returns the window's server CPU. */
  closeWindow(windowStartedAt: number, windowMs: number): ServerCpu {
    this.sampler.stop();
    // The workers are done, so the window has ended: this reading holds all of its CPU. Its end is
    // stamped on the workers' (or the native loop's) clock, which can run a hair ahead of this
    // thread's: within CLOCK_SKEW_MS the reading stands for the window's end, or its last part
    // would be extrapolated rather than read. A larger gap is no skew and is left to show.
    const t = now();
    const end = windowStartedAt + windowMs;
    this.sampler.read(t < end && end - t <= CLOCK_SKEW_MS ? end : t);
    const measured = measureWindow(this.origin, this.sampler.readings, windowStartedAt, windowMs);
    // The last reading opens the next phase's interval.
    this.sampler.keepLast();
    return measured;
  }
}
