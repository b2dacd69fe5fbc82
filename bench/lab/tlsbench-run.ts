// One tlsbench run as a bench measures it: pinned to given CPUs, its JSON result read back, and
// the client CPU spent inside its measured window (interpolated from /proc samples), so Node's
// start-up, the worker pool and the warm-up are not charged to the window's handshakes.
import { fileURLToPath } from 'node:url';
import type { PhaseResult, RunResult } from '../../src/metrics/run-result.js';
import { runMeasured, type MeasuredRun } from './measured-run.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export interface TlsbenchRun {
  result: RunResult;
  /** The run's only phase. */
  phase: PhaseResult;
  /** Client CPU-seconds (user + system, every thread) inside the phase's measured window. */
  windowCpuSec: number;
  run: MeasuredRun;
}

/** Runs `node tlsbench ARGS --json --quiet` on `cpus`; fails on a non-zero exit or another engine than `engine`. */
export async function runTlsbench(node: string, cpus: string, args: readonly string[], engine: string, durationSec: number): Promise<TlsbenchRun> {
  const run = await runMeasured(cpus, node, [CLI, ...args, '--engine', engine, '--json', '--quiet'], { timeoutMs: (durationSec + 30) * 1000 });
  if (run.exitCode !== 0) throw new Error(`tlsbench ${args.join(' ')} --engine ${engine} exited ${run.exitCode}:\n${run.stderr}`);
  const result = JSON.parse(run.stdout) as RunResult;
  if (result.config.engine.name !== engine) throw new Error(`tlsbench ran the ${result.config.engine.name} engine, not ${engine} (${result.config.engine.reason ?? ''})`);
  const phase = result.phases[0]!;
  const from = phase.windowStartedAt;
  return { result, phase, windowCpuSec: run.sampler.cpuBetween(from, from + phase.windowMs), run };
}
