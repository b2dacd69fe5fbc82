/**
 * The built-in target as a child process, for `tlsbench run` without a target.
 *
 * Why a process and not a server in the coordinator: the target's handshake CPU must not
 * share an event loop (or, when pinned, cores) with the load generator it is measured by.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onLines, parseJsonLine } from './control-lines.js';
import { loadChain, type CertificateChain } from './pki.js';
import { serveArgsFromOptions } from './serve-flags.js';
import type { ServeOptions, TargetServerStats } from './target-server.js';
import type { ServerEngineName } from './server-engine.js';

const STATS_TIMEOUT_MS = 2000;

export interface TargetProcessOptions extends Partial<Omit<ServeOptions, 'keyType' | 'tls'>>, Pick<ServeOptions, 'keyType' | 'tls'> {
  /** CPUs to pin the target to with taskset (Linux). Unpinned when taskset is missing. */
  cpus?: number[];
  /** Server processes (serve --workers). Default 1. */
  workers?: number;
  /** How long to wait for the ready line. Default 60 s (RSA-4096 generation is slow on a cold cache). */
  readyTimeoutMs?: number;
}

export interface TargetProcess {
  host: string;
  port: number;
  chain: CertificateChain;
  /** Which server the child runs (it resolves auto). */
  engine: ServerEngineName;
  /** The CPUs the target is pinned to, or null when it is not pinned. */
  cpus: number[] | null;
  pid: number;
  stop(): Promise<void>;
  /** The server's own counters now (one process only; null for a cluster or when it does not answer within 2 s). */
  stats(): Promise<TargetServerStats | null>;
  /**
   * Calls `listener` with a description (`killed by SIGKILL`, `exited with code 1` and its last
   * stderr) if the target exits before stop() was asked for: a run must not go on against nothing.
   */
  onUnexpectedExit(listener: (why: string) => void): void;
}

/** dist/src/server/target-process.js → dist/src/cli/main.js */
const MAIN_JS = fileURLToPath(new URL('../cli/main.js', import.meta.url));
const STOP_GRACE_MS = 3000;
const STDERR_KEPT = 8192;

function findOnPath(command: string): string | null {
  if (process.platform !== 'linux') return null;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, command);
    try {
      accessSync(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

interface ReadyLine {
  event: 'listening';
  engine: ServerEngineName;
  host: string;
  port: number;
  certDir: string;
}

function isReadyLine(value: unknown): value is ReadyLine {
  const v = value as Partial<ReadyLine> | null;
  return typeof v === 'object' && v !== null && v.event === 'listening' && (v.engine === 'node' || v.engine === 'native') && typeof v.port === 'number' && typeof v.certDir === 'string';
}

/** Start `tlsbench serve` in a child process and resolve once it listens. */
export async function spawnTargetServer(opts: TargetProcessOptions): Promise<TargetProcess> {
  const serveOptions: ServeOptions = {
    host: '127.0.0.1',
    port: 0,
    tickets: true,
    sessionCache: true,
    mtls: false,
    ...opts,
  };
  const serveArgs = [MAIN_JS, 'serve', ...serveArgsFromOptions(serveOptions, opts.workers ?? 1), '--ready-json', '--exit-on-stdin-close'];

  const cpus = opts.cpus && opts.cpus.length > 0 ? [...opts.cpus] : null;
  if (cpus && !cpus.every((c) => Number.isInteger(c) && c >= 0)) throw new RangeError(`cpus must be CPU numbers; got ${cpus.join(',')}`);
  const taskset = cpus ? findOnPath('taskset') : null;
  const [command, args] = taskset && cpus
    ? [taskset, ['-c', cpus.join(','), process.execPath, ...serveArgs]]
    : [process.execPath, serveArgs];

  // stdin is a pipe we never write to: its closing is how the child learns we are gone.
  // Its own process group: a Ctrl-C in the terminal must stop the client gracefully first,
  // not take the target away in the middle of the measured window.
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  // taskset execs the command, so the pid is the target's own.
  const killOnExit = () => child.kill('SIGKILL');
  process.on('exit', killOnExit);

  let stderrTail = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (text: string) => {
    // Keep reading for the child's whole life: a full pipe would block its writes.
    stderrTail = (stderrTail + text).slice(-STDERR_KEPT);
  });
  let exitedWith = '';
  const exited = new Promise<void>((resolve) => child.once('exit', (code, signal) => {
    exitedWith = signal ? `killed by ${signal}` : `exited with code ${code}`;
    resolve();
  }));
  exited.then(() => process.off('exit', killOnExit));

  let ready: ReadyLine;
  try {
    ready = await readReadyLine(child, opts.readyTimeoutMs ?? 60_000, () => stderrTail);
  } catch (err) {
    child.kill('SIGKILL');
    await exited;
    throw err;
  }
  // Read stdout after the ready line too (a full pipe would block the child): answers to 'stats'.
  const statsWaiters: ((stats: TargetServerStats | null) => void)[] = [];
  onLines(child.stdout!, (line) => {
    const parsed = parseJsonLine(line) as { event?: string; stats?: TargetServerStats } | undefined;
    if (parsed?.event === 'stats' && parsed.stats) statsWaiters.shift()?.(parsed.stats);
  });
  const stats = (): Promise<TargetServerStats | null> => {
    if (((opts.workers ?? 1) > 1 && ready.engine === 'node') || child.exitCode !== null || child.signalCode !== null) return Promise.resolve(null);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        const i = statsWaiters.indexOf(answer);
        if (i >= 0) statsWaiters.splice(i, 1);
        resolve(null);
      }, STATS_TIMEOUT_MS);
      const answer = (s: TargetServerStats | null) => {
        clearTimeout(timer);
        resolve(s);
      };
      statsWaiters.push(answer);
      child.stdin!.write('stats\n');
    });
  };

  let stopping: Promise<void> | undefined;
  const onUnexpectedExit = (listener: (why: string) => void) => {
    void exited.then(() => {
      if (stopping) return;
      // A crash says why in its last stderr line; a signal (kill -9, the OOM killer) says nothing there.
      const lastLine = exitedWith.startsWith('killed') ? '' : stderrTail.trim().split('\n').pop() ?? '';
      listener(`${exitedWith}${lastLine ? ` (${lastLine.trim()})` : ''}`);
    });
  };
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    })();
    return stopping;
  };

  return {
    host: ready.host,
    port: ready.port,
    engine: ready.engine,
    chain: await loadChain(ready.certDir, { keyType: opts.keyType, requireOcspResponder: false }).catch(async (err: unknown) => {
      await stop();
      throw err;
    }),
    cpus: taskset ? cpus : null,
    pid: child.pid!,
    stop,
    stats,
    onUnexpectedExit,
  };
}

function readReadyLine(child: ChildProcess, timeoutMs: number, stderr: () => string): Promise<ReadyLine> {
  return new Promise<ReadyLine>((resolve, reject) => {
    const describe = (what: string) => {
      const tail = stderr().trim();
      return new Error(`built-in target ${what}${tail ? `:\n${tail}` : ''}`);
    };
    const finish = (err: Error | null, line?: ReadyLine) => {
      clearTimeout(timer);
      stopReading();
      child.off('close', onExit);
      child.off('error', onError);
      if (err) reject(err);
      else resolve(line!);
    };
    // 'close', not 'exit': it comes after the child's last stderr bytes have been read.
    const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
      finish(describe(`exited before listening (${signal ?? `code ${code}`})`));
    const onError = (err: Error) => finish(describe(`could not start (${err.message})`));
    const timer = setTimeout(() => finish(describe(`did not report listening within ${timeoutMs} ms`)), timeoutMs);
    const stopReading = onLines(child.stdout!, (line) => {
      const parsed = parseJsonLine(line);
      if (isReadyLine(parsed)) finish(null, parsed);
    });
    child.once('close', onExit);
    child.once('error', onError);
  });
}
