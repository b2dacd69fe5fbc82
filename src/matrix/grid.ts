import { camel, kebab, parseConfigFile, runOptionsFrom } from '../config/option-sources.js';
import type { RunOptionInput } from '../config/run-options.js';
import { UsageError } from '../config/usage-error.js';
import type { MatrixCellSpec, MatrixSpec } from './matrix-result.js';

/**
 * Options that can span the grid: given as a comma list (`--tls 1.2,1.3`), each value is a
 * column of the grid. Within one value, lists keep their own separator (`X25519:P-256`).
 */
export const AXES = ['tls', 'groups', 'resume', 'keyType', 'ciphers', 'ciphersuites', 'sigalgs', 'ocsp', 'serverCrl', 'serverEngine'] as const;
export type Axis = (typeof AXES)[number];

/** Cartesian product, first axis slowest, so cells read in the order the values were given. */
function product(axes: readonly [Axis, string[]][]): Partial<Record<Axis, string>>[] {
  let cells: Partial<Record<Axis, string>>[] = [{}];
  for (const [axis, values] of axes) cells = cells.flatMap((cell) => values.map((v) => ({ ...cell, [axis]: v })));
  return cells;
}

function nameOf(cell: Partial<Record<Axis, string>>): string {
  const parts = Object.entries(cell).map(([axis, value]) => `${kebab(axis)}=${value}`);
  return parts.length ? parts.join(',') : 'default';
}

function splitList(value: string, option: string): string[] {
  const values = value.split(',').map((v) => v.trim());
  if (values.some((v) => v === '')) throw new UsageError(`--${option} '${value}': an empty value in the list; separate values with single commas`);
  return values;
}

/** Grid from command-line options: every axis option holding a comma list spans the grid. */
export function gridFromOptions(options: RunOptionInput): MatrixCellSpec[] {
  const common: RunOptionInput = { ...options };
  const axes: [Axis, string[]][] = [];
  for (const axis of AXES) {
    const value = options[axis];
    if (typeof value !== 'string' || !value.includes(',')) continue;
    axes.push([axis, [...new Set(splitList(value, kebab(axis)))]]);
    delete common[axis];
  }
  return product(axes).map((cell) => ({ name: nameOf(cell), options: { ...common, ...cell } }));
}

/** The shape of a --config file (JSON or YAML). */
export interface MatrixFile {
  /** Options for every cell (the `run` options, camelCase or kebab-case). */
  options?: Record<string, unknown>;
  /** Axis → values; the grid is their cartesian product. */
  axes?: Record<string, unknown[]>;
  /** Cells given one by one, each `{ name?, ...options }`; added after the product. */
  cells?: Record<string, unknown>[];
  baseline?: string;
  repeat?: number;
}

export const FILE_KEYS = ['options', 'axes', 'cells', 'baseline', 'repeat'];

/**
 * Grid from a --config file. Options on the command line apply to every cell and win over the
 * file's `options`; a cell's own values win over both.
 */
export async function gridFromFile(path: string, commandLine: RunOptionInput): Promise<MatrixSpec> {
  const raw = parseConfigFile(path);
  const problems: string[] = [];
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new UsageError(`--config ${path}: expected an object with "axes" and/or "cells" (and optionally "options", "baseline", "repeat")`);
  }
  const file = raw as MatrixFile;
  for (const key of Object.keys(file)) if (!FILE_KEYS.includes(key)) problems.push(`unknown key "${key}" (known: ${FILE_KEYS.join(', ')})`);
  const toOptions = (record: unknown, where: string): RunOptionInput => runOptionsFrom(record, where, problems);

  const fileOptions = toOptions(file.options ?? {}, 'options');
  const axes: [Axis, string[]][] = [];
  for (const [key, values] of Object.entries(file.axes ?? {})) {
    const axis = camel(key) as Axis;
    if (!AXES.includes(axis)) {
      problems.push(`axes: "${key}" cannot span the grid (axes: ${AXES.map(kebab).join(', ')}); set it in "options" or per cell`);
    } else if (!Array.isArray(values) || values.length === 0 || values.some((v) => typeof v !== 'string' && typeof v !== 'number')) {
      problems.push(`axes: "${key}" must be a non-empty list of values`);
    } else {
      axes.push([axis, [...new Set(values.map(String))]]);
    }
  }
  const explicit = (file.cells ?? []).map((record, i) => {
    const { name, ...rest } = (record ?? {}) as Record<string, unknown>;
    if (name !== undefined && typeof name !== 'string') problems.push(`cells[${i}].name must be a string`);
    const options = toOptions(rest, `cells[${i}]`);
    return { name: typeof name === 'string' ? name : nameOf(options as Partial<Record<Axis, string>>), options };
  });
  if (file.baseline !== undefined && typeof file.baseline !== 'string') problems.push('baseline must be a cell name');
  if (file.repeat !== undefined && typeof file.repeat !== 'number') problems.push('repeat must be a number');
  if (problems.length) throw new UsageError(`--config ${path}:\n  - ${problems.join('\n  - ')}`);

  const base = { ...fileOptions, ...commandLine };
  const cells: MatrixCellSpec[] = [
    ...(axes.length || !explicit.length ? product(axes).map((cell) => ({ name: nameOf(cell), options: { ...base, ...cell } })) : []),
    ...explicit.map((c) => ({ name: c.name, options: { ...base, ...c.options } })),
  ];
  const spec: MatrixSpec = { cells };
  if (file.baseline !== undefined) spec.baseline = file.baseline;
  if (file.repeat !== undefined) spec.repeat = file.repeat;
  return spec;
}

/** Names must tell cells apart, and a named baseline must be one of them. */
export function checkGrid(spec: MatrixSpec): void {
  const names = spec.cells.map((c) => c.name);
  const duplicates = names.filter((n, i) => names.indexOf(n) !== i);
  if (duplicates.length) throw new UsageError(`two cells are both named '${duplicates[0]}': give each cell its own name`);
  if (spec.baseline !== undefined && !names.includes(spec.baseline)) {
    throw new UsageError(`--baseline '${spec.baseline}' is not a cell of this grid; cells: ${names.join(' | ')}`);
  }
}
