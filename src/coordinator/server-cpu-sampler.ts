/**
 * Reads the server's CPU at each measured window's open, every second of it, and at its close,
 * in the coordinator (never in a worker: the readings must not compete with the load).
 * PhaseRunner calls openWindow once the phase clock is known and closeWindow once the workers
 * are done; everything else about server CPU is computed from the readings.
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import type { CpuSource } from '../server-cpu/cpu-source.js';
import { measureWindow, type CpuReading, type ServerCpu, type ServerCpuOrigin } from '../metrics/server-cpu.js';

const now = () => performance.timeOrigin + performance.now();

export class ServerCpuSampler {
  private readings: CpuReading[] = [];
  private timer: NodeJS.Timeout | null = null;
  readonly origin: ServerCpuOrigin;

  constructor(private readonly source: CpuSource, sharedWithClient: boolean, sourceLabel = source.description) {
    this.origin = { source: sourceLabel, host: os.hostname(), cores: os.cpus().length, sharedWithClient };
    // The zero of the cumulative figures, and the reading before the first window.
    this.read();
  }

  read(): void {
    const totals = this.source.read();
    this.readings.push({ at: now(), ...totals });
  }

  /** Reads at `windowAt` and every second after it until `endAt` (the phase's bound), and now. */
  openWindow(windowAt: number, endAt: number): void {
    this.stopTimer();
    this.read();
    let next = windowAt;
    const schedule = () => {
      if (next > endAt + 1000) return;
      this.timer = setTimeout(() => {
        this.read();
        next += 1000;
        schedule();
      }, Math.max(0, next - now()));
      // Readings must never keep a finished run alive.
      this.timer.unref();
    };
    schedule();
  }

  /** Stops the per-second readings, reads once more, and returns the window's server CPU. */
  closeWindow(windowStartedAt: number, windowMs: number): ServerCpu {
    this.stopTimer();
    this.read();
    const measured = measureWindow(this.origin, this.readings, windowStartedAt, windowMs);
    // The last reading opens the next phase's interval.
    this.readings = this.readings.slice(-1);
    return measured;
  }

  private stopTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
