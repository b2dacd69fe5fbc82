/**
 * Reads the server's CPU at each measured window's open, every second of it, and at its close.
 * PhaseRunner calls openWindow once the phase clock is known and closeWindow once the workers
 * are done; everything else about server CPU is computed from the readings.
 */
import os from 'node:os';
import type { CpuSource } from '../server-cpu/cpu-source.js';
import { measureWindow, type ServerCpu, type ServerCpuOrigin } from '../metrics/server-cpu.js';
import { CpuSampler } from './cpu-sampler.js';

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
    this.sampler.read();
    const measured = measureWindow(this.origin, this.sampler.readings, windowStartedAt, windowMs);
    // The last reading opens the next phase's interval.
    this.sampler.keepLast();
    return measured;
  }
}
