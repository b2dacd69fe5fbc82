// Throwaway PKI made with the openssl CLI, for tests that run external servers
// (openssl s_server, nginx). Independent on purpose of the in-process PKI in
// src/server/pki.ts, so the two can check each other.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A random positive 64-bit serial, so parallel signings never share one. */
function randomSerial(): string {
  const b = randomBytes(8);
  b[0] = (b[0]! & 0x7f) | 0x01;
  return `0x${b.toString('hex')}`;
}

export type CertKeyType = 'ec-p256' | 'ec-p384' | 'rsa-2048' | 'ed25519';

export interface TestCerts {
  /** The temp dir holding every file below. */
  dir: string;
  keyType: CertKeyType;
  caCertPath: string;
  caKeyPath: string;
  /** Server leaf: CN=localhost, SAN DNS:localhost, IP:127.0.0.1, IP:::1, EKU serverAuth. */
  certPath: string;
  keyPath: string;
  /** Server leaf followed by the CA certificate. */
  chainPath: string;
  /** Client leaf: CN=tlsbench-client, EKU clientAuth. */
  clientCertPath: string;
  clientKeyPath: string;
  /** PEM contents, read back for convenience (tls.connect({ ca, cert, key })). */
  pem: { ca: string; cert: string; key: string; clientCert: string; clientKey: string };
  /** Removes the temp dir. */
  cleanup(): Promise<void>;
}

function keyArgs(type: CertKeyType): string[] {
  switch (type) {
    case 'ec-p256':
      return ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'];
    case 'ec-p384':
      return ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384'];
    case 'rsa-2048':
      return ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'];
    case 'ed25519':
      return ['-algorithm', 'ED25519'];
  }
}

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await run('openssl', args, { cwd });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`openssl ${args.join(' ')} failed: ${e.stderr ?? e.message}`);
  }
}

/**
 * Creates a CA, a server certificate for localhost / 127.0.0.1 / ::1 and a client
 * certificate, all signed by the CA, in a fresh temp dir. Keys are `keyType`
 * (default ECDSA P-256) and unencrypted. Valid from now for `days` (default 2).
 */
export async function createTestCerts(
  opts: { keyType?: CertKeyType; days?: number; dir?: string } = {},
): Promise<TestCerts> {
  const keyType = opts.keyType ?? 'ec-p256';
  const days = String(opts.days ?? 2);
  const dir = opts.dir ?? (await mkdtemp(path.join(tmpdir(), 'tlsbench-certs-')));
  const p = (f: string): string => path.join(dir, f);
  const md = keyType === 'ed25519' ? [] : ['-sha256'];

  await writeFile(
    p('ca.ext'),
    [
      'basicConstraints=critical,CA:TRUE',
      'keyUsage=critical,keyCertSign,cRLSign',
      'subjectKeyIdentifier=hash',
      '',
    ].join('\n'),
  );
  const leafKeyUsage =
    keyType === 'rsa-2048' ? 'critical,digitalSignature,keyEncipherment' : 'critical,digitalSignature';
  await writeFile(
    p('server.ext'),
    [
      'basicConstraints=critical,CA:FALSE',
      `keyUsage=${leafKeyUsage}`,
      'extendedKeyUsage=serverAuth',
      'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1',
      'subjectKeyIdentifier=hash',
      'authorityKeyIdentifier=keyid',
      '',
    ].join('\n'),
  );
  await writeFile(
    p('client.ext'),
    [
      'basicConstraints=critical,CA:FALSE',
      `keyUsage=${leafKeyUsage}`,
      'extendedKeyUsage=clientAuth',
      'subjectKeyIdentifier=hash',
      'authorityKeyIdentifier=keyid',
      '',
    ].join('\n'),
  );

  // Keys, in parallel (RSA generation is the slow part).
  await Promise.all(
    ['ca', 'server', 'client'].map((n) => openssl(['genpkey', ...keyArgs(keyType), '-out', `${n}.key`], dir)),
  );

  // CA: self-signed. `req -x509` in OpenSSL 3.0 adds its own default extensions unless
  // told otherwise, so sign a CSR with x509 -req and our extension file instead.
  await openssl(['req', '-new', '-key', 'ca.key', '-subj', '/CN=tlsbench test CA', '-out', 'ca.csr'], dir);
  await openssl(
    ['x509', '-req', '-in', 'ca.csr', '-signkey', 'ca.key', '-set_serial', randomSerial(), '-days', days, ...md, '-extfile', 'ca.ext', '-out', 'ca.crt'],
    dir,
  );
  await Promise.all(
    (
      [
        ['server', '/CN=localhost'],
        ['client', '/CN=tlsbench-client'],
      ] as const
    ).map(async ([n, subj]) => {
      await openssl(['req', '-new', '-key', `${n}.key`, '-subj', subj, '-out', `${n}.csr`], dir);
      await openssl(
        [
          'x509', '-req', '-in', `${n}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-set_serial', randomSerial(),
          '-days', days, ...md, '-extfile', `${n}.ext`, '-out', `${n}.crt`,
        ],
        dir,
      );
    }),
  );

  const [ca, cert, key, clientCert, clientKey] = await Promise.all(
    ['ca.crt', 'server.crt', 'server.key', 'client.crt', 'client.key'].map((f) => readFile(p(f), 'utf8')),
  ) as [string, string, string, string, string];
  await writeFile(p('server-chain.crt'), cert + ca);

  return {
    dir,
    keyType,
    caCertPath: p('ca.crt'),
    caKeyPath: p('ca.key'),
    certPath: p('server.crt'),
    keyPath: p('server.key'),
    chainPath: p('server-chain.crt'),
    clientCertPath: p('client.crt'),
    clientKeyPath: p('client.key'),
    pem: { ca, cert, key, clientCert, clientKey },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
