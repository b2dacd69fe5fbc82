// (8) A real TLS server behind a TCP proxy that holds every byte from the server for `delayMs`
// before passing it on: the handshake completes, eventually, later than the client waits.
import net from 'node:net';
import type tls from 'node:tls';
import { listenHostile, type HostileServer } from './hostile-server.js';
import { startTlsServer } from './tls-endpoint.js';

export async function startSlowHandshake(options: tls.SecureContextOptions, delayMs: number): Promise<HostileServer> {
  const upstream = await startTlsServer(options);
  const timers = new Set<NodeJS.Timeout>();
  const proxy = (client: net.Socket): void => {
    const server = net.connect({ host: upstream.host, port: upstream.port });
    server.on('error', () => client.destroy());
    client.once('close', () => server.destroy());
    server.once('close', () => client.destroy());
    client.on('data', (chunk) => server.write(chunk));
    server.on('data', (chunk) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        if (!client.destroyed) client.write(chunk);
      }, delayMs);
      timers.add(timer);
    });
  };
  return listenHostile(proxy, async () => {
    for (const timer of timers) clearTimeout(timer);
    await upstream.stop();
  });
}
