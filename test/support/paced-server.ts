// A TLS server whose capacity is known exactly: a TCP front admits one connection every
// 1/capacity seconds to a real TLS server behind it, in arrival order. Below that rate a
// connection waits for nothing; above it the queue, and the handshake latency, grow without
// bound. A capacity search against it must bracket `capacity`, whatever the machine's load.
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import type tls from 'node:tls';
import { listenHostile, type HostileServer } from '../hostile/hostile-server.js';
import { startTlsServer } from '../hostile/tls-endpoint.js';

export interface PacedServer extends HostileServer {
  /** Connections admitted to the TLS server so far. */
  admitted(): number;
}

export async function startPacedServer(options: tls.SecureContextOptions, capacity: number): Promise<PacedServer> {
  const upstream = await startTlsServer(options);
  const queue: net.Socket[] = [];
  let admitted = 0;
  // A token bucket refilled by the clock, not by timer ticks: a late tick on a loaded machine
  // admits what it owes, so the admission rate stays `capacity` on average. At most two tokens
  // are kept while idle, so an idle spell never turns into a burst.
  let tokens = 1;
  let last = performance.now();
  const admitOne = (client: net.Socket) => {
    admitted++;
    const server = net.connect({ host: upstream.host, port: upstream.port });
    server.on('error', () => client.destroy());
    client.once('close', () => server.destroy());
    server.once('close', () => client.destroy());
    client.pipe(server);
    server.pipe(client);
  };
  const admit = () => {
    const now = performance.now();
    tokens = Math.min(2, tokens + ((now - last) / 1000) * capacity);
    last = now;
    while (tokens >= 1 && queue.length) {
      const client = queue.shift()!;
      if (client.destroyed) continue;
      tokens--;
      admitOne(client);
    }
  };
  const timer = setInterval(admit, Math.max(1, Math.min(10, 1000 / capacity / 4)));
  const front = await listenHostile((client) => {
    // Nothing is read until the connection is admitted: its ClientHello waits in the socket.
    client.pause();
    queue.push(client);
  }, async () => {
    clearInterval(timer);
    await upstream.stop();
  });
  return { ...front, admitted: () => admitted };
}
