// Does a second worker double the client's capacity? Issue 11 asks for two workers ≥ 1.8× one
// where the server is not the limit. On a 2-core machine the server always shares a core with a
// two-worker client, so the throughput ratio measured here is the server's limit, not the
// client's. What the client's scaling rests on is its cost per handshake: if two workers spend
// as little client CPU per handshake as one, two free cores give 2× the handshakes. So the bench
// measures both, in interleaved rounds, with the native engine:
//   one worker:  tlsbench -w 1 pinned to CPU 0, the server to CPU 1;
//   two workers: tlsbench -w 2 pinned to CPUs 0,1, the server still on CPU 1 (it shares a core);
// and reports efficiency = (handshakes per client CPU-s with 2) ÷ (with 1), the projected speedup
// on free cores = 2 × efficiency, and the measured throughput ratio (server-bound, labelled so).
//
//   npm run build && node dist/bench/worker-scaling.js [--node PATH] [--rounds 5] [--duration 5]
//                      [--connections 32] [--tls 1.3|1.2] [--resume none|ticket] [--engine native|node]
import { CpuSampler } from './lab/cpu-sampler.js';
import { describeEnvironment, environmentLines } from './lab/environment.js';
import { parseBenchOptions } from './lab/options.js';
import { startPinnedTarget, type PinnedTarget } from './lab/pinned-target.js';
import { markdownTable, writeResults } from './lab/results-file.js';
import { runTlsbench } from './lab/tlsbench-run.js';
import { UsageError } from '../src/config/usage-error.js';

const SERVER_CPU = '1';
const SETUPS = [
  { workers: 1, cpus: '0' },
  { workers: 2, cpus: '0,1' },
] as const;

interface Measurement {
  workers: number;
  handshakes: number;
  windowSec: number;
  clientCpuSec: number;
  serverCpuSec: number;
  perCpuSecond: number;
  rate: number;
  errors: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function parseOptions(argv: string[]) {
  return parseBenchOptions(argv, {
    rounds: { type: 'string', default: '5' },
    duration: { type: 'string', default: '5' },
    connections: { type: 'string', default: '32' },
    tls: { type: 'string', default: '1.3' },
    resume: { type: 'string', default: 'none' },
    engine: { type: 'string', default: 'native' },
  }, (v, problems) => {
    const rounds = Number(v.rounds);
    const durationSec = Number(v.duration);
    const connections = Number(v.connections);
    if (!Number.isInteger(rounds) || rounds < 1) problems.push(`--rounds: '${v.rounds}' must be a whole number ≥ 1`);
    if (!Number.isInteger(durationSec) || durationSec < 1) problems.push(`--duration: '${v.duration}' must be whole seconds ≥ 1`);
    if (!Number.isInteger(connections) || connections < 2 || connections % 2) problems.push(`--connections: '${v.connections}' must be an even whole number ≥ 2 (the two workers split it)`);
    if (v.tls !== '1.3' && v.tls !== '1.2') problems.push(`--tls: '${v.tls}' must be 1.3 or 1.2`);
    if (v.resume !== 'none' && v.resume !== 'ticket') problems.push(`--resume: '${v.resume}' must be none or ticket`);
    if (v.engine !== 'native' && v.engine !== 'node') problems.push(`--engine: '${v.engine}' must be native or node`);
    return { rounds, durationSec, connections, tls: v.tls!, resume: v.resume!, engine: v.engine! };
  });
}

type Options = ReturnType<typeof parseOptions>;

async function measure(opts: Options, target: PinnedTarget, setup: (typeof SETUPS)[number]): Promise<Measurement> {
  const server = new CpuSampler(target.pid).start();
  const args = [
    `${target.host}:${target.port}`, '--ca', target.caPath, '--tls', opts.tls, '--resume', opts.resume, '--groups', 'X25519:P-256',
    '-w', String(setup.workers), '-c', String(opts.connections), '-d', `${opts.durationSec}s`, '--warmup', '1s',
  ];
  const { phase, windowCpuSec } = await runTlsbench(opts.node, setup.cpus, args, opts.engine, opts.durationSec).finally(() => server.stop());
  const cls = opts.resume === 'none' ? 'full' : 'resumed';
  const handshakes = phase.summary.classes[cls]?.handshakes ?? 0;
  const windowSec = phase.windowMs / 1000;
  return {
    workers: setup.workers,
    handshakes,
    windowSec,
    clientCpuSec: windowCpuSec,
    serverCpuSec: server.cpuBetween(phase.windowStartedAt, phase.windowStartedAt + phase.windowMs),
    perCpuSecond: handshakes / windowCpuSec,
    rate: handshakes / windowSec,
    errors: phase.summary.errorCount,
  };
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const env = describeEnvironment(opts.node);
  const target = await startPinnedTarget(opts.server, SERVER_CPU);
  const rounds: Measurement[][] = [];
  try {
    for (let round = 1; round <= opts.rounds; round++) {
      const order = round % 2 ? SETUPS : [...SETUPS].reverse();
      const got: Measurement[] = [];
      for (const setup of order) {
        const m = await measure(opts, target, setup);
        process.stderr.write(`round ${round}/${opts.rounds} -w ${m.workers}: ${m.perCpuSecond.toFixed(0)}/client CPU-s, ${m.rate.toFixed(0)}/s, client CPU ${(m.clientCpuSec / m.windowSec).toFixed(2)}, server CPU ${(m.serverCpuSec / m.windowSec).toFixed(2)}\n`);
        got.push(m);
      }
      rounds.push(got.sort((a, b) => a.workers - b.workers));
    }
  } finally {
    await target.stop();
  }
  const pick = (w: number) => rounds.map((r) => r.find((m) => m.workers === w)!);
  const one = pick(1);
  const two = pick(2);
  const efficiencies = rounds.map((r) => r[1]!.perCpuSecond / r[0]!.perCpuSecond);
  const throughputRatios = rounds.map((r) => r[1]!.rate / r[0]!.rate);
  const errors = rounds.flat().reduce((n, m) => n + m.errors, 0);
  const efficiency = median(efficiencies);
  const serverBusy = median(two.map((m) => m.serverCpuSec / m.windowSec));
  const clientBusy = median(two.map((m) => m.clientCpuSec / m.windowSec));
  const machineBusy = clientBusy + serverBusy;
  const row = (ms: Measurement[]) => [
    String(ms[0]!.workers),
    median(ms.map((m) => m.perCpuSecond)).toFixed(0),
    median(ms.map((m) => m.rate)).toFixed(0),
    median(ms.map((m) => m.clientCpuSec / m.windowSec)).toFixed(2),
    median(ms.map((m) => m.serverCpuSec / m.windowSec)).toFixed(2),
  ];
  const markdown = [
    `# Worker scaling: tlsbench ${opts.engine} engine, -w 1 vs -w 2 (Node ${env.client.node})`,
    '',
    ...environmentLines(env),
    `- server: ${target.description}`,
    `- case: TLS ${opts.tls}, --resume ${opts.resume}, -c ${opts.connections}, ${opts.durationSec} s windows after 1 s warm-up; ${opts.rounds} rounds alternating which setup goes first; -w 1 on CPU 0, -w 2 on CPUs 0,1 (sharing CPU 1 with the server)`,
    '',
    markdownTable(['workers', 'handshakes / client CPU-s (median)', 'handshakes/s (median)', 'client CPUs busy', 'server CPUs busy'], [row(one), row(two)]),
    '',
    `Efficiency (two workers' handshakes per client CPU-second ÷ one worker's, median of the rounds): **${efficiency.toFixed(2)}** ` +
      `(rounds ${efficiencies.map((e) => e.toFixed(2)).join(', ')}), so on two cores the server does not share, two workers would make ` +
      `**${(2 * efficiency).toFixed(2)}×** one worker's handshakes (issue 11's target ≥ 1.8× ${2 * efficiency >= 1.8 ? '✓' : '✗'}).`,
    `Measured throughput ratio here: ${median(throughputRatios).toFixed(2)}× — ${serverBusy >= 0.9
      ? `the server was the limit (${serverBusy.toFixed(2)} of its CPU busy with two workers), so this is not the client's scaling.`
      : machineBusy >= 1.8
        ? `the machine's two CPUs were full with two workers (client ${clientBusy.toFixed(2)} + server ${serverBusy.toFixed(2)}): the second worker takes CPU 1 from the server, so this ratio is the machine's limit, not the client's scaling.`
        : `neither the server (${serverBusy.toFixed(2)} busy) nor the machine (${machineBusy.toFixed(2)} of 2 CPUs) was full with two workers: something else limited both setups (other load?), so this ratio says little.`}`,
    errors ? `Errors: ${errors} over all runs.` : 'No errors in any run.',
    '',
  ].join('\n');
  const files = writeResults('worker-scaling', env.client.node, { bench: 'worker-scaling', environment: env, server: target.description, options: { ...opts }, rounds, efficiency, projectedSpeedup: 2 * efficiency }, markdown, opts.resultsDir);
  process.stdout.write(`${markdown}\nwritten: ${files.json}, ${files.md}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`worker-scaling: ${err instanceof UsageError ? err.message : ((err as Error)?.stack ?? String(err))}\n`);
  process.exit(err instanceof UsageError ? 2 : 1);
});
