import { UsageError } from '../config/usage-error.js';
import { toRunResult } from '../merge/result-file.js';
import { schemaProblem } from '../schema/result-schemas.js';
import { SCHEMA_VERSION } from '../metrics/run-result.js';
import type { CapacityResult } from './capacity-result.js';

export function isCapacityResult(value: unknown): boolean {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'capacity';
}

/**
 * A capacity result from a file: checked against the shipped schema (a hand-edited file is
 * named by its first bad field), each step's run re-read as `report` reads a run.
 */
export function toCapacityResult(value: unknown, label: string): CapacityResult {
  const v = value as Partial<CapacityResult>;
  if (typeof v.schemaVersion !== 'number' || v.schemaVersion > SCHEMA_VERSION) {
    throw new UsageError(`'${label}' was written by a newer tlsbench (schema ${String(v.schemaVersion)}; this one reads up to ${SCHEMA_VERSION}): upgrade tlsbench`);
  }
  const problem = schemaProblem(value, 'capacity');
  if (problem) throw new UsageError(`'${label}' does not match the capacity schema: ${problem}; give a file written by 'tlsbench capacity --out FILE', or fix that field`);
  const result = value as CapacityResult;
  return {
    ...result,
    searches: result.searches.map((search) => ({
      ...search,
      steps: search.steps.map((step) => ({ ...step, result: toRunResult(step.result, `${label}, ${search.phase} step at ${step.offered}/s`) })),
    })),
  };
}
