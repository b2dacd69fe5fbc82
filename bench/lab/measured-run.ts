// Runs a command pinned to given CPUs and measures its CPU time two ways:
// - exactly, over its whole life: bash's `times` after `wait` reports the rusage of the
//   children it reaped (user + system, every thread, and any process the command waited for);
// - over time, by sampling /proc/<pid>/stat (CpuSampler), for windows inside the run.
import { spawn } from 'node:child_process';
import { CpuSampler } from './cpu-sampler.js';

export interface MeasuredRun {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** Epoch ms around the command. */
  startedAt: number;
  endedAt: number;
  /** Whole-life user and system CPU seconds (from bash `times`). */
  userSec: number;
  sysSec: number;
  sampler: CpuSampler;
}

// `"$@" &` then `wait`: the pid is known at once (for sampling), and `times` afterwards
// covers exactly the reaped command. taskset execs the command, so the pid is the command's.
const WRAPPER = 'taskset -c "$0" "$@" & pid=$!; echo "@@pid $pid" >&2; wait $pid; rc=$?; echo "@@times" >&2; times >&2; exit $rc';

function seconds(text: string): number {
  const m = /(\d+)m([\d.]+)s/.exec(text);
  if (!m) throw new Error(`cannot read a time from '${text}'`);
  return Number(m[1]) * 60 + Number(m[2]);
}

export async function runMeasured(cpus: string, cmd: string, args: readonly string[], opts: { timeoutMs?: number } = {}): Promise<MeasuredRun> {
  const startedAt = Date.now();
  const child = spawn('bash', ['-c', WRAPPER, cpus, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let sampler: CpuSampler | null = null;
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    if (!sampler) {
      const m = /@@pid (\d+)/.exec(stderr);
      if (m) sampler = new CpuSampler(Number(m[1])).start();
    }
  });
  const timer = setTimeout(() => child.kill('SIGTERM'), opts.timeoutMs ?? 120_000);
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code));
  });
  clearTimeout(timer);
  const endedAt = Date.now();
  (sampler as CpuSampler | null)?.stop();
  if (!sampler) throw new Error(`${cmd} did not start:\n${stderr}`);
  const at = stderr.lastIndexOf('@@times');
  if (at < 0) throw new Error(`${cmd}: no CPU times reported:\n${stderr}`);
  // times prints the shell's own line, then the children's: "0m4.630s 0m0.470s".
  const childrenLine = stderr.slice(at).trim().split('\n')[2] ?? '';
  const [user, sys] = childrenLine.trim().split(/\s+/);
  return {
    exitCode, stdout, stderr: stderr.slice(0, stderr.indexOf('@@times')).replace(/@@pid \d+\n/, ''),
    startedAt, endedAt, userSec: seconds(user ?? ''), sysSec: seconds(sys ?? ''), sampler,
  };
}
