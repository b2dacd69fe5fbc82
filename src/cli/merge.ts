/**
 * `tlsbench merge FILE... --out FILE`: results of several load machines that ran one
 * configuration against one target (ideally with a shared --start-at), merged exactly; and a
 * `tlsbench observe` file from the server's host, joined by wall clock.
 */
import type { CommandModule } from 'yargs';
import { UsageError } from '../config/usage-error.js';
import { mergeMachines } from '../merge/merge-runs.js';
import { isServerObservation, joinObservation, toServerObservation } from '../merge/join-observation.js';
import { readJsonFile, toRunResult } from '../merge/result-file.js';
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
      .positional('files', { type: 'string', array: true, describe: 'result files (tlsbench run --out FILE), one per machine, and at most one server observation (tlsbench observe --out FILE)' })
      .option('out', { alias: 'o', type: 'string', demandOption: true, describe: 'write the merged result to FILE (atomically)' })
      .option('force', { type: 'boolean', default: false, describe: 'merge even when the configurations differ (the first one\'s settings are kept)' })
      .option('json', { type: 'boolean', default: false, describe: 'print the merged result as JSON instead of the table' })
      .epilog('Settings each machine may choose for itself: workers, connections, rate, max-connections, handshakes, ' +
        'and local file paths (ca, cert, key, keylog); the merged result holds their totals. Every other setting, ' +
        '--start-at included, must match.') as never,
  handler: (argv) => {
    if (argv.files.length < 2) throw new UsageError('merge needs at least two files: give two result files (one per load machine), or a result and a server observation');
    checkOutputFile(argv.out, '--out');
    const parsed = argv.files.map((file) => ({ file, value: readJsonFile(file) }));
    const observations = parsed.filter((p) => isServerObservation(p.value));
    if (observations.length > 1) throw new UsageError(`${observations.map((o) => o.file).join(', ')} are all server observations: give one (one server)`);
    const runs = parsed.filter((p) => !isServerObservation(p.value));
    if (runs.length === 0) throw new UsageError('no result file to merge: give the load machines\' results (tlsbench run --out FILE)');
    const results = runs.map((r) => toRunResult(r.value, r.file));
    let merged = results.length > 1 ? mergeMachines(results, { force: argv.force, labels: runs.map((r) => r.file) }) : results[0]!;
    const observation = observations[0];
    if (observation) merged = joinObservation(merged, toServerObservation(observation.value, observation.file), observation.file);
    const json = JSON.stringify(merged, null, 2);
    process.stdout.write(argv.json ? `${json}\n` : `${renderTable(merged)}\n`);
    const hosts = (merged.machines ?? [merged.runtime]).map((m) => m.hostname).join(', ');
    process.stderr.write(`merged ${results.length} result${results.length > 1 ? 's' : ''} (${hosts})${observation ? ` and the server observation ${observation.file}` : ''}\n`);
    if (!saveOutput(argv.out, json, argv.json)) process.exitCode = 1;
  },
};
