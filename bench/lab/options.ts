import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../../src/config/usage-error.js';
import { SERVER_KINDS, type ServerKind } from './pinned-target.js';

type StringOptions = Record<string, { type: 'string'; default?: string }>;

/** What every bench takes: the client runtime, the target server kind, where results go. */
const COMMON: StringOptions = {
  node: { type: 'string', default: process.execPath },
  server: { type: 'string', default: 'nginx' },
  'results-dir': { type: 'string' },
};

export interface CommonBenchOptions {
  node: string;
  server: ServerKind;
  resultsDir: string | undefined;
}

/**
 * Parses a bench's command line: the common options plus its own. `check` returns the problems
 * with its own values; all problems are reported together, as a UsageError.
 */
export function parseBenchOptions<T>(
  argv: string[],
  own: StringOptions,
  check: (values: Record<string, string | undefined>, problems: string[]) => T,
): CommonBenchOptions & T {
  const { values } = parseArgs({ args: argv, options: { ...COMMON, ...own } as ParseArgsConfig['options'] });
  const v = values as Record<string, string | undefined>;
  const problems: string[] = [];
  const specific = check(v, problems);
  if (!SERVER_KINDS.includes(v.server as ServerKind)) problems.push(`--server: '${v.server}' is not one of ${SERVER_KINDS.join(', ')}`);
  if (problems.length) throw new UsageError(problems.join('\n'));
  return { node: v.node!, server: v.server as ServerKind, resultsDir: v['results-dir'], ...specific };
}
