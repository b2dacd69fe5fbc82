import { accessSync, constants, realpathSync, statSync, type Stats } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { writeFileAtomic } from '../report/atomic-file.js';
import { UsageError } from './usage-error.js';

/**
 * Where output may go, checked before any work starts, so a run is never measured only to be
 * lost on a missing or read-only directory at the end.
 */

/** Kernel pseudo file systems: nothing to keep there, and Node's recursive mkdir spins on /proc. */
const PSEUDO_FILE_SYSTEMS = ['/proc', '/sys'];

function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

function errnoOf(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? (err as Error).message;
}

/** The nearest directory that exists on the way up from `path` (itself included). */
function nearestExisting(path: string): { dir: string; stats: Stats } {
  let dir = resolve(path);
  for (;;) {
    const stats = statOrNull(dir);
    if (stats) return { dir, stats };
    const up = dirname(dir);
    if (up === dir) return { dir, stats: statSync(dir) };
    dir = up;
  }
}

function checkWritableDir(dir: string, option: string, given: string): void {
  const real = realpathSync(dir);
  if (PSEUDO_FILE_SYSTEMS.some((p) => real === p || real.startsWith(`${p}/`))) {
    throw new UsageError(`${option} '${given}' is on ${real.split('/')[1] === 'proc' ? '/proc' : '/sys'}, a kernel pseudo file system: choose a directory on a real disk`);
  }
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch (err) {
    throw new UsageError(`${option} '${given}': cannot write in ${dir} (${errnoOf(err)}); choose a writable directory`);
  }
}

/** A file to be (re)written whole: its directory exists and is writable, and it is no directory. */
export function checkOutputFile(path: string, option: string): void {
  if (path.trim() === '') throw new UsageError(`${option} is empty; give a file name`);
  if (statOrNull(path)?.isDirectory()) throw new UsageError(`${option} '${path}' is a directory; give a file name, e.g. ${join(path, 'result.json')}`);
  const dir = dirname(resolve(path));
  const stats = statOrNull(dir);
  if (!stats) throw new UsageError(`${option} '${path}': the directory ${dirname(path)} does not exist; create it first`);
  if (!stats.isDirectory()) throw new UsageError(`${option} '${path}': ${dirname(path)} is not a directory; give a path inside a directory`);
  checkWritableDir(dir, option, path);
}

/** A directory that will be created if missing: no file in the way, a writable parent, no /proc. */
export function checkOutputDir(path: string, option: string): void {
  if (path.trim() === '') throw new UsageError(`${option} is empty; give a directory`);
  const { dir, stats } = nearestExisting(path);
  if (!stats.isDirectory()) {
    throw new UsageError(`${option} '${path}': ${dir} exists and is not a directory; give a directory name`);
  }
  checkWritableDir(dir, option, path);
}

/**
 * A key-log file is appended to and holds secrets that decrypt the traffic: one that others can
 * read already is refused rather than silently widened or changed behind the user's back.
 */
export function checkKeylogFile(path: string): void {
  checkOutputFile(path, '--keylog');
  const stats = statOrNull(path);
  if (stats && (stats.mode & 0o077) !== 0) {
    const mode = (stats.mode & 0o777).toString(8).padStart(4, '0');
    throw new UsageError(`--keylog '${path}' exists with mode ${mode}, readable by others, and key logs decrypt the traffic: run chmod 600 '${path}' or give a new file`);
  }
}

/** Where a result went: the file asked for, a fallback file, or nowhere (then it goes to stdout). */
export type WriteOutcome = { written: string } | { fallback: string; error: string } | { lost: string };

/**
 * Writes a result the run has already paid for. When the destination fails at the end (disk
 * full, directory removed), the data goes to a file in the temp directory instead, so the
 * measurement is never lost; the caller says where and exits non-zero.
 */
export function writeOrFallback(path: string, data: string): WriteOutcome {
  try {
    writeFileAtomic(path, data);
    return { written: path };
  } catch (err) {
    const error = `${errnoOf(err)}: ${(err as Error).message}`;
    const fallback = join(tmpdir(), `tlsbench-${Date.now()}-${process.pid}-${basename(path)}`);
    try {
      writeFileAtomic(fallback, data);
      return { fallback, error };
    } catch {
      return { lost: error };
    }
  }
}

/** Says where a result went on stderr; true when it went where it was asked to. */
export function reportWrite(outcome: WriteOutcome, path: string, what: string, log: (line: string) => void): boolean {
  if ('written' in outcome) return true;
  if ('fallback' in outcome) {
    log(`tlsbench: could not write ${what} to ${path} (${outcome.error}); it was written to ${outcome.fallback} instead`);
  } else {
    log(`tlsbench: could not write ${what} to ${path} (${outcome.lost}), nor to the temp directory; the JSON follows on stdout`);
  }
  return false;
}
