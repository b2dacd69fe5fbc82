// A block of tests against openssl s_server: each s_server serves the block's certificate and is
// stopped when the block ends (server-suite.ts).
import { serverSuite, type ServerSuite } from './server-suite.js';
import { startOpenSslServer, type ExternalServer, type OpenSslServerOptions } from './openssl-server.js';

export interface OpenSslServerSuite extends ServerSuite {
  /** An s_server serving the block's certificate. */
  start(opts?: Omit<OpenSslServerOptions, 'certPath' | 'keyPath'>): Promise<ExternalServer>;
}

export function openSslServerSuite(): OpenSslServerSuite {
  const suite = serverSuite();
  return Object.assign(suite, {
    start: async (opts: Omit<OpenSslServerOptions, 'certPath' | 'keyPath'> = {}) =>
      suite.keep(await startOpenSslServer({ ...opts, certPath: suite.certs.certPath, keyPath: suite.certs.keyPath })),
  });
}
