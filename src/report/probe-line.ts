import type { Support, TargetProbe } from '../engine/probe.js';
import { ocspProbeLabel } from './ocsp-labels.js';
import { lacksForwardSecrecy, NO_FORWARD_SECRECY } from '../metrics/forward-secrecy.js';

const yesNo = (v: boolean): string => (v ? 'yes' : 'no');
const support = (v: Support): string => (v === null ? 'n/a' : yesNo(v));

/**
 * The --probe result as one line, e.g.
 * `probe: TLS 1.3 yes, TLS 1.2 yes · TLSv1.3 TLS_AES_256_GCM_SHA384, group X25519, certificate
 * ECDSA prime256v1 · resumption: TLS 1.2 id yes, TLS 1.2 ticket yes, TLS 1.3 ticket yes`.
 */
export function probeLine(probe: TargetProbe): string {
  const versions = `TLS 1.3 ${yesNo(probe.versions['TLSv1.3'])}, TLS 1.2 ${yesNo(probe.versions['TLSv1.2'])}`;
  const n = probe.negotiated;
  const handshake = n
    ? `${n.protocol} ${n.cipher}, group ${n.group}, certificate ${n.certificate}${n.alpn ? `, ALPN ${n.alpn}` : ''}${lacksForwardSecrecy(n) ? `, ${NO_FORWARD_SECRECY}` : ''}`
    : `handshake with the run's settings failed: ${probe.error}`;
  const r = probe.resumption;
  const resumption = `resumption: TLS 1.2 id ${support(r.tls12Id)}, TLS 1.2 ticket ${support(r.tls12Ticket)}, TLS 1.3 ticket ${support(r.tls13Ticket)}`;
  const ocsp = ocspProbeLabel(probe.ocsp ?? null);
  return `probe: ${versions} · ${handshake} · ${resumption}${ocsp ? ` · ${ocsp}` : ''}`;
}
