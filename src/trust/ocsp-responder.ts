/**
 * OCSP responses as a CA's responder signs them (RFC 6960), built with @peculiar/asn1-ocsp: what the
 * built-in server staples and what `tlsbench certs --ocsp` writes for nginx's ssl_stapling_file.
 */
import { createPrivateKey } from 'node:crypto';
import {
  BasicOCSPResponse, CertStatus, id_pkix_ocsp_basic, OCSPResponse, OCSPResponseStatus, ResponderID, ResponseBytes,
  ResponseData, RevokedInfo, SingleResponse,
} from '@peculiar/asn1-ocsp';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { CRLReason, CRLReasons } from '@peculiar/asn1-x509';
import { certIdOf, keyHash, parseCertificate } from './cert-id.js';
import { signDer, signingAlgorithmFor } from './signature.js';

export const STAPLE_STATUSES = ['good', 'revoked', 'unknown'] as const;
export type StapleStatus = (typeof STAPLE_STATUSES)[number];

const DAY_MS = 24 * 60 * 60 * 1000;
/** How long a response is valid: a week, as public CAs' responders sign them. */
export const OCSP_VALIDITY_MS = 7 * DAY_MS;

function der(pem: string): Buffer {
  const match = /-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/.exec(pem);
  if (!match) throw new Error('no PEM certificate');
  return Buffer.from(match[1]!.replace(/\s+/g, ''), 'base64');
}

export interface OcspResponseSpec {
  /** The certificate the response is about (PEM). */
  cert: string;
  /** Its issuer (PEM). */
  issuer: string;
  /** Who signs: the issuer itself, or a responder certificate it issued for OCSP signing (PEM). */
  responder: { cert: string; key: string };
  status: StapleStatus;
  thisUpdate?: Date;
  nextUpdate?: Date;
  /** When status is revoked. Default: thisUpdate. */
  revokedAt?: Date;
}

/** A complete DER OCSPResponse (status successful, a basic response for one certificate). */
export function buildOcspResponse(spec: OcspResponseSpec): Buffer {
  const leaf = parseCertificate(der(spec.cert));
  const issuer = parseCertificate(der(spec.issuer));
  const responderDer = der(spec.responder.cert);
  const responder = parseCertificate(responderDer);
  const thisUpdate = spec.thisUpdate ?? new Date();
  const nextUpdate = spec.nextUpdate ?? new Date(thisUpdate.getTime() + OCSP_VALIDITY_MS);
  const certStatus = spec.status === 'good' ? new CertStatus({ good: null })
    : spec.status === 'unknown' ? new CertStatus({ unknown: null })
      : new CertStatus({ revoked: new RevokedInfo({ revocationTime: spec.revokedAt ?? thisUpdate, revocationReason: new CRLReason(CRLReasons.keyCompromise) }) });
  const data = new ResponseData({
    responderID: new ResponderID({ byKey: new OctetString(keyHash(responder)) }),
    producedAt: thisUpdate,
    responses: [new SingleResponse({ certID: certIdOf(leaf, issuer), certStatus, thisUpdate, nextUpdate })],
  });
  const key = createPrivateKey(spec.responder.key);
  const signatureAlgorithm = signingAlgorithmFor(key);
  const basic = new BasicOCSPResponse({
    tbsResponseData: data,
    signatureAlgorithm,
    signature: new Uint8Array(signDer(AsnConvert.serialize(data), key, signatureAlgorithm)).slice().buffer,
  });
  // A delegated responder sends its certificate, so clients can check the CA authorised it.
  const delegated = !Buffer.from(keyHash(responder)).equals(keyHash(issuer));
  if (delegated) basic.certs = [responder];
  return Buffer.from(AsnConvert.serialize(new OCSPResponse({
    responseStatus: OCSPResponseStatus.successful,
    responseBytes: new ResponseBytes({ responseType: id_pkix_ocsp_basic, response: new OctetString(AsnConvert.serialize(basic)) }),
  })));
}
