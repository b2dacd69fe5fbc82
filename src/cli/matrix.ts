/**
 * `tlsbench matrix`: a grid of configurations (TLS version × group × resumption × key type …),
 * one full run per cell, printed as one table of costs relative to a baseline cell.
 */
import type { Argv, CommandModule } from 'yargs';
import type { RunOptionInput } from '../config/run-options.js';
import { ON_OFF, RUN_OPTIONS } from '../config/run-option-table.js';
import { UsageError } from '../config/usage-error.js';
import { formatTarget } from '../config/target.js';
import { gridFromFile, gridFromOptions, AXES } from '../matrix/grid.js';
import { optionsFromEnv, pickRunOptions } from '../config/option-sources.js';
import type { MatrixSpec } from '../matrix/matrix-result.js';
import { runMatrix } from '../matrix/run-matrix.js';
import { verdict } from '../metrics/verdict.js';
import { checkOutputFile } from '../config/output-path.js';
import { describeRun } from '../report/describe.js';
import { LiveView } from '../report/live-view.js';
import { OUTPUT_FORMATS, outputFormat, renderMatrixAs } from '../report/format.js';
import { runOptionsBuilder, saveOutput } from './run.js';

interface MatrixArgs extends RunOptionInput {
  config?: string;
  baseline?: string;
  repeat?: number;
  json?: boolean;
  format?: string;
  out?: string;
  quiet?: boolean;
}

const LIST = 'comma list: one cell per value';

export const matrixCommand: CommandModule<object, MatrixArgs> = {
  command: 'matrix [target]',
  describe: 'Run a grid of configurations (comma lists or --config FILE) and compare their cost',
  builder: (y) =>
    (runOptionsBuilder(y, true) as Argv)
      .option('tls', { type: 'string', describe: `${RUN_OPTIONS.tls.help}; ${LIST}`, group: 'Grid:' })
      .option('groups', { type: 'string', describe: `key-exchange groups (X25519:P-256 within a cell); ${LIST}`, group: 'Grid:' })
      .option('resume', { type: 'string', describe: `${RUN_OPTIONS.resume.choices.join(' | ')}; ${LIST}`, group: 'Grid:' })
      .option('key-type', { alias: 'key-types', type: 'string', describe: `built-in server certificate key; ${LIST}`, group: 'Grid:' })
      .option('ciphers', { type: 'string', describe: `TLS 1.2 ciphers (':' within a cell); ${LIST}`, group: 'Grid:' })
      .option('ciphersuites', { type: 'string', describe: `TLS 1.3 suites (':' within a cell); ${LIST}`, group: 'Grid:' })
      .option('sigalgs', { type: 'string', describe: `signature algorithms (':' within a cell); ${LIST}`, group: 'Grid:' })
      .option('ocsp', { type: 'string', describe: `${ON_OFF.join(' | ')}: ask for a stapled OCSP response (the built-in server staples one); ${LIST}`, group: 'Grid:' })
      .option('server-crl', { type: 'string', describe: `with --mtls: CRL files the built-in server checks client certificates against (e.g. crl-1000.pem,crl-100000.pem from tlsbench certs --crl-entries); ${LIST}`, group: 'Grid:' })
      .option('server-engine', { type: 'string', describe: `built-in server: ${RUN_OPTIONS.serverEngine.choices.join(' | ')} (node,native: what the same handshakes cost Node's server and OpenSSL's own; auto is decided once for the grid); ${LIST}`, group: 'Grid:' })
      .option('config', { type: 'string', describe: 'grid file (JSON; YAML with the yaml package): { options, axes, cells, baseline, repeat }', group: 'Grid:' })
      .option('baseline', { type: 'string', describe: 'cell costs are relative to (default: the first cell that ran)', group: 'Grid:' })
      .option('out', { type: 'string', describe: 'write every cell\'s result to FILE (atomically)', group: 'Output:' })
      .option('format', { alias: 'f', type: 'string', describe: `stdout: ${OUTPUT_FORMATS.join(' | ')} (default table)`, group: 'Output:' })
      .epilog('Example: tlsbench matrix --tls 1.2,1.3 --groups X25519,P-256 --key-types ecdsa-p256,rsa-2048 -d 5s --out matrix.json') as never,
  handler: async (argv) => {
    const format = outputFormat(argv.format, argv.json);
    const asJson = format === 'json';
    if (argv.out !== undefined) checkOutputFile(argv.out, '--out');
    // TLSBENCH_* variables apply to every cell, under the command line and over the file's options.
    const options = { ...optionsFromEnv(), ...pickRunOptions(argv as unknown as Record<string, unknown>) };
    let spec: MatrixSpec;
    if (argv.config) {
      const lists = AXES.filter((axis) => typeof options[axis] === 'string' && (options[axis] as string).includes(','));
      if (lists.length) throw new UsageError(`give the grid either as comma lists or in --config, not both (--${lists.join(', --')} hold lists)`);
      spec = await gridFromFile(argv.config, options);
    } else {
      spec = { cells: gridFromOptions(options) };
    }
    if (argv.baseline !== undefined) spec.baseline = argv.baseline;
    if (argv.repeat !== undefined) spec.repeat = argv.repeat;

    let live = new LiveView(process.stderr, !!argv.quiet);
    const result = await runMatrix(spec, {
      handleSignals: true,
      onCell: (cell, index, total) => {
        live = new LiveView(process.stderr, !!argv.quiet);
        live.say(`cell ${index}/${total}: ${cell.name}`);
      },
      onRepeat: (index, total) => live.say(`  repeat ${index}/${total}`),
      onStart: (target, config) => {
        const where = target.builtIn ? `built-in server at ${formatTarget(target)} (${target.builtIn.keyType})` : formatTarget(target);
        live.say(`  → ${where}: ${describeRun(config, spec.repeat ?? 1)}`);
      },
      onSecond: (point, phase, clock, inFlight, cpu) => live.onSecond(point, phase, clock, inFlight, cpu),
      onWarning: (text) => live.note(`warning: ${text}`),
      onCellDone: (cell, index, total) => {
        live.end();
        if (cell.skipped) live.say(`cell ${index}/${total}: ${cell.name} skipped: ${cell.skipped}`);
      },
    });

    const json = JSON.stringify(result, null, 2);
    process.stdout.write(`${asJson ? json : renderMatrixAs(result, format)}\n`);
    if (spec.baseline !== undefined && result.baseline !== spec.baseline) {
      process.stderr.write(`note: baseline ${spec.baseline} did not run; costs are relative to ${result.baseline ?? 'nothing'}\n`);
    }
    const failures = result.cells.flatMap((c) => (c.result ? verdict(c.result).map((f) => `${c.name}: ${f}`) : []));
    if (!result.cells.some((c) => c.result)) failures.push('no cell ran');
    for (const f of failures) process.stderr.write(`FAIL ${f}\n`);
    const saved = argv.out === undefined || saveOutput(argv.out, json, asJson);
    process.exitCode = failures.length || !saved ? 1 : result.interrupted ? 130 : 0;
  },
};
