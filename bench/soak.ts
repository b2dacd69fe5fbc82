// Soak: does a long closed-loop run stay flat? One `tlsbench run -c 500` against the built-in
// server for 10 minutes; every 10 s, the client's and the server's RSS and open descriptors are
// read from /proc. The report is their growth after the first minute (the target: client RSS
// under 5 %, descriptors flat). A bench, not a test: it takes minutes and a whole machine.
//
//   npm run build && node dist/bench/soak.js [--seconds 600] [--interval 10] [--connections 500]
//                                            [--resume ticket|none] [--node PATH] [--out DIR]
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { RunResult } from '../src/metrics/run-result.js';
import { describeEnvironment, environmentLines } from './lab/environment.js';
import { markdownTable, RESULTS_DIR, writeResults } from './lab/results-file.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
/** Growth is measured from here on: the first minute fills pools, caches and JIT code. */
const SETTLED_AFTER_S = 60;

interface ProcessSample {
  rssKiB: number;
  fds: number;
}

interface Sample {
  atSeconds: number;
  client: ProcessSample | null;
  server: ProcessSample | null;
}

function sampleProcess(pid: number): ProcessSample | null {
  try {
    const rss = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return { rssKiB: rss ? Number(rss[1]) : 0, fds: readdirSync(`/proc/${pid}/fd`).length };
  } catch {
    return null; // gone
  }
}

/** The built-in server: the client's only child process (worker threads are threads). */
function serverPid(clientPid: number): number | null {
  try {
    const children = readFileSync(`/proc/${clientPid}/task/${clientPid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    return children.length ? Number(children[0]) : null;
  } catch {
    return null;
  }
}

/** Last over first of the samples from SETTLED_AFTER_S on, as a change (0.03 = +3 %). */
function growth(samples: readonly Sample[], pick: (s: Sample) => number | undefined): { first: number; last: number; change: number } | null {
  const values = samples.filter((s) => s.atSeconds >= SETTLED_AFTER_S).map(pick).filter((v): v is number => v !== undefined);
  if (values.length < 2) return null;
  const first = values[0]!;
  const last = values[values.length - 1]!;
  return { first, last, change: first ? last / first - 1 : 0 };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '600' },
      interval: { type: 'string', default: '10' },
      connections: { type: 'string', default: '500' },
      resume: { type: 'string', default: 'ticket' },
      node: { type: 'string', default: process.execPath },
      out: { type: 'string', default: RESULTS_DIR },
    },
  });
  const seconds = Number(values.seconds);
  const intervalMs = Number(values.interval) * 1000;
  const args = [CLI, 'run', '-c', values.connections, '-d', `${seconds}s`, '--warmup', '0', '--resume', values.resume, '--json', '--quiet'];
  const env = describeEnvironment(values.node);
  process.stderr.write(`soak: ${values.node} ${args.slice(1).join(' ')}; sampling every ${values.interval} s\n`);

  const child = spawn(values.node, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
  const startedAt = Date.now();
  const samples: Sample[] = [];
  const sample = () => {
    const server = serverPid(child.pid!);
    samples.push({ atSeconds: Math.round((Date.now() - startedAt) / 1000), client: sampleProcess(child.pid!), server: server ? sampleProcess(server) : null });
  };
  const timer = setInterval(sample, intervalMs);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearInterval(timer);
  const result = JSON.parse(stdout) as RunResult;
  const phase = result.phases[0]!;

  const clientRss = growth(samples, (s) => s.client?.rssKiB);
  const clientFds = growth(samples, (s) => s.client?.fds);
  const serverRss = growth(samples, (s) => s.server?.rssKiB);
  const serverFds = growth(samples, (s) => s.server?.fds);
  const pct = (g: typeof clientRss) => (g ? `${g.first} → ${g.last} (${g.change >= 0 ? '+' : ''}${(g.change * 100).toFixed(1)} %)` : 'n/a (too short)');
  const summary = {
    exitCode: code,
    seconds,
    connections: Number(values.connections),
    resume: values.resume,
    attempts: phase.summary.attempts,
    successes: phase.summary.successes,
    errors: phase.summary.errors,
    handshakesPerSecond: phase.summary.rate,
    settledAfterSeconds: SETTLED_AFTER_S,
    growth: { clientRss, clientFds, serverRss, serverFds },
    clientRssUnder5Percent: clientRss ? clientRss.change < 0.05 : null,
    clientFdsFlat: clientFds ? clientFds.first === clientFds.last : null,
  };
  const md = [
    `# Soak: ${seconds} s closed loop, -c ${values.connections}, --resume ${values.resume}, built-in server`,
    '',
    ...environmentLines(env),
    '',
    `${phase.summary.attempts} attempts, ${phase.summary.successes} ok, ${phase.summary.rate.toFixed(0)} handshakes/s, errors ${JSON.stringify(phase.summary.errors)}, exit ${code}`,
    '',
    `Growth from ${SETTLED_AFTER_S} s to the end: client RSS KiB ${pct(clientRss)}; client fds ${pct(clientFds)}; server RSS KiB ${pct(serverRss)}; server fds ${pct(serverFds)}.`,
    '',
    markdownTable(['s', 'client RSS KiB', 'client fds', 'server RSS KiB', 'server fds'],
      samples.map((s) => [String(s.atSeconds), String(s.client?.rssKiB ?? '—'), String(s.client?.fds ?? '—'), String(s.server?.rssKiB ?? '—'), String(s.server?.fds ?? '—')])),
  ].join('\n');
  const written = writeResults(`soak-${seconds}s`, env.client.node, { env, summary, samples }, md, values.out);
  process.stdout.write(`${md}\n\nwritten: ${written.json}, ${written.md}\n`);
}

await main();
