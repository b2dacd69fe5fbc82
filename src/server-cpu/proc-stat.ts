/**
 * Reading a process's CPU time from /proc (Linux). `/proc/PID/stat` utime and stime cover every
 * thread of the process, the exited ones included, in clock ticks (USER_HZ).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcStat {
  pid: number;
  ppid: number;
  /** Start time since boot, in ticks: with the pid, it tells a process from a later one that reuses the pid. */
  startTicks: number;
  userTicks: number;
  systemTicks: number;
}

let ticksPerSecond: number | undefined;

/** USER_HZ: 100 on every mainstream Linux build; asked for once in case this one differs. */
export function clockTicksPerSecond(): number {
  if (ticksPerSecond === undefined) {
    try {
      const value = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
      ticksPerSecond = Number.isInteger(value) && value > 0 ? value : 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/**
 * Parses a stat line. The command name (field 2) is in parentheses and may itself hold spaces
 * and parentheses, so fields are counted from the last ')'.
 */
export function parseProcStat(line: string): ProcStat | null {
  const close = line.lastIndexOf(')');
  if (close < 0) return null;
  const pid = Number.parseInt(line, 10);
  // Fields after ')': 3 state, 4 ppid, … 14 utime, 15 stime, … 22 starttime.
  const rest = line.slice(close + 2).split(' ');
  const field = (n: number) => Number(rest[n - 3]);
  const stat = { pid, ppid: field(4), startTicks: field(22), userTicks: field(14), systemTicks: field(15) };
  return Object.values(stat).every(Number.isFinite) ? stat : null;
}

/** The process's stat, or null when it is gone (or never existed). Other errors are thrown. */
export function readProcStat(pid: number): ProcStat | null {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ESRCH') return null;
    throw err;
  }
}

/**
 * The pids of the process's children. `/proc/PID/task/TID/children` (one file per thread, as a
 * child belongs to the thread that forked it) is cheap; kernels without CONFIG_PROC_CHILDREN
 * lack it, and then every process's parent is looked up instead.
 */
export function childPids(pid: number): number[] {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  const children: number[] = [];
  for (const tid of tasks) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && tid === String(pid)) return childPidsByScan(pid);
      continue;
    }
    for (const word of text.split(' ')) if (word) children.push(Number(word));
  }
  return children;
}

function childPidsByScan(parent: number): number[] {
  const children: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readProcStat(Number(name));
    if (stat?.ppid === parent) children.push(stat.pid);
  }
  return children;
}
