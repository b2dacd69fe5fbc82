/**
 * `tlsbench certs`: write a CA, server and client certificate of one key type, e.g. to
 * configure another server (nginx, haproxy) with the same certificates the built-in
 * target uses.
 */
import { isIP } from 'node:net';
import type { CommandModule } from 'yargs';
import { checkOutputDir } from '../config/output-path.js';
import { isHostName } from '../config/target.js';
import { UsageError } from '../config/usage-error.js';
import { generateChain, isKeyType, KEY_TYPES, type KeyType } from '../server/pki.js';
import { RESERVED_NAMES, REVOKE_NAME, writeRevocationFiles, type RevocationFiles } from '../server/revocation-files.js';

/** A CRL of a million entries is ~40 MB: past any real CA's, and minutes to sign and parse. */
const MAX_CRL_ENTRIES = 1_000_000;

interface CertsArgs {
  out: string;
  keyType: string;
  host?: string[];
  revoke?: string[];
  crlEntries?: number[];
  ocsp?: boolean;
}

export const certsCommand: CommandModule<object, CertsArgs> = {
  command: 'certs',
  describe: 'Generate a CA, server and client certificate into a directory',
  builder: (y) =>
    y
      .option('out', { type: 'string', demandOption: true, describe: 'Directory to write to (created with mode 0700)' })
      .option('key-type', { type: 'string', choices: KEY_TYPES, default: 'ecdsa-p256', describe: 'Key type for all three certificates' })
      .option('host', { type: 'string', array: true, describe: 'Extra DNS name or IP for the server certificate (repeatable)' })
      .option('revoke', { type: 'string', array: true, describe: 'Revoke this certificate and write the CA\'s CRL (crl.pem): server, client, or a NAME to issue (NAME.pem, NAME.key) and revoke (repeatable)' })
      .option('crl-entries', { type: 'number', array: true, describe: 'Also write crl-N.pem: the CRL plus N random entries, to measure what a large CRL costs (repeatable; up to 1000000)' })
      .option('ocsp', { type: 'boolean', describe: 'Write an OCSP response for each server certificate (server.ocsp.der, NAME.ocsp.der; good, or revoked as --revoke says), signed by the CA\'s OCSP responder, for nginx ssl_stapling_file' }) as never,
  handler: async (argv) => {
    const problems: string[] = [];
    try {
      checkOutputDir(argv.out ?? '', '--out');
    } catch (err) {
      problems.push((err as Error).message);
    }
    if (!isKeyType(argv.keyType)) problems.push(`--key-type: '${argv.keyType}' is not a key type; give one of ${KEY_TYPES.join(', ')}`);
    const hosts = argv.host ?? [];
    for (const host of hosts) {
      if (!isIP(host) && !isHostName(host)) problems.push(`--host '${host}' is neither an IP address nor a host name; give e.g. 10.0.0.5 or server.example`);
    }
    const revoke = [...new Set(argv.revoke ?? [])];
    for (const name of revoke) {
      if (!REVOKE_NAME.test(name) || RESERVED_NAMES.includes(name)) {
        problems.push(`--revoke '${name}': give server, client, or a name of letters, digits, - and _ (not ${RESERVED_NAMES.join(', ')}) for a new certificate to revoke`);
      }
    }
    const crlEntries = [...new Set(argv.crlEntries ?? [])];
    for (const n of crlEntries) {
      if (!Number.isInteger(n) || n < 0 || n > MAX_CRL_ENTRIES) problems.push(`--crl-entries ${n}: give a whole number from 0 to ${MAX_CRL_ENTRIES}`);
    }
    if (problems.length > 0) throw new UsageError(problems.join('\n'));

    let files: RevocationFiles | null = null;
    const chain = await generateChain({
      keyType: argv.keyType as KeyType, dir: argv.out, hosts,
      withCa: async (ca, written) => {
        if (revoke.length || crlEntries.length || argv.ocsp) files = await writeRevocationFiles(ca, written, { revoke, crlEntries, ocsp: !!argv.ocsp, hosts });
      },
    });
    const out = process.stdout;
    out.write(`${chain.keyType} chain written to ${chain.dir}\n`);
    out.write(`  CA certificate:      ${chain.caCertPath}   (clients trust this: --ca)\n`);
    out.write(`  server certificate:  ${chain.serverCertPath}\n`);
    out.write(`  server key:          ${chain.serverKeyPath}\n`);
    out.write(`  client certificate:  ${chain.clientCertPath}   (for servers that require client certificates)\n`);
    out.write(`  client key:          ${chain.clientKeyPath}\n`);
    out.write(`  OCSP responder:      ${chain.ocspResponderCertPath}   (signs OCSP responses for the CA)\n`);
    out.write(`  server names: localhost, 127.0.0.1, ::1${hosts.length ? ', ' + hosts.join(', ') : ''}; valid 30 days\n`);
    const f = files as RevocationFiles | null;
    if (f) {
      for (const c of f.issued) out.write(`  ${c.name} certificate:  ${c.certPath}  key: ${c.keyPath}   (revoked)\n`);
      if (f.crlPath) out.write(`  CRL:                 ${f.crlPath}   (revoked: ${revoke.join(', ') || 'none'}; next update in 7 days)\n`);
      for (const p of f.paddedCrls) out.write(`  CRL, ${p.entries} more entries: ${p.path}\n`);
      for (const o of f.ocsp) out.write(`  OCSP response:       ${o.path}   (${o.name}: ${o.status}, ${o.bytes} B, next update in 7 days; nginx: ssl_stapling_file)\n`);
    }
  },
};
