// What every hostile fixture returns, and the plumbing they share: listen on an ephemeral
// loopback port, count and remember every socket, and on stop() close the listener and destroy what is
// still open, so a test never leaves a half-open connection (or the test process) behind.
import net from 'node:net';

export interface HostileServer {
  host: string;
  port: number;
  /** TCP connections the fixture accepted (taken off the kernel's accept queue) so far. */
  accepted(): number;
  stop(): Promise<void>;
}

/** Extra cleanup a fixture needs beyond its listener and sockets (an upstream server, timers). */
export type StopHook = () => Promise<void> | void;

/**
 * Listens on 127.0.0.1:0 (or on `at`) and hands each accepted TCP socket to `onSocket`. Sockets
 * get a no-op error listener: the whole point of these servers is to be rude, and the client
 * being rude back (a reset after a timeout) must not crash the test process.
 */
export async function listenHostile(
  onSocket: (socket: net.Socket, server: net.Server) => void,
  onStop?: StopHook,
  at: { host: string; port: number } = { host: '127.0.0.1', port: 0 },
): Promise<HostileServer> {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('error', () => {});
    socket.once('close', () => sockets.delete(socket));
    onSocket(socket, server);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(at.port, at.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as net.AddressInfo;
  let stopped: Promise<void> | undefined;
  return {
    host: at.host,
    port: address.port,
    accepted: () => accepted,
    stop() {
      stopped ??= (async () => {
        // close() resolves only once every connection is gone, so destroy them first; a
        // listener already closed on purpose (stop-listening) reports ERR_SERVER_NOT_RUNNING.
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const socket of sockets) socket.destroy();
        await closed;
        await onStop?.();
      })();
      return stopped;
    },
  };
}

/**
 * Calls `then` once the client's first TLS record (its ClientHello) has fully arrived, so a
 * fixture misbehaves *during* the handshake rather than before the client has said anything.
 */
export function afterClientHello(socket: net.Socket, then: (hello: Buffer) => void): void {
  let buffered = Buffer.alloc(0);
  const onData = (chunk: Buffer): void => {
    buffered = Buffer.concat([buffered, chunk]);
    // A TLS record: type (1), legacy version (2), length (2), body.
    if (buffered.length < 5 || buffered.length < 5 + buffered.readUInt16BE(3)) return;
    socket.off('data', onData);
    then(buffered);
  };
  socket.on('data', onData);
}
