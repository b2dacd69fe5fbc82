import { UsageError } from '../config/usage-error.js';
import type { CapacityResult } from '../capacity/capacity-result.js';
import { isCapacityResult, toCapacityResult } from '../capacity/capacity-file.js';
import { renderCapacityCsv, renderCapacityMarkdown, renderCapacityTable } from '../capacity/render.js';
import { readJsonFile, toRunResult } from '../merge/result-file.js';
import type { MatrixCell, MatrixResult } from '../matrix/matrix-result.js';
import { renderMatrix } from '../matrix/render.js';
import type { RunResult } from '../metrics/run-result.js';
import { CSV_HEADER, csvRows, renderCsv } from './csv.js';
import { renderHtml } from './html.js';
import { renderJson } from './json.js';
import { renderMarkdown, renderMatrixMarkdown } from './markdown.js';
import { renderTable } from './table.js';

/** What `run`, `matrix`, `merge` and `report` print on stdout; html is the page `report --html` writes. */
export const OUTPUT_FORMATS = ['table', 'json', 'markdown', 'csv', 'html'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export function parseFormat(text: string): OutputFormat {
  if ((OUTPUT_FORMATS as readonly string[]).includes(text)) return text as OutputFormat;
  throw new UsageError(`--format '${text}' is not a format; use one of ${OUTPUT_FORMATS.join(', ')}`);
}

/** `run --format F`, with `--json` kept as the alias of `--format json` it always was. */
export function outputFormat(format: string | undefined, json: boolean | undefined): OutputFormat {
  const chosen = format === undefined ? (json ? 'json' : 'table') : parseFormat(format);
  if (json && chosen !== 'json') throw new UsageError(`--json and --format ${chosen} ask for two outputs; keep one`);
  return chosen;
}

export function renderResult(result: RunResult, format: OutputFormat): string {
  switch (format) {
    case 'table': return renderTable(result);
    case 'json': return renderJson(result);
    case 'markdown': return renderMarkdown(result);
    case 'csv': return renderCsv(result);
    case 'html': return renderHtml({ kind: 'run', result });
  }
}

export type ReportInput =
  | { kind: 'run'; result: RunResult }
  | { kind: 'matrix'; matrix: MatrixResult }
  | { kind: 'capacity'; capacity: CapacityResult };

/** `tlsbench matrix` files say `kind: 'matrix'`; a `cells` list alone is taken as one too. */
export function isMatrixResult(value: unknown): value is MatrixResult {
  const v = value as Partial<MatrixResult> | null;
  return typeof v === 'object' && v !== null && (v.kind === 'matrix' || Array.isArray(v.cells));
}

/** A run result, a matrix or a capacity search, from a file; each run's summaries recomputed from its tallies. */
export function toReportInput(value: unknown, label: string): ReportInput {
  if (isCapacityResult(value)) return { kind: 'capacity', capacity: toCapacityResult(value, label) };
  if (!isMatrixResult(value)) return { kind: 'run', result: toRunResult(value, label) };
  const cells = value.cells.map((cell, i): MatrixCell => {
    if (typeof cell !== 'object' || cell === null || typeof cell.name !== 'string') {
      throw new UsageError(`'${label}': matrix cell ${i + 1} has no name: give a file written by 'tlsbench matrix'`);
    }
    return { ...cell, result: cell.result ? toRunResult(cell.result, `${label}, cell ${cell.name}`) : null };
  });
  const baseline = typeof value.baseline === 'string' ? value.baseline : cells.find((c) => c.result)?.name ?? null;
  // Files from before the top-level flag: a cell's own mark says it.
  const interrupted = typeof value.interrupted === 'boolean' ? value.interrupted : cells.some((c) => c.result?.interrupted);
  return { kind: 'matrix', matrix: { ...value, baseline, interrupted, cells } };
}

export function readReportInput(path: string): ReportInput {
  return toReportInput(readJsonFile(path), path);
}

/**
 * Text formats of a matrix: the table is matrix's own cost table; Markdown the cost table and
 * each cell's summary; CSV one table with a leading `cell` column.
 */
export function renderMatrixAs(matrix: MatrixResult, format: OutputFormat): string {
  switch (format) {
    case 'json': return renderJson(matrix);
    case 'table': return renderMatrix(matrix);
    case 'csv': {
      const rows = matrix.cells.flatMap((cell) => (cell.result ? csvRows(cell.result, [cell.name]) : []));
      return [['cell', ...CSV_HEADER].join(','), ...rows].join('\n');
    }
    case 'markdown': return renderMatrixMarkdown(matrix);
    case 'html': return renderHtml({ kind: 'matrix', matrix });
  }
}

/** Every text format of a capacity search: each walks the same step rows. */
export function renderCapacityAs(capacity: CapacityResult, format: OutputFormat): string {
  switch (format) {
    case 'table': return renderCapacityTable(capacity);
    case 'json': return renderJson(capacity);
    case 'markdown': return renderCapacityMarkdown(capacity);
    case 'csv': return renderCapacityCsv(capacity);
    case 'html': return renderHtml({ kind: 'capacity', capacity });
  }
}

/** A run result, a matrix or a capacity search in any format. */
export function renderReport(input: ReportInput, format: OutputFormat): string {
  if (input.kind === 'run') return renderResult(input.result, format);
  if (input.kind === 'matrix') return renderMatrixAs(input.matrix, format);
  return renderCapacityAs(input.capacity, format);
}
