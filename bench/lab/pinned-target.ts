// The one TLS server every bench case runs against, pinned to its own CPU so the client's
// CPU figures are the client's alone. nginx by default: one event-driven process serves many
// handshakes at once. `openssl s_server -www` serves one connection at a time (serially),
// which leaves a concurrent client waiting on it.
import { execFileSync } from 'node:child_process';
import { createTestCerts, type TestCerts } from '../../test/support/certs.js';
import { startNginx } from '../../test/support/nginx-server.js';
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
  stop(): Promise<void>;
}

/** Starts the server (ECDSA P-256 certificate, TLS 1.2 and 1.3, tickets and a session cache on)
 * and pins all its threads to `cpus` (taskset -a). */
export async function startPinnedTarget(kind: ServerKind, cpus: string): Promise<PinnedTarget> {
  const certs: TestCerts = await createTestCerts({ keyType: 'ec-p256' });
  let server: ExternalServer | null;
  let description: string;
  if (kind === 'nginx') {
    server = await startNginx({ certPath: certs.certPath, keyPath: certs.keyPath, tls: 'both', tickets: true, sessionCache: true, workers: 1 });
    if (!server) throw new Error('nginx is not installed (scripts/install-nginx.sh installs it); try --server s_server');
    const version = commandOutput('nginx', ['-v']).replace(/^nginx version: /, '') || 'nginx';
    description = `${version}, one process (master_process off, worker_processes 1), tickets on, ssl_session_cache shared:SSL:1m`;
  } else {
    server = await startOpenSslServer({ certPath: certs.certPath, keyPath: certs.keyPath, www: true });
    description = 'openssl s_server -www (one connection at a time), tickets on, internal session cache';
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
    async stop() {
      await started.stop();
      await certs.cleanup();
    },
  };
}

