/**
 * The client's check of a stapled OCSP response, engine-neutral: it takes DER bytes (the response
 * the handshake carried, the server's certificate, its issuer) and says what the staple is worth.
 * The Node engine hands it what its 'OCSPResponse' event and peer certificate give; a native engine
 * hands it SSL_get_tlsext_status_ocsp_resp()'s bytes and the peer chain's DER.
 */
import { X509Certificate } from 'node:crypto';
import { BasicOCSPResponse, id_pkix_ocsp_basic, OCSPResponse, OCSPResponseStatus, type SingleResponse } from '@peculiar/asn1-ocsp';
import { AsnConvert } from '@peculiar/asn1-schema';
import { certIdMatches, parseCertificate } from './cert-id.js';
import { verifyDer } from './signature.js';

/**
 * What a staple said about the certificate: `malformed` when it said nothing usable,
 * `wrong-certificate` when it is about another certificate than the one the server presented.
 */
export type StapleVerdict = 'good' | 'revoked' | 'unknown' | 'malformed' | 'wrong-certificate';

/** What a staple is, whatever the time: parsed and checked once per distinct response. */
export interface StapleFacts {
  bytes: number;
  status: StapleVerdict;
  /** Signed by the issuer, or by a responder the issuer authorised; null: not checked (no issuer at hand, or an algorithm not known). */
  signature: boolean | null;
  /** Epoch ms; null when the response did not parse. */
  thisUpdate: number | null;
  nextUpdate: number | null;
  /** In words, for a failed check. */
  detail: string;
}

export interface StapleCheck extends StapleFacts {
  /** The `tls.ocsp.*` class this staple earns, or null when a client may accept it. */
  errorClass: string | null;
}

/** A staple's thisUpdate may lie this far in the future (clocks of responder and client differ). */
const CLOCK_SKEW_MS = 5 * 60 * 1000;
const OCSP_SIGNING = '1.3.6.1.5.5.7.3.9';

/** Every `tls.ocsp.*` class, in the order a staple is judged: the first that applies is the one counted. */
export const OCSP_ERROR_CLASSES = [
  'tls.ocsp.malformed', 'tls.ocsp.wrong-certificate', 'tls.ocsp.bad-signature', 'tls.ocsp.revoked',
  'tls.ocsp.unknown', 'tls.ocsp.stale', 'tls.ocsp.missing',
] as const;

function malformed(bytes: number, detail: string): StapleFacts {
  return { bytes, status: 'malformed', signature: null, thisUpdate: null, nextUpdate: null, detail };
}

/** Signed by the issuer, or by a certificate in the response that the issuer issued for OCSP signing. */
function signatureValid(basic: BasicOCSPResponse, issuer: X509Certificate): boolean | null {
  const tbs = basic.tbsResponseDataRaw ?? AsnConvert.serialize(basic.tbsResponseData);
  const byIssuer = verifyDer(tbs, basic.signature, issuer.publicKey, basic.signatureAlgorithm);
  if (byIssuer !== false) return byIssuer;
  for (const cert of basic.certs ?? []) {
    const responder = new X509Certificate(Buffer.from(AsnConvert.serialize(cert)));
    const authorised = responder.checkIssued(issuer) && responder.verify(issuer.publicKey) && (responder.keyUsage ?? []).includes(OCSP_SIGNING);
    if (authorised && verifyDer(tbs, basic.signature, responder.publicKey, basic.signatureAlgorithm)) return true;
  }
  return false;
}

/**
 * Parses `responseDer` and checks it against the server's certificate (`leafDer`) and its issuer
 * (`issuerDer`; null when the client does not have it, e.g. --insecure without --ca: the signature
 * is then not checked and the CertID is matched on the issuer's name and the serial only).
 */
export function inspectStaple(responseDer: Uint8Array, leafDer: Uint8Array, issuerDer: Uint8Array | null): StapleFacts {
  const bytes = responseDer.byteLength;
  let basic: BasicOCSPResponse;
  try {
    const response = AsnConvert.parse(responseDer, OCSPResponse);
    if (response.responseStatus !== OCSPResponseStatus.successful) {
      return malformed(bytes, `the responder answered ${OCSPResponseStatus[response.responseStatus] ?? response.responseStatus}, not a status`);
    }
    if (!response.responseBytes || response.responseBytes.responseType !== id_pkix_ocsp_basic) return malformed(bytes, 'not a basic OCSP response');
    basic = AsnConvert.parse(response.responseBytes.response.buffer, BasicOCSPResponse);
  } catch (err) {
    return malformed(bytes, `does not parse as an OCSP response (${(err as Error).message})`);
  }
  const leaf = parseCertificate(leafDer);
  const issuer = issuerDer ? parseCertificate(issuerDer) : null;
  const single: SingleResponse | undefined = basic.tbsResponseData.responses.find((r) => (issuer
    ? certIdMatches(r.certID, leaf, issuer)
    : Buffer.from(new Uint8Array(r.certID.serialNumber)).equals(Buffer.from(new Uint8Array(leaf.tbsCertificate.serialNumber)))));
  const signature = issuerDer ? signatureValid(basic, new X509Certificate(Buffer.from(issuerDer))) : null;
  if (!single) {
    return {
      bytes, status: 'wrong-certificate', signature, thisUpdate: null, nextUpdate: null,
      detail: 'the staple is about another certificate than the one the server presented',
    };
  }
  const s = single.certStatus;
  const status: StapleVerdict = s.revoked ? 'revoked' : s.unknown !== undefined ? 'unknown' : s.good !== undefined ? 'good' : 'malformed';
  return {
    bytes, status, signature, detail: '',
    thisUpdate: single.thisUpdate.getTime(),
    nextUpdate: single.nextUpdate ? single.nextUpdate.getTime() : null,
  };
}

/** What a client makes of the facts at `now`. */
export function judgeStaple(facts: StapleFacts, now: number = Date.now()): StapleCheck {
  const fail = (cls: (typeof OCSP_ERROR_CLASSES)[number], detail: string): StapleCheck => ({ ...facts, errorClass: cls, detail });
  if (facts.status === 'wrong-certificate') return fail('tls.ocsp.wrong-certificate', facts.detail);
  if (facts.status === 'malformed') return fail('tls.ocsp.malformed', facts.detail);
  if (facts.signature === false) return fail('tls.ocsp.bad-signature', 'the staple is not signed by the certificate\'s issuer nor by a responder it authorised');
  if (facts.status === 'revoked') return fail('tls.ocsp.revoked', 'the staple says the server certificate is revoked');
  if (facts.status === 'unknown') return fail('tls.ocsp.unknown', 'the responder does not know the server certificate');
  if (facts.thisUpdate !== null && facts.thisUpdate > now + CLOCK_SKEW_MS) return fail('tls.ocsp.stale', `the staple's thisUpdate ${new Date(facts.thisUpdate).toISOString()} is in the future`);
  if (facts.nextUpdate !== null && facts.nextUpdate < now) return fail('tls.ocsp.stale', `the staple expired at ${new Date(facts.nextUpdate).toISOString()} (nextUpdate)`);
  return { ...facts, errorClass: null };
}

/**
 * The wall-clock span (epoch ms) around `now` in which judgeStaple(facts, ·) gives the class it
 * gives at `now`: only freshness depends on the time. The native engine applies a verdict for that
 * long without asking again.
 */
export function verdictSpan(facts: StapleFacts, now: number = Date.now()): { from: number; until: number } {
  const always = { from: -Infinity, until: Infinity };
  if (facts.status === 'wrong-certificate' || facts.status === 'malformed' || facts.signature === false || facts.status === 'revoked' || facts.status === 'unknown') return always;
  // Not yet valid until thisUpdate − skew; then good until nextUpdate; stale after it.
  const validFrom = facts.thisUpdate === null ? -Infinity : facts.thisUpdate - CLOCK_SKEW_MS;
  const validUntil = facts.nextUpdate ?? Infinity;
  // The boundaries belong to the good span: a stale span stops (or starts) a microsecond short of them.
  if (now < validFrom) return { from: -Infinity, until: validFrom - 0.001 };
  if (now > validUntil) return { from: validUntil + 0.001, until: Infinity };
  return { from: validFrom, until: validUntil };
}

/** inspectStaple + judgeStaple: the one call an engine needs per stapled handshake. */
export function checkStaple(responseDer: Uint8Array, leafDer: Uint8Array, issuerDer: Uint8Array | null, now: number = Date.now()): StapleCheck {
  return judgeStaple(inspectStaple(responseDer, leafDer, issuerDer), now);
}

/**
 * checkStaple with a memory of the last response: a server staples the same bytes for hours, so a
 * worker parses and verifies each distinct response once and only re-judges its freshness.
 */
export class StapleChecker {
  private last: { response: Buffer; leaf: Buffer; issuer: Buffer | null; facts: StapleFacts } | null = null;

  check(responseDer: Buffer, leafDer: Buffer, issuerDer: Buffer | null, now: number = Date.now()): StapleCheck {
    const last = this.last;
    if (last && last.response.equals(responseDer) && last.leaf.equals(leafDer) && (last.issuer === issuerDer || (last.issuer !== null && issuerDer !== null && last.issuer.equals(issuerDer)))) {
      return judgeStaple(last.facts, now);
    }
    const facts = inspectStaple(responseDer, leafDer, issuerDer);
    this.last = { response: Buffer.from(responseDer), leaf: Buffer.from(leafDer), issuer: issuerDer && Buffer.from(issuerDer), facts };
    return judgeStaple(facts, now);
  }
}
