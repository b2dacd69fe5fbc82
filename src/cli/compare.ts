/** `tlsbench compare BASE HEAD`: what changed, by how much, and whether it is beyond the noise. */
import type { CommandModule } from 'yargs';
import { compareResults, GATES, REPEAT_ADVICE, type Gate } from '../compare/compare.js';
import { ACCEPTED_FORMS } from '../compare/fail-if.js';
import { COMPARE_FORMATS, renderComparison, type CompareFormat } from '../compare/render.js';
import { readRunResult } from '../merge/result-file.js';

interface CompareArgs {
  base: string;
  head: string;
  failIf?: string[];
  gate: Gate;
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
      .option('gate', { type: 'string', choices: GATES, default: 'noise', describe: 'noise: a --fail-if change fails only when it is also beyond the repeats\' noise band; raw: the threshold alone' })
      .option('format', { alias: 'f', type: 'string', choices: COMPARE_FORMATS, default: 'table', describe: 'table; json (schema/comparison.schema.json) or csv for scripts; markdown for a CI job summary' })
      .epilog(`--fail-if forms:\n  ${ACCEPTED_FORMS.join('\n  ')}\n` +
        'A change is "beyond noise" when it exceeds max(2 × pooled stdev, smallest range) of the repeats ' +
        `(tlsbench run --repeat N). Without repeats no spread is known and the raw threshold decides: ${REPEAT_ADVICE}.`) as never,
  handler: (argv) => {
    const labels: [string, string] = [argv.base, argv.head];
    const comparison = compareResults(readRunResult(argv.base), readRunResult(argv.head), { failIf: argv.failIf ?? [], labels, gate: argv.gate });
    process.stdout.write(`${renderComparison(comparison, argv.format, labels)}\n`);
    if (comparison.failures.length) process.exitCode = 1;
  },
};
