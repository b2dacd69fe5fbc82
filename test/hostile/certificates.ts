// Certificates for the hostile fixtures, made with the project's own issueCertificate: one
// test CA (written to a file for --ca), a good leaf for 127.0.0.1, and the three ways a
// server certificate commonly fails verification.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { issueCertificate } from '../../src/server/pki.js';

/** A certificate and its private key, PEM: spreads into tls.SecureContextOptions. */
export interface CertifiedKey {
  cert: string;
  key: string;
}

export interface HostileCertificates {
  /** PEM file of the test CA: what the runs pass as --ca. */
  caPath: string;
  /** The test CA's certificate, PEM. */
  caCert: string;
  /** Signed by the CA, for 127.0.0.1 and localhost, valid now. */
  good: CertifiedKey;
  /** Signed by the CA for 127.0.0.1, but its validity ended yesterday. */
  expired: CertifiedKey;
  /** Signed by the CA, valid, but for other.example only. */
  otherName: CertifiedKey;
  /** For 127.0.0.1, valid, but signed by its own key. */
  selfSigned: CertifiedKey;
  cleanup(): Promise<void>;
}

const DAY_MS = 24 * 60 * 60 * 1000;

export async function createHostileCertificates(): Promise<HostileCertificates> {
  const keyType = 'ecdsa-p256' as const;
  const names = ['127.0.0.1', 'localhost'];
  const now = Date.now();
  const ca = await issueCertificate({ keyType, commonName: 'tlsbench hostile test CA', names: [], ca: true });
  const [good, expired, otherName, selfSigned] = await Promise.all([
    issueCertificate({ keyType, commonName: '127.0.0.1', names, issuer: ca }),
    issueCertificate({
      keyType, commonName: '127.0.0.1', names, issuer: ca,
      notBefore: new Date(now - 10 * DAY_MS), notAfter: new Date(now - DAY_MS),
    }),
    issueCertificate({ keyType, commonName: 'other.example', names: ['other.example'], issuer: ca }),
    issueCertificate({ keyType, commonName: '127.0.0.1', names, issuer: 'self' }),
  ]);
  const dir = await mkdtemp(path.join(tmpdir(), 'tlsbench-hostile-'));
  const caPath = path.join(dir, 'ca.pem');
  await writeFile(caPath, ca.cert);
  return {
    caPath,
    caCert: ca.cert,
    good,
    expired,
    otherName,
    selfSigned,
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
