/**
 * Certificate revocation lists (RFC 5280 §5), engine-neutral: built by `tlsbench certs --revoke`, and
 * checked once before a run (`--crl FILE`: parses, is fresh, is signed by a CA the run trusts), so a
 * stale or foreign CRL is a clear exit 2 rather than every handshake failing with CRL_HAS_EXPIRED or
 * UNABLE_TO_GET_CRL. The per-handshake check is OpenSSL's (Node: SecureContext `crl`; a native
 * engine: X509_STORE_add_crl with X509_V_FLAG_CRL_CHECK).
 *
 * Built with @peculiar/asn1-x509 directly rather than @peculiar/x509's X509CrlGenerator, which checks
 * each new entry against all earlier ones: quadratic, minutes for the 100 000-entry CRLs that measure
 * what CRL size costs.
 */
import { createPrivateKey, randomBytes, X509Certificate } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  Certificate, CertificateList, CRLNumber, Extension, id_ce_cRLNumber, RevokedCertificate, TBSCertList, Time, Version,
} from '@peculiar/asn1-x509';
import { signDer, signingAlgorithmFor, verifyDer } from './signature.js';

const DAY_MS = 24 * 60 * 60 * 1000;
/** A CRL's validity, as CAs publish them: a week. */
export const CRL_VALIDITY_MS = 7 * DAY_MS;

function pemBlocks(pem: string, label: string): Buffer[] {
  const re = new RegExp(`-----BEGIN ${label}-----([\\s\\S]+?)-----END ${label}-----`, 'g');
  return [...pem.matchAll(re)].map((m) => Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64'));
}

function toPem(label: string, der: ArrayBuffer | Uint8Array): string {
  const lines = Buffer.from(new Uint8Array(der)).toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** A certificate's serial as the INTEGER content bytes a CRL entry holds. */
export function serialOf(certPem: string): Uint8Array {
  const der = pemBlocks(certPem, 'CERTIFICATE')[0];
  if (!der) throw new Error('no PEM certificate');
  return new Uint8Array(AsnConvert.parse(der, Certificate).tbsCertificate.serialNumber);
}

export interface CrlSpec {
  issuer: { cert: string; key: string };
  /** Serials (INTEGER content bytes) of the revoked certificates. */
  revoked: Uint8Array[];
  /** Random serials added as further entries, to make a CRL of a given size (a CA's real CRL is long). */
  padding?: number;
  thisUpdate?: Date;
  nextUpdate?: Date;
  number?: number;
}

/** A PEM X509 CRL signed by the issuer. */
export function buildCrl(spec: CrlSpec): string {
  const issuer = AsnConvert.parse(pemBlocks(spec.issuer.cert, 'CERTIFICATE')[0]!, Certificate);
  const key = createPrivateKey(spec.issuer.key);
  const thisUpdate = spec.thisUpdate ?? new Date();
  const nextUpdate = spec.nextUpdate ?? new Date(thisUpdate.getTime() + CRL_VALIDITY_MS);
  const entry = (serial: Uint8Array) => new RevokedCertificate({ userCertificate: new Uint8Array(serial).slice().buffer, revocationDate: new Time(thisUpdate) });
  const entries = spec.revoked.map(entry);
  for (let i = 0; i < (spec.padding ?? 0); i++) {
    const serial = randomBytes(16);
    serial[0] = (serial[0]! & 0x7f) | 0x40;
    entries.push(entry(serial));
  }
  const signature = signingAlgorithmFor(key);
  const tbs = new TBSCertList({
    version: Version.v2,
    signature,
    issuer: issuer.tbsCertificate.subject,
    thisUpdate: new Time(thisUpdate),
    nextUpdate: new Time(nextUpdate),
    crlExtensions: [new Extension({ extnID: id_ce_cRLNumber, critical: false, extnValue: new OctetString(AsnConvert.serialize(new CRLNumber(spec.number ?? 1))) })],
  });
  if (entries.length) tbs.revokedCertificates = entries;
  const list = new CertificateList({
    tbsCertList: tbs,
    signatureAlgorithm: signature,
    signature: new Uint8Array(signDer(AsnConvert.serialize(tbs), key, signature)).slice().buffer,
  });
  return toPem('X509 CRL', AsnConvert.serialize(list));
}

/** What a CRL file holds, as `--crl` reports it. */
export interface CrlFacts {
  entries: number;
  thisUpdate: Date;
  nextUpdate: Date | null;
  bytes: number;
  /** The CRL in PEM, as Node's SecureContext `crl` takes it. */
  pem: string;
}

/**
 * Checks a CRL (PEM or DER) before any handshake: it parses, it is in force at `now`, and when CAs
 * are given, one of them signed it. Throws an Error whose message says what is wrong and what to do.
 */
export function checkCrl(data: Buffer, option: string, file: string, trustedPem: string | undefined, now: number = Date.now()): CrlFacts {
  const text = data.toString('latin1');
  const ders = text.includes('-----BEGIN X509 CRL-----') ? pemBlocks(text, 'X509 CRL') : [data];
  if (ders.length === 0) throw new Error(`${option} '${file}' holds no CRL (-----BEGIN X509 CRL-----): give a CRL in PEM or DER form`);
  if (ders.length > 1) throw new Error(`${option} '${file}' holds ${ders.length} CRLs: give one CRL per file`);
  let list: CertificateList;
  try {
    // A CA's CRL has a few nodes per entry: asn1js's default cap (10 000 nodes) would refuse any
    // CRL past ~2 000 entries. The file is the user's own, so bound it by its size instead.
    const size = ders[0]!.length;
    list = AsnConvert.parse(ders[0]!, CertificateList, { berOptions: { maxNodes: size, maxContentLength: size } });
  } catch (err) {
    throw new Error(`${option} '${file}' does not parse as a CRL (${(err as Error).message}): give a CRL in PEM or DER form`);
  }
  const tbs = list.tbsCertList;
  const issuerDer = Buffer.from(AsnConvert.serialize(tbs.issuer));
  const thisUpdate = tbs.thisUpdate.getTime();
  const nextUpdate = tbs.nextUpdate ? tbs.nextUpdate.getTime() : null;
  const cas = trustedPem ? pemBlocks(trustedPem, 'CERTIFICATE').map((der) => new X509Certificate(der)) : [];
  if (cas.length) {
    const tbsDer = list.tbsCertListRaw ?? AsnConvert.serialize(tbs);
    const signer = cas.find((ca) => Buffer.from(AsnConvert.serialize(AsnConvert.parse(ca.raw, Certificate).tbsCertificate.subject)).equals(issuerDer)
      && verifyDer(tbsDer, list.signature, ca.publicKey, list.signatureAlgorithm) === true);
    if (!signer) {
      throw new Error(`${option} '${file}' is not signed by any CA in the trusted certificates (${cas.map((c) => c.subject.replace(/\n/g, ', ')).join('; ')}): give the CRL of the CA that issued the certificates to check`);
    }
  }
  if (thisUpdate.getTime() > now + 5 * 60 * 1000) throw new Error(`${option} '${file}' is not valid yet (thisUpdate ${thisUpdate.toISOString()}): check this machine's clock`);
  if (nextUpdate && nextUpdate.getTime() < now) {
    throw new Error(`${option} '${file}' is stale: its nextUpdate ${nextUpdate.toISOString()} has passed, so OpenSSL would fail every handshake (CRL_HAS_EXPIRED); fetch a current CRL from the CA`);
  }
  return {
    entries: tbs.revokedCertificates?.length ?? 0,
    thisUpdate,
    nextUpdate,
    bytes: ders[0]!.length,
    pem: toPem('X509 CRL', ders[0]!),
  };
}
