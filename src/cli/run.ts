import type { Argv, CommandModule } from 'yargs';
import { resolveRepeat, resolveRun, runResolved, type RunRequest } from '../api/run.js';
import { helpOf, RUN_OPTIONS, yargsTypeOf, type OptionRow } from '../config/run-option-table.js';
import { kebab } from '../config/option-sources.js';
import { AXES } from '../matrix/grid.js';
import { layerRunOptions, optionsFromEnv, pickRunOptions, runConfigFromFile } from '../config/option-sources.js';
import { UsageError } from '../config/usage-error.js';
import { verdict } from '../metrics/verdict.js';
import { checkOutputFile, reportWrite, writeOrFallback } from '../config/output-path.js';
import { describeRun } from '../report/describe.js';
import { LiveView } from '../report/live-view.js';
import { OUTPUT_FORMATS, outputFormat, renderResult } from '../report/format.js';
import { formatTarget } from '../config/target.js';
import { probeLine } from '../report/probe-line.js';

interface RunArgs extends RunRequest {
  config?: string;
  json?: boolean;
  format?: string;
  out?: string;
  quiet?: boolean;
  probe?: boolean;
}

/**
 * The run options, from the option table (config/run-option-table.ts), then the options of the
 * command itself. `matrix` passes `switchesAsAxes`: there a switch that spans the grid (--ocsp)
 * takes a comma list of on/off, where `run` has a plain switch that never swallows the target after it.
 */
export function runOptionsBuilder<T>(y: Argv<T>, switchesAsAxes = false): Argv<T> {
  let built = y;
  for (const [name, row] of Object.entries(RUN_OPTIONS as Record<string, OptionRow>)) {
    const axis = switchesAsAxes && row.kind === 'boolean' && (AXES as readonly string[]).includes(name);
    const spec = { type: axis ? 'string' : yargsTypeOf(row.kind), describe: helpOf(row), ...(row.alias ? { alias: row.alias } : {}), ...(row.group ? { group: row.group } : {}) } as const;
    built = row.positional ? built.positional(kebab(name), spec) : built.option(kebab(name), spec);
  }
  return built
    .option('repeat', { type: 'number', describe: 'run the configuration N times; the result keeps each run\'s figures, so `compare` knows the noise', group: 'Load:' })
    .option('config', { type: 'string', describe: 'JSON or YAML file of run options: { options: { duration: 10s, … }, repeat }; TLSBENCH_* variables win over it, command-line options over both', group: 'Load:' })
    .option('probe', { type: 'boolean', describe: 'first look at the target: versions, cipher, group, certificate, resumption support (stderr and the result)', group: 'TLS:' })
    .option('json', { type: 'boolean', describe: 'print the full result as JSON on stdout (= --format json)', group: 'Output:' })
    .option('format', { alias: 'f', type: 'string', describe: `stdout: ${OUTPUT_FORMATS.join(' | ')} (default table)`, group: 'Output:' })
    .option('out', { alias: 'o', type: 'string', describe: 'write the full JSON result to FILE (atomically)', group: 'Output:' })
    .option('quiet', { alias: 'q', type: 'boolean', describe: 'no live status', group: 'Output:' });
}

export const runCommand: CommandModule<object, RunArgs> = {
  command: ['run [target]', '$0 [target]'],
  describe: 'Measure TLS handshakes against a target (default: the built-in server)',
  builder: (y) => runOptionsBuilder(y) as Argv<RunArgs>,
  handler: async (argv) => {
    const format = outputFormat(argv.format, argv.json);
    const file = argv.config !== undefined ? runConfigFromFile(argv.config) : { options: {} };
    const { options, origins } = layerRunOptions(pickRunOptions(argv as unknown as Record<string, unknown>), optionsFromEnv(), file.options, argv.config);
    const repeat = resolveRepeat(argv.repeat ?? file.repeat);
    const resolved = withOrigins(origins, () => resolveRun(options));
    if (argv.out !== undefined) checkOutputFile(argv.out, '--out');
    const { config } = resolved;
    const live = new LiveView(process.stderr, !!argv.quiet);
    const result = await runResolved(resolved, repeat, {
      handleSignals: true,
      onRepeat: (index, total) => live.say(`repeat ${index}/${total}`),
      onStart: (target) => {
        const where = target.builtIn ? `built-in server at ${formatTarget(target)} (${target.builtIn.coreSplit})` : formatTarget(target);
        live.say(`tlsbench → ${where}: ${describeRun(config, repeat)}`);
      },
      onSecond: (point, phase, clock, inFlight, cpu) => live.onSecond(point, phase, clock, inFlight, cpu),
      onWarning: (text) => live.note(`warning: ${text}`),
      probe: !!argv.probe,
      // Asked for explicitly, so printed even with --quiet.
      onProbe: (probe) => live.note(probeLine(probe)),
    });
    live.end();
    const json = JSON.stringify(result, null, 2);
    process.stdout.write(`${format === 'json' ? json : renderResult(result, format)}\n`);
    const failures = verdict(result);
    for (const f of failures) process.stderr.write(`FAIL ${f}\n`);
    const saved = argv.out === undefined || saveOutput(argv.out, json, format === 'json');
    process.exitCode = failures.length || !saved ? 1 : result.interrupted ? 130 : 0;
  },
};

/** A problem with a value from the environment or a file names where the values came from, as its option is named after the flag. */
function withOrigins<T>(origins: string[], resolve: () => T): T {
  try {
    return resolve();
  } catch (err) {
    if (!(err instanceof UsageError) || !origins.length) throw err;
    throw new UsageError(`${err.message}\n  (values not given on the command line: ${origins.join('; ')})`);
  }
}

/**
 * Writes the JSON result where --out says, after the run; when that fails the result goes to a
 * fallback file or, failing that, to stdout (unless it is there already). False when not at --out.
 */
export function saveOutput(path: string, json: string, onStdoutAlready: boolean): boolean {
  const outcome = writeOrFallback(path, `${json}\n`);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  if (reportWrite(outcome, path, 'the results', log)) {
    log(`results written to ${path}`);
    return true;
  }
  if ('lost' in outcome && !onStdoutAlready) process.stdout.write(`${json}\n`);
  return false;
}
