// CPU time of one process (all its threads: user + system), sampled from /proc/<pid>/stat with
// wall-clock timestamps, so the CPU spent inside any window (e.g. tlsbench's measured window,
// after start-up and warm-up) can be read off by interpolation. Linux only.
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

export interface CpuSample {
  /** Epoch ms. */
  at: number;
  /** user + system CPU seconds of the whole process so far. */
  cpuSec: number;
}

let ticksPerSecond: number | undefined;
function clockTicks(): number {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  return ticksPerSecond;
}

/** user + system CPU seconds of `pid` (every thread), or null once the process is gone. */
export function readProcessCpu(pid: number): number | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // pid (comm) state ppid …: comm may hold spaces, so count fields after the last ')'.
  // Fields 14 and 15 (utime, stime) are the 12th and 13th after it.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[11]) + Number(rest[12])) / clockTicks();
}

export class CpuSampler {
  readonly samples: CpuSample[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly pid: number, private readonly everyMs = 50) {}

  start(): this {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.everyMs);
    return this;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private sample(): void {
    const cpuSec = readProcessCpu(this.pid);
    if (cpuSec === null) return this.stop();
    this.samples.push({ at: Date.now(), cpuSec });
  }

  /** CPU seconds used at epoch ms `at`, interpolated between the samples around it. */
  cpuAt(at: number): number {
    const s = this.samples;
    if (s.length === 0) throw new Error(`no CPU samples of pid ${this.pid}`);
    if (at <= s[0]!.at) return s[0]!.cpuSec;
    for (let i = 1; i < s.length; i++) {
      const b = s[i]!;
      if (b.at < at) continue;
      const a = s[i - 1]!;
      return a.cpuSec + ((b.cpuSec - a.cpuSec) * (at - a.at)) / Math.max(1, b.at - a.at);
    }
    return s[s.length - 1]!.cpuSec;
  }

  /** CPU seconds spent between two epoch-ms instants. */
  cpuBetween(from: number, to: number): number {
    return this.cpuAt(to) - this.cpuAt(from);
  }
}
