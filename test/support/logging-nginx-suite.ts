// The setup of every test file that checks tlsbench's counts against a logging nginx: throwaway
// certificates before the file's tests, then a fresh nginx per test (its log holds that test's
// connections only), and after the tests every nginx stopped and the certificates gone.
import { after, before } from 'node:test';
import { createTestCerts, type TestCerts } from './certs.js';
import { startNginx, type ExternalServer, type LoggingNginx, type NginxOptions } from './nginx-server.js';
import { externalTarget } from './tls-run.js';

export interface LoggingNginxSuite {
  /** A fresh nginx with an access log, serving the file's certificate; null (and `t` skipped) when nginx is not installed. */
  start(t: { skip(message: string): void }, opts?: Partial<NginxOptions>): Promise<LoggingNginx | null>;
  /** tlsbench's target arguments for `server`: its address, the file's CA, the name on its certificate. */
  target(server: ExternalServer): string[];
}

/** Registers the file's before/after hooks; call it once, at the top level of a test file. */
export function loggingNginxSuite(defaults: Partial<NginxOptions> = {}): LoggingNginxSuite {
  let certs: TestCerts | undefined;
  const servers: LoggingNginx[] = [];
  before(async () => {
    certs = await createTestCerts();
  });
  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await certs?.cleanup();
  });
  return {
    async start(t, opts = {}) {
      const server = await startNginx({ certPath: certs!.certPath, keyPath: certs!.keyPath, ...defaults, ...opts, accessLog: true });
      if (server === null) t.skip('nginx is not installed');
      else servers.push(server);
      return server;
    },
    target: (server) => externalTarget(server, certs!),
  };
}
