/**
 * Where the `run` options come from, besides the command line: `TLSBENCH_*` environment variables
 * and a `--config` file (JSON or YAML, the matrix's file format). Precedence, highest first:
 * command line, environment, file, built-in defaults.
 */
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { readTextFile } from '../merge/result-file.js';
import { RUN_OPTIONS, yargsTypeOf, type OptionRow, type RunOptionInput } from './run-option-table.js';
import { UsageError } from './usage-error.js';

export type OptionType = 'string' | 'number' | 'boolean';

export const kebab = (camel: string) => camel.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
export const camel = (name: string) => name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
/** `maxConnections` → `TLSBENCH_MAX_CONNECTIONS`. */
export const envName = (option: string) => `TLSBENCH_${kebab(option).replace(/-/g, '_').toUpperCase()}`;

/** The run options and how a command line, a variable or a file gives each (the option table's kinds). */
const TYPES: ReadonlyMap<string, OptionType> = new Map(
  Object.entries(RUN_OPTIONS as Record<string, OptionRow>).map(([name, row]) => [name, yargsTypeOf(row.kind)]),
);
export function runOptionTypes(): ReadonlyMap<string, OptionType> {
  return TYPES;
}

/** The run options among parsed command-line arguments (yargs also holds aliases, `_`, `$0`, …). */
export function pickRunOptions(argv: Record<string, unknown>): RunOptionInput {
  const out: Record<string, unknown> = {};
  for (const key of runOptionTypes().keys()) if (argv[key] !== undefined) out[key] = argv[key];
  return out as RunOptionInput;
}

/**
 * Run options from a record of a file (camelCase or kebab-case keys), each checked against its
 * type; every problem is pushed to `problems`, prefixed with `where`.
 */
export function runOptionsFrom(record: unknown, where: string, problems: string[]): RunOptionInput {
  const out: Record<string, unknown> = {};
  if (record === null || typeof record !== 'object' || Array.isArray(record)) {
    problems.push(`${where}: expected an object of run options`);
    return out;
  }
  for (const [key, value] of Object.entries(record)) {
    const name = camel(key);
    const type = runOptionTypes().get(name);
    if (!type) {
      problems.push(`${where}: "${key}" is not a run option (see 'tlsbench run --help')`);
    } else if (type === 'string' && (typeof value === 'string' || typeof value === 'number')) {
      out[name] = String(value); // YAML reads `tls: 1.3` as a number
    } else if (typeof value === type) {
      out[name] = value;
    } else {
      problems.push(`${where}: "${key}" must be a ${type}, not ${JSON.stringify(value)}`);
    }
  }
  return out as RunOptionInput;
}

/** A --config file's contents: YAML by its extension (.yaml, .yml), else JSON. */
export function parseConfigFile(path: string): unknown {
  const text = readTextFile(path);
  const yamlFile = ['.yaml', '.yml'].includes(extname(path).toLowerCase());
  try {
    return yamlFile ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    const kind = yamlFile ? 'YAML' : 'JSON';
    throw new UsageError(`--config ${path} is not valid ${kind}: ${(err as Error).message.trim()}; fix the file (${kind} by its name: .yaml or .yml is read as YAML, anything else as JSON)`);
  }
}

const TRUE = ['1', 'true', 'yes', 'on'];
const FALSE = ['0', 'false', 'no', 'off'];

/**
 * Run options from `TLSBENCH_<OPTION>` variables (`TLSBENCH_DURATION=30s`, `TLSBENCH_INSECURE=1`).
 * Other `TLSBENCH_*` variables (TLSBENCH_CACHE_DIR, …) are not options and are left alone. A
 * variable that is set but empty, or of the wrong type, is bad input, named.
 */
export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): RunOptionInput {
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [name, type] of runOptionTypes()) {
    const variable = envName(name);
    const value = env[variable];
    if (value === undefined) continue;
    const text = value.trim();
    if (text === '') {
      problems.push(`${variable} is set but empty: unset it or give a value`);
    } else if (type === 'number') {
      const n = Number(text);
      if (Number.isFinite(n)) out[name] = n;
      else problems.push(`${variable}='${value}': a number is needed`);
    } else if (type === 'boolean') {
      if (TRUE.includes(text.toLowerCase())) out[name] = true;
      else if (FALSE.includes(text.toLowerCase())) out[name] = false;
      else problems.push(`${variable}='${value}': give 1/true/yes or 0/false/no`);
    } else {
      out[name] = value;
    }
  }
  if (problems.length) throw new UsageError(problems.length === 1 ? problems[0]! : `environment:\n  - ${problems.join('\n  - ')}`);
  return out as RunOptionInput;
}

/** What a `run --config` file holds: the matrix file's `options` and `repeat`, without a grid. */
export interface RunConfigFile {
  options: RunOptionInput;
  repeat?: number;
}

const GRID_KEYS = ['axes', 'cells', 'baseline'];

/** A `run --config` file: its options checked like the matrix file's; a grid in it is refused. */
export function runConfigFromFile(path: string): RunConfigFile {
  const raw = parseConfigFile(path);
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new UsageError(`--config ${path}: expected an object with "options" (and optionally "repeat")`);
  }
  const file = raw as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of Object.keys(file)) {
    if (GRID_KEYS.includes(key)) problems.push(`"${key}" describes a grid: run the file with 'tlsbench matrix --config ${path}'`);
    else if (key !== 'options' && key !== 'repeat') problems.push(`unknown key "${key}" (known: options, repeat)`);
  }
  const options = runOptionsFrom(file.options ?? {}, 'options', problems);
  if (file.repeat !== undefined && typeof file.repeat !== 'number') problems.push('repeat must be a number');
  if (problems.length) throw new UsageError(`--config ${path}:\n  - ${problems.join('\n  - ')}`);
  return file.repeat === undefined ? { options } : { options, repeat: file.repeat as number };
}

/**
 * The options of one run from its three sources, the command line winning over the environment,
 * the environment over the file; and, for messages, where the values not from the command line
 * came from (`from the environment: TLSBENCH_DURATION; from run.yaml: connections`).
 */
export function layerRunOptions(commandLine: RunOptionInput, env: RunOptionInput, file: RunOptionInput, filePath?: string): { options: RunOptionInput; origins: string[] } {
  const notGiven = (o: RunOptionInput) => Object.keys(o).filter((key) => !(key in commandLine));
  const fromEnv = notGiven(env);
  const fromFile = notGiven(file).filter((key) => !(key in env));
  const origins = [
    ...(fromEnv.length ? [`from the environment: ${fromEnv.map(envName).join(', ')}`] : []),
    ...(fromFile.length ? [`from ${filePath}: ${fromFile.map(kebab).join(', ')}`] : []),
  ];
  return { options: { ...file, ...env, ...commandLine }, origins };
}
