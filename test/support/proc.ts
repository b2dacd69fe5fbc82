// What the kernel says about a process the test started (directly or through tlsbench): its
// children, its threads' CPU affinity, whether it is still there. Read from /proc, so the
// tool's own account of itself is checked against an independent one.
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
