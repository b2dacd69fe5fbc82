/**
 * Where a server's CPU time is read from: a process tree (a pid and its descendants) or a
 * cgroup v2; and the client's own, from this process. Each source reports CPU-seconds used since its first reading, so two readings
 * subtract to the CPU of the interval between them.
 */
import { readFileSync } from 'node:fs';
import { childPids, clockTicksPerSecond, readProcStat, type ProcStat } from './proc-stat.js';

export interface CpuTotals {
  userSeconds: number;
  systemSeconds: number;
  /** Processes counted at this reading. */
  processes: number;
}

export interface CpuSource {
  /** In words, for the output: `pid 1234 and its children`. */
  readonly description: string;
  /** CPU used since the first reading; the first reading is zero. */
  read(): CpuTotals;
}

interface Seen {
  baseUser: number;
  baseSystem: number;
  lastUser: number;
  lastSystem: number;
}

/**
 * A process and every descendant that exists at a reading (nginx workers under their master,
 * cluster workers under the built-in server's primary, all threads of each). A process first
 * seen after the first reading was born since, so all its CPU counts; one that has exited keeps
 * what it had at the last reading (its CPU after that reading is lost: readings are a second
 * apart during the window).
 */
export class ProcessTreeSource implements CpuSource {
  readonly description: string;
  private readonly seen = new Map<string, Seen>();
  private first = true;
  private readonly tick = clockTicksPerSecond();

  constructor(private readonly roots: readonly number[], label?: string) {
    this.description = label ?? `pid ${roots.join(',')} and ${roots.length > 1 ? 'their' : 'its'} children`;
  }

  read(): CpuTotals {
    let processes = 0;
    const visited = new Set<number>();
    const visit = (pid: number) => {
      if (visited.has(pid)) return;
      visited.add(pid);
      let stat: ProcStat | null;
      try {
        stat = readProcStat(pid);
      } catch {
        // Unreadable mid-run (permissions changed, hidepid): counted as gone.
        stat = null;
      }
      if (!stat) return;
      processes++;
      const key = `${stat.pid}:${stat.startTicks}`;
      const entry = this.seen.get(key);
      if (entry) {
        entry.lastUser = stat.userTicks;
        entry.lastSystem = stat.systemTicks;
      } else {
        const baseUser = this.first ? stat.userTicks : 0;
        const baseSystem = this.first ? stat.systemTicks : 0;
        this.seen.set(key, { baseUser, baseSystem, lastUser: stat.userTicks, lastSystem: stat.systemTicks });
      }
      for (const child of childPids(pid)) visit(child);
    };
    for (const root of this.roots) visit(root);
    this.first = false;
    let user = 0;
    let system = 0;
    for (const e of this.seen.values()) {
      user += e.lastUser - e.baseUser;
      system += e.lastSystem - e.baseSystem;
    }
    return { userSeconds: user / this.tick, systemSeconds: system / this.tick, processes };
  }
}

/** cgroup v2 `cpu.stat`: every task of the group (a systemd unit, a container), in µs. */
export class CgroupSource implements CpuSource {
  readonly description: string;
  private base: { user: number; system: number } | null = null;

  constructor(private readonly dir: string) {
    this.description = `cgroup ${dir}`;
  }

  read(): CpuTotals {
    const now = readCgroupCpu(this.dir);
    this.base ??= { user: now.userUsec, system: now.systemUsec };
    return {
      userSeconds: (now.userUsec - this.base.user) / 1e6,
      systemSeconds: (now.systemUsec - this.base.system) / 1e6,
      processes: now.processes,
    };
  }
}

export interface CgroupCpu {
  userUsec: number;
  systemUsec: number;
  processes: number;
}

/** Reads `cpu.stat` (user_usec, system_usec) and counts `cgroup.procs`; throws when unreadable. */
export function readCgroupCpu(dir: string): CgroupCpu {
  const stat = readFileSync(`${dir}/cpu.stat`, 'utf8');
  const value = (name: string) => {
    const m = new RegExp(`^${name} (\\d+)$`, 'm').exec(stat);
    if (!m) throw new Error(`${dir}/cpu.stat has no ${name}: not a cgroup v2 directory`);
    return Number(m[1]);
  };
  let processes = 0;
  try {
    processes = readFileSync(`${dir}/cgroup.procs`, 'utf8').split('\n').filter(Boolean).length;
  } catch {
    // cgroup.procs of a threaded cgroup cannot be read; the CPU figures still stand.
  }
  return { userUsec: value('user_usec'), systemUsec: value('system_usec'), processes };
}

/**
 * This process: every thread of it (coordinator, workers, libuv's pool, GC), none of its children
 * (the built-in server is one, measured apart). The load generator's own CPU, for the live view.
 */
export class OwnProcessSource implements CpuSource {
  readonly description = `the client: pid ${process.pid}, every thread`;
  private readonly base = process.cpuUsage();

  read(): CpuTotals {
    const used = process.cpuUsage(this.base);
    return { userSeconds: used.user / 1e6, systemSeconds: used.system / 1e6, processes: 1 };
  }
}

/** Several sources as one: their CPU adds up (they are checked not to overlap). */
export class CombinedSource implements CpuSource {
  readonly description: string;

  constructor(private readonly sources: readonly CpuSource[]) {
    this.description = sources.map((s) => s.description).join(' + ');
  }

  read(): CpuTotals {
    const totals = { userSeconds: 0, systemSeconds: 0, processes: 0 };
    for (const s of this.sources) {
      const t = s.read();
      totals.userSeconds += t.userSeconds;
      totals.systemSeconds += t.systemSeconds;
      totals.processes += t.processes;
    }
    return totals;
  }
}
