// Launches Debian's nginx as an external TLS target for tests, with its own config and
// prefix in a temp dir: never the system config, never port 80, nothing left behind.
//
// By default nginx runs as one process (`master_process off`), so killing it on parent
// exit leaves no orphaned worker. `workers > 1` switches the master on.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { ExternalServer } from './openssl-server.js';
import { getFreePort, spawnManaged, waitForPort } from './process.js';

export type { ExternalServer } from './openssl-server.js';

export interface NginxOptions {
  certPath: string;
  keyPath: string;
  /** CA for verifying client certificates (with verifyClient). */
  caPath?: string;
  /** Protocols: '1.2', '1.3' or 'both' (default). */
  tls?: '1.2' | '1.3' | 'both';
  /** ssl_session_tickets (default true). */
  tickets?: boolean;
  /** ssl_session_cache: shared:SSL:1m when true (default); `off` when false; 'none' (says
   * sessions may be reused, stores none). Tickets still resume with off and none. */
  sessionCache?: boolean | 'none';
  /** ssl_session_timeout in seconds (default 300). */
  sessionTimeoutSec?: number;
  /** ssl_verify_client on + ssl_client_certificate caPath. */
  verifyClient?: boolean;
  /** ssl_ciphers (TLS 1.2 cipher list). */
  ciphers?: string;
  /** TLS 1.3 cipher suites, through `ssl_conf_command Ciphersuites`. */
  ciphersuites?: string;
  /** ssl_ecdh_curve, e.g. 'X25519:prime256v1'. */
  groups?: string;
  /** worker_processes; 1 (default) runs nginx as a single process. */
  workers?: number;
  /** Extra lines inside the server block. */
  extraServerConfig?: string;
  startTimeoutMs?: number;
}

const execFileP = promisify(execFile);

/** The nginx binary to use, or null when none answers `nginx -v`. */
export async function findNginx(): Promise<string | null> {
  for (const bin of [process.env.TLSBENCH_NGINX, 'nginx', '/usr/sbin/nginx'].filter(
    (b): b is string => typeof b === 'string' && b !== '',
  )) {
    try {
      await execFileP(bin, ['-v']);
      return bin;
    } catch {
      // try the next
    }
  }
  return null;
}

function sessionCacheValue(v: NginxOptions['sessionCache']): string {
  if (v === 'none') return 'none';
  return (v ?? true) ? 'shared:SSL:1m' : 'off';
}

export function nginxConfig(opts: NginxOptions, port: number, prefix: string): string {
  const workers = opts.workers ?? 1;
  const protocols = opts.tls === '1.2' ? 'TLSv1.2' : opts.tls === '1.3' ? 'TLSv1.3' : 'TLSv1.2 TLSv1.3';
  const p = (f: string): string => path.join(prefix, f);
  const lines: string[] = [
    `master_process ${workers > 1 ? 'on' : 'off'};`,
    `worker_processes ${workers};`,
    // As root the workers would switch to nobody, who cannot read a 0700 temp dir.
    ...(workers > 1 && process.getuid?.() === 0 ? ['user root;'] : []),
    `error_log ${p('error.log')} notice;`,
    `pid ${p('nginx.pid')};`,
    `lock_file ${p('nginx.lock')};`,
    'events { worker_connections 4096; }',
    'http {',
    '  access_log off;',
    '  default_type text/plain;',
    `  client_body_temp_path ${p('tmp/client_body')};`,
    `  proxy_temp_path ${p('tmp/proxy')};`,
    `  fastcgi_temp_path ${p('tmp/fastcgi')};`,
    `  uwsgi_temp_path ${p('tmp/uwsgi')};`,
    `  scgi_temp_path ${p('tmp/scgi')};`,
    '  server {',
    `    listen 127.0.0.1:${port} ssl;`,
    '    server_name localhost;',
    `    ssl_certificate ${opts.certPath};`,
    `    ssl_certificate_key ${opts.keyPath};`,
    `    ssl_protocols ${protocols};`,
    `    ssl_session_tickets ${(opts.tickets ?? true) ? 'on' : 'off'};`,
    `    ssl_session_cache ${sessionCacheValue(opts.sessionCache)};`,
    `    ssl_session_timeout ${opts.sessionTimeoutSec ?? 300}s;`,
  ];
  if (opts.ciphers !== undefined) lines.push(`    ssl_ciphers ${opts.ciphers};`);
  if (opts.ciphersuites !== undefined) lines.push(`    ssl_conf_command Ciphersuites ${opts.ciphersuites};`);
  if (opts.groups !== undefined) lines.push(`    ssl_ecdh_curve ${opts.groups};`);
  if (opts.verifyClient) {
    if (opts.caPath === undefined) throw new Error('startNginx: verifyClient needs caPath');
    lines.push('    ssl_verify_client on;', `    ssl_client_certificate ${opts.caPath};`);
  }
  if (opts.extraServerConfig) lines.push(opts.extraServerConfig);
  lines.push('    location / { return 200 "ok\\n"; }', '  }', '}', '');
  return lines.join('\n');
}

/**
 * Starts nginx on a free 127.0.0.1 port with a config of its own in a temp prefix and
 * resolves once it accepts TCP connections. Resolves null (with a skip message on stderr)
 * when nginx is not installed, unless TLSBENCH_REQUIRE_NGINX=1, when it throws.
 */
export async function startNginx(opts: NginxOptions): Promise<ExternalServer | null> {
  const bin = await findNginx();
  if (bin === null) {
    const msg = 'nginx is not installed (scripts/install-nginx.sh installs it)';
    if (process.env.TLSBENCH_REQUIRE_NGINX === '1') throw new Error(`${msg}, and TLSBENCH_REQUIRE_NGINX=1`);
    process.stderr.write(`skip: ${msg}\n`);
    return null;
  }
  const attempts = 5;
  let lastOutput = '';
  for (let i = 0; i < attempts; i++) {
    const prefix = await mkdtemp(path.join(tmpdir(), 'tlsbench-nginx-'));
    await mkdir(path.join(prefix, 'tmp'), { recursive: true });
    const port = await getFreePort();
    const conf = path.join(prefix, 'nginx.conf');
    await writeFile(conf, nginxConfig(opts, port, prefix));
    // -e: error log before the config is read (else the compiled-in default is opened).
    const args = ['-p', prefix, '-c', conf, '-e', path.join(prefix, 'error.log'), '-g', 'daemon off;'];
    // SIGTERM on parent exit: with a master, it takes its workers down with it.
    const proc = spawnManaged(bin, args, { exitSignal: 'SIGTERM', removeOnExit: prefix });
    const up = await waitForPort('127.0.0.1', port, {
      timeoutMs: opts.startTimeoutMs ?? 10_000,
      isDead: () => proc.exited(),
    });
    if (up && !proc.exited()) {
      return {
        host: '127.0.0.1',
        port,
        pid: proc.pid,
        output: () => proc.output(),
        stop: async () => {
          // SIGQUIT: graceful shutdown; SIGTERM/SIGKILL after the grace period.
          await proc.stop('SIGQUIT', 5000);
          await rm(prefix, { recursive: true, force: true });
        },
      };
    }
    await proc.stop('SIGTERM', 2000);
    const log = await readFile(path.join(prefix, 'error.log'), 'utf8').catch(() => '');
    lastOutput = `${proc.output()}\n${log}`;
    await rm(prefix, { recursive: true, force: true });
    if (!/address already in use|bind\(\)/i.test(lastOutput)) {
      throw new Error(`nginx ${args.join(' ')} did not start:\n${lastOutput}`);
    }
  }
  throw new Error(`nginx failed to bind after ${attempts} attempts:\n${lastOutput}`);
}
