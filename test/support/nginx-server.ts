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
import { spawnManaged, startOnFreePort } from './process.js';

export type { ExternalServer } from './openssl-server.js';

/** One request as nginx logged it (NginxOptions.accessLog). */
export interface NginxLogLine {
  /** Epoch ms (nginx's `$msec`, ms resolution) when the request ended. */
  msec: number;
  /**
   * Epoch ms when the request began: `$msec` − `$request_time`, nginx's clock from the first read of
   * the request's bytes, which the client writes as its handshake completes. Close to the
   * handshake's completion even when the response waits in a queue under load (ms resolution).
   */
  requestStartMs: number;
  /** `$ssl_session_reused`: the server's own word on whether the handshake resumed. */
  reused: boolean;
  protocol: string;
  /** nginx's connection serial number and the request's number on it. */
  connection: number;
  request: number;
  status: number;
  /**
   * `$ssl_early_data` is "1": the request came in TLS 1.3 early data (0-RTT). With OpenSSL nginx says
   * "1" only while the handshake is still unfinished when the variable is read, and on loopback the
   * client's Finished often arrives before that, so "1" is a lower bound on the requests that came
   * in early data (nginx's debug log counts them exactly: test/early-data.test.ts).
   */
  earlyData: boolean;
}

/** An nginx started with `accessLog: true`. */
export interface LoggingNginx extends ExternalServer {
  /** NginxOptions.stream: every connection's handshake, as nginx logged it. */
  handshakeLog(): Promise<NginxHandshake[]>;
  /** Every line logged so far, parsed. */
  accessLog(): Promise<NginxLogLine[]>;
}

export function parseNginxLog(text: string): NginxLogLine[] {
  return text.split('\n').filter((l) => l !== '').map((line) => {
    const [msec, reused, protocol, connection, request, status, earlyData, requestTime] = line.split(' ');
    if (status === undefined || (reused !== 'r' && reused !== '.')) throw new Error(`unexpected nginx log line: ${line}`);
    return {
      msec: Math.round(Number(msec) * 1000), requestStartMs: Math.round((Number(msec) - Number(requestTime)) * 1000), reused: reused === 'r', protocol: protocol!,
      connection: Number(connection), request: Number(request), status: Number(status), earlyData: earlyData === '1',
    };
  });
}

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
  /** Extra lines in the http block, before the server (zones: limit_req_zone, …). */
  extraHttpConfig?: string;
  /**
   * Log every request to `access.log` in the prefix, one line per request (written when the
   * request ends, unbuffered): `$msec $ssl_session_reused $ssl_protocol $connection
   * $connection_requests $status $ssl_early_data`. Read it back with `accessLog()` on the returned server.
   */
  accessLog?: boolean;
  /**
   * A TLS server with no HTTP on top (nginx's stream module): it completes the handshake, sends
   * nothing and closes, and logs every connection to `handshakes.log` (`$msec $ssl_session_reused
   * $ssl_protocol`, one line per connection when it ends) whether or not a request came: the
   * server's own word on each handshake of a handshake-only client (tls-perf, s_time).
   * Read it back with `handshakeLog()`. Needs libnginx-mod-stream (scripts/install-nginx.sh).
   */
  stream?: boolean;
  startTimeoutMs?: number;
}

/** One connection as nginx's stream server logged it (NginxOptions.stream). */
export interface NginxHandshake {
  msec: number;
  /** `$ssl_session_reused`: 'r' when the handshake resumed. */
  reused: boolean;
  protocol: string;
}

export function parseHandshakeLog(text: string): NginxHandshake[] {
  return text.split('\n').filter((l) => l.trim() !== '').map((line) => {
    const [msec, reused, protocol] = line.split(' ');
    if (protocol === undefined || (reused !== 'r' && reused !== '.')) throw new Error(`unexpected nginx handshake log line: ${line}`);
    return { msec: Math.round(Number(msec) * 1000), reused: reused === 'r', protocol };
  });
}

const STREAM_MODULE = '/usr/lib/nginx/modules/ngx_stream_module.so';

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
  const p = (f: string): string => path.join(prefix, f);
  const lines: string[] = [
    ...(opts.stream ? [`load_module ${STREAM_MODULE};`] : []),
    `master_process ${workers > 1 ? 'on' : 'off'};`,
    `worker_processes ${workers};`,
    // As root the workers would switch to nobody, who cannot read a 0700 temp dir.
    ...(workers > 1 && process.getuid?.() === 0 ? ['user root;'] : []),
    `error_log ${p('error.log')} notice;`,
    `pid ${p('nginx.pid')};`,
    `lock_file ${p('nginx.lock')};`,
    'events { worker_connections 4096; }',
    ...(opts.stream ? streamConfig(opts, port, prefix) : httpConfig(opts, port, prefix)),
  ];
  return lines.join('\n');
}

/** The TLS settings both kinds of server share, indented for a server block. */
function tlsDirectives(opts: NginxOptions): string[] {
  const protocols = opts.tls === '1.2' ? 'TLSv1.2' : opts.tls === '1.3' ? 'TLSv1.3' : 'TLSv1.2 TLSv1.3';
  const lines = [
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
  return lines;
}

function streamConfig(opts: NginxOptions, port: number, prefix: string): string[] {
  return [
    'stream {',
    `  log_format handshakes '$msec $ssl_session_reused $ssl_protocol';`,
    `  access_log ${path.join(prefix, 'handshakes.log')} handshakes;`,
    '  server {',
    `    listen 127.0.0.1:${port} ssl;`,
    ...tlsDirectives(opts),
    // Nothing to say after the handshake: close (with close_notify).
    '    return "";',
    '  }',
    '}',
    '',
  ];
}

function httpConfig(opts: NginxOptions, port: number, prefix: string): string[] {
  const p = (f: string): string => path.join(prefix, f);
  return [
    'http {',
    ...(opts.accessLog
      ? [
          `  log_format tlsbench '$msec $ssl_session_reused $ssl_protocol $connection $connection_requests $status $ssl_early_data $request_time';`,
          `  access_log ${p('access.log')} tlsbench;`,
        ]
      : ['  access_log off;']),
    '  default_type text/plain;',
    ...(opts.extraHttpConfig ? [opts.extraHttpConfig] : []),
    `  client_body_temp_path ${p('tmp/client_body')};`,
    `  proxy_temp_path ${p('tmp/proxy')};`,
    `  fastcgi_temp_path ${p('tmp/fastcgi')};`,
    `  uwsgi_temp_path ${p('tmp/uwsgi')};`,
    `  scgi_temp_path ${p('tmp/scgi')};`,
    '  server {',
    `    listen 127.0.0.1:${port} ssl;`,
    '    server_name localhost;',
    ...tlsDirectives(opts),
    '    location / { return 200 "ok\\n"; }',
    '  }',
    '}',
    '',
  ];
}

/**
 * Starts nginx on a free 127.0.0.1 port with a config of its own in a temp prefix and
 * resolves once it accepts TCP connections. Resolves null (with a skip message on stderr)
 * when nginx is not installed, unless TLSBENCH_REQUIRE_NGINX=1 or CI=true, when it throws.
 */
export async function startNginx(opts: NginxOptions & { accessLog: true }): Promise<LoggingNginx | null>;
export async function startNginx(opts: NginxOptions): Promise<ExternalServer | null>;
export async function startNginx(opts: NginxOptions): Promise<LoggingNginx | ExternalServer | null> {
  const bin = await findNginx();
  if (bin === null) {
    const msg = 'nginx is not installed (scripts/install-nginx.sh installs it)';
    if (process.env.TLSBENCH_REQUIRE_NGINX === '1') throw new Error(`${msg}, and TLSBENCH_REQUIRE_NGINX=1`);
    if (process.env.CI === 'true') throw new Error(`${msg}, and CI=true: the nginx tests must run in CI`);
    process.stderr.write(`skip: ${msg}\n`);
    return null;
  }
  const { port, launched: { proc, prefix } } = await startOnFreePort(async (port) => {
    const prefix = await mkdtemp(path.join(tmpdir(), 'tlsbench-nginx-'));
    await mkdir(path.join(prefix, 'tmp'), { recursive: true });
    const conf = path.join(prefix, 'nginx.conf');
    await writeFile(conf, nginxConfig(opts, port, prefix));
    // -e: error log before the config is read (else the compiled-in default is opened).
    const args = ['-p', prefix, '-c', conf, '-e', path.join(prefix, 'error.log'), '-g', 'daemon off;'];
    // SIGTERM on parent exit: with a master, it takes its workers down with it.
    const proc = spawnManaged(bin, args, { exitSignal: 'SIGTERM', removeOnExit: prefix });
    return {
      proc,
      prefix,
      command: `nginx ${args.join(' ')}`,
      failureOutput: async () => `${proc.output()}\n${await readFile(path.join(prefix, 'error.log'), 'utf8').catch(() => '')}`,
      discard: () => rm(prefix, { recursive: true, force: true }),
    };
  }, { bindFailed: /address already in use|bind\(\)/i, startTimeoutMs: opts.startTimeoutMs });
  return {
    host: '127.0.0.1',
    port,
    pid: proc.pid,
    output: () => proc.output(),
    accessLog: async () => parseNginxLog(await readFile(path.join(prefix, 'access.log'), 'utf8').catch(() => '')),
    handshakeLog: async () => parseHandshakeLog(await readFile(path.join(prefix, 'handshakes.log'), 'utf8').catch(() => '')),
    stop: async () => {
      // SIGQUIT: graceful shutdown; SIGTERM/SIGKILL after the grace period.
      await proc.stop('SIGQUIT', 5000);
      await rm(prefix, { recursive: true, force: true });
    },
  };
}
