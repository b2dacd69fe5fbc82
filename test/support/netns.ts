// Network namespaces made for one test: nothing outside is touched, and nothing in them but
// what the test put there, so "nothing listens on that port" or "that address has no route"
// is a fact, not a race with other processes on the machine. Needs root and iproute2.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';

export interface Netns {
  name: string;
  /** Prefix that runs a command inside the namespace (for runCli's `prefix`). */
  exec: string[];
  /** Runs `ip ARGS` inside the namespace. */
  ip(...args: string[]): void;
  remove(): void;
}

const live = new Set<string>();
let hooked = false;

function removeNetns(name: string): void {
  spawnSync('ip', ['netns', 'del', name]);
  rmSync(`/etc/netns/${name}`, { recursive: true, force: true });
  live.delete(name);
}

/** Why namespaces cannot be made here, or null when they can. */
export function netnsUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  if (spawnSync('ip', ['-V']).status !== 0) return 'iproute2 (ip) is not installed';
  return null;
}

let serial = 0;

/**
 * A fresh namespace with its loopback up and nothing else. `resolver` writes the namespace's
 * own /etc/resolv.conf (ip netns exec bind-mounts /etc/netns/NAME/resolv.conf over it).
 */
export function createNetns(opts: { resolver?: string } = {}): Netns {
  const name = `tlsbench-${process.pid}-${++serial}`;
  if (!hooked) {
    hooked = true;
    process.on('exit', () => [...live].forEach(removeNetns));
  }
  execFileSync('ip', ['netns', 'add', name]);
  live.add(name);
  const ip = (...args: string[]): void => void execFileSync('ip', ['netns', 'exec', name, 'ip', ...args]);
  ip('link', 'set', 'lo', 'up');
  if (opts.resolver !== undefined) {
    mkdirSync(`/etc/netns/${name}`, { recursive: true });
    writeFileSync(`/etc/netns/${name}/resolv.conf`, `nameserver ${opts.resolver}\n`);
  }
  return { name, exec: ['ip', 'netns', 'exec', name], ip, remove: () => removeNetns(name) };
}
