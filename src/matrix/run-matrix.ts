import { UnsupportedHere, UsageError } from '../config/usage-error.js';
import type { ResolvedRun } from '../config/run-options.js';
import { resolveRepeat, resolveRun, runResolved, type RepeatHooks } from '../api/run.js';
import { SCHEMA_VERSION } from '../metrics/run-result.js';
import { checkGrid } from './grid.js';
import { chooseServerEngine } from '../server/server-engine.js';
import type { MatrixCell, MatrixCellSpec, MatrixResult, MatrixSpec } from './matrix-result.js';

export interface MatrixHooks extends RepeatHooks {
  /** Before a cell runs (1-based index). */
  onCell?(cell: MatrixCellSpec, index: number, total: number): void;
  /** After a cell ran or was skipped. */
  onCellDone?(cell: MatrixCell, index: number, total: number): void;
}

/**
 * Every cell of the grid, one full run each (with the built-in server, a server of the cell's
 * own key type). All cells are validated before the first runs, so a typo fails in seconds,
 * not after half the grid; a cell this runtime or server cannot run is kept, as skipped, with
 * the reason, because a missing row would read as "not asked for".
 */
export async function runMatrix(spec: MatrixSpec, hooks: MatrixHooks = {}): Promise<MatrixResult> {
  checkGrid(spec);
  const repeat = resolveRepeat(spec.repeat);
  const resolved: (ResolvedRun | string)[] = spec.cells.map((cell) => {
    try {
      return resolveRun(cell.options);
    } catch (err) {
      if (err instanceof UnsupportedHere) return err.message;
      // A typo (`--tls 1.2,1.9`) is bad input, not a cell this runtime cannot run.
      if (err instanceof UsageError) throw new UsageError(`cell ${cell.name}: ${err.message}`);
      throw err;
    }
  });
  pinServerEngine(resolved.filter((r): r is ResolvedRun => typeof r !== 'string'));
  if (resolved.every((r) => typeof r === 'string')) {
    const reasons = [...new Set(resolved as string[])];
    throw new UsageError(`no cell of the grid can run:\n  - ${reasons.join('\n  - ')}`);
  }

  const cells: MatrixCell[] = [];
  let interrupted = false;
  for (const [i, spec_] of spec.cells.entries()) {
    const cell: MatrixCell = { name: spec_.name, options: spec_.options, result: null };
    const run = resolved[i]!;
    if (interrupted || hooks.signal?.aborted) {
      cell.skipped = 'not run: the matrix was interrupted';
    } else if (typeof run === 'string') {
      cell.skipped = run;
    } else {
      hooks.onCell?.(spec_, i + 1, spec.cells.length);
      try {
        cell.result = await runResolved(run, repeat, hooks);
        interrupted = cell.result.interrupted;
      } catch (err) {
        // e.g. the server refused every client TLS setting, or could not start with this key.
        cell.skipped = err instanceof UsageError ? err.message : `failed: ${(err as Error).message}`;
      }
    }
    cells.push(cell);
    hooks.onCellDone?.(cell, i + 1, spec.cells.length);
  }
  const ran = cells.filter((c) => c.result);
  const baseline = spec.baseline !== undefined && ran.some((c) => c.name === spec.baseline) ? spec.baseline : ran[0]?.name ?? null;
  return { schemaVersion: SCHEMA_VERSION, kind: 'matrix', baseline, interrupted: interrupted || !!hooks.signal?.aborted, cells };
}

/**
 * `--server-engine auto` decided once for the whole grid: native for every built-in-server cell when
 * any of them asks for client certificates, so that cells with and without --mtls are measured on
 * the same server and their server cost differs by what the cells differ in, not by the server's
 * implementation. A cell naming its engine (the server-engine axis) keeps it.
 */
function pinServerEngine(runs: ResolvedRun[]): void {
  const auto = runs.filter((r) => r.config.target === null && r.config.server.engine === 'auto');
  if (auto.length < 2) return;
  const engine = chooseServerEngine('auto', auto.some((r) => r.config.server.mtls !== false)).name;
  for (const r of auto) r.config.server.engine = engine;
}
