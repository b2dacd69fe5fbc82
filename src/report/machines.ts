/**
 * A merged result (tlsbench merge) in words and tables, one source for every format: how many
 * load machines, each one's runtime and cores, its client load and saturation, and how its
 * windows lined up with the merged ones.
 */
import type { MachineInfo, RunResult } from '../metrics/run-result.js';
import { rate } from './table.js';
import type { TextTable } from './text-table.js';

/** The load machines of a merged result, or null for one machine's own result. */
export function mergedMachines(result: RunResult): MachineInfo[] | null {
  return result.machines && result.machines.length > 1 ? result.machines : null;
}

export function machineRuntime(m: MachineInfo): string {
  return `Node ${m.node}, OpenSSL ${m.openssl}`;
}

export function machineName(m: MachineInfo): string {
  return m.source && m.source !== m.hostname ? `${m.hostname} (${m.source})` : m.hostname;
}

const busyText = (elu: readonly number[]) => (elu.length ? elu.map((u) => `${(u * 100).toFixed(0)} %`).join(', ') : '—');

/**
 * How far apart the machines' windows opened, per phase: the largest start difference (ms), or
 * null when some machine's windows were not recorded (a schema 4 file).
 */
export function windowSkewMs(result: RunResult, phaseName: string): number | null {
  const machines = mergedMachines(result);
  if (!machines) return null;
  const starts = machines.map((m) => m.phases.find((p) => p.name === phaseName)?.windowStartedAt);
  if (starts.some((s) => s === undefined)) return null;
  return Math.max(...(starts as number[])) - Math.min(...(starts as number[]));
}

/** The largest skew over every phase, or null when unknown. */
export function largestSkewMs(result: RunResult): number | null {
  const skews = result.phases.map((p) => windowSkewMs(result, p.name));
  return skews.some((s) => s === null) ? null : Math.max(0, ...(skews as number[]));
}

/** "merged from 3 load machines (shared --start-at): windows opened within 4 ms of each other; 1 saturated" */
export function machinesHeadline(result: RunResult): string | null {
  const machines = mergedMachines(result);
  if (!machines) return null;
  const shared = machines.every((m) => m.startAt !== null && m.startAt === machines[0]!.startAt);
  const skew = largestSkewMs(result);
  const alignment = skew === null ? 'window alignment not recorded (an older file)' : `windows opened within ${skew} ms of each other`;
  const saturated = machines.filter((m) => m.phases.some((p) => p.client.saturated)).length;
  return `merged from ${machines.length} load machines (${shared ? 'shared --start-at' : 'no shared --start-at'}): ${alignment}` +
    (saturated ? `; ${saturated} client${saturated > 1 ? 's' : ''} SATURATED` : '; no client saturated');
}

/** Each machine, phase by phase: runtime, cores, workers, window offset and length, its rate, client busy. */
export function machineTable(result: RunResult): TextTable | null {
  const machines = mergedMachines(result);
  if (!machines) return null;
  const head = ['machine', 'runtime', 'cores', 'workers', 'phase', 'window opened', 'window', 'handshakes/s', 'client busy'];
  const rows: string[][] = [];
  for (const m of machines) {
    const own = [machineName(m), machineRuntime(m), `${m.cores} (${m.cpuModel})`, m.workers ? String(m.workers) : '—'];
    if (!m.phases.length) rows.push([...own, '—', 'not recorded', '', '', '']);
    m.phases.forEach((p, i) => {
      const merged = result.phases.find((x) => x.name === p.name);
      const offset = merged ? `+${p.windowStartedAt - merged.windowStartedAt} ms` : '—';
      rows.push([...(i === 0 ? own : ['', '', '', '']), p.name, offset, `${(p.windowMs / 1000).toFixed(2)} s`, rate(p.rate),
        busyText(p.client.elu) + (p.client.saturated ? ' SATURATED' : '')]);
    });
  }
  return { head, rows };
}

/** "3 load machines: a (Node v24…), b (…)": the client line of a merged result. */
export function machinesClientLabel(result: RunResult): string | null {
  const machines = mergedMachines(result);
  if (!machines) return null;
  return `${machines.length} load machines (merged): ${machines.map((m) => `${m.hostname} ${machineRuntime(m)}, ${m.cores} cores`).join('; ')}`;
}
