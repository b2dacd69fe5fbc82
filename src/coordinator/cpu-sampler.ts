/**
 * Cumulative CPU readings of one source, taken in the coordinator (never in a worker: the
 * readings must not compete with the load) on every second boundary of a phase's clock. Both
 * the server's CPU over the window (ServerCpuSampler) and the live view's per-second figures of
 * the client and the server come from these readings.
 */
import { performance } from 'node:perf_hooks';
import type { CpuSource } from '../server-cpu/cpu-source.js';
import { cpuBetween, type CpuReading } from '../metrics/server-cpu.js';

export const now = () => performance.timeOrigin + performance.now();

export class CpuSampler {
  private readingsKept: CpuReading[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly source: CpuSource) {
    // The zero of the cumulative figures, and the reading before the first window.
    this.read();
  }

  get readings(): readonly CpuReading[] {
    return this.readingsKept;
  }

  /** `at`: when the reading stands for, if not now (see ServerCpuSampler.closeWindow). */
  read(at = now()): void {
    this.readingsKept.push({ at, ...this.source.read() });
  }

  /**
   * Reads now, then on every second boundary of the phase clock (`windowAt` + k s, ramp and
   * warm-up seconds included, so the live view has them too) until a second past `endAt`.
   */
  everySecond(windowAt: number, endAt: number): void {
    this.stop();
    this.read();
    let next = windowAt + Math.ceil((now() - windowAt) / 1000) * 1000;
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

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /**
   * CPU-seconds (user + system) between two moments; null when no reading is as old as `from`.
   * A second whose end the timer has not read yet (a worker's snapshot can arrive before the
   * coordinator's timer fires) is read now, so its figure is never cut at the last reading.
   */
  secondsBetween(from: number, to: number): number | null {
    if (!this.readingsKept.length || this.readingsKept[0]!.at > from) return null;
    if (this.readingsKept.at(-1)!.at < to) this.read();
    const cpu = cpuBetween(this.readingsKept, from, to);
    return cpu.userSeconds + cpu.systemSeconds;
  }

  /** Drops every reading but the last, which opens the next interval. */
  keepLast(): void {
    this.readingsKept = this.readingsKept.slice(-1);
  }
}
