import { execFileSync } from 'node:child_process';
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
 * Checks the open-file limit against the run before it starts. When the soft limit is too low
 * and the hard one allows more, raises the soft limit to the hard limit (Node has no setrlimit;
 * util-linux's prlimit sets it for a running process, and the built-in server, spawned after,
 * inherits it). Returns what it did or what will go wrong, or null when the limit is enough.
 */
export function ensureFdLimit(config: RunConfig): string | null {
  const limit = readFdLimit();
  const needed = fdsNeeded(config);
  if (!limit || limit.soft >= needed) return null;
  const slots = config.rate !== null ? `--max-connections ${config.maxConnections}` : `--connections ${config.connections}`;
  if (limit.hard > limit.soft) {
    const raiseTo = Number.isFinite(limit.hard) ? String(limit.hard) : 'unlimited';
    try {
      execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${raiseTo}:${raiseTo}`], { stdio: 'ignore', timeout: 5000 });
    } catch {
      // no prlimit, or not allowed: the check below says what is left
    }
    const after = readFdLimit();
    if (after && after.soft > limit.soft) {
      const enough = after.soft >= needed;
      return `raised the open-file limit (ulimit -n) from ${limit.soft} to ${after.soft} for this run: ${slots} needs about ${needed}` +
        (enough ? '' : `, more than the hard limit: expect tcp.client-resources errors, or lower ${slots.split(' ')[0]}`);
    }
  }
  return `the open-file limit (ulimit -n) is ${limit.soft} (hard ${limit.hard}) but ${slots} needs about ${needed} descriptors: ` +
    `expect tcp.client-resources errors; raise it (ulimit -n ${needed}) or lower ${slots.split(' ')[0]}`;
}
