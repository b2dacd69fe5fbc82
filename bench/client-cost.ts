// tlsbench's own client cost beside openssl s_time's: handshakes per client CPU-second
// (user + system time of the whole client process, every thread), for full and resumed
// TLS 1.2 and 1.3, against one server pinned to another CPU. A third client, a bare Node
// loop (lab/bare-node-client.ts), shows how much of tlsbench's cost is Node's TLS stack itself.
//
//   npm run build && npm run bench -- [--node PATH] [--duration 5] [--rounds 5] [--connections 16] [--server nginx|s_server] [--engine native|node]
//
// How CPU is measured: both clients run under `bash -c 'taskset -c 0 CMD & wait; times'`.
// - s_time: handshakes (its own count) ÷ whole-life CPU (bash `times`, exact). Its start-up
//   (reading the CA file) is a few ms of a run of seconds.
// - tlsbench: handshakes of the measured window (from its JSON) ÷ CPU spent inside that same
//   window, interpolated from /proc/<pid>/stat samples every 50 ms (10 ms tick resolution),
//   so Node's start-up, the worker pool and the warm-up are not charged. The whole-life figure
//   is reported beside it.
// - bare Node loop: its own window (same warm-up and length), CPU from process.cpuUsage().
import { fileURLToPath } from 'node:url';
import { UsageError } from '../src/config/usage-error.js';
import type { RunResult } from '../src/metrics/run-result.js';
import { CpuSampler } from './lab/cpu-sampler.js';
import { describeEnvironment, environmentLines, type BenchEnvironment } from './lab/environment.js';
import { runMeasured } from './lab/measured-run.js';
import { parseBenchOptions } from './lab/options.js';
import { startPinnedTarget, type PinnedTarget } from './lab/pinned-target.js';
import { markdownTable, writeResults } from './lab/results-file.js';

const CLIENT_CPU = '0';
const SERVER_CPU = '1';
const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const BARE_CLIENT = fileURLToPath(new URL('./lab/bare-node-client.js', import.meta.url));
/** The key shares both Node clients offer: one X25519 share, as s_time (OpenSSL 3.0) offers. */
const GROUPS = 'X25519:P-256';
const WARMUP_SEC = 1;

interface BenchCase {
  name: string;
  tls: '1.2' | '1.3';
  resume: 'none' | 'ticket';
  /** The handshake class that counts for this case. */
  cls: 'full' | 'resumed';
  /** The target for tlsbench ÷ s_time, when it sets one. */
  target: number | null;
}

const CASES: BenchCase[] = [
  { name: 'full TLS 1.3', tls: '1.3', resume: 'none', cls: 'full', target: 1.3 },
  { name: 'full TLS 1.2', tls: '1.2', resume: 'none', cls: 'full', target: 1.3 },
  { name: 'resumed TLS 1.2 (tickets)', tls: '1.2', resume: 'ticket', cls: 'resumed', target: 0.6 },
  { name: 'resumed TLS 1.3 (tickets)', tls: '1.3', resume: 'ticket', cls: 'resumed', target: null },
];

interface ToolFigures {
  /** Handshakes of the case's class that were counted. */
  handshakes: number;
  /** Share of counted connections that were of the case's class (resumed cases: the hit rate). */
  classShare: number;
  cpuSec: number;
  wallSec: number;
  perCpuSecond: number;
  /** CPU ÷ wall over the measured span: ~1 means the client had the core to itself and used it. */
  cpuUtilisation: number;
  serverCpuUtilisation: number;
}

interface TlsbenchFigures extends ToolFigures {
  wholeLifeCpuSec: number;
  elu: number[];
  errors: number;
  negotiated: string;
}

interface STimeFigures extends ToolFigures {
  /** s_time's own figure: connections per *user* second. */
  ownConnectionsPerUserSecond: number | null;
  /** Why the figure cannot be compared, when it cannot. */
  invalid: string | null;
}

interface RoundResult {
  tlsbench: TlsbenchFigures;
  sTime: STimeFigures;
  bare: ToolFigures;
  /** tlsbench ÷ s_time handshakes per CPU-second; null when s_time's figure is not valid. */
  ratio: number | null;
  /** The bare Node loop ÷ s_time: what Node's TLS stack itself allows here. */
  bareRatio: number | null;
  /** tlsbench ÷ the bare Node loop: the share of it tlsbench keeps while measuring. */
  ofBare: number;
}

interface CaseResult {
  case: BenchCase;
  /** One measurement of both tools per round; the rounds interleave the cases. */
  rounds: RoundResult[];
  /** Median over the rounds (the headline), and the spread. */
  ratio: number | null;
  ratioMin: number | null;
  ratioMax: number | null;
  tlsbenchPerCpuSecond: number;
  sTimePerCpuSecond: number;
  barePerCpuSecond: number;
  bareRatio: number | null;
  ofBare: number;
  meetsTarget: boolean | null;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function serverUtilisation(server: CpuSampler, from: number, to: number): number {
  return server.cpuBetween(from, to) / Math.max(0.001, (to - from) / 1000);
}

async function measureTlsbench(node: string, target: PinnedTarget, c: BenchCase, durationSec: number, connections: number, engine: string): Promise<TlsbenchFigures> {
  const server = new CpuSampler(target.pid).start();
  const args = [
    CLI, `${target.host}:${target.port}`, '--ca', target.caPath, '--tls', c.tls, '--resume', c.resume,
    '-w', '1', '-c', String(connections), '-d', `${durationSec}s`, '--warmup', `${WARMUP_SEC}s`, '--json', '--quiet',
    // The same key share as s_time (OpenSSL 3.0 offers X25519 alone): Node 24 would otherwise also
    // generate an ML-KEM-768 share on every handshake that this server never uses. P-256 stays
    // listed because TLS 1.2 also reads the list as the curves an ECDSA certificate may use.
    '--groups', GROUPS,
    '--engine', engine,
  ];
  const run = await runMeasured(CLIENT_CPU, node, args, { timeoutMs: (durationSec + 30) * 1000 });
  server.stop();
  if (run.exitCode !== 0) throw new Error(`tlsbench exited ${run.exitCode} on ${c.name}:\n${run.stderr}`);
  const result = JSON.parse(run.stdout) as RunResult;
  const phase = result.phases[0]!;
  const s = phase.summary;
  const from = phase.windowStartedAt;
  const to = from + phase.windowMs;
  const cpuSec = run.sampler.cpuBetween(from, to);
  const handshakes = s.classes[c.cls]?.handshakes ?? 0;
  const allHandshakes = Object.values(s.classes).reduce((a, k) => a + (k?.handshakes ?? 0), 0);
  const n = s.classes[c.cls]?.negotiated[0];
  return {
    handshakes,
    classShare: allHandshakes ? handshakes / allHandshakes : 0,
    cpuSec,
    wallSec: phase.windowMs / 1000,
    perCpuSecond: handshakes / cpuSec,
    cpuUtilisation: cpuSec / (phase.windowMs / 1000),
    serverCpuUtilisation: serverUtilisation(server, from, to),
    wholeLifeCpuSec: run.userSec + run.sysSec,
    elu: phase.client.elu,
    errors: s.errorCount,
    negotiated: n ? `${n.protocol} ${n.cipher} ${n.group}` : 'none sampled',
  };
}

async function measureBareNode(node: string, target: PinnedTarget, c: BenchCase, durationSec: number, connections: number): Promise<ToolFigures> {
  const server = new CpuSampler(target.pid).start();
  const args = [BARE_CLIENT, target.host, String(target.port), target.caPath, c.tls, c.resume, String(connections), String(WARMUP_SEC), String(durationSec), GROUPS];
  const run = await runMeasured(CLIENT_CPU, node, args, { timeoutMs: (durationSec + 30) * 1000 });
  server.stop();
  if (run.exitCode !== 0) throw new Error(`the bare Node client exited ${run.exitCode} on ${c.name}:\n${run.stderr}`);
  const counts = JSON.parse(run.stdout) as { full: number; resumed: number; errors: number; cpuSec: number; wallSec: number };
  const handshakes = counts[c.cls];
  const windowEnd = run.endedAt;
  return {
    handshakes,
    classShare: handshakes / Math.max(1, counts.full + counts.resumed),
    cpuSec: counts.cpuSec,
    wallSec: counts.wallSec,
    perCpuSecond: handshakes / counts.cpuSec,
    cpuUtilisation: counts.cpuSec / counts.wallSec,
    serverCpuUtilisation: serverUtilisation(server, windowEnd - counts.wallSec * 1000, windowEnd),
  };
}

async function measureSTime(target: PinnedTarget, c: BenchCase, durationSec: number): Promise<STimeFigures> {
  const server = new CpuSampler(target.pid).start();
  const args = [
    's_time', '-connect', `${target.host}:${target.port}`, '-CAfile', target.caPath,
    c.resume === 'none' ? '-new' : '-reuse', c.tls === '1.3' ? '-tls1_3' : '-tls1_2', '-time', String(durationSec),
  ];
  const run = await runMeasured(CLIENT_CPU, 'openssl', args, { timeoutMs: (durationSec + 30) * 1000 });
  server.stop();
  if (run.exitCode !== 0) throw new Error(`openssl ${args.join(' ')} exited ${run.exitCode}:\n${run.stdout}\n${run.stderr}`);
  const summary = /(\d+) connections in ([\d.]+)s; ([\d.]+) connections\/user sec/.exec(run.stdout);
  if (!summary) throw new Error(`cannot read s_time's summary:\n${run.stdout}`);
  const connections = Number(summary[1]);
  // One character per connection: 'r' when the session was reused, '*' (or a version letter) when not.
  const marks = run.stdout.split('\n').filter((l) => /^[rt3*]+$/.test(l.trim())).join('');
  const reused = [...marks].filter((m) => m === 'r').length;
  const classShare = c.cls === 'resumed' ? reused / Math.max(1, marks.length) : (marks.length - reused) / Math.max(1, marks.length);
  const cpuSec = run.userSec + run.sysSec;
  const wallSec = (run.endedAt - run.startedAt) / 1000;
  const invalid = classShare < 0.99
    ? `only ${(classShare * 100).toFixed(1)} % of s_time's connections were ${c.cls}` +
      (c.cls === 'resumed' && c.tls === '1.3' ? ': s_time -reuse never resumes TLS 1.3 (it closes before the post-handshake ticket arrives)' : '')
    : null;
  return {
    handshakes: connections,
    classShare,
    cpuSec,
    wallSec,
    perCpuSecond: connections / cpuSec,
    cpuUtilisation: cpuSec / wallSec,
    serverCpuUtilisation: serverUtilisation(server, run.startedAt, run.endedAt),
    ownConnectionsPerUserSecond: Number(summary[3]),
    invalid,
  };
}

function parseOptions(argv: string[]) {
  return parseBenchOptions(argv, {
    duration: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '16' },
    engine: { type: 'string', default: 'native' },
  }, (v, problems) => {
    const durationSec = Number(v.duration);
    const connections = Number(v.connections);
    const rounds = Number(v.rounds);
    if (!Number.isInteger(rounds) || rounds < 1) problems.push(`--rounds: '${v.rounds}' must be a whole number ≥ 1`);
    if (!Number.isInteger(durationSec) || durationSec < 1) problems.push(`--duration: '${v.duration}' must be whole seconds ≥ 1 (s_time -time takes seconds)`);
    if (!Number.isInteger(connections) || connections < 1) problems.push(`--connections: '${v.connections}' must be a whole number ≥ 1`);
    if (v.engine !== 'native' && v.engine !== 'node') problems.push(`--engine: '${v.engine}' is not native or node`);
    return { durationSec, connections, rounds, engine: v.engine! };
  });
}

const x = (v: number | null) => (v === null ? '—' : `${v.toFixed(2)}×`);
const pct = (v: number) => `${(v * 100).toFixed(0)} %`;

function renderMarkdown(env: BenchEnvironment, serverDescription: string, settings: { durationSec: number; connections: number; rounds: number; engine: string }, results: CaseResult[]): string {
  const rows = results.map((r) => {
    const last = r.rounds.at(-1)!;
    const spread = r.ratioMin === null ? '' : ` (${r.ratioMin.toFixed(2)}–${r.ratioMax!.toFixed(2)})`;
    return [
      r.case.name,
      r.tlsbenchPerCpuSecond.toFixed(0),
      last.sTime.invalid ? `(${r.sTimePerCpuSecond.toFixed(0)}, not ${r.case.cls})` : r.sTimePerCpuSecond.toFixed(0),
      `${x(r.ratio)}${spread}`,
      r.case.target === null ? '—' : `≥ ${r.case.target}× ${r.meetsTarget === null ? '' : r.meetsTarget ? '✓' : '✗'}`,
      `${r.barePerCpuSecond.toFixed(0)} (${x(r.bareRatio)} s_time)`,
      pct(r.ofBare),
      `${last.tlsbench.handshakes} in ${last.tlsbench.cpuSec.toFixed(2)} CPU-s (${pct(last.tlsbench.classShare)} ${r.case.cls}, ELU ${last.tlsbench.elu.map(pct).join(',')}, server ${pct(last.tlsbench.serverCpuUtilisation)})`,
      `${last.sTime.handshakes} in ${last.sTime.cpuSec.toFixed(2)} CPU-s (${pct(last.sTime.classShare)} ${r.case.cls}, CPU ${pct(last.sTime.cpuUtilisation)}, server ${pct(last.sTime.serverCpuUtilisation)})`,
    ];
  });
  const notes = results.filter((r) => r.rounds.at(-1)!.sTime.invalid).map((r) => `- ${r.case.name}: no ratio: ${r.rounds.at(-1)!.sTime.invalid}.`);
  return [
    `# Client cost: tlsbench vs openssl s_time (Node ${env.client.node})`,
    '',
    ...environmentLines(env),
    `- server: ${serverDescription}`,
    `- clients pinned to CPU ${CLIENT_CPU}; ${settings.rounds} rounds, each measuring every case for ${settings.durationSec} s per client (the clients rotate which goes first); the ratio is the median of the rounds' ratios, with their range. tlsbench: \`--engine ${settings.engine} -w 1 -c ${settings.connections} --warmup ${WARMUP_SEC}s --ca CA --groups ${GROUPS}\` (one X25519 key share, as s_time offers); s_time: \`-new\` or \`-reuse\`, \`-CAfile CA\`; bare Node loop: bench/lab/bare-node-client.ts, ${settings.connections} connections, the same warm-up, groups and CA, no host-name check and no measurement.`,
    '',
    markdownTable(
      ['case', 'tlsbench handshakes / CPU-s (median)', 's_time handshakes / CPU-s (median)', 'ratio: median (range)', 'target', 'bare Node loop / CPU-s (median, ÷ s_time)', 'tlsbench ÷ bare Node loop', 'tlsbench detail (last round)', 's_time detail (last round)'],
      rows,
    ),
    '',
    'CPU = user + system time of the whole client process (all threads). tlsbench: CPU inside its measured window',
    '(interpolated from /proc/<pid>/stat samples), handshakes of that window. s_time: its connection count ÷ its',
    'whole-life CPU (bash `times`). Both verify the server certificate against the test CA; tlsbench also checks',
    'the host name. "server" is the server\'s CPU use over the run: well below 100 % means the server was not the limit.',
    'The bare Node loop makes the same handshakes through Node\'s public TLS API with nothing on top (chain verified,',
    'no host-name check, nothing measured): bare ÷ s_time is what Node\'s TLS stack itself allows on this machine, and',
    'tlsbench ÷ bare is the share of it tlsbench keeps while measuring. tlsbench can beat it only where it does less',
    'than Node does by default: it stores TLS 1.3 sessions without the server certificate, which every offer would decode.',
    ...(notes.length ? ['', ...notes] : []),
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const env = describeEnvironment(opts.node);
  const target = await startPinnedTarget(opts.server, SERVER_CPU);
  const rounds: RoundResult[][] = CASES.map(() => []);
  try {
    for (let round = 1; round <= opts.rounds; round++) {
      for (const [i, c] of CASES.entries()) {
        process.stderr.write(`round ${round}/${opts.rounds} ${c.name}: `);
        // Rotate which client goes first, so a drift of the machine favours none of them.
        const measurements = [
          () => measureTlsbench(opts.node, target, c, opts.durationSec, opts.connections, opts.engine),
          () => measureSTime(target, c, opts.durationSec),
          () => measureBareNode(opts.node, target, c, opts.durationSec, opts.connections),
        ] as const;
        const figures: (TlsbenchFigures | STimeFigures | ToolFigures)[] = [];
        for (let k = 0; k < measurements.length; k++) {
          const which = (k + round - 1) % measurements.length;
          figures[which] = await measurements[which]!();
        }
        const tlsbench = figures[0] as TlsbenchFigures;
        const sTime = figures[1] as STimeFigures;
        const bare = figures[2]!;
        const ratio = sTime.invalid ? null : tlsbench.perCpuSecond / sTime.perCpuSecond;
        const bareRatio = sTime.invalid ? null : bare.perCpuSecond / sTime.perCpuSecond;
        const ofBare = tlsbench.perCpuSecond / bare.perCpuSecond;
        process.stderr.write(
          `tlsbench ${tlsbench.perCpuSecond.toFixed(0)}/CPU-s, s_time ${sTime.perCpuSecond.toFixed(0)}/CPU-s${sTime.invalid ? ' (not comparable)' : ''}, ` +
          `bare Node ${bare.perCpuSecond.toFixed(0)}/CPU-s; ratio ${x(ratio)}, of bare ${pct(ofBare)}\n`,
        );
        rounds[i]!.push({ tlsbench, sTime, bare, ratio, bareRatio, ofBare });
      }
    }
  } finally {
    await target.stop();
  }
  const results: CaseResult[] = CASES.map((c, i) => {
    const caseRounds = rounds[i]!;
    const ratios = caseRounds.map((r) => r.ratio).filter((r): r is number => r !== null);
    const ratio = ratios.length === caseRounds.length ? median(ratios) : null;
    return {
      case: c,
      rounds: caseRounds,
      ratio,
      ratioMin: ratio === null ? null : Math.min(...ratios),
      ratioMax: ratio === null ? null : Math.max(...ratios),
      tlsbenchPerCpuSecond: median(caseRounds.map((r) => r.tlsbench.perCpuSecond)),
      sTimePerCpuSecond: median(caseRounds.map((r) => r.sTime.perCpuSecond)),
      barePerCpuSecond: median(caseRounds.map((r) => r.bare.perCpuSecond)),
      bareRatio: ratio === null ? null : median(caseRounds.map((r) => r.bareRatio!)),
      ofBare: median(caseRounds.map((r) => r.ofBare)),
      meetsTarget: ratio === null || c.target === null ? null : ratio >= c.target,
    };
  });
  const settings = { durationSec: opts.durationSec, connections: opts.connections, rounds: opts.rounds, engine: opts.engine };
  const markdown = renderMarkdown(env, target.description, settings, results);
  const files = writeResults('client-cost', env.client.node, { bench: 'client-cost', environment: env, server: target.description, settings, results }, markdown, opts.resultsDir);
  process.stdout.write(`${markdown}\nwritten: ${files.json}, ${files.md}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`client-cost: ${err instanceof UsageError ? err.message : ((err as Error)?.stack ?? String(err))}\n`);
  process.exit(err instanceof UsageError ? 2 : 1);
});
