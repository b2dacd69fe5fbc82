// Who measured what, where: machine, the client's Node and OpenSSL (which may differ from
// the Node running the bench), and the openssl CLI used for s_time.
import { execFileSync, spawnSync } from 'node:child_process';
import os from 'node:os';

export interface BenchEnvironment {
  date: string;
  hostname: string;
  kernel: string;
  cpuModel: string;
  cores: number;
  client: { nodePath: string; node: string; openssl: string; v8: string };
  opensslCli: string;
}

export function describeEnvironment(nodePath: string): BenchEnvironment {
  const versions = JSON.parse(
    execFileSync(nodePath, ['-p', 'JSON.stringify({ node: process.version, openssl: process.versions.openssl, v8: process.versions.v8 })'], { encoding: 'utf8' }),
  ) as { node: string; openssl: string; v8: string };
  return {
    date: new Date().toISOString(),
    hostname: os.hostname(),
    kernel: `${os.type()} ${os.release()}`,
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    cores: os.cpus().length,
    client: { nodePath, ...versions },
    opensslCli: commandOutput('openssl', ['version']),
  };
}

export function environmentLines(env: BenchEnvironment): string[] {
  return [
    `- date: ${env.date}`,
    `- machine: ${env.cpuModel}, ${env.cores} cores, ${env.kernel}`,
    `- client runtime: Node ${env.client.node} (OpenSSL ${env.client.openssl}, V8 ${env.client.v8}) at ${env.client.nodePath}`,
    `- openssl CLI (s_time): ${env.opensslCli}`,
  ];
}

/** stdout and stderr of a short command, trimmed (`nginx -v` answers on stderr). */
export function commandOutput(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
}
