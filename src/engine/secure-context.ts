import { constants } from 'node:crypto';
import tls from 'node:tls';
import type { ClientTlsConfig, Credentials, ResumeMode } from '../config/run-config.js';

/**
 * One SecureContext per worker per configuration: without it tls.connect builds a context per
 * connection, which is slow and lives until GC (nodejs/node#66002).
 */
export function buildClientContext(config: ClientTlsConfig, credentials: Credentials, resume: ResumeMode): tls.SecureContext {
  const options: tls.SecureContextOptions = {
    minVersion: config.minVersion,
    maxVersion: config.maxVersion,
    // Session-ID resumption: a client that sends no ticket extension makes the server use IDs.
    secureOptions: resume === 'id' ? constants.SSL_OP_NO_TICKET : 0,
  };
  // Node takes TLS 1.3 suites and TLS 1.2 ciphers through one option and splits them by the
  // TLS_ prefix; the config has already resolved which versions each list leaves enabled.
  const ciphers = [config.ciphersuites, config.ciphers].filter(Boolean).join(':');
  if (ciphers) options.ciphers = ciphers;
  if (config.groups) options.ecdhCurve = config.groups;
  if (config.sigalgs) options.sigalgs = config.sigalgs;
  if (credentials.ca) options.ca = credentials.ca;
  if (credentials.cert) options.cert = credentials.cert;
  if (credentials.key) options.key = credentials.key;
  if (credentials.passphrase) options.passphrase = credentials.passphrase;
  // Node turns on X509_V_FLAG_CRL_CHECK | CRL_CHECK_ALL with a CRL: every certificate of the chain
  // below the trust anchor needs a CRL from its issuer.
  if (credentials.crl) options.crl = credentials.crl;
  return tls.createSecureContext(options);
}

/** ALPN protocol list in wire format, built once instead of per connection. */
export function alpnWireFormat(protocols: readonly string[]): Buffer | undefined {
  if (protocols.length === 0) return undefined;
  return Buffer.concat(protocols.map((p) => Buffer.concat([Buffer.from([Buffer.byteLength(p)]), Buffer.from(p)])));
}
