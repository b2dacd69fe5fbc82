/**
 * Server cost in words, shared by the table, Markdown and HTML so the three say the same thing.
 * Every figure here is of the server.
 */
import type { PhaseResult, RunResult } from '../metrics/run-result.js';
import { classMixLabel, type ServerCost } from '../metrics/server-cost.js';

/** CPU-µs per handshake: whole µs from 100 up, one decimal below. */
export function cpuMicros(us: number | null): string {
  return us === null ? '—' : us >= 100 ? us.toFixed(0) : us.toFixed(1);
}

export function coresBusy(cost: ServerCost): string {
  return cost.coresBusy.toFixed(2);
}

export function machineShare(cost: ServerCost): string {
  return `${(cost.machineShare * 100).toFixed(0)} %`;
}

/** The headline figures of a phase's server cost, as (label, value) pairs. */
export function serverCostFacts(cost: ServerCost): [string, string][] {
  return [
    ['server CPU', `${cost.cpuSeconds.toFixed(3)} CPU-s`],
    [`server CPU per handshake (${classMixLabel(cost.classShares)})`, `${cpuMicros(cost.perHandshakeUs)} µs`],
    ['handshakes per server core-second', cost.handshakesPerCoreSecond === null ? '—' : cost.handshakesPerCoreSecond.toFixed(0)],
    ['server cores busy', coresBusy(cost)],
    ["server's share of its machine", machineShare(cost)],
  ];
}

/** What was measured, where, and what is missing from it. */
export function serverSourceLine(phase: PhaseResult): string {
  const s = phase.server!;
  const parts = [s.source, `${s.processes} process${s.processes === 1 ? '' : 'es'}`, `host ${s.host}, ${s.cores} cores${s.sharedWithClient ? ', shared with the client' : ''}`];
  if (s.coverage < 0.999) parts.push(`readings cover only ${(s.coverage * 100).toFixed(0)} % of the window`);
  return parts.join(' · ');
}

/** Why there is no server figure, and how to get one. */
export const SERVER_NOT_MEASURED =
  'server CPU not measured: for a server on this machine give --server-pid PID or --server-cgroup PATH; ' +
  "for one on another machine run 'tlsbench observe' there and join it with 'tlsbench report --server FILE'";

/** "5.20× less server CPU per resumed handshake than per full one", or null. */
export function serverSavingLabel(result: RunResult): string | null {
  const ratio = result.resumptionGain?.serverCpuRatio ?? null;
  return ratio === null ? null : `server CPU per full handshake ÷ per resumed: ${ratio.toFixed(2)}×`;
}
