import type { Support, TargetProbe } from '../engine/probe.js';
import type { ProbeRefusal } from '../engine/probe-refusal.js';
import type { TlsVersion } from '../config/run-config.js';
import { ocspProbeLabel } from './ocsp-labels.js';
import { lacksForwardSecrecy, NO_FORWARD_SECRECY } from '../metrics/forward-secrecy.js';

const yesNo = (v: boolean): string => (v ? 'yes' : 'no');
const support = (v: Support): string => (v === null ? 'n/a' : yesNo(v));

/** Why the server refused a version it speaks, and what to do, in words. */
export function refusalText(version: TlsVersion, r: ProbeRefusal): string {
  const d = r.withDefaults;
  switch (r.cause) {
    case 'client-certificate-required':
      return `the server requires a client certificate (${r.errorClass}): give --cert and --key`;
    case 'client-certificate-rejected':
      return `the server rejected the client certificate (${r.errorClass}): give one issued by a CA the server trusts`;
    case 'group': {
      const asked = r.groupsOffered ? ` (--groups ${r.groupsOffered})` : '';
      // TLS 1.2 signs with an ECDSA certificate only on a curve the client lists among its groups.
      if (version !== 'TLSv1.3' && d?.certificate.startsWith('ECDSA ')) {
        return `no shared group (${r.errorClass}): the server's certificate is ${d.certificate}, and TLS 1.2 needs its curve among the groups offered${asked}`;
      }
      return `no shared group (${r.errorClass}): the server takes ${d?.group ?? 'another group'}, not the groups offered${asked}`;
    }
    case 'settings':
      return `nothing in common with --ciphers/--ciphersuites/--sigalgs (${r.errorClass}): with the defaults it negotiates ${d?.cipher ?? 'a handshake'}`;
  }
}

/**
 * The --probe result as one line, e.g.
 * `probe: TLS 1.3 yes, TLS 1.2 yes · TLSv1.3 TLS_AES_256_GCM_SHA384, group X25519, certificate
 * ECDSA prime256v1 · resumption: TLS 1.2 id yes, TLS 1.2 ticket yes, TLS 1.3 ticket yes`.
 */
export function probeLine(probe: TargetProbe): string {
  const version = (v: 'TLSv1.3' | 'TLSv1.2'): string => {
    const refusal = probe.refusals?.[v];
    const name = `TLS ${v.slice(4)}`;
    return refusal ? `${name} accepted, but ${refusalText(v, refusal)}` : `${name} ${yesNo(probe.versions[v])}`;
  };
  // A cause is a sentence with commas of its own: then the versions are parted by a semicolon.
  const versions = [version('TLSv1.3'), version('TLSv1.2')].join(probe.refusals?.['TLSv1.3'] || probe.refusals?.['TLSv1.2'] ? '; ' : ', ');
  const n = probe.negotiated;
  const handshake = n
    ? `${n.protocol} ${n.cipher}, group ${n.group}, certificate ${n.certificate}${n.alpn ? `, ALPN ${n.alpn}` : ''}${lacksForwardSecrecy(n) ? `, ${NO_FORWARD_SECRECY}` : ''}`
    : `handshake with the run's settings failed: ${probe.error}`;
  const r = probe.resumption;
  const resumption = `resumption: TLS 1.2 id ${support(r.tls12Id)}, TLS 1.2 ticket ${support(r.tls12Ticket)}, TLS 1.3 ticket ${support(r.tls13Ticket)}`;
  const ocsp = ocspProbeLabel(probe.ocsp ?? null);
  return `probe: ${versions} · ${handshake} · ${resumption}${ocsp ? ` · ${ocsp}` : ''}`;
}
