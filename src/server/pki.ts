/**
 * Certificates for the built-in target, made in-process.
 *
 * Why in-process: the benchmark must work where no `openssl` binary exists, and the
 * certificate key type is one of the things being measured, so every type has to be
 * producible on demand. Generation uses @peculiar/x509 on Node's own WebCrypto;
 * validation of cached files uses only `crypto.X509Certificate`, so the common path
 * (a valid cache) never loads the x509 library at all.
 */
import { createHash, createPrivateKey, createPublicKey, randomBytes, webcrypto, X509Certificate } from 'node:crypto';
import type { KeyObject } from 'node:crypto';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
type Algorithm = webcrypto.Algorithm;
import { mkdir, readFile, rename, rm, stat, writeFile, chmod } from 'node:fs/promises';
import { isIP } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** The certificate key types the built-in PKI makes: the one list the CLI, validation and API types read. */
export const KEY_TYPES = Object.freeze(['rsa-2048', 'rsa-3072', 'rsa-4096', 'ecdsa-p256', 'ecdsa-p384', 'ed25519'] as const);
export type KeyType = (typeof KEY_TYPES)[number];

export function isKeyType(value: unknown): value is KeyType {
  return typeof value === 'string' && (KEY_TYPES as readonly string[]).includes(value);
}

/**
 * A CA, a server certificate, a client certificate and an OCSP responder certificate (the CA's
 * delegate for signing OCSP responses, so the CA's own key need not be kept), as PEM text and paths.
 */
export interface CertificateChain {
  keyType: KeyType;
  dir: string;
  caCertPath: string;
  serverCertPath: string;
  serverKeyPath: string;
  clientCertPath: string;
  clientKeyPath: string;
  ocspResponderCertPath: string;
  ocspResponderKeyPath: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** Null in a directory written by a tlsbench before OCSP stapling (see loadChain). */
  ocspResponderCert: string | null;
  ocspResponderKey: string | null;
}

/** Names the server certificate always covers, so loopback works with or without SNI. */
export const DEFAULT_SERVER_NAMES = ['localhost', '127.0.0.1', '::1'];

const DAY_MS = 24 * 60 * 60 * 1000;
const LEAF_VALIDITY_MS = 30 * DAY_MS;
const CA_VALIDITY_MS = 365 * DAY_MS;
/** Backdate notBefore so a client whose clock is slightly behind still accepts a fresh cert. */
const CLOCK_SKEW_MS = 5 * 60 * 1000;
/** A cached chain is replaced once any certificate in it is this close to expiry. */
const MIN_REMAINING_MS = DAY_MS;

const FILES = {
  caCert: 'ca.pem',
  serverCert: 'server.pem',
  serverKey: 'server.key',
  clientCert: 'client.pem',
  clientKey: 'client.key',
  ocspResponderCert: 'ocsp-responder.pem',
  ocspResponderKey: 'ocsp-responder.key',
} as const;

/** RFC 6960 §4.2.2.2: the EKU that lets a CA's delegate sign OCSP responses, and id-pkix-ocsp-nocheck. */
const OCSP_SIGNING_EKU = '1.3.6.1.5.5.7.3.9';
const OCSP_NOCHECK = '1.3.6.1.5.5.7.48.1.5';

type X509Module = typeof import('@peculiar/x509');
let x509Module: Promise<X509Module> | undefined;

/**
 * @peculiar/x509 v2 resolves its algorithm providers through tsyringe, which needs a
 * Reflect metadata polyfill loaded before it. Loading both lazily keeps the polyfill's
 * global side effect (and the library's load time) out of runs that reuse cached certs.
 */
function loadX509(): Promise<X509Module> {
  x509Module ??= (async () => {
    await import('reflect-metadata');
    const x509 = await import('@peculiar/x509');
    // Pin the provider to Node's WebCrypto rather than whatever globalThis.crypto is.
    x509.cryptoProvider.set(webcrypto as never);
    return x509;
  })();
  return x509Module;
}

// ---------------------------------------------------------------------------
// Algorithms

interface KeyAlgorithms {
  /** For generateKey and for importing a PKCS#8 private key. */
  key: webcrypto.RsaHashedKeyGenParams | webcrypto.EcKeyGenParams | Algorithm;
  /** What certificates issued by a key of this type are signed with. */
  signing: Algorithm | webcrypto.EcdsaParams | webcrypto.RsaHashedImportParams;
}

function algorithmsFor(keyType: KeyType): KeyAlgorithms {
  switch (keyType) {
    case 'rsa-2048':
    case 'rsa-3072':
    case 'rsa-4096': {
      const modulusLength = Number(keyType.slice(4));
      return {
        key: { name: 'RSASSA-PKCS1-v1_5', modulusLength, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
        signing: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
      };
    }
    case 'ecdsa-p256':
      return { key: { name: 'ECDSA', namedCurve: 'P-256' }, signing: { name: 'ECDSA', hash: 'SHA-256' } };
    case 'ecdsa-p384':
      // SHA-384 with P-384: matching hash strength is what CAs and TLS 1.3's
      // ecdsa_secp384r1_sha384 scheme expect.
      return { key: { name: 'ECDSA', namedCurve: 'P-384' }, signing: { name: 'ECDSA', hash: 'SHA-384' } };
    case 'ed25519':
      return { key: { name: 'Ed25519' }, signing: { name: 'Ed25519' } };
  }
}

/** The key type of a Node key object, or null for anything we do not generate. */
export function keyTypeOf(key: KeyObject): KeyType | null {
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'rsa': {
      const candidate = `rsa-${details.modulusLength ?? 0}`;
      return isKeyType(candidate) ? candidate : null;
    }
    case 'ec':
      if (details.namedCurve === 'prime256v1') return 'ecdsa-p256';
      if (details.namedCurve === 'secp384r1') return 'ecdsa-p384';
      return null;
    case 'ed25519':
      return 'ed25519';
    default:
      return null;
  }
}

// ---------------------------------------------------------------------------
// Issuing

/** A positive, non-zero 128-bit serial whose first byte keeps DER from padding or trimming it. */
function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x40;
  return bytes.toString('hex');
}

function generalNames(names: readonly string[]): { type: 'ip' | 'dns'; value: string }[] {
  const unique = [...new Set(names)];
  return unique.map((value) => (isIP(value) ? { type: 'ip', value } : { type: 'dns', value }));
}

function toPem(label: string, der: ArrayBuffer): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

async function generateKeyPair(keyType: KeyType): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(algorithmsFor(keyType).key, true, ['sign', 'verify'])) as CryptoKeyPair;
}

async function exportPrivateKeyPem(key: CryptoKey): Promise<string> {
  return toPem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', key));
}

/** A certificate plus the WebCrypto private key, so it can sign further certificates. */
interface Issued {
  cert: string;
  key: string;
  subject: string;
  signingKey: CryptoKey;
  keyType: KeyType;
}

type Usage = 'ca' | 'server' | 'client' | 'any-leaf' | 'ocsp-responder';

async function issue(params: {
  keyType: KeyType;
  commonName: string;
  names: readonly string[];
  usage: Usage;
  notBefore: Date;
  notAfter: Date;
  issuer: Issued | 'self';
}): Promise<Issued> {
  const x509 = await loadX509();
  const keys = await generateKeyPair(params.keyType);
  const subject = `CN=${params.commonName}, O=tlsbench`;
  const { KeyUsageFlags: KU, ExtendedKeyUsage: EKU } = x509;

  const extensions: InstanceType<X509Module['Extension']>[] = [];
  if (params.usage === 'ca') {
    extensions.push(new x509.BasicConstraintsExtension(true, 0, true));
    extensions.push(new x509.KeyUsagesExtension(KU.keyCertSign | KU.cRLSign | KU.digitalSignature, true));
  } else {
    extensions.push(new x509.BasicConstraintsExtension(false, undefined, true));
    // RSA key exchange (TLS 1.2 non-ECDHE suites) needs keyEncipherment; harmless otherwise.
    const rsa = params.keyType.startsWith('rsa');
    extensions.push(new x509.KeyUsagesExtension(KU.digitalSignature | (rsa ? KU.keyEncipherment : 0), true));
    const eku = params.usage === 'server' ? [EKU.serverAuth] : params.usage === 'client' ? [EKU.clientAuth]
      : params.usage === 'ocsp-responder' ? [OCSP_SIGNING_EKU] : [EKU.serverAuth, EKU.clientAuth];
    extensions.push(new x509.ExtendedKeyUsageExtension(eku, false));
    // A responder's own status is not asked of OCSP (its certificate lives as long as the leaves).
    if (params.usage === 'ocsp-responder') extensions.push(new x509.Extension(OCSP_NOCHECK, false, new Uint8Array([0x05, 0x00])));
  }
  if (params.names.length > 0) {
    extensions.push(new x509.SubjectAlternativeNameExtension(generalNames(params.names), false));
  }
  extensions.push(await x509.SubjectKeyIdentifierExtension.create(keys.publicKey));

  const signer = params.issuer === 'self' ? { key: keys.privateKey, subject, keyType: params.keyType } : {
    key: params.issuer.signingKey,
    subject: params.issuer.subject,
    keyType: params.issuer.keyType,
  };
  if (params.issuer !== 'self') {
    extensions.push(await x509.AuthorityKeyIdentifierExtension.create(new x509.X509Certificate(params.issuer.cert)));
  }

  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject,
    issuer: signer.subject,
    notBefore: params.notBefore,
    notAfter: params.notAfter,
    publicKey: keys.publicKey,
    signingKey: signer.key,
    signingAlgorithm: algorithmsFor(signer.keyType).signing,
    extensions,
  });

  return {
    cert: toPem('CERTIFICATE', cert.rawData),
    key: await exportPrivateKeyPem(keys.privateKey),
    subject,
    signingKey: keys.privateKey,
    keyType: params.keyType,
  };
}

/** Turn an issuer given as PEM text into something `issue` can sign with. */
async function importIssuer(issuer: { cert: string; key: string }): Promise<Issued> {
  const x509 = await loadX509();
  const keyObject = createPrivateKey(issuer.key);
  const keyType = keyTypeOf(keyObject);
  if (!keyType) throw new Error(`issuer key type ${keyObject.asymmetricKeyType ?? '?'} is not one of ${KEY_TYPES.join(', ')}`);
  const der = keyObject.export({ format: 'der', type: 'pkcs8' });
  const signingKey = await webcrypto.subtle.importKey('pkcs8', der, algorithmsFor(keyType).key, false, ['sign']);
  return { cert: issuer.cert, key: issuer.key, subject: new x509.X509Certificate(issuer.cert).subject, signingKey, keyType };
}

/**
 * Issue one certificate, for test fixtures that play a misconfigured or hostile server:
 * an expired certificate, one for another name, a self-signed one. Self-signed when no
 * issuer is given. A leaf is valid for both serverAuth and clientAuth.
 */
export async function issueCertificate(opts: {
  keyType: KeyType;
  commonName: string;
  names: string[];
  notBefore?: Date;
  notAfter?: Date;
  issuer?: { cert: string; key: string } | 'self';
  /** Make it a CA (for fixtures that need to issue further certificates). Default false. */
  ca?: boolean;
}): Promise<{ cert: string; key: string }> {
  const now = Date.now();
  const issuer = opts.issuer === undefined || opts.issuer === 'self' ? 'self' : await importIssuer(opts.issuer);
  const issued = await issue({
    keyType: opts.keyType,
    commonName: opts.commonName,
    names: opts.names,
    usage: opts.ca ? 'ca' : 'any-leaf',
    notBefore: opts.notBefore ?? new Date(now - CLOCK_SKEW_MS),
    notAfter: opts.notAfter ?? new Date(now + LEAF_VALIDITY_MS),
    issuer,
  });
  return { cert: issued.cert, key: issued.key };
}

// ---------------------------------------------------------------------------
// Files

function chainPaths(dir: string) {
  return {
    caCertPath: join(dir, FILES.caCert),
    serverCertPath: join(dir, FILES.serverCert),
    serverKeyPath: join(dir, FILES.serverKey),
    clientCertPath: join(dir, FILES.clientCert),
    clientKeyPath: join(dir, FILES.clientKey),
    ocspResponderCertPath: join(dir, FILES.ocspResponderCert),
    ocspResponderKeyPath: join(dir, FILES.ocspResponderKey),
  };
}

/**
 * Write via a temporary file and rename, so a reader (or a second process generating at
 * the same time) sees either the old file or the complete new one, never half of one.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode: number): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, data, { mode, flag: 'wx' });
    await chmod(tmp, mode); // the umask may have narrowed or (for 0644) kept what we asked; be exact
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/**
 * Generate a fresh CA, server and client certificate of one key type into `dir`. `withCa` runs
 * once the chain is written, with the CA's key in memory (it is never written): what must be signed
 * by the CA itself beyond the chain (revoked certificates, a CRL) is made there.
 */
export async function generateChain(opts: {
  keyType: KeyType;
  dir: string;
  hosts?: string[];
  withCa?: (ca: { cert: string; key: string }, chain: CertificateChain) => Promise<void>;
}): Promise<CertificateChain> {
  const { keyType, dir } = opts;
  const now = Date.now();
  const notBefore = new Date(now - CLOCK_SKEW_MS);
  const leafNotAfter = new Date(now + LEAF_VALIDITY_MS);

  const ca = await issue({
    keyType,
    commonName: `tlsbench CA (${keyType})`,
    names: [],
    usage: 'ca',
    notBefore,
    notAfter: new Date(now + CA_VALIDITY_MS),
    issuer: 'self',
  });
  const [server, client, ocspResponder] = await Promise.all([
    issue({
      keyType,
      commonName: 'localhost',
      names: [...DEFAULT_SERVER_NAMES, ...(opts.hosts ?? [])],
      usage: 'server',
      notBefore,
      notAfter: leafNotAfter,
      issuer: ca,
    }),
    issue({ keyType, commonName: 'tlsbench-client', names: [], usage: 'client', notBefore, notAfter: leafNotAfter, issuer: ca }),
    issue({ keyType, commonName: `tlsbench OCSP responder (${keyType})`, names: [], usage: 'ocsp-responder', notBefore, notAfter: leafNotAfter, issuer: ca }),
  ]);

  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (process.platform !== 'win32') await chmod(dir, 0o700);
  const paths = chainPaths(dir);
  // Keys first and certificates last, so a concurrent validity check that finds the new
  // server certificate also finds the key that matches it (checked by loadChain anyway).
  await writeFileAtomic(paths.serverKeyPath, server.key, 0o600);
  await writeFileAtomic(paths.clientKeyPath, client.key, 0o600);
  await writeFileAtomic(paths.ocspResponderKeyPath, ocspResponder.key, 0o600);
  await writeFileAtomic(paths.ocspResponderCertPath, ocspResponder.cert, 0o644);
  await writeFileAtomic(paths.caCertPath, ca.cert, 0o644);
  await writeFileAtomic(paths.clientCertPath, client.cert, 0o644);
  await writeFileAtomic(paths.serverCertPath, server.cert, 0o644);
  // The CA private key is deliberately not kept: what needs it is done now (withCa); OCSP
  // responses are signed by the responder it delegated to; a key that is not on disk cannot leak.
  const chain: CertificateChain = {
    keyType,
    dir,
    ...paths,
    caCert: ca.cert,
    serverCert: server.cert,
    serverKey: server.key,
    clientCert: client.cert,
    clientKey: client.key,
    ocspResponderCert: ocspResponder.cert,
    ocspResponderKey: ocspResponder.key,
  };
  if (opts.withCa) await opts.withCa({ cert: ca.cert, key: ca.key }, chain);
  return chain;
}

/**
 * Read a chain from `dir` and check it is usable: files present, private keys not
 * readable by others, every certificate valid for at least another day, the leaves
 * issued by the CA, the keys matching their certificates, the key type as asked, and the
 * server certificate covering every host. Throws with the reason when it is not.
 */
export async function loadChain(
  dir: string,
  opts: { keyType?: KeyType; hosts?: string[]; requireOcspResponder?: boolean } = {},
): Promise<CertificateChain> {
  const paths = chainPaths(dir);
  const [caCert, serverCert, serverKey, clientCert, clientKey] = await Promise.all(
    [paths.caCertPath, paths.serverCertPath, paths.serverKeyPath, paths.clientCertPath, paths.clientKeyPath].map((p) =>
      readFile(p, 'utf8'),
    ),
  );
  // A directory the user named may come from a tlsbench before OCSP stapling: it stays usable
  // (without staples) rather than being replaced by a new CA its clients do not trust. The cache
  // requires the responder, so an old cache entry is regenerated once.
  const optional = (p: string) => (opts.requireOcspResponder ?? true ? readFile(p, 'utf8') : readFile(p, 'utf8').catch(() => null));
  const [ocspResponderCert, ocspResponderKey] = await Promise.all([optional(paths.ocspResponderCertPath), optional(paths.ocspResponderKeyPath)]);
  const hasResponder = ocspResponderCert !== null && ocspResponderKey !== null;
  if (process.platform !== 'win32') {
    for (const keyPath of [paths.serverKeyPath, paths.clientKeyPath, ...(hasResponder ? [paths.ocspResponderKeyPath] : [])]) {
      const mode = (await stat(keyPath)).mode & 0o777;
      if ((mode & 0o077) !== 0) throw new Error(`${keyPath} has mode ${mode.toString(8)}; expected 600`);
    }
  }

  const ca = new X509Certificate(caCert!);
  const server = new X509Certificate(serverCert!);
  const client = new X509Certificate(clientCert!);
  const responder = hasResponder ? new X509Certificate(ocspResponderCert) : null;
  const certs = [['CA', ca], ['server', server], ['client', client], ...(responder ? [['OCSP responder', responder] as const] : [])] as const;
  const freshUntil = Date.now() + MIN_REMAINING_MS;
  for (const [name, cert] of certs) {
    if (Date.parse(cert.validTo) < freshUntil) throw new Error(`${name} certificate expires ${cert.validTo}`);
    if (Date.parse(cert.validFrom) > Date.now() + CLOCK_SKEW_MS) throw new Error(`${name} certificate not valid before ${cert.validFrom}`);
  }
  for (const [name, cert] of certs.slice(1)) {
    if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) throw new Error(`${name} certificate is not issued by ca.pem`);
  }
  if (!server.checkPrivateKey(createPrivateKey(serverKey!))) throw new Error('server.key does not match server.pem');
  if (!client.checkPrivateKey(createPrivateKey(clientKey!))) throw new Error('client.key does not match client.pem');
  if (responder && !responder.checkPrivateKey(createPrivateKey(ocspResponderKey!))) throw new Error('ocsp-responder.key does not match ocsp-responder.pem');

  const keyType = keyTypeOf(createPublicKey(server.publicKey.export({ format: 'pem', type: 'spki' })));
  if (!keyType) throw new Error('server certificate key type is not one tlsbench generates');
  if (opts.keyType && keyType !== opts.keyType) throw new Error(`chain key type is ${keyType}, not ${opts.keyType}`);
  for (const host of [...DEFAULT_SERVER_NAMES, ...(opts.hosts ?? [])]) {
    const covered = isIP(host) ? server.checkIP(host) : server.checkHost(host);
    if (!covered) throw new Error(`server certificate does not cover ${host}`);
  }

  return {
    keyType,
    dir,
    ...paths,
    caCert: caCert!,
    serverCert: serverCert!,
    serverKey: serverKey!,
    clientCert: clientCert!,
    clientKey: clientKey!,
    ocspResponderCert: hasResponder ? ocspResponderCert : null,
    ocspResponderKey: hasResponder ? ocspResponderKey : null,
  };
}

/** `$TLSBENCH_CACHE_DIR`, else `$XDG_CACHE_HOME/tlsbench/certs`, else `~/.cache/tlsbench/certs`. */
export function defaultCertCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TLSBENCH_CACHE_DIR) return env.TLSBENCH_CACHE_DIR;
  const base = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'tlsbench', 'certs');
}

/** One cache entry per key type and set of extra hosts: `ecdsa-p256`, `rsa-4096-1a2b3c4d5e6f`. */
function cacheEntryName(keyType: KeyType, hosts: readonly string[]): string {
  const extra = [...new Set(hosts)].filter((h) => !DEFAULT_SERVER_NAMES.includes(h)).sort();
  if (extra.length === 0) return keyType;
  return `${keyType}-${createHash('sha256').update(extra.join('\n')).digest('hex').slice(0, 12)}`;
}

/**
 * The chain for a key type, from the on-disk cache while it is still valid, generated
 * otherwise, so an RSA-4096 run does not pay seconds of key generation every time.
 *
 * `dir` names the exact directory to use instead of a cache entry (serve --cert-dir).
 *
 * Concurrency: a new chain is generated into a private temporary directory and renamed
 * into place as a whole, so two processes racing never mix one's CA with the other's
 * server certificate; the loser adopts the winner's chain.
 */
export async function ensureChain(opts: {
  keyType: KeyType;
  hosts?: string[];
  cacheDir?: string;
  dir?: string;
}): Promise<CertificateChain> {
  const hosts = opts.hosts ?? [];
  let dir: string;
  if (opts.dir) {
    dir = opts.dir;
  } else {
    const cacheDir = opts.cacheDir ?? defaultCertCacheDir();
    await mkdir(cacheDir, { recursive: true, mode: 0o700 });
    dir = join(cacheDir, cacheEntryName(opts.keyType, hosts));
  }

  try {
    return await loadChain(dir, { keyType: opts.keyType, hosts, requireOcspResponder: !opts.dir });
  } catch {
    // Missing, stale or damaged: generate below.
  }

  if (opts.dir) {
    // A directory the user named may hold other files: never move or delete it. Files are
    // still replaced one by one atomically, and loadChain rejects a mixed set.
    await generateChain({ keyType: opts.keyType, dir, hosts });
    return loadChain(dir, { keyType: opts.keyType, hosts });
  }

  const tmpDir = `${dir}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await generateChain({ keyType: opts.keyType, dir: tmpDir, hosts });
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        await rename(tmpDir, dir);
        return await loadChain(dir, { keyType: opts.keyType, hosts });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'EPERM') throw err;
      }
      // Something is in the way: a chain another process just finished (use it), or the
      // stale one we rejected (move it aside in one rename, then retry ours).
      try {
        return await loadChain(dir, { keyType: opts.keyType, hosts });
      } catch {
        const trash = `${dir}.${process.pid}.${randomBytes(4).toString('hex')}.old`;
        await rename(dir, trash).catch(() => undefined);
        await rm(trash, { recursive: true, force: true });
      }
    }
    throw new Error(`could not install a certificate chain in ${dir}`);
  } finally {
    await rm(tmpDir, { recursive: true, force: true });
  }
}
