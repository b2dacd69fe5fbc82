/**
 * Signatures of OCSP responses and CRLs, with Node's crypto on DER bytes: the algorithm an ASN.1
 * AlgorithmIdentifier names, the one a key of ours signs with, and verification. One table, so the
 * responder that signs and the client that checks agree on every algorithm.
 */
import { sign, verify, type KeyObject } from 'node:crypto';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';

interface SignatureAlgorithm {
  oid: string;
  /** Digest for node:crypto sign/verify; null for EdDSA, which hashes by itself. */
  hash: string | null;
  /** RSA PKCS #1 v1.5 identifiers carry an explicit NULL parameter (RFC 4055); ECDSA and EdDSA none. */
  nullParameters: boolean;
}

const ALGORITHMS: readonly SignatureAlgorithm[] = [
  { oid: '1.2.840.10045.4.3.2', hash: 'sha256', nullParameters: false }, // ecdsa-with-SHA256
  { oid: '1.2.840.10045.4.3.3', hash: 'sha384', nullParameters: false }, // ecdsa-with-SHA384
  { oid: '1.2.840.10045.4.3.4', hash: 'sha512', nullParameters: false }, // ecdsa-with-SHA512
  { oid: '1.2.840.10045.4.1', hash: 'sha1', nullParameters: false }, // ecdsa-with-SHA1
  { oid: '1.2.840.113549.1.1.11', hash: 'sha256', nullParameters: true }, // sha256WithRSAEncryption
  { oid: '1.2.840.113549.1.1.12', hash: 'sha384', nullParameters: true },
  { oid: '1.2.840.113549.1.1.13', hash: 'sha512', nullParameters: true },
  { oid: '1.2.840.113549.1.1.5', hash: 'sha1', nullParameters: true }, // sha1WithRSAEncryption (old responders)
  { oid: '1.3.101.112', hash: null, nullParameters: false }, // Ed25519
];

const DER_NULL = new Uint8Array([0x05, 0x00]).buffer;

/** The algorithm a private key of ours signs with: SHA-384 for P-384, as CAs pair them. */
export function signingAlgorithmFor(key: KeyObject): AlgorithmIdentifier {
  const type = key.asymmetricKeyType;
  let oid: string;
  if (type === 'ec') oid = key.asymmetricKeyDetails?.namedCurve === 'secp384r1' ? '1.2.840.10045.4.3.3' : '1.2.840.10045.4.3.2';
  else if (type === 'rsa') oid = '1.2.840.113549.1.1.11';
  else if (type === 'ed25519') oid = '1.3.101.112';
  else throw new Error(`cannot sign with a ${type ?? 'unknown'} key`);
  const algorithm = ALGORITHMS.find((a) => a.oid === oid)!;
  return new AlgorithmIdentifier(algorithm.nullParameters ? { algorithm: oid, parameters: DER_NULL } : { algorithm: oid });
}

export function signDer(data: ArrayBuffer | Uint8Array, key: KeyObject, algorithm: AlgorithmIdentifier): Buffer {
  const known = ALGORITHMS.find((a) => a.oid === algorithm.algorithm);
  if (!known) throw new Error(`no signing algorithm ${algorithm.algorithm}`);
  return sign(known.hash, new Uint8Array(data), { key, dsaEncoding: 'der' });
}

/**
 * Whether `signature` over `data` verifies with `publicKey` under `algorithm`; null when the
 * algorithm is one this table does not know (RSA-PSS, …): not checked, rather than failed.
 */
export function verifyDer(data: ArrayBuffer | Uint8Array, signature: ArrayBuffer | Uint8Array, publicKey: KeyObject, algorithm: AlgorithmIdentifier): boolean | null {
  const known = ALGORITHMS.find((a) => a.oid === algorithm.algorithm);
  if (!known) return null;
  try {
    return verify(known.hash, new Uint8Array(data), { key: publicKey, dsaEncoding: 'der' }, new Uint8Array(signature));
  } catch {
    // A key of another type than the algorithm names (an RSA signature checked with an EC key).
    return false;
  }
}

