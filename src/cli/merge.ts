/**
 * `tlsbench merge FILE... --out FILE`: results of several load machines that ran one
 * configuration against one target (ideally with a shared --start-at), merged exactly.
 */
import type { CommandModule } from 'yargs';
import { UsageError } from '../config/usage-error.js';
import { mergeMachines } from '../merge/merge-runs.js';
import { readRunResult } from '../merge/result-file.js';
import { checkOutputFile } from '../config/output-path.js';
import { renderTable } from '../report/table.js';
import { saveOutput } from './run.js';

interface MergeArgs {
  files: string[];
  out: string;
  force: boolean;
  json: boolean;
}

export const mergeCommand: CommandModule<object, MergeArgs> = {
  command: 'merge <files..>',
  describe: 'Merge the results of several load machines into one (counts summed, histograms added)',
  builder: (y) =>
    y
      .positional('files', { type: 'string', array: true, describe: 'result files (tlsbench run --out FILE), one per machine' })
      .option('out', { alias: 'o', type: 'string', demandOption: true, describe: 'write the merged result to FILE (atomically)' })
      .option('force', { type: 'boolean', default: false, describe: 'merge even when the configurations differ (the first one\'s settings are kept)' })
      .option('json', { type: 'boolean', default: false, describe: 'print the merged result as JSON instead of the table' })
      .epilog('Settings each machine may choose for itself: workers, connections, rate, max-connections, handshakes, ' +
        'and local file paths (ca, cert, key, keylog); the merged result holds their totals. Every other setting, ' +
        '--start-at included, must match.') as never,
  handler: (argv) => {
    if (argv.files.length < 2) throw new UsageError('merge needs at least two result files: give one per load machine');
    checkOutputFile(argv.out, '--out');
    const results = argv.files.map(readRunResult);
    const merged = mergeMachines(results, { force: argv.force, labels: argv.files });
    const json = JSON.stringify(merged, null, 2);
    process.stdout.write(argv.json ? `${json}\n` : `${renderTable(merged)}\n`);
    process.stderr.write(`merged ${results.length} results (${merged.machines?.map((m) => m.hostname).join(', ')})\n`);
    if (!saveOutput(argv.out, json, argv.json)) process.exitCode = 1;
  },
};
