#!/usr/bin/env node
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import type { CommandModule } from 'yargs';
import { UsageError } from '../config/usage-error.js';
import { toolVersion } from '../coordinator/runtime-info.js';
import { joinNegativeValues } from './argv.js';
import { suggestCommand } from './command-suggestion.js';
import { capacityCommand } from './capacity.js';
import { certsCommand } from './certs.js';
import { compareCommand } from './compare.js';
import { matrixCommand } from './matrix.js';
import { mergeCommand } from './merge.js';
import { observeCommand } from './observe.js';
import { reportCommand } from './report.js';
import { runCommand } from './run.js';
import { serveCommand } from './serve.js';

const COMMANDS = [runCommand, serveCommand, reportCommand, certsCommand, matrixCommand, capacityCommand, compareCommand, mergeCommand, observeCommand];
/** Each command's usage line (`compare <base> <head>`) and its name. */
const USAGES = COMMANDS.map((c) => [c.command].flat()[0] as string);
const NAMES = USAGES.map((usage) => usage.split(' ')[0]!);

/**
 * yargs says "Not enough non-option arguments: got 1, need at least 2", which names nothing:
 * say which command wanted which arguments instead.
 */
function missingArgumentsMessage(message: string): string | null {
  if (!/^Not enough non-option arguments/.test(message)) return null;
  const name = hideBin(process.argv)[0];
  const command = USAGES.find((_, i) => NAMES[i] === name);
  return command ? `${name}: missing arguments; give them as in: tlsbench ${command}` : null;
}

/** Exit codes: 0 ok, 1 a check failed (no success, --require-resumption, --fail-if), 2 bad input. */
async function main(): Promise<void> {
  try {
    const args = hideBin(process.argv);
    const meant = args[0] === undefined ? null : suggestCommand(args[0], NAMES);
    if (meant) throw new UsageError(`'${args[0]}' is not a command: did you mean ${meant}? (a target needs a port: host:port). See 'tlsbench --help'.`);
    await yargs(joinNegativeValues(args))
      .scriptName('tlsbench')
      .command(COMMANDS as CommandModule[])
      .strict()
      .help()
      .alias('h', 'help')
      // Its own package.json, not the one yargs would find above the working directory or the
      // bin link (the project tlsbench is installed into).
      .version(toolVersion())
      .wrap(Math.min(110, process.stdout.columns || 110))
      .fail((message, err) => {
        throw err ?? new UsageError(`${missingArgumentsMessage(message) ?? message}. See 'tlsbench --help'.`);
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
