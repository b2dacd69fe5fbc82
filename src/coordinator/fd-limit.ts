import { readFileSync } from 'node:fs';
import type { RunConfig } from '../config/run-config.js';

/**
 * Descriptors beyond the connection slots: Node's own (event loop, worker threads, pipes to the
 * built-in server, the key log), with room to spare.
 */
const FD_HEADROOM = 256;

export interface FdLimit {
  soft: number;
  hard: number;
}

/** This process's RLIMIT_NOFILE (Linux), or null where /proc does not say. */
export function readFdLimit(): FdLimit | null {
  try {
    const line = /^Max open files\s+(\S+)\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    if (!line) return null;
    const value = (text: string) => (text === 'unlimited' ? Number.POSITIVE_INFINITY : Number(text));
    return { soft: value(line[1]!), hard: value(line[2]!) };
  } catch {
    return null;
  }
}

/**
 * Descriptors a run may hold at once: one per slot, and with resumption a second one while a
 * finished TLS 1.3 connection lingers for its ticket beside the slot's next attempt.
 */
export function fdsNeeded(config: RunConfig): number {
  const slots = config.rate !== null ? config.maxConnections : config.connections;
  return slots * (config.resume === 'none' ? 1 : 2) + FD_HEADROOM;
}

/**
 * Checks the open-file limit against the run before it starts. Node raises the soft limit to the
 * hard one at startup already (checked on Node 20 and 24 under `prlimit --nofile=300:20000`), so
 * what is left is the hard limit: when it is too low, say so before the run, not 5 000
 * `tcp.client-resources` errors later. Returns the warning, or null when the limit is enough.
 */
export function ensureFdLimit(config: RunConfig): string | null {
  const limit = readFdLimit();
  const needed = fdsNeeded(config);
  if (!limit || limit.soft >= needed) return null;
  const option = config.rate !== null ? '--max-connections' : '--connections';
  const slots = `${option} ${config.rate !== null ? config.maxConnections : config.connections}`;
  return `the open-file limit (ulimit -n) is ${limit.soft} (hard ${limit.hard}) but ${slots} needs about ${needed} descriptors: ` +
    `expect tcp.client-resources errors; raise it (ulimit -n ${needed}, as root or in limits.conf) or lower ${option}`;
}
