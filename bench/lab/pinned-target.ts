// The one TLS server every bench case runs against, pinned to its own CPU so the client's
// CPU figures are the client's alone. nginx by default: one event-driven process serves many
// handshakes at once, as a TLS server with no HTTP on top (its stream module) that logs every
// connection's handshake, so each client's resumption is checked in the server's own log.
// `openssl s_server -www` serves one connection at a time (serially), which leaves a concurrent
// client waiting on it, and logs nothing per connection.
import { execFileSync } from 'node:child_process';
import { createTestCerts, type TestCerts } from '../../test/support/certs.js';
import { startNginx, type NginxHandshake } from '../../test/support/nginx-server.js';
import { startOpenSslServer, type ExternalServer } from '../../test/support/openssl-server.js';
import { commandOutput } from './environment.js';

export type ServerKind = 'nginx' | 's_server';
export const SERVER_KINDS: readonly ServerKind[] = ['nginx', 's_server'];

export interface PinnedTarget {
  kind: ServerKind;
  host: string;
  port: number;
  pid: number;
  caPath: string;
  /** What ran, in one line, for the results. */
  description: string;
  /**
   * The server's own count of handshakes (and of resumed ones) logged between two epoch-ms
   * instants; null when this server keeps no such log (s_server).
   */
  handshakesLogged(from: number, to: number): Promise<{ handshakes: number; resumed: number } | null>;
  stop(): Promise<void>;
}

/** Starts the server (ECDSA P-256 certificate, TLS 1.2 and 1.3, a session cache on, tickets on
 * unless `tickets: false`: then a TLS 1.2 client resumes by session ID) and pins all its threads
 * to `cpus` (taskset -a). */
export async function startPinnedTarget(kind: ServerKind, cpus: string, opts: { tickets?: boolean } = {}): Promise<PinnedTarget> {
  const tickets = opts.tickets ?? true;
  const certs: TestCerts = await createTestCerts({ keyType: 'ec-p256' });
  let server: ExternalServer | null;
  let description: string;
  let log: (() => Promise<NginxHandshake[]>) | null = null;
  if (kind === 'nginx') {
    const nginx = await startNginx({ certPath: certs.certPath, keyPath: certs.keyPath, tls: 'both', tickets, sessionCache: true, workers: 1, stream: true, accessLog: true });
    if (!nginx) throw new Error('nginx is not installed (scripts/install-nginx.sh installs it); try --server s_server');
    server = nginx;
    log = () => nginx.handshakeLog();
    const version = commandOutput('nginx', ['-v']).replace(/^nginx version: /, '') || 'nginx';
    description = `${version}, one process (master_process off, worker_processes 1), a TLS server of its stream module (closes after the handshake, logs each connection's $ssl_session_reused), tickets ${tickets ? 'on' : 'off'}, ssl_session_cache shared:SSL:1m`;
  } else {
    server = await startOpenSslServer({ certPath: certs.certPath, keyPath: certs.keyPath, www: true, noTicket: !tickets });
    description = `openssl s_server -www (one connection at a time), tickets ${tickets ? 'on' : 'off (-no_ticket)'}, internal session cache`;
  }
  execFileSync('taskset', ['-a', '-c', '-p', cpus, String(server.pid)], { stdio: 'ignore' });
  const started = server;
  return {
    kind,
    host: started.host,
    port: started.port,
    pid: started.pid,
    caPath: certs.caCertPath,
    description: `${description}; ECDSA P-256 certificate signed by a test CA; pinned to CPU ${cpus}`,
    async handshakesLogged(from, to) {
      if (!log) return null;
      // A line is written when its connection ends, a moment after the client's run ends.
      await new Promise((resolve) => setTimeout(resolve, 200));
      const lines = (await log()).filter((l) => l.msec >= from && l.msec <= to + 100);
      return { handshakes: lines.length, resumed: lines.filter((l) => l.reused).length };
    },
    async stop() {
      await started.stop();
      await certs.cleanup();
    },
  };
}

