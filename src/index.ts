/**
 * tlsbench as a library: what the CLI does, without printing. Each command is a thin layer
 * over one of these.
 *
 *   import { run, compare } from 'tlsbench';
 *   const result = await run({ handshakes: 500, resume: 'ticket' });   // built-in server
 */
import { compareResults, type CompareOptions, type Comparison } from './compare/compare.js';
import { mergeMachines, type MergeOptions } from './merge/merge-runs.js';
import type { RunResult } from './metrics/run-result.js';

export { run, type RunRequest, type RepeatHooks } from './api/run.js';
export { serve, SERVE_DEFAULTS, type ServeRequest } from './api/serve.js';
export { runMatrix as matrix, type MatrixHooks } from './matrix/run-matrix.js';
export { capacity, type CapacityRequest, type CapacityHooks } from './capacity/run-capacity.js';
export { gridFromOptions, gridFromFile, AXES } from './matrix/grid.js';
export { renderMatrix } from './matrix/render.js';
export { readRunResult, toRunResult } from './merge/result-file.js';
export { renderComparison, type CompareFormat } from './compare/render.js';
export { parseThreshold, ACCEPTED_FORMS, type Threshold } from './compare/fail-if.js';
export { renderTable } from './report/table.js';
export { renderResult, OUTPUT_FORMATS, type OutputFormat } from './report/format.js';
export { UsageError } from './config/usage-error.js';
export { SCHEMA_VERSION } from './metrics/run-result.js';

export type { RunOptions } from './config/run-options.js';
export { RUN_OPTIONS, ON_OFF, type Duration, type OnOff, type RunOptionName } from './config/run-option-table.js';
export { TLS_CHOICES, type TlsChoice, type TlsVersions } from './config/tls-versions.js';
export type { KeyType } from './server/pki.js';
export type { RunConfig } from './config/run-config.js';
export type { RunHooks } from './coordinator/run.js';
export type { SecondCpu } from './coordinator/phase-observer.js';
export type { RunResult, PhaseResult, PhaseSample, RuntimeInfo, MachineInfo, MachinePhase } from './metrics/run-result.js';
export type { TargetServer, TargetServerStats } from './server/target-server.js';
export type { CapacityResult, CapacitySearch, CapacityStep, CapacityAnswer } from './capacity/capacity-result.js';
export type { MatrixSpec, MatrixCellSpec, MatrixCell, MatrixResult } from './matrix/matrix-result.js';
export { GATES, type Gate } from './compare/compare.js';
export type { Comparison, ComparisonRow, CompareOptions, ComparedSide, ThresholdCheck } from './compare/compare.js';
export type { MergeOptions } from './merge/merge-runs.js';

/** BASE against HEAD: per phase × class × metric, the change and whether it is beyond the noise. */
export function compare(base: RunResult, head: RunResult, options: CompareOptions = {}): Comparison {
  return compareResults(base, head, options);
}

/** Results of several load machines (one configuration, one target) merged exactly into one. */
export function merge(results: readonly RunResult[], options: MergeOptions = {}): RunResult {
  return mergeMachines(results, options);
}
