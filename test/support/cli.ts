import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { RunResult } from '../../src/metrics/run-result.js';

/** dist/test/support/cli.js → dist/src/cli/main.js */
export const MAIN_JS = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export interface CliOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** True when the test had to kill it: it did not stop by itself within the bound. */
  killed: boolean;
}

/**
 * Runs the real CLI in a child process, as a user would. The bound is generous on purpose: it
 * only catches a hang (then `killed` is true), it is never a performance assertion.
 */
export interface CliOptions {
  boundMs?: number;
  env?: NodeJS.ProcessEnv;
  /** A command the CLI runs under, e.g. `ip netns exec NAME` (support/netns.ts). */
  prefix?: string[];
  /** Called with the child once spawned (to signal it mid-run). */
  onSpawn?: (child: ChildProcess) => void;
}

export function runCli(args: string[], opts: CliOptions = {}): Promise<CliOutcome> {
  return new Promise((resolve) => {
    const argv = [...(opts.prefix ?? []), process.execPath, MAIN_JS, ...args];
    const child = spawn(argv[0]!, argv.slice(1), { env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    opts.onSpawn?.(child);
    let stdout = '';
    let stderr = '';
    let killed = false;
    child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
    child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
    const timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, opts.boundMs ?? 120_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, killed });
    });
  });
}

/** Runs the CLI with --json and parses the result; fails loudly with stderr when it cannot. */
export async function runJson(args: string[], opts: CliOptions = {}): Promise<{ result: RunResult; outcome: CliOutcome }> {
  const outcome = await runCli([...args, '--json', '--quiet'], opts);
  try {
    return { result: JSON.parse(outcome.stdout) as RunResult, outcome };
  } catch {
    throw new Error(`no JSON result (exit ${outcome.code}, killed ${outcome.killed}): ${outcome.stderr.slice(-2000)}`);
  }
}
