/**
 * How OCSP names a certificate (RFC 6960 CertID): hashes of its issuer's name and public key, and
 * its serial number. Built by the responder, matched by the client, from DER certificates.
 */
import { createHash } from 'node:crypto';
import { CertID } from '@peculiar/asn1-ocsp';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, Certificate } from '@peculiar/asn1-x509';

const HASH_OIDS: Readonly<Record<string, string>> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};
const SHA1 = '1.3.14.3.2.26';

export function parseCertificate(der: Uint8Array): Certificate {
  return AsnConvert.parse(der, Certificate);
}

/** The subjectPublicKey bits (without the unused-bits byte), as OCSP's issuerKeyHash hashes them. */
export function publicKeyBits(cert: Certificate): Uint8Array {
  return new Uint8Array(cert.tbsCertificate.subjectPublicKeyInfo.subjectPublicKey);
}

function digest(hash: string, data: Uint8Array | ArrayBuffer): Buffer {
  return createHash(hash).update(new Uint8Array(data)).digest();
}

/** SHA-1 of the key bits: how a responder names itself by key, and CertIDs name issuers. */
export function keyHash(cert: Certificate): Buffer {
  return digest('sha1', publicKeyBits(cert));
}

/** The CertID of `leaf` issued by `issuer`, with SHA-1 as every responder and OpenSSL default to. */
export function certIdOf(leaf: Certificate, issuer: Certificate): CertID {
  return new CertID({
    hashAlgorithm: new AlgorithmIdentifier({ algorithm: SHA1, parameters: null }),
    issuerNameHash: new OctetString(digest('sha1', AsnConvert.serialize(issuer.tbsCertificate.subject))),
    issuerKeyHash: new OctetString(keyHash(issuer)),
    serialNumber: leaf.tbsCertificate.serialNumber,
  });
}

const sameBytes = (a: ArrayBuffer | Uint8Array, b: ArrayBuffer | Uint8Array): boolean => Buffer.from(new Uint8Array(a)).equals(Buffer.from(new Uint8Array(b)));

/** Whether `id` names `leaf` as issued by `issuer` (in whatever hash the responder chose). */
export function certIdMatches(id: CertID, leaf: Certificate, issuer: Certificate): boolean {
  const hash = HASH_OIDS[id.hashAlgorithm.algorithm];
  if (!hash) return false;
  return sameBytes(id.serialNumber, leaf.tbsCertificate.serialNumber)
    && sameBytes(id.issuerNameHash.buffer, digest(hash, AsnConvert.serialize(leaf.tbsCertificate.issuer)))
    && sameBytes(id.issuerKeyHash.buffer, digest(hash, publicKeyBits(issuer)));
}
