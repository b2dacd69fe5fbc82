/**
 * What `tlsbench certs --revoke NAME… --crl-entries N --ocsp` writes beside a fresh chain, while the
 * CA's key is in memory: further certificates that are issued and then revoked, the CA's CRL
 * (crl.pem), and OCSP responses for each server certificate (`<name>.ocsp.der`, for nginx's
 * ssl_stapling_file), each saying good or revoked as the CRL does.
 */
import { join } from 'node:path';
import { buildCrl, serialOf } from '../trust/crl.js';
import { buildOcspResponse } from '../trust/ocsp-responder.js';
import { DEFAULT_SERVER_NAMES, issueCertificate, writeFileAtomic, type CertificateChain } from './pki.js';

/** Names --revoke takes besides the chain's own `server` and `client`: safe file names, no clash with the chain's files. */
export const REVOKE_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/i;
export const RESERVED_NAMES = ['ca', 'ocsp-responder', 'crl'];

export interface RevocationRequest {
  /** `server`, `client`, or a new certificate's name (issued, then revoked). */
  revoke: string[];
  /** For each N, a further CRL `crl-N.pem`: the revoked certificates plus N random entries, to see what a real CA's CRL costs. */
  crlEntries: number[];
  /** Write an OCSP response for each server certificate. */
  ocsp: boolean;
  hosts: string[];
}

export interface RevocationFiles {
  crlPath: string | null;
  /** crl-N.pem files: entries → path. */
  paddedCrls: { entries: number; path: string }[];
  /** Extra certificates: name → paths. */
  issued: { name: string; certPath: string; keyPath: string }[];
  /** OCSP response files: certificate name → path and status. */
  ocsp: { name: string; path: string; status: 'good' | 'revoked'; bytes: number }[];
}

export async function writeRevocationFiles(ca: { cert: string; key: string }, chain: CertificateChain, req: RevocationRequest): Promise<RevocationFiles> {
  const out: RevocationFiles = { crlPath: null, paddedCrls: [], issued: [], ocsp: [] };
  const certs = new Map<string, string>([['server', chain.serverCert], ['client', chain.clientCert]]);
  for (const name of req.revoke) {
    if (certs.has(name)) continue;
    // Valid for serverAuth and clientAuth, and for the server's names: a revoked server or client certificate alike.
    const issued = await issueCertificate({ keyType: chain.keyType, commonName: name, names: [...DEFAULT_SERVER_NAMES, ...req.hosts], issuer: ca });
    const certPath = join(chain.dir, `${name}.pem`);
    const keyPath = join(chain.dir, `${name}.key`);
    await writeFileAtomic(keyPath, issued.key, 0o600);
    await writeFileAtomic(certPath, issued.cert, 0o644);
    certs.set(name, issued.cert);
    out.issued.push({ name, certPath, keyPath });
  }
  const revoked = req.revoke.map((name) => serialOf(certs.get(name)!));
  if (req.revoke.length || req.crlEntries.length) {
    out.crlPath = join(chain.dir, 'crl.pem');
    await writeFileAtomic(out.crlPath, buildCrl({ issuer: ca, revoked }), 0o644);
  }
  for (const padding of req.crlEntries) {
    const path = join(chain.dir, `crl-${padding}.pem`);
    await writeFileAtomic(path, buildCrl({ issuer: ca, revoked, padding }), 0o644);
    out.paddedCrls.push({ entries: padding, path });
  }
  if (req.ocsp) {
    for (const [name, cert] of certs) {
      if (name === 'client') continue;
      const status = req.revoke.includes(name) ? 'revoked' : 'good';
      const response = buildOcspResponse({ cert, issuer: chain.caCert, responder: { cert: chain.ocspResponderCert!, key: chain.ocspResponderKey! }, status });
      const path = join(chain.dir, `${name}.ocsp.der`);
      await writeFileAtomic(path, response, 0o644);
      out.ocsp.push({ name, path, status, bytes: response.length });
    }
  }
  return out;
}
