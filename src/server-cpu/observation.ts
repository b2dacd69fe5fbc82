/**
 * `tlsbench observe`: server CPU readings taken on the server's own host, for a server the load
 * machines cannot see. The file carries wall-clock readings only; `merge` and `report --server`
 * cut each phase's window out of them, exactly as the coordinator does with its own readings.
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import type { CpuReading } from '../metrics/server-cpu.js';
import { SCHEMA_VERSION } from '../metrics/run-result.js';
import type { CpuSource } from './cpu-source.js';

export interface ServerObservation {
  kind: 'server-observation';
  schemaVersion: number;
  tool: { name: 'tlsbench'; version: string };
  /** What was measured, in words (pids and their children, a cgroup). */
  source: string;
  host: string;
  /** Logical CPUs of the server's host. */
  cores: number;
  startedAt: string;
  finishedAt: string;
  interrupted: boolean;
  /** Cumulative CPU from the first reading; one per interval, plus the first and the last. */
  readings: CpuReading[];
}

export interface ObservePlan {
  source: CpuSource;
  /** Epoch ms to take the first reading; null: now. */
  startAt: number | null;
  durationMs: number;
  intervalMs: number;
  toolVersion: string;
  /** Stops early (Ctrl-C); what was read so far is kept. */
  signal?: AbortSignal;
  onReading?(reading: CpuReading): void;
}

const now = () => performance.timeOrigin + performance.now();

function sleepUntil(at: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, Math.max(0, at - now()));
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Reads the source at the start, every interval on a fixed grid (no drift), and at the end. */
export async function observe(plan: ObservePlan): Promise<ServerObservation> {
  const start = Math.max(plan.startAt ?? 0, now());
  await sleepUntil(start, plan.signal);
  const startedAt = new Date().toISOString();
  const readings: CpuReading[] = [];
  const read = () => {
    const reading = { at: now(), ...plan.source.read() };
    readings.push(reading);
    plan.onReading?.(reading);
  };
  read();
  const end = start + plan.durationMs;
  for (let next = start + plan.intervalMs; !plan.signal?.aborted; next += plan.intervalMs) {
    await sleepUntil(Math.min(next, end), plan.signal);
    if (plan.signal?.aborted) break;
    read();
    if (next >= end) break;
  }
  if (plan.signal?.aborted) read();
  return {
    kind: 'server-observation',
    schemaVersion: SCHEMA_VERSION,
    tool: { name: 'tlsbench', version: plan.toolVersion },
    source: plan.source.description,
    host: os.hostname(),
    cores: os.cpus().length,
    startedAt,
    finishedAt: new Date().toISOString(),
    interrupted: !!plan.signal?.aborted,
    readings,
  };
}
