// What the kernel says about a process the test started (directly or through tlsbench): its
// children, its threads' CPU affinity, whether it is still there. Read from /proc, so the
// tool's own account of itself is checked against an independent one.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** `0-2,5` → [0, 1, 2, 5] (the kernel's list format, as in Cpus_allowed_list). */
export function parseCpuList(list: string): number[] {
  return list.trim().split(',').filter((p) => p !== '').flatMap((part) => {
    const [a, b] = part.split('-').map(Number);
    return b === undefined ? [a!] : Array.from({ length: b - a! + 1 }, (_, i) => a! + i);
  });
}

function statusField(path: string, field: string): string | null {
  try {
    const line = readFileSync(path, 'utf8').split('\n').find((l) => l.startsWith(`${field}:`));
    return line ? line.slice(field.length + 1).trim() : null;
  } catch {
    return null; // the process or thread is gone
  }
}

/** The CPUs this test process may run on. */
export function ownCpus(): number[] {
  return parseCpuList(statusField('/proc/self/status', 'Cpus_allowed_list') ?? '');
}

/** Every thread of `pid` with the CPUs it may run on (threads that exit while read are left out). */
export function threadCpus(pid: number): Map<number, number[]> {
  const threads = new Map<number, number[]>();
  for (const tid of readdirSync(`/proc/${pid}/task`).map(Number)) {
    const list = statusField(`/proc/${pid}/task/${tid}/status`, 'Cpus_allowed_list');
    if (list !== null) threads.set(tid, parseCpuList(list));
  }
  return threads;
}

/** The children of `pid`, whichever of its threads forked them. */
export function childPids(pid: number): number[] {
  const children = new Set<number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      for (const c of readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/)) if (c) children.add(Number(c));
    } catch {
      // the thread exited
    }
  }
  return [...children];
}

/** True while `pid` exists and is not a zombie. */
export function alive(pid: number): boolean {
  const state = statusField(`/proc/${pid}/status`, 'State');
  return state !== null && !state.startsWith('Z');
}

/** Resolves once `pid` is gone (or a zombie); false if it is still there after `boundMs`. */
export async function gone(pid: number, boundMs: number): Promise<boolean> {
  const deadline = Date.now() + boundMs;
  while (alive(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

let clockTicks: number | null = null;

/**
 * utime + stime of `pid` (every thread of it, not its children) in seconds, from
 * /proc/PID/stat; null once it is gone. The kernel counts in ticks (CLK_TCK, 100 on Linux).
 */
export function processCpuSeconds(pid: number): number | null {
  clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));
  try {
    // The command name may hold spaces and parentheses: fields are counted after its last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / clockTicks;
  } catch {
    return null;
  }
}

/** The command line of `pid`, words joined by spaces ('' once it is gone). */
export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}
