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

interface CertsArgs {
  out: string;
  keyType: string;
  host?: string[];
}

export const certsCommand: CommandModule<object, CertsArgs> = {
  command: 'certs',
  describe: 'Generate a CA, server and client certificate into a directory',
  builder: (y) =>
    y
      .option('out', { type: 'string', demandOption: true, describe: 'Directory to write to (created with mode 0700)' })
      .option('key-type', { type: 'string', choices: KEY_TYPES, default: 'ecdsa-p256', describe: 'Key type for all three certificates' })
      .option('host', { type: 'string', array: true, describe: 'Extra DNS name or IP for the server certificate (repeatable)' }) as never,
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
    if (problems.length > 0) throw new UsageError(problems.join('\n'));

    const chain = await generateChain({ keyType: argv.keyType as KeyType, dir: argv.out, hosts });
    const out = process.stdout;
    out.write(`${chain.keyType} chain written to ${chain.dir}\n`);
    out.write(`  CA certificate:      ${chain.caCertPath}   (clients trust this: --ca)\n`);
    out.write(`  server certificate:  ${chain.serverCertPath}\n`);
    out.write(`  server key:          ${chain.serverKeyPath}\n`);
    out.write(`  client certificate:  ${chain.clientCertPath}   (for servers that require client certificates)\n`);
    out.write(`  client key:          ${chain.clientKeyPath}\n`);
    out.write(`  server names: localhost, 127.0.0.1, ::1${hosts.length ? ', ' + hosts.join(', ') : ''}; valid 30 days\n`);
  },
};
