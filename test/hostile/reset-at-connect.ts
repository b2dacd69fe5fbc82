// (16) A reset before the client has sent a byte: the kernel of a network namespace made for the
// test answers the last packet of the TCP handshake (the client's ACK of the SYN-ACK) with an RST
// (nftables `reject with tcp reset`). The client's connect succeeds and is reset at once, all in
// the kernel's processing of the loopback packets, so no ClientHello ever goes out: `tcp.reset`.
//
// A server that accepts and resets in user space (SO_LINGER 0 on accept) cannot pin this: its
// reset races the client's own processing of the connect, and lands before or after the
// ClientHello (measured 260 tcp.reset / 38 tls.reset / 2 tls.closed of 300 on the Node engine,
// 129 / 171 / 0 on the native one). Needs root, iproute2 and nft.
import { spawnSync } from 'node:child_process';
import { createNetns, netnsUnavailable, type Netns } from '../support/netns.js';
import { spawnManaged, type ManagedProcess } from '../support/process.js';

export interface ResetAtConnect {
  /** host:port inside the namespace; run the client with `exec` as its prefix. */
  target: string;
  exec: string[];
  stop(): Promise<void>;
}

/** Why this fixture cannot run here, or null. */
export function resetAtConnectUnavailable(): string | null {
  const noNetns = netnsUnavailable();
  if (noNetns) return noNetns;
  if (spawnSync('nft', ['--version']).status !== 0) return 'nft (nftables) is not installed';
  return null;
}

const PORT = 4443;

export async function startResetAtConnect(): Promise<ResetAtConnect> {
  const ns: Netns = createNetns();
  let listener: ManagedProcess | null = null;
  try {
    // Only the bare ACK (no SYN, FIN, RST, no data): the handshake's last packet.
    const rules = `table inet tlsbench { chain input { type filter hook input priority 0; tcp dport ${PORT} tcp flags & (syn | ack | fin | rst) == ack reject with tcp reset; }; }`;
    const nft = spawnSync('ip', ['netns', 'exec', ns.name, 'nft', '-f', '-'], { input: rules, encoding: 'utf8' });
    if (nft.status !== 0) throw new Error(`nft: ${nft.stderr}`);
    // A listening socket, so the SYN gets its SYN-ACK (without one it would be tcp.refused).
    listener = spawnManaged('ip', ['netns', 'exec', ns.name, process.execPath, '-e',
      `require('net').createServer((s) => s.destroy()).listen(${PORT}, '127.0.0.1', () => console.log('listening'))`]);
    for (let i = 0; i < 200 && !listener.output().includes('listening'); i++) {
      if (listener.exited()) throw new Error(`listener in ${ns.name} exited: ${listener.output()}`);
      await new Promise((r) => setTimeout(r, 25));
    }
    if (!listener.output().includes('listening')) throw new Error(`listener in ${ns.name} did not start: ${listener.output()}`);
  } catch (err) {
    await listener?.stop('SIGKILL', 1000);
    ns.remove();
    throw err;
  }
  const running = listener;
  return {
    target: `127.0.0.1:${PORT}`,
    exec: ns.exec,
    stop: async () => {
      await running.stop('SIGTERM', 2000);
      ns.remove();
    },
  };
}
