import { readFileSync } from 'node:fs';
import { cannotRead, UsageError } from '../config/usage-error.js';
import type { RunConfig } from '../config/run-config.js';
import { resummarize, resumptionGain, SCHEMA_VERSION, type MachineInfo, type RunResult, type RuntimeInfo } from '../metrics/run-result.js';
import { emptyTally, type Tally } from '../metrics/tally.js';
import { schemaProblem } from '../schema/result-schemas.js';

/** Reads a text file the user named, a missing or unreadable one being a UsageError. */
export function readTextFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw cannotRead(path, err);
  }
}

/** Reads a JSON file, turning the usual mistakes (missing file, not JSON) into UsageErrors. */
export function readJsonFile(path: string): unknown {
  const text = readTextFile(path);
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new UsageError(`'${path}' is not JSON (${(err as Error).message}): give a file written by 'tlsbench run --out FILE'`);
  }
}

/**
 * A RunResult from a file: checks it is one (and not from a newer tlsbench), and recomputes the
 * summaries from the tallies, so hand-edited or older summaries never disagree with the counts.
 */
export function toRunResult(value: unknown, label: string): RunResult {
  const v = value as Partial<RunResult> & { kind?: string } | null;
  if (v && typeof v === 'object' && (v.kind === 'matrix' || v.kind === 'capacity')) {
    throw new UsageError(`'${label}' is a ${v.kind} file (several runs); give a single run's result (tlsbench run --out FILE)`);
  }
  if (!v || typeof v !== 'object' || v.tool?.name !== 'tlsbench' || !Array.isArray(v.phases) || typeof v.schemaVersion !== 'number') {
    throw new UsageError(`'${label}' is not a tlsbench result: give a file written by 'tlsbench run --out FILE'`);
  }
  if (v.schemaVersion > SCHEMA_VERSION) {
    throw new UsageError(`'${label}' was written by a newer tlsbench (result schema ${v.schemaVersion}; this one reads up to ${SCHEMA_VERSION}): upgrade tlsbench`);
  }
  if (v.schemaVersion === SCHEMA_VERSION) {
    const problem = schemaProblem(v, 'run');
    if (problem) throw new UsageError(`'${label}' does not match the results schema: ${problem}; give a file written by 'tlsbench run --out FILE', or fix that field`);
  }
  const result = v as RunResult;
  const phases = result.phases.map((p) => resummarize({ ...p, tally: upgradeTally(p.tally) }));
  // Recomputed too, so a file from before server cost was measured reads with the same fields.
  const upgraded: RunResult = { ...result, config: upgradeConfig(result.config), phases, resumptionGain: result.resumptionGain ? resumptionGain(phases) : null };
  if (result.machines) upgraded.machines = result.machines.map(upgradeMachine);
  return upgraded;
}

/**
 * Schema 4 kept only each merged machine's runtime: read it with what is known (its name), and
 * no per-phase load, which the reports then show as not recorded.
 */
function upgradeMachine(machine: MachineInfo | RuntimeInfo, i: number): MachineInfo {
  return { source: `#${i + 1}`, workers: 0, startAt: null, phases: [], ...machine };
}

export function readRunResult(path: string): RunResult {
  return toRunResult(readJsonFile(path), path);
}

/**
 * Files from schema 3 lack the window accounting of schema 4 (started, carriedIn, arrivals,
 * mechanisms, warmup): read them as zero, never as NaN in a merge.
 */
function upgradeTally(tally: Tally & { ticketWaitsExpired?: number }): Tally {
  const empty = emptyTally();
  const { ticketWaitsExpired, ...rest } = tally;
  return { ...empty, ...rest, closeWaitsExpired: rest.closeWaitsExpired ?? ticketWaitsExpired ?? 0, warmup: { ...empty.warmup, ...rest.warmup } };
}

function upgradeConfig(config: RunConfig & { ticketWaitMs?: number }): RunConfig {
  const { ticketWaitMs, ...rest } = config;
  return { ...rest, closeWaitMs: rest.closeWaitMs ?? ticketWaitMs ?? 0 };
}
