/** `tlsbench compare BASE HEAD`: what changed, by how much, and whether it is beyond the noise. */
import type { CommandModule } from 'yargs';
import { compareResults } from '../compare/compare.js';
import { ACCEPTED_FORMS } from '../compare/fail-if.js';
import { COMPARE_FORMATS, renderComparison, type CompareFormat } from '../compare/render.js';
import { readRunResult } from '../merge/result-file.js';

interface CompareArgs {
  base: string;
  head: string;
  failIf?: string[];
  format: CompareFormat;
}

export const compareCommand: CommandModule<object, CompareArgs> = {
  command: 'compare <base> <head>',
  describe: 'Compare two results per phase, class and metric; exit 1 when a --fail-if threshold is crossed',
  builder: (y) =>
    y
      .positional('base', { type: 'string', describe: 'the reference result (e.g. from the main branch)' })
      .positional('head', { type: 'string', describe: 'the result to judge' })
      .option('fail-if', { type: 'string', array: true, describe: 'threshold(s), e.g. throughput<-5% p99>+10% hit-rate<99%' })
      .option('format', { alias: 'f', type: 'string', choices: COMPARE_FORMATS, default: 'table', describe: 'table; json (schema/comparison.schema.json) or csv for scripts; markdown for a CI job summary' })
      .epilog(`--fail-if forms:\n  ${ACCEPTED_FORMS.join('\n  ')}\n` +
        'A change is "beyond noise" when it exceeds max(2 × pooled stdev, smallest range) of the repeats ' +
        '(tlsbench run --repeat N); without repeats no spread is known.') as never,
  handler: (argv) => {
    const labels: [string, string] = [argv.base, argv.head];
    const comparison = compareResults(readRunResult(argv.base), readRunResult(argv.head), { failIf: argv.failIf ?? [], labels });
    process.stdout.write(`${renderComparison(comparison, argv.format, labels)}\n`);
    if (comparison.failures.length) process.exitCode = 1;
  },
};
