/**
 * The built-in server's client-certificate check (`--mtls required|optional`, `--crl`) and its
 * counters: what it asked for, what clients sent, what it accepted, and what it rejected and why.
 *
 * Node verifies a client certificate only after the handshake and, when it rejects one, drops the
 * connection without an alert (its OpenSSL verify callback always continues). A missing certificate
 * under `required` is OpenSSL's own check (an alert: certificate_required in TLS 1.3,
 * handshake_failure in TLS 1.2). So the server's counters are the truth about rejections: a TLS 1.3
 * client sees a drop after its Finished that looks like any close. The native server
 * (native-target.ts) has OpenSSL verify inside the handshake instead, and keeps the same counters.
 */
import { readFileSync } from 'node:fs';
import type tls from 'node:tls';
import type { TLSSocket } from 'node:tls';
import { UsageError } from '../config/usage-error.js';
import { checkCrl } from '../trust/crl.js';

export const MTLS_MODES = ['required', 'optional'] as const;
export type MtlsMode = (typeof MTLS_MODES)[number];

/** `true` (the former switch) is `required`. */
export function mtlsModeOf(value: boolean | MtlsMode | undefined): MtlsMode | null {
  if (value === true) return 'required';
  return value === 'required' || value === 'optional' ? value : null;
}

export interface ClientCertificateStats {
  /** Full handshakes in which the server asked for a certificate (resumed ones carry none). */
  requested: number;
  /** Of which the client sent one. */
  sent: number;
  /** Handshakes the server accepted: a valid certificate, or (optional) none. */
  accepted: number;
  /** Rejected, by reason: OpenSSL's verification code (CERT_REVOKED, …) or `no certificate`. */
  rejected: Record<string, number>;
}

/**
 * The server's CRL (PEM) for both servers, or undefined without one: checked like the client's
 * --crl, and only with client certificates asked for (exit 2 otherwise).
 */
export function serverCrlPem(mode: MtlsMode | null, crlFile: string | undefined, caCert: string): string | undefined {
  if (crlFile === undefined) return undefined;
  if (!mode) throw new UsageError('--crl checks client certificates, which the server asks for only with --mtls: add --mtls');
  return readServerCrl(crlFile, caCert);
}

/** tls.createServer options for the mode (and CRL PEM). */
export function clientCertificateOptions(mode: MtlsMode, caCert: string, crlPem: string | undefined): tls.TlsOptions {
  const options: tls.TlsOptions = {
    requestCert: true,
    // optional: OpenSSL must not fail a handshake without a certificate; a bad one is rejected below.
    rejectUnauthorized: mode === 'required',
    ca: caCert,
  };
  if (crlPem !== undefined) options.crl = crlPem;
  return options;
}

/** The CRL, checked like the client's --crl: fresh, and signed by the chain's CA (exit 2 otherwise). */
function readServerCrl(file: string, caCert: string): string {
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch (err) {
    throw new UsageError(`--crl ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); give a CRL file`);
  }
  try {
    return checkCrl(data, '--crl', file, caCert).pem;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

export function emptyClientCertificateStats(): ClientCertificateStats {
  return { requested: 0, sent: 0, accepted: 0, rejected: {} };
}

const reject = (stats: ClientCertificateStats, reason: string) => {
  stats.rejected[reason] = (stats.rejected[reason] ?? 0) + 1;
};

/**
 * Counts on a completed handshake; returns false when the connection must be dropped (optional
 * mode, a certificate that did not verify: Node accepted it, the server does not).
 */
export function admitClient(stats: ClientCertificateStats, mode: MtlsMode, socket: TLSSocket): boolean {
  if (socket.isSessionReused()) return true;
  stats.requested++;
  const sent = socket.getPeerX509Certificate() !== undefined;
  if (sent) stats.sent++;
  if (sent && !socket.authorized) {
    reject(stats, socket.authorizationError ? String(socket.authorizationError) : 'unverified');
    return false;
  }
  if (!sent && mode === 'required') {
    reject(stats, 'no certificate');
    return false;
  }
  stats.accepted++;
  return true;
}

/** Counts a handshake Node or OpenSSL refused for its client certificate (tlsClientError). */
export function countRefusedClient(stats: ClientCertificateStats, err: NodeJS.ErrnoException, socket: TLSSocket): void {
  // Node dropped it after the handshake: the verification code is on the socket.
  if (socket.authorizationError) {
    stats.requested++;
    stats.sent++;
    reject(stats, String(socket.authorizationError));
  } else if (err.code === 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE') {
    stats.requested++;
    reject(stats, 'no certificate');
  }
}
