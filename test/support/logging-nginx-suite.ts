// The setup of every test file that checks tlsbench's counts against a logging nginx: a fresh
// nginx per test (its log holds that test's connections only), serving the file's certificate,
// stopped with the others when the tests end (server-suite.ts).
import { serverSuite, type ServerSuite } from './server-suite.js';
import { startNginx, type LoggingNginx, type NginxOptions } from './nginx-server.js';

export interface LoggingNginxSuite extends ServerSuite {
  /** A fresh nginx with an access log, serving the file's certificate; null (and `t` skipped) when nginx is not installed. */
  start(t: { skip(message: string): void }, opts?: Partial<NginxOptions>): Promise<LoggingNginx | null>;
}

/** Registers the hooks where it is called: once, at a file's top level or in a describe. */
export function loggingNginxSuite(defaults: Partial<NginxOptions> = {}): LoggingNginxSuite {
  const suite = serverSuite();
  return Object.assign(suite, {
    async start(t: { skip(message: string): void }, opts: Partial<NginxOptions> = {}) {
      const server = await startNginx({ certPath: suite.certs.certPath, keyPath: suite.certs.keyPath, ...defaults, ...opts, accessLog: true });
      if (server === null) t.skip('nginx is not installed');
      return server === null ? null : suite.keep(server);
    },
  });
}
