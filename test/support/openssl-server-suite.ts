// The setup of a test file (or describe block) that runs tlsbench against openssl s_server:
// throwaway certificates before its tests, every s_server it starts stopped after them, and the
// certificates gone. The s_server counterpart of logging-nginx-suite.ts.
import { after, before } from 'node:test';
import { createTestCerts, type TestCerts } from './certs.js';
import { startOpenSslServer, type ExternalServer, type OpenSslServerOptions } from './openssl-server.js';
import { externalTarget } from './tls-run.js';

export interface OpenSslServerSuite {
  /** The block's certificates (set once its before hook has run). */
  readonly certs: TestCerts;
  /** An s_server serving the block's certificate, stopped when the block ends. */
  start(opts?: Omit<OpenSslServerOptions, 'certPath' | 'keyPath'>): Promise<ExternalServer>;
  /** tlsbench's target arguments for `server`: its address, the block's CA, the name on its certificate. */
  target(server: ExternalServer): string[];
}

/** Registers the before/after hooks where it is called: at a file's top level or in a describe. */
export function openSslServerSuite(): OpenSslServerSuite {
  let certs: TestCerts | undefined;
  const servers: ExternalServer[] = [];
  before(async () => {
    certs = await createTestCerts();
  });
  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await certs?.cleanup();
  });
  return {
    get certs() {
      if (!certs) throw new Error('the suite\'s certificates are made in its before hook: use them inside a test');
      return certs;
    },
    async start(opts = {}) {
      const server = await startOpenSslServer({ ...opts, certPath: this.certs.certPath, keyPath: this.certs.keyPath });
      servers.push(server);
      return server;
    },
    target(server) {
      return externalTarget(server, this.certs);
    },
  };
}
