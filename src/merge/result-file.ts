import { readFileSync } from 'node:fs';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { cannotRead, UsageError } from '../config/usage-error.js';
import type { RunConfig } from '../config/run-config.js';
import { resummarize, resumptionGain, SCHEMA_VERSION, type RunResult } from '../metrics/run-result.js';
import { emptyTally, type Tally } from '../metrics/tally.js';

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
    const problem = schemaProblem(v);
    if (problem) throw new UsageError(`'${label}' does not match the results schema: ${problem}; give a file written by 'tlsbench run --out FILE', or fix that field`);
  }
  const result = v as RunResult;
  const phases = result.phases.map((p) => resummarize({ ...p, tally: upgradeTally(p.tally) }));
  // Recomputed too, so a file from before server cost was measured reads with the same fields.
  return { ...result, config: upgradeConfig(result.config), phases, resumptionGain: result.resumptionGain ? resumptionGain(phases) : null };
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

/** dist/src/merge → the package root, where schema/ ships. */
const SCHEMA_DIR = new URL('../../../schema/', import.meta.url);
let ajv: Ajv2020 | null = null;

/**
 * The shipped JSON Schemas (run result, capacity result, which refers to the run result's),
 * loaded once into one validator: the one description of each results file.
 */
function shippedSchemas(): Ajv2020 {
  if (!ajv) {
    // Union types (`["string", "null"]`) are how the schemas say "nullable".
    ajv = new Ajv2020({ allErrors: false, strict: true, allowUnionTypes: true });
    ajv.addFormat('date-time', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/);
    for (const name of ['run-result', 'capacity-result']) {
      ajv.addSchema(JSON.parse(readFileSync(new URL(`${name}.schema.json`, SCHEMA_DIR), 'utf8')) as object);
    }
  }
  return ajv;
}

export function runResultValidator(): ValidateFunction {
  return shippedSchemas().getSchema('urn:tlsbench:schema:run-result')!;
}

export function capacityResultValidator(): ValidateFunction {
  return shippedSchemas().getSchema('urn:tlsbench:schema:capacity-result')!;
}

/**
 * The first field of `value` that the schema rejects, named by its path (`phases/0/tally/attempts
 * must be integer`), or null when it matches: a hand-edited or truncated file is named, never
 * left to crash a reporter later.
 */
export function schemaProblem(value: unknown, check: ValidateFunction = runResultValidator()): string | null {
  if (check(value)) return null;
  const e = check.errors?.[0];
  if (!e) return 'it does not match';
  const field = e.instancePath ? e.instancePath.slice(1) : 'the top level';
  const extra = e.keyword === 'additionalProperties' ? ` '${(e.params as { additionalProperty: string }).additionalProperty}'` : '';
  return `${field} ${e.message ?? 'is wrong'}${extra}`;
}
