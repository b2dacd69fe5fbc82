// Launches `openssl s_server` as an external TLS target for tests.
//
// Flags chosen after trying them on OpenSSL 3.0.19 (Debian 12):
// - `-www` makes s_server loop forever: connection after connection, one at a time
//   (serially), answering `GET /` with an HTTP/1.0 status page and then closing. Without
//   -www s_server serves one interactive connection at a time tied to stdin.
// - `-quiet` keeps per-connection chatter down (output is captured and drained anyway).
// - s_server keeps OpenSSL's internal session cache on by default, so TLS 1.2 session-ID
//   resumption works; it issues tickets (TLS 1.2 and 1.3) unless `-no_ticket`. With
//   `-no_ticket`, TLS 1.3 still resumes through OpenSSL's stateful tickets (session cache).
// - No `-naccept`: that would make it exit after N connections.
import { spawnManaged, startOnFreePort, type PortLaunch } from './process.js';

export interface OpenSslServerOptions {
  certPath: string;
  keyPath: string;
  /** CA for verifying client certificates (with verifyClient). */
  caPath?: string;
  /** Pin one version; default: whatever s_server allows (TLS 1.2 and 1.3). */
  tls?: '1.2' | '1.3';
  /** `-no_ticket`: no TLS 1.2 tickets; TLS 1.3 falls back to stateful tickets. */
  noTicket?: boolean;
  /** `-Verify 1`: require and verify a client certificate (needs caPath). */
  verifyClient?: boolean;
  /** TLS 1.2 cipher list (`-cipher`). */
  ciphers?: string;
  /** TLS 1.3 cipher suites (`-ciphersuites`). */
  ciphersuites?: string;
  /** Key-exchange groups (`-groups`), e.g. 'X25519:P-256'. */
  groups?: string;
  /** Serve `-www` (default true). false: plain echo-less s_server with `-quiet`. */
  www?: boolean;
  extraArgs?: string[];
  /** Milliseconds to wait for the port (default 10000). */
  startTimeoutMs?: number;
}

export interface ExternalServer {
  host: '127.0.0.1';
  port: number;
  /** pid of the server process (for checks that nothing is left behind). */
  pid: number;
  /** Recent stdout+stderr of the server. */
  output(): string;
  stop(): Promise<void>;
}

export function openSslServerArgs(opts: OpenSslServerOptions, port: number): string[] {
  const args = ['s_server', '-accept', `127.0.0.1:${port}`, '-cert', opts.certPath, '-key', opts.keyPath, '-quiet'];
  if (opts.www ?? true) args.push('-www');
  if (opts.tls === '1.2') args.push('-tls1_2');
  if (opts.tls === '1.3') args.push('-tls1_3');
  if (opts.noTicket) args.push('-no_ticket');
  if (opts.verifyClient) {
    if (opts.caPath === undefined) throw new Error('startOpenSslServer: verifyClient needs caPath');
    args.push('-Verify', '1');
  }
  if (opts.caPath !== undefined) args.push('-CAfile', opts.caPath);
  if (opts.ciphers !== undefined) args.push('-cipher', opts.ciphers);
  if (opts.ciphersuites !== undefined) args.push('-ciphersuites', opts.ciphersuites);
  if (opts.groups !== undefined) args.push('-groups', opts.groups);
  if (opts.extraArgs) args.push(...opts.extraArgs);
  return args;
}

/** What s_server says when it cannot take its port. */
export const OPENSSL_BIND_FAILED = /bind|address already in use|accept/i;

/** Spawns `openssl s_server` on `port` (for startOnFreePort). */
export function launchOpenSslServer(opts: OpenSslServerOptions): (port: number) => Promise<PortLaunch> {
  return async (port) => {
    const args = openSslServerArgs(opts, port);
    return { proc: spawnManaged('openssl', args, { exitSignal: 'SIGKILL' }), command: `openssl ${args.join(' ')}` };
  };
}

/** Starts `openssl s_server` on a free 127.0.0.1 port and resolves once it listens there.
 * Retries on another port when the bind fails. */
export async function startOpenSslServer(opts: OpenSslServerOptions): Promise<ExternalServer> {
  const { port, launched: { proc } } = await startOnFreePort(launchOpenSslServer(opts), { bindFailed: OPENSSL_BIND_FAILED, startTimeoutMs: opts.startTimeoutMs });
  return {
    host: '127.0.0.1',
    port,
    pid: proc.pid,
    output: proc.output,
    stop: () => proc.stop('SIGTERM', 3000),
  };
}
