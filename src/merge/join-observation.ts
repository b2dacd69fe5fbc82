/**
 * Joins a `tlsbench observe` file (server CPU readings from the server's host) to a client
 * result by wall-clock time: each phase gets the server CPU of its own measured window.
 * The two hosts' clocks must agree (NTP); a window the readings do not cover is bad input.
 */
import { UsageError } from '../config/usage-error.js';
import { resumptionGain, SCHEMA_VERSION, withServerCost, type RunResult } from '../metrics/run-result.js';
import { measureWindow } from '../metrics/server-cpu.js';
import type { ServerObservation } from '../server-cpu/observation.js';

export function isServerObservation(value: unknown): value is ServerObservation {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'server-observation';
}

/** Checks a parsed file is an observation this tlsbench can read. */
export function toServerObservation(value: unknown, label: string): ServerObservation {
  if (!isServerObservation(value)) throw new UsageError(`'${label}' is not a server observation: give a file written by 'tlsbench observe --out FILE'`);
  const v = value as Partial<ServerObservation>;
  if (typeof v.schemaVersion !== 'number' || v.schemaVersion > SCHEMA_VERSION) {
    throw new UsageError(`'${label}' was written by a newer tlsbench (schema ${v.schemaVersion}; this one reads up to ${SCHEMA_VERSION}): upgrade tlsbench`);
  }
  const readingsOk = Array.isArray(v.readings) && v.readings.length >= 2 &&
    v.readings.every((r) => typeof r?.at === 'number' && typeof r.userSeconds === 'number' && typeof r.systemSeconds === 'number');
  if (!readingsOk || typeof v.host !== 'string' || typeof v.cores !== 'number' || typeof v.source !== 'string') {
    throw new UsageError(`'${label}' is a damaged server observation (it needs host, cores, source and at least two readings)`);
  }
  return value;
}

const iso = (ms: number) => new Date(ms).toISOString();

export function joinObservation(result: RunResult, observation: ServerObservation, label: string): RunResult {
  const hosts = (result.machines ?? [result.runtime]).map((m) => m.hostname);
  const origin = {
    source: `${observation.source} (observed)`,
    host: observation.host,
    cores: observation.cores,
    sharedWithClient: hosts.includes(observation.host),
  };
  const readings = observation.readings;
  const first = readings[0]!.at;
  const last = readings[readings.length - 1]!.at;
  const warnings: string[] = [];
  const phases = result.phases.map((phase) => {
    const server = measureWindow(origin, readings, phase.windowStartedAt, phase.windowMs);
    const window = `${iso(phase.windowStartedAt)} – ${iso(phase.windowStartedAt + phase.windowMs)}`;
    if (phase.windowMs > 0 && server.coverage === 0) {
      throw new UsageError(`'${label}' (readings ${iso(first)} – ${iso(last)}) does not overlap phase ${phase.name}'s window (${window}): ` +
        'start observe before the load (same --start-at) with a -d that spans warm-up and every phase, and keep both clocks in sync (NTP)');
    }
    if (server.coverage < 0.999) {
      warnings.push(`${label} covers ${(server.coverage * 100).toFixed(0)} % of phase ${phase.name}'s window (${window}): its server CPU misses the rest`);
    }
    if (phase.server) warnings.push(`phase ${phase.name}: the server CPU from ${label} replaces the one measured during the run (${phase.server.source})`);
    return withServerCost({ ...phase, server });
  });
  return {
    ...result,
    phases,
    resumptionGain: result.resumptionGain ? resumptionGain(phases) : null,
    warnings: [...result.warnings, ...warnings],
  };
}
