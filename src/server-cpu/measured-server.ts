/**
 * Which server's CPU to measure on this host: `--server-pid PID[,PID…]` and/or
 * `--server-cgroup PATH` (`run`), `--pid` / `--cgroup` (`observe`). Checked before any load
 * starts: a pid that does not exist, or a cgroup that cannot be read, is bad input.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { UsageError } from '../config/usage-error.js';
import { CgroupSource, CombinedSource, ProcessTreeSource, readCgroupCpu, type CpuSource } from './cpu-source.js';
import { readProcStat } from './proc-stat.js';

export interface MeasuredServer {
  /** Root processes: each is counted with every descendant that exists during the window. */
  pids: number[];
  /** A cgroup v2 directory (absolute). */
  cgroup: string | null;
}

/** Where cgroup v2 is mounted: /sys/fs/cgroup on a unified host, /sys/fs/cgroup/unified on a hybrid one. */
export function cgroupV2Root(): string | null {
  for (const dir of ['/sys/fs/cgroup', '/sys/fs/cgroup/unified']) if (existsSync(join(dir, 'cgroup.controllers'))) return dir;
  return null;
}

/** `1234`, `1234,5678`, or several options; every problem goes to `problems`. */
export function parsePids(values: readonly (string | number)[], option: string, problems: string[]): number[] {
  const pids: number[] = [];
  for (const word of values.flatMap((v) => String(v).split(',')).map((w) => w.trim()).filter(Boolean)) {
    if (/^\d+$/.test(word) && Number(word) > 0) pids.push(Number(word));
    else problems.push(`${option}: '${word}' is not a process id (give PID or PID,PID,…; e.g. $(pgrep -d, nginx))`);
  }
  return [...new Set(pids)];
}

function checkPid(pid: number, option: string, problems: string[]): void {
  if (process.platform !== 'linux') {
    problems.push(`${option}: server CPU is read from /proc, which only Linux has`);
    return;
  }
  try {
    if (readProcStat(pid) === null) problems.push(`${option}: no process ${pid} on this machine (has the server restarted? find it with pgrep)`);
  } catch (err) {
    problems.push(`${option}: cannot read /proc/${pid}/stat (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): run tlsbench as a user who may read it`);
  }
}

/** An absolute cgroup v2 directory, from an absolute path or one relative to the cgroup v2 mount. */
function resolveCgroup(path: string, option: string, problems: string[]): string | null {
  const root = cgroupV2Root();
  const dir = isAbsolute(path) ? path : root ? join(root, path) : null;
  if (!dir) {
    problems.push(`${option}: no cgroup v2 hierarchy is mounted on this machine; use --server-pid instead`);
    return null;
  }
  try {
    if (!statSync(dir).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    readCgroupCpu(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    problems.push(`${option}: cannot read ${dir}/cpu.stat (${code ?? (err as Error).message}): give a cgroup v2 directory, ` +
      `e.g. ${root ?? '/sys/fs/cgroup'}/system.slice/nginx.service (systemctl status shows a unit's cgroup)`);
    return null;
  }
  return dir;
}

/** The cgroup v2 directory a process is in, from /proc/PID/cgroup's `0::/path` line. */
function cgroupOf(pid: number, root: string): string | null {
  try {
    const line = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((l) => l.startsWith('0::'));
    return line ? join(root, line.slice(3)) : null;
  } catch {
    return null;
  }
}

/**
 * Validates the options into a MeasuredServer (null when none was given), or adds to
 * `problems`. A pid inside the given cgroup would be counted twice, so it is refused.
 */
export function resolveMeasuredServer(pidValues: readonly (string | number)[], cgroupPath: string | undefined,
  options: { pid: string; cgroup: string }, problems: string[]): MeasuredServer | null {
  if (pidValues.length === 0 && cgroupPath === undefined) return null;
  const before = problems.length;
  const pids = parsePids(pidValues, options.pid, problems);
  for (const pid of pids) checkPid(pid, options.pid, problems);
  const cgroup = cgroupPath === undefined ? null : resolveCgroup(cgroupPath, options.cgroup, problems);
  const root = cgroupV2Root();
  if (cgroup && root) {
    for (const pid of pids) {
      const own = cgroupOf(pid, root);
      if (own && !relative(cgroup, own).startsWith('..')) {
        problems.push(`${options.pid} ${pid} is inside ${options.cgroup} ${cgroup}: its CPU would be counted twice; give one of them`);
      }
    }
  }
  return problems.length > before ? null : { pids, cgroup };
}

export function describeMeasuredServer(m: MeasuredServer): string {
  return sourceFor(m).description;
}

/** The CPU source of a validated MeasuredServer. */
export function sourceFor(m: MeasuredServer, label?: string): CpuSource {
  const sources: CpuSource[] = [];
  if (m.pids.length) sources.push(new ProcessTreeSource(m.pids, label));
  if (m.cgroup) sources.push(new CgroupSource(m.cgroup));
  return sources.length === 1 ? sources[0]! : new CombinedSource(sources);
}
