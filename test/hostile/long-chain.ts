// (15) A server whose certificate chain is far longer than a client accepts: the leaf followed by
// one certificate repeated until the Certificate message passes OpenSSL's client limit (100 KiB,
// SSL_CTX_set_max_cert_list's default). Seen in the wild as bundles that concatenate a whole CA
// store. The client must file it as tls.message-too-large.
import { X509Certificate } from 'node:crypto';
import type { CertifiedKey } from './certificates.js';
import type { HostileServer } from './hostile-server.js';
import { startTlsServer } from './tls-endpoint.js';

/** OpenSSL's default maximum Certificate message a client accepts. */
export const CLIENT_CERT_LIST_LIMIT = 100 * 1024;

/** Serves `leaf` followed by copies of `filler` (PEM) adding up to 1.5× the client's limit. */
export function startLongChain(leaf: CertifiedKey, filler: string): Promise<HostileServer> {
  const fillerBytes = new X509Certificate(filler).raw.length;
  const copies = Math.ceil((1.5 * CLIENT_CERT_LIST_LIMIT) / fillerBytes);
  const pem = filler.endsWith('\n') ? filler : `${filler}\n`;
  return startTlsServer({ key: leaf.key, cert: leaf.cert + (leaf.cert.endsWith('\n') ? '' : '\n') + pem.repeat(copies) });
}
