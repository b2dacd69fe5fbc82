/**
 * The built-in server's OCSP stapling: to a client that asks (status_request), it staples a response
 * about its own certificate, signed by the chain's OCSP responder. Built once and rebuilt when half
 * its validity has passed, so a long-running `serve` never staples a stale response.
 */
import type tls from 'node:tls';
import { buildOcspResponse, OCSP_VALIDITY_MS } from '../trust/ocsp-responder.js';
import type { CertificateChain } from './pki.js';

export const STAPLE_CHOICES = ['good', 'revoked', 'none'] as const;
export type StapleChoice = (typeof STAPLE_CHOICES)[number];

export interface StaplerStats {
  /** Handshakes whose client asked for a staple (and got one). */
  staples: number;
  /** Size of the stapled response in bytes. */
  stapleBytes: number;
}

/**
 * The response to staple now: built once and rebuilt when half its validity has passed. Null when
 * the chain has no OCSP responder to sign with (a directory from an older tlsbench): no staples.
 */
export function stapleSource(chain: CertificateChain, status: Exclude<StapleChoice, 'none'>): (() => Buffer) | null {
  const signer = chain.ocspResponderCert && chain.ocspResponderKey ? { cert: chain.ocspResponderCert, key: chain.ocspResponderKey } : null;
  if (!signer) return null;
  let response: Buffer | null = null;
  let builtAt = 0;
  return () => {
    const now = Date.now();
    if (!response || now - builtAt > OCSP_VALIDITY_MS / 2) {
      response = buildOcspResponse({ cert: chain.serverCert, issuer: chain.caCert, responder: signer, status, thisUpdate: new Date(now) });
      builtAt = now;
    }
    return response;
  };
}

/** Null when the chain has no OCSP responder to sign with: no staples. */
export function attachStapler(server: tls.Server, chain: CertificateChain, status: Exclude<StapleChoice, 'none'>): StaplerStats | null {
  const current = stapleSource(chain, status);
  if (!current) return null;
  const stats: StaplerStats = { staples: 0, stapleBytes: 0 };
  server.on('OCSPRequest', (_certificate: Buffer, _issuer: Buffer, callback: (err: Error | null, response?: Buffer) => void) => {
    const response = current();
    stats.stapleBytes = response.length;
    stats.staples++;
    callback(null, response);
  });
  return stats;
}
