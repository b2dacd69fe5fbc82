/**
 * `tlsbench capacity`: the highest open-loop rate a server sustains within objectives.
 * Parse, validate (exit 2 before any step), search, print; the search is in src/capacity.
 */
import type { Argv, CommandModule } from 'yargs';
import { CAPACITY_DEFAULTS, resolveCapacity, runCapacity, type CapacityRequest } from '../capacity/run-capacity.js';
import { SLO_FORMS } from '../capacity/objective.js';
import { checkOutputFile } from '../config/output-path.js';
import { formatTarget } from '../config/target.js';
import { describeRun } from '../report/describe.js';
import { LiveView } from '../report/live-view.js';
import { ms, rate } from '../report/table.js';
import { outputFormat, renderCapacityAs } from '../report/format.js';
import { probeLine } from '../report/probe-line.js';
import { runOptionsBuilder, saveOutput } from './run.js';

interface CapacityArgs extends CapacityRequest {
  json?: boolean;
  format?: string;
  out?: string;
  quiet?: boolean;
  probe?: boolean;
}

export const capacityCommand: CommandModule<object, CapacityArgs> = {
  command: 'capacity [target]',
  describe: 'Find the highest handshake rate a server sustains within objectives (open-loop steps, then bisection)',
  builder: (y) =>
    (runOptionsBuilder(y) as Argv)
      .option('slo', { type: 'string', array: true, describe: `objective every step must meet; repeat it (${SLO_FORMS})`, group: 'Capacity:' })
      .option('start-rate', { type: 'number', describe: `first step's handshakes/s (default ${CAPACITY_DEFAULTS.startRate})`, group: 'Capacity:' })
      .option('max-rate', { type: 'number', describe: 'no step above this rate (default: --rate\'s maximum)', group: 'Capacity:' })
      .option('step-factor', { type: 'number', describe: `rate × this after each passing step, until one fails (default ${CAPACITY_DEFAULTS.stepFactor})`, group: 'Capacity:' })
      .option('precision', { type: 'number', describe: `bisect until the bracket is within this share of the rate (default ${CAPACITY_DEFAULTS.precision})`, group: 'Capacity:' })
      .option('max-duration', { type: 'string', describe: `bound on the whole search, set-up included (default ${CAPACITY_DEFAULTS.maxDuration})`, group: 'Capacity:' })
      .epilog("Each step is a whole open-loop run (-d is each step's window). Example: tlsbench capacity --slo 'p99<50ms' --slo 'errors<0.1%' -d 5s --out capacity.json") as never,
  handler: async (argv) => {
    const format = outputFormat(argv.format, argv.json);
    const resolved = resolveCapacity(argv);
    if (argv.out !== undefined) checkOutputFile(argv.out, '--out');
    let live = new LiveView(process.stderr, !!argv.quiet);
    const result = await runCapacity(resolved, {
      handleSignals: true,
      probe: !!argv.probe,
      onProbe: (probe) => process.stderr.write(`${probeLine(probe)}\n`),
      onStep: (search, index, offered) => {
        live = new LiveView(process.stderr, !!argv.quiet);
        live.say(`[${search}] step ${index}: ${offered}/s`);
      },
      onStart: (target, config) => {
        const where = target.builtIn ? `built-in server at ${formatTarget(target)} (${target.builtIn.coreSplit})` : formatTarget(target);
        live.say(`  → ${where}: ${describeRun(config)}`);
      },
      onSecond: (point, phase, clock, inFlight, cpu) => live.onSecond(point, phase, clock, inFlight, cpu),
      onWarning: (text) => process.stderr.write(`warning: ${text}\n`),
      onStepDone: (search, step) => {
        live.end();
        const p99 = step.p99 === null ? '—' : `${ms(step.p99)} ms`;
        live.say(`[${search}] ${step.offered}/s → achieved ${rate(step.achieved)}/s · p99 ${p99} · errors ${step.errors} · dropped ${step.dropped} · ${step.verdict}${step.verdict === 'pass' ? '' : `: ${step.reason}`}`);
      },
    });
    live.end();
    const json = JSON.stringify(result, null, 2);
    process.stdout.write(`${format === 'json' ? json : renderCapacityAs(result, format)}\n`);
    const failures = [
      ...(result.failure ? [result.failure] : []),
      ...result.searches.filter((s) => s.answer.rate === null && s.steps.some((step) => step.verdict !== 'interrupted'))
        .map((s) => `${s.phase}: no step met the objectives`),
    ];
    for (const f of failures) process.stderr.write(`FAIL ${f}\n`);
    const saved = argv.out === undefined || saveOutput(argv.out, json, format === 'json');
    process.exitCode = failures.length || !saved ? 1 : result.interrupted ? 130 : 0;
  },
};
