import { execFileSync } from 'node:child_process';
import os from 'node:os';

/** CPUs this process may run on (respects taskset / cgroup cpusets), falling back to 0..n-1. */
export function allowedCpus(): number[] {
  try {
    const status = execFileSync('taskset', ['-c', '-p', String(process.pid)], { encoding: 'utf8' });
    const list = status.split(':').pop()!.trim();
    return list.split(',').flatMap((part) => {
      const [a, b] = part.split('-').map(Number);
      return b === undefined ? [a!] : Array.from({ length: b - a! + 1 }, (_, i) => a! + i);
    });
  } catch {
    return Array.from({ length: os.availableParallelism() }, (_, i) => i);
  }
}

export interface CoreSplit {
  client: number[];
  server: number[];
  /** Client and server share the cores (one core only): nothing to pin. */
  shared: boolean;
  /** How the cores were split, for the output. */
  description: string;
}

/**
 * With the built-in server on the same machine, client and server must not fight for a core:
 * the server gets the upper half (at least one), the client the rest. One core: shared, and said.
 */
export function splitCores(cpus: number[]): CoreSplit {
  if (cpus.length < 2) {
    return { client: cpus, server: cpus, shared: true, description: `one core (${cpus.join(',')}): client and built-in server share it, so figures understate both` };
  }
  const serverCount = Math.floor(cpus.length / 2);
  const client = cpus.slice(0, cpus.length - serverCount);
  const server = cpus.slice(cpus.length - serverCount);
  return { client, server, shared: false, description: `built-in server on CPU ${server.join(',')}, client on CPU ${client.join(',')}` };
}

/** Pins every thread of this process (and threads it creates later) to `cpus`; false if it could not. */
export function pinProcess(cpus: number[]): boolean {
  try {
    execFileSync('taskset', ['-a', '-c', '-p', cpus.join(','), String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
