/**
 * What OCSP stapling looked like, per handshake class, on handshakes where the server sent its
 * certificate (full and missed resumptions; a resumed handshake carries no certificate and no staple).
 * Counted whether or not the staple then failed the attempt (a revoked staple is both a `revoked`
 * here and a `tls.ocsp.revoked` error). Plain data, merged exactly.
 */
import type { StapleVerdict } from '../trust/ocsp-staple.js';

export interface OcspTally {
  /** Handshakes that asked for a staple and received the server's certificate. */
  handshakes: number;
  stapled: number;
  /** Sum of the staples' sizes, for the mean. */
  bytes: number;
  maxBytes: number;
  /** What the staples said (of `stapled`). */
  status: Partial<Record<StapleVerdict, number>>;
  /** Signature by the issuer or a responder it authorised: valid, invalid, or not checked (no issuer at hand). */
  signature: { valid: number; invalid: number; unchecked: number };
  /** Smallest time left until a staple's nextUpdate, seconds, at the handshake (negative: stale); null: none seen. */
  minSecondsToNextUpdate: number | null;
  /** Oldest staple's age (now − thisUpdate) at the handshake, seconds. */
  maxAgeSeconds: number | null;
}

/** What one handshake saw: null staple fields when none was stapled. */
export interface OcspObservation {
  stapled: boolean;
  bytes: number;
  status: StapleVerdict | null;
  signature: boolean | null;
  secondsToNextUpdate: number | null;
  ageSeconds: number | null;
}

export function emptyOcspTally(): OcspTally {
  return { handshakes: 0, stapled: 0, bytes: 0, maxBytes: 0, status: {}, signature: { valid: 0, invalid: 0, unchecked: 0 }, minSecondsToNextUpdate: null, maxAgeSeconds: null };
}

const minOf = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.min(a, b));
const maxOf = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.max(a, b));

export function addOcspObservation(t: OcspTally, o: OcspObservation): void {
  t.handshakes++;
  if (!o.stapled) return;
  t.stapled++;
  t.bytes += o.bytes;
  t.maxBytes = Math.max(t.maxBytes, o.bytes);
  if (o.status) t.status[o.status] = (t.status[o.status] ?? 0) + 1;
  if (o.signature === true) t.signature.valid++;
  else if (o.signature === false) t.signature.invalid++;
  else t.signature.unchecked++;
  t.minSecondsToNextUpdate = minOf(t.minSecondsToNextUpdate, o.secondsToNextUpdate);
  t.maxAgeSeconds = maxOf(t.maxAgeSeconds, o.ageSeconds);
}

export function mergeOcspTallies(into: OcspTally, from: OcspTally): OcspTally {
  const status = { ...into.status };
  for (const [k, n] of Object.entries(from.status) as [StapleVerdict, number][]) status[k] = (status[k] ?? 0) + n;
  return {
    handshakes: into.handshakes + from.handshakes,
    stapled: into.stapled + from.stapled,
    bytes: into.bytes + from.bytes,
    maxBytes: Math.max(into.maxBytes, from.maxBytes),
    status,
    signature: {
      valid: into.signature.valid + from.signature.valid,
      invalid: into.signature.invalid + from.signature.invalid,
      unchecked: into.signature.unchecked + from.signature.unchecked,
    },
    minSecondsToNextUpdate: minOf(into.minSecondsToNextUpdate, from.minSecondsToNextUpdate),
    maxAgeSeconds: maxOf(into.maxAgeSeconds, from.maxAgeSeconds),
  };
}
