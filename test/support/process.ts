// Child-process helpers shared by the external-server launchers (openssl s_server, nginx):
// free ports, waiting for a port, output capture, and killing children on parent exit.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
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

/** A server process a launcher started on a given port. */
export interface PortLaunch {
  proc: ManagedProcess;
  /** The command line, for error messages. */
  command: string;
  /** What it said when it failed to start: its output, and any log file of its own. */
  failureOutput?(): Promise<string>;
  /** Undoes what the launch made (a temp dir) once it failed to start. */
  discard?(): Promise<void>;
}

/**
 * Starts a server on a port from getFreePort() and resolves once that server listens on it. The
 * port may be taken between getFreePort() and the server's own bind: when what the server said
 * matches `bindFailed`, it is started again on another port, up to five times. Any other failure
 * to start is an error that quotes the server.
 */
export async function startOnFreePort<L extends PortLaunch>(
  launch: (port: number) => Promise<L>,
  opts: { bindFailed: RegExp; startTimeoutMs?: number | undefined },
): Promise<{ port: number; launched: L }> {
  const attempts = 5;
  let lastOutput = '';
  let lastCommand = '';
  for (let i = 0; i < attempts; i++) {
    const port = await getFreePort();
    const launched = await launch(port);
    lastCommand = launched.command;
    const { proc } = launched;
    const up = await waitForListener(proc, port, opts.startTimeoutMs ?? 10_000);
    if (up && !proc.exited()) return { port, launched };
    await proc.stop('SIGTERM', 2000);
    lastOutput = (await launched.failureOutput?.()) ?? proc.output();
    await launched.discard?.();
    if (!opts.bindFailed.test(lastOutput)) throw new Error(`${launched.command} did not start:\n${lastOutput}`);
  }
  throw new Error(`${lastCommand} failed to bind after ${attempts} attempts:\n${lastOutput}`);
}

/**
 * The inodes of the sockets listening on TCP `port` (any address), from the kernel's tables
 * (Linux). An inode names one socket for its whole life, whoever holds it: a socket some other
 * process opens later on the same port has another one.
 */
export function listeningInodes(port: number): Set<string> {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    // sl local_address rem_address st … inode; st 0A is LISTEN, the port is hex after the colon.
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 9 && f[3] === '0A' && parseInt(f[1]!.split(':')[1]!, 16) === port) inodes.add(f[9]!);
    }
  }
  return inodes;
}

/** The inodes of the sockets process `pid` itself holds listening on TCP `port` (Linux, from /proc). */
export function listeningSockets(pid: number, port: number): string[] {
  const inodes = listeningInodes(port);
  if (inodes.size === 0) return [];
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return [];
  }
  const held = new Set<string>();
  for (const fd of fds) {
    try {
      const inode = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
      if (inode !== undefined && inodes.has(inode)) held.add(inode);
    } catch {
      // closed meanwhile
    }
  }
  return [...held];
}

/**
 * Resolves true once `proc` itself listens on `port`; false when it exits first or the deadline
 * passes. Not a test connection: one would succeed just as well against another process that took
 * the port while `proc` failed to bind it (and exits a moment later), and it would show up in the
 * server's own log. Where there is no /proc, a connection it is.
 */
async function waitForListener(proc: ManagedProcess, port: number, timeoutMs: number): Promise<boolean> {
  if (!existsSync('/proc/net/tcp')) return waitForPort('127.0.0.1', port, { timeoutMs, isDead: () => proc.exited() });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.exited()) return false;
    if (listeningSockets(proc.pid, port).length > 0) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
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
