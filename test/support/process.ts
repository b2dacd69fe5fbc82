// Child-process helpers shared by the external-server launchers (openssl s_server, nginx):
// free ports, waiting for a port, output capture, and killing children on parent exit.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { rmSync } from 'node:fs';
import net from 'node:net';

/** A port that was free a moment ago: bind port 0 on 127.0.0.1, read it, close. Racy by
 * nature; launchers retry when the server then fails to bind. */
export async function getFreePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      if (addr === null || typeof addr === 'string') {
        srv.close();
        reject(new Error('getFreePort: no port from listen(0)'));
        return;
      }
      srv.close(() => resolve(addr.port));
    });
  });
}

/** Resolves true once a TCP connection to host:port succeeds, false when `isDead()`
 * becomes true or the deadline passes. */
export async function waitForPort(
  host: string,
  port: number,
  opts: { timeoutMs?: number; isDead?: () => boolean } = {},
): Promise<boolean> {
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  while (Date.now() < deadline) {
    if (opts.isDead?.()) return false;
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host, port });
      const done = (v: boolean): void => {
        s.removeAllListeners();
        s.on('error', () => {});
        s.destroy();
        resolve(v);
      };
      s.setTimeout(1000, () => done(false));
      s.once('connect', () => done(true));
      s.once('error', () => done(false));
    });
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

/** A spawned server process: output tail, exit promise, stop(). */
export interface ManagedProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Last ~16 KiB of stdout+stderr, for error messages. */
  output(): string;
  exited(): boolean;
  /** Resolves with the exit code or signal once the process has exited. */
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends `signal`, then SIGKILL after `graceMs`; resolves when the process is gone. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

const live = new Map<number, { child: ChildProcess; exitSignal: NodeJS.Signals; removeOnExit?: string }>();
let hooksInstalled = false;

function killAllSync(): void {
  for (const { child, exitSignal, removeOnExit } of live.values()) {
    try {
      child.kill(exitSignal);
    } catch {
      // already gone
    }
    if (removeOnExit !== undefined) {
      try {
        rmSync(removeOnExit, { recursive: true, force: true });
      } catch {
        // best effort
      }
    }
  }
  live.clear();
}

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', killAllSync);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      killAllSync();
      // Let the default action happen unless someone else also handles this signal.
      process.removeListener(sig, onSignal);
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    };
    process.on(sig, onSignal);
  }
}

/**
 * Kills `child` (with `exitSignal`) if this process exits first, normally or on SIGINT, SIGTERM
 * or SIGHUP: for children spawned elsewhere (Chromium, with its extra pipes).
 */
export function killOnExit(child: ChildProcess, exitSignal: NodeJS.Signals = 'SIGKILL', removeOnExit?: string): void {
  installExitHooks();
  if (child.pid === undefined) return;
  const pid = child.pid;
  live.set(pid, { child, exitSignal, ...(removeOnExit !== undefined ? { removeOnExit } : {}) });
  child.once('exit', () => live.delete(pid));
}

/** Spawns `cmd args` with stdin closed, output captured (and drained, so a chatty server
 * never blocks on a full pipe), and the process killed with `exitSignal` if this process
 * exits first. */
export function spawnManaged(
  cmd: string,
  args: readonly string[],
  opts: {
    cwd?: string;
    env?: NodeJS.ProcessEnv;
    /** Signal sent if this process exits first (default SIGKILL). */
    exitSignal?: NodeJS.Signals;
    /** A temp dir of this server's, removed if this process exits before stop(). */
    removeOnExit?: string;
  } = {},
): ManagedProcess {
  installExitHooks();
  const spawnOpts: SpawnOptions = { stdio: ['ignore', 'pipe', 'pipe'] };
  if (opts.cwd !== undefined) spawnOpts.cwd = opts.cwd;
  if (opts.env !== undefined) spawnOpts.env = opts.env;
  const child = spawn(cmd, args, spawnOpts);
  let tail = '';
  const keep = (chunk: Buffer): void => {
    tail += chunk.toString('utf8');
    if (tail.length > 16_384) tail = tail.slice(-16_384);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let hasExited = false;
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('error', (err) => {
      keep(Buffer.from(`spawn error: ${err.message}\n`));
      hasExited = true;
      if (child.pid !== undefined) live.delete(child.pid);
      resolve({ code: null, signal: null });
    });
    child.once('exit', (code, signal) => {
      hasExited = true;
      if (child.pid !== undefined) live.delete(child.pid);
      resolve({ code, signal });
    });
  });
  const pid = child.pid ?? -1;
  if (child.pid !== undefined) {
    const entry: { child: ChildProcess; exitSignal: NodeJS.Signals; removeOnExit?: string } = {
      child,
      exitSignal: opts.exitSignal ?? 'SIGKILL',
    };
    if (opts.removeOnExit !== undefined) entry.removeOnExit = opts.removeOnExit;
    live.set(child.pid, entry);
  }
  // Our own handles should not keep the test process alive.
  child.unref();
  (child.stdout as unknown as { unref?: () => void } | null)?.unref?.();
  (child.stderr as unknown as { unref?: () => void } | null)?.unref?.();

  return {
    child,
    pid,
    output: () => tail,
    exited: () => hasExited,
    exit,
    async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 5000): Promise<void> {
      if (hasExited) return;
      try {
        child.kill(signal);
      } catch {
        // already gone
      }
      const timer = setTimeout(() => {
        try {
          child.kill('SIGKILL');
        } catch {
          // already gone
        }
      }, graceMs);
      await exit;
      clearTimeout(timer);
    },
  };
}

/** True while a process with this pid exists (signal 0 probe). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Pids of the live children of `pid` (scans /proc; Linux only). */
export async function childPids(pid: number): Promise<number[]> {
  const { readdir, readFile } = await import('node:fs/promises');
  const out: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
    // pid (comm) state ppid ...; comm may hold spaces and parens, so split after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(rest[1]) === pid) out.push(Number(name));
  }
  return out;
}
