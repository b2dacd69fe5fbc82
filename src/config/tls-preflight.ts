import tls from 'node:tls';
import type { ClientTlsConfig, Credentials } from './run-config.js';
import { UnsupportedHere } from './usage-error.js';

/** Groups OpenSSL added after 3.0: the error names the runtime and the Node line that has them. */
const POST_QUANTUM = /MLKEM|KYBER/i;

function opensslAtLeast(major: number, minor: number): boolean {
  const [a = 0, b = 0] = (process.versions.openssl ?? '0.0').split('.').map((n) => parseInt(n, 10));
  return a > major || (a === major && b >= minor);
}

/**
 * Builds each TLS setting into a throwaway SecureContext in the coordinator, one at a time, so
 * a bad value is reported against the option that carries it, before any worker starts.
 */
export function checkClientTls(config: ClientTlsConfig, credentials: Credentials): void {
  const problems: string[] = [];
  const tryContext = (option: string, value: string, options: tls.SecureContextOptions, advice: string) => {
    try {
      tls.createSecureContext({ minVersion: config.minVersion, maxVersion: config.maxVersion, ...options });
    } catch (err) {
      problems.push(`${option} '${value}': rejected by this runtime's OpenSSL ${process.versions.openssl} (${(err as Error).message}). ${advice}`);
    }
  };
  if (config.groups) {
    if (POST_QUANTUM.test(config.groups) && !opensslAtLeast(3, 5)) {
      problems.push(`--groups '${config.groups}': post-quantum groups need OpenSSL 3.5; this is Node ${process.version} with OpenSSL ${process.versions.openssl}. Node 24 LTS ships OpenSSL 3.5 and supports X25519MLKEM768`);
    } else {
      tryContext('--groups', config.groups, { ecdhCurve: config.groups }, 'Use names such as X25519, P-256, P-384');
    }
  }
  if (config.ciphers) tryContext('--ciphers', config.ciphers, { ciphers: config.ciphers }, 'List TLS 1.2 ciphers by OpenSSL name, e.g. ECDHE-ECDSA-AES128-GCM-SHA256 (see `openssl ciphers`)');
  if (config.ciphersuites) tryContext('--ciphersuites', config.ciphersuites, { ciphers: config.ciphersuites }, 'List TLS 1.3 suites, e.g. TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256');
  if (config.sigalgs) tryContext('--sigalgs', config.sigalgs, { sigalgs: config.sigalgs }, 'Use names such as ecdsa_secp256r1_sha256, rsa_pss_rsae_sha256, ed25519');
  if (credentials.ca) tryContext('--ca', config.caFile ?? 'CA', { ca: credentials.ca }, 'Give a PEM file with the CA certificate(s)');
  if (credentials.cert && credentials.key) {
    const options: tls.SecureContextOptions = { cert: credentials.cert, key: credentials.key };
    if (credentials.passphrase) options.passphrase = credentials.passphrase;
    tryContext('--cert/--key', `${config.certFile}, ${config.keyFile}`, options, 'Check that the key matches the certificate, and --key-passphrase if the key is encrypted');
  }
  if (config.minVersion < 'TLSv1.2') {
    tryContext('--tls', config.minVersion, { ciphers: config.ciphers ?? 'DEFAULT:@SECLEVEL=0' }, 'This runtime cannot offer TLS 1.0/1.1');
  }
  if (problems.length) throw new UnsupportedHere(problems.length === 1 ? problems[0]! : `${problems.length} problems:\n  - ${problems.join('\n  - ')}`);
}
