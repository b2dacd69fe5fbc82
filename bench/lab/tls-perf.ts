// tls-perf (Tempesta's C epoll handshake client) as a bench peer: built from its unmodified
// source (../shared/peers/tls-perf by default) into a scratch folder with its own Makefile, and
// read from its summary. When it cannot be built (no g++, no OpenSSL headers, no source), the
// bench goes on without it and says why.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface TlsPerfBuild {
  /** The binary, or null with the reason in `note`. */
  binary: string | null;
  note: string;
  /** Removes the scratch folder. */
  cleanup(): void;
}

/** Builds tls-perf from `source` (main.cc + Makefile, unmodified) in a scratch folder. */
export function buildTlsPerf(source: string): TlsPerfBuild {
  const files = ['main.cc', 'Makefile'];
  if (!files.every((f) => existsSync(path.join(source, f)))) {
    return { binary: null, note: `tls-perf skipped: no tls-perf source (main.cc, Makefile) in ${source}`, cleanup: () => {} };
  }
  const scratch = mkdtempSync(path.join(tmpdir(), 'tlsbench-tls-perf-'));
  const cleanup = () => rmSync(scratch, { recursive: true, force: true });
  for (const f of files) copyFileSync(path.join(source, f), path.join(scratch, f));
  const make = spawnSync('make', ['-C', scratch, 'tls-perf'], { encoding: 'utf8' });
  const binary = path.join(scratch, 'tls-perf');
  if (make.status !== 0 || !existsSync(binary)) {
    const why = make.error ? make.error.message : (make.stderr || make.stdout).trim().split('\n').slice(-3).join(' ');
    cleanup();
    return { binary: null, note: `tls-perf skipped: it did not build from ${source} (${why})`, cleanup: () => {} };
  }
  return { binary, note: `tls-perf built from the unmodified source in ${source} (its Makefile: -O2 -march=native, the system OpenSSL)`, cleanup };
}

/** tls-perf's arguments for one case: one thread, `connections` in parallel, `seconds` long. */
export function tlsPerfArgs(host: string, port: number, tls: '1.2' | '1.3', resume: boolean, connections: number, seconds: number): string[] {
  // Long forms: its short-option string lacks -V, -K and -s although its help lists them.
  return ['-q', '-t', '1', '-l', String(connections), '-T', String(seconds), '--tls', tls, '--tickets', resume ? 'on' : 'off', '--sni', 'localhost', host, String(port)];
}

/** Handshakes tls-perf says it made: ` TOTAL: SECONDS s; HANDSHAKES n`. */
export function tlsPerfHandshakes(stdout: string): number | null {
  const m = / TOTAL:\s+SECONDS \d+; HANDSHAKES (\d+)/.exec(stdout);
  return m ? Number(m[1]) : null;
}
