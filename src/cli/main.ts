#!/usr/bin/env node
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { UsageError } from '../config/usage-error.js';
import { joinNegativeValues } from './argv.js';
import { certsCommand } from './certs.js';
import { compareCommand } from './compare.js';
import { matrixCommand } from './matrix.js';
import { mergeCommand } from './merge.js';
import { reportCommand } from './report.js';
import { runCommand } from './run.js';
import { serveCommand } from './serve.js';

/** Exit codes: 0 ok, 1 a check failed (no success, --require-resumption, --fail-if), 2 bad input. */
async function main(): Promise<void> {
  try {
    await yargs(joinNegativeValues(hideBin(process.argv)))
      .scriptName('tlsbench')
      .command(runCommand)
      .command(serveCommand)
      .command(reportCommand)
      .command(certsCommand)
      .command(matrixCommand)
      .command(compareCommand)
      .command(mergeCommand)
      .strict()
      .help()
      .alias('h', 'help')
      .version()
      .wrap(Math.min(110, process.stdout.columns || 110))
      .fail((message, err) => {
        throw err ?? new UsageError(`${message}. See 'tlsbench --help'.`);
      })
      .parseAsync();
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`tlsbench: ${err.message}\n`);
      process.exit(2);
    }
    // A system call that failed (a disk that filled up, a device gone) is not a bug in tlsbench:
    // its message says what happened, and a stack trace would only bury it.
    const e = err as NodeJS.ErrnoException | null;
    if (e && typeof e.syscall === 'string' && typeof e.code === 'string') {
      process.stderr.write(`tlsbench: ${e.message}\n`);
      process.exit(1);
    }
    process.stderr.write(`tlsbench: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  }
}

await main();
