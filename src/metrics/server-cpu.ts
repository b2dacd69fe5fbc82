/**
 * The server's CPU time over a measured window, from cumulative readings taken on the server's
 * host (by the coordinator, or by `tlsbench observe` on another machine).
 *
 * Readings are taken at the window's open, every second of it and at its close; the CPU of the
 * window is the difference of the cumulative CPU at its two edges, each interpolated linearly
 * between the readings around it (they are milliseconds apart, so this only corrects timer lag).
 */

/** The server's cumulative CPU time at one moment: monotonic, from an arbitrary zero. */
export interface CpuReading {
  /** Epoch ms. */
  at: number;
  userSeconds: number;
  systemSeconds: number;
  /** Processes counted at this reading (cgroup: processes in it). */
  processes: number;
}

/** What was measured and where: the same for every phase of a run. */
export interface ServerCpuOrigin {
  /** In words: `built-in server: pid 1234 and its children`, `cgroup /sys/fs/cgroup/…`. */
  source: string;
  /** The host the server runs on, and its logical CPUs (for the server's share of the machine). */
  host: string;
  cores: number;
  /** The load generator ran on the same machine (built-in server, --server-pid, --server-cgroup). */
  sharedWithClient: boolean;
}

/** Server CPU over one phase's measured window. */
export interface ServerCpu extends ServerCpuOrigin {
  userSeconds: number;
  systemSeconds: number;
  /** Most processes counted at a reading in the window. */
  processes: number;
  /**
   * Share of the window the readings cover: 1, unless an observation started late or ended
   * early; the CPU outside it is missing from the figures.
   */
  coverage: number;
  /** The readings from the one before the window opened to the one after it closed. */
  readings: CpuReading[];
}

/** Cumulative CPU-seconds at `t`, interpolated between the readings around it (clamped at the ends). */
function cumulativeAt(readings: readonly CpuReading[], t: number): { user: number; system: number } {
  const first = readings[0]!;
  const last = readings[readings.length - 1]!;
  if (t <= first.at) return { user: first.userSeconds, system: first.systemSeconds };
  if (t >= last.at) return { user: last.userSeconds, system: last.systemSeconds };
  let i = 1;
  while (readings[i]!.at < t) i++;
  const a = readings[i - 1]!;
  const b = readings[i]!;
  const f = b.at === a.at ? 1 : (t - a.at) / (b.at - a.at);
  return { user: a.userSeconds + f * (b.userSeconds - a.userSeconds), system: a.systemSeconds + f * (b.systemSeconds - a.systemSeconds) };
}

/** CPU-seconds (user, system) between two moments. */
export function cpuBetween(readings: readonly CpuReading[], from: number, to: number): { userSeconds: number; systemSeconds: number } {
  if (readings.length === 0 || to <= from) return { userSeconds: 0, systemSeconds: 0 };
  const a = cumulativeAt(readings, from);
  const b = cumulativeAt(readings, to);
  return { userSeconds: Math.max(0, b.user - a.user), systemSeconds: Math.max(0, b.system - a.system) };
}

const micro = (x: number) => Math.round(x * 1e6) / 1e6;

/** The window's server CPU from readings that span it (those outside it are dropped). */
export function measureWindow(origin: ServerCpuOrigin, readings: readonly CpuReading[], windowStartedAt: number, windowMs: number): ServerCpu {
  const end = windowStartedAt + windowMs;
  const sorted = [...readings].sort((a, b) => a.at - b.at);
  const firstIndex = Math.max(0, sorted.findLastIndex((r) => r.at <= windowStartedAt));
  const lastIndex = sorted.findIndex((r) => r.at >= end);
  const kept = sorted.slice(firstIndex, lastIndex < 0 ? sorted.length : lastIndex + 1);
  const { userSeconds, systemSeconds } = cpuBetween(kept, windowStartedAt, end);
  const covered = kept.length
    ? Math.max(0, Math.min(end, kept[kept.length - 1]!.at) - Math.max(windowStartedAt, kept[0]!.at))
    : 0;
  return {
    ...origin,
    userSeconds: micro(userSeconds),
    systemSeconds: micro(systemSeconds),
    processes: Math.max(0, ...kept.map((r) => r.processes)),
    coverage: windowMs > 0 ? Math.min(1, covered / windowMs) : 1,
    readings: kept.map((r) => ({ ...r, userSeconds: micro(r.userSeconds), systemSeconds: micro(r.systemSeconds) })),
  };
}

/** Server CPU-seconds of each second of the window (second 0 = the first), for the timeline. */
export function serverCpuPerSecond(server: ServerCpu, windowStartedAt: number, windowMs: number): { second: number; cpuSeconds: number }[] {
  const seconds = Math.ceil(windowMs / 1000);
  const out: { second: number; cpuSeconds: number }[] = [];
  for (let s = 0; s < seconds; s++) {
    const from = windowStartedAt + s * 1000;
    const to = Math.min(windowStartedAt + windowMs, from + 1000);
    const cpu = cpuBetween(server.readings, from, to);
    out.push({ second: s, cpuSeconds: cpu.userSeconds + cpu.systemSeconds });
  }
  return out;
}
