// What every block of tests against servers it starts needs: throwaway certificates before its
// tests, and after them every server it kept stopped and the certificates gone. Registers its
// hooks where it is called: at a file's top level or in a describe. The nginx and s_server suites
// (logging-nginx-suite.ts, openssl-server-suite.ts) are built on it.
import { after, before } from 'node:test';
import { createTestCerts, type TestCerts } from './certs.js';
import type { ExternalServer } from './openssl-server.js';
import { externalTarget } from './tls-run.js';

export interface ServerSuite {
  /** The block's certificates (made in its before hook: use them inside a test). */
  readonly certs: TestCerts;
  /** Stops `server` when the block ends; returns it. */
  keep<S extends ExternalServer>(server: S): S;
  /** tlsbench's target arguments for `server`: its address, the block's CA, the name on its certificate. */
  target(server: ExternalServer): string[];
}

export function serverSuite(): ServerSuite {
  let certs: TestCerts | undefined;
  const servers: ExternalServer[] = [];
  before(async () => {
    certs = await createTestCerts();
  });
  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await certs?.cleanup();
  });
  const suite: ServerSuite = {
    get certs() {
      if (!certs) throw new Error('the suite\'s certificates are made in its before hook: use them inside a test');
      return certs;
    },
    keep(server) {
      servers.push(server);
      return server;
    },
    target: (server) => externalTarget(server, suite.certs),
  };
  return suite;
}
