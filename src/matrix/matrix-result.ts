import type { RunOptionInput } from '../config/run-options.js';
import type { RunResult } from '../metrics/run-result.js';

/** One configuration of the grid, as the user gave it (common options merged in). */
export interface MatrixCellSpec {
  name: string;
  options: RunOptionInput;
}

export interface MatrixSpec {
  cells: MatrixCellSpec[];
  /** Name of the cell costs are relative to; default the first cell that ran. */
  baseline?: string;
  /** Runs per cell (--repeat). */
  repeat?: number;
}

/** A cell that ran has a result; one that could not run here has `skipped` saying why. */
export interface MatrixCell {
  name: string;
  options: RunOptionInput;
  result: RunResult | null;
  skipped?: string;
}

/** The `tlsbench matrix` results file: every cell, run or skipped. */
export interface MatrixResult {
  schemaVersion: number;
  kind: 'matrix';
  /** The cell costs are relative to; null when no cell ran. */
  baseline: string | null;
  /** Ctrl-C (or a signal) stopped the grid: the cell that was running is marked, later cells were not run. */
  interrupted: boolean;
  cells: MatrixCell[];
}
