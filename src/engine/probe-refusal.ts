import type { ClientTlsConfig } from '../config/run-config.js';
import type { NegotiatedSample } from '../metrics/tally.js';

/**
 * Why the server refused a version's handshake although it speaks that version: the probe names
 * this instead of reporting the version as not accepted.
 * - `client-certificate-required`: the server asked for a client certificate and the run has none
 *   (TLS 1.3 `certificate_required`, or a failure after the server's hello with no certificate given);
 * - `client-certificate-rejected`: the run sent one and the server refused it after its hello;
 * - `group`: no key-exchange group in common (TLS 1.3), or TLS 1.2 with an ECDSA certificate whose
 *   curve is not among the groups offered: with the default groups the same version completes;
 * - `settings`: nothing in common with `--ciphers`/`--ciphersuites`/`--sigalgs`: with the defaults it completes.
 */
export interface ProbeRefusal {
  cause: 'client-certificate-required' | 'client-certificate-rejected' | 'group' | 'settings';
  /** The error class of the refused handshake. */
  errorClass: string;
  /** `group` and `settings`: what the same version negotiated with the defaults. */
  withDefaults: Pick<NegotiatedSample, 'cipher' | 'group' | 'certificate'> | null;
  /** `group`: the run's --groups (null: the runtime's defaults). */
  groupsOffered: string | null;
}

/** What the diagnosis needs to know about one failed handshake. */
export interface RefusedHandshake {
  errorClass: string;
  /** The server answered this version's hello (its handshake keys were derived): it speaks the version. */
  serverHello: boolean;
}

/** A failure that comes from the server (an alert, a close, a reset), rather than from the client's own checks. */
function fromServer(errorClass: string): boolean {
  return errorClass.startsWith('tls.alert.') || errorClass === 'tls.closed' || errorClass === 'tls.reset';
}

/** The failure says only that the server does not speak this version. */
export function refusesVersion(errorClass: string): boolean {
  return errorClass === 'tls.version' || errorClass === 'tls.alert.protocol_version' || errorClass === 'tls.closed' || errorClass === 'tls.reset';
}

/** The run's settings restricted to the defaults: groups only, or groups, ciphers, suites and signature algorithms. */
export function relaxed(config: ClientTlsConfig, what: 'groups' | 'all'): ClientTlsConfig | null {
  if (what === 'groups') return config.groups ? { ...config, groups: null } : null;
  if (!config.groups && !config.ciphers && !config.ciphersuites && !config.sigalgs) return null;
  return { ...config, groups: null, ciphers: null, ciphersuites: null, sigalgs: null };
}

/**
 * Names the cause of a refused handshake. `retry` repeats the handshake with the given settings and
 * returns what it negotiated, or null when it failed too. Null: no cause found beyond the error class.
 */
export async function diagnoseRefusal(
  failed: RefusedHandshake,
  config: ClientTlsConfig,
  clientCertificate: boolean,
  retry: (settings: ClientTlsConfig) => Promise<Omit<NegotiatedSample, 'count'> | null>,
): Promise<ProbeRefusal | null> {
  const { errorClass } = failed;
  if (errorClass === 'tls.alert.certificate_required') return { cause: 'client-certificate-required', errorClass, withDefaults: null, groupsOffered: null };
  // After the server's hello the key exchange is settled: a server that ends the handshake then,
  // with or without an alert, refuses the client's certificate (or the lack of one).
  if (failed.serverHello && fromServer(errorClass)) {
    return { cause: clientCertificate ? 'client-certificate-rejected' : 'client-certificate-required', errorClass, withDefaults: null, groupsOffered: null };
  }
  if (failed.serverHello || !fromServer(errorClass) || errorClass === 'tls.alert.protocol_version') return null;
  for (const [what, cause] of [['groups', 'group'], ['all', 'settings']] as const) {
    const settings = relaxed(config, what);
    if (!settings) continue;
    const negotiated = await retry(settings);
    if (negotiated) {
      return { cause, errorClass, withDefaults: { cipher: negotiated.cipher, group: negotiated.group, certificate: negotiated.certificate }, groupsOffered: config.groups };
    }
  }
  return null;
}
