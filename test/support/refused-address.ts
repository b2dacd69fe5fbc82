// An address that refuses every connection for as long as a test holds it, whatever else runs on
// the machine. A port from getFreePort() closed again does not do that: between the close and the
// dial another process (another test file, a helper's nginx) may listen on it.
import { randomInt } from 'node:crypto';
import net from 'node:net';

export interface RefusedAddress {
  /** A random address in 127.0.0.0/8 other than 127.0.0.1: no one else binds it. */
  host: string;
  port: number;
  /** `host:port`, as a tlsbench target. */
  target: string;
  /** Lets the port go. */
  release(): Promise<void>;
}

/**
 * Holds a port with a listener on 127.0.0.1 and hands out the same port on another loopback
 * address. On Linux (checked on this machine's kernel, Node 20 and 24) the listener makes every
 * bind of that port on 0.0.0.0, on :: (dual stack, also with SO_REUSEPORT) or on 127.0.0.1 fail
 * with EADDRINUSE, and a dial of `host:port` reaches no listener, so the kernel answers the SYN
 * with a reset: ECONNREFUSED, every time. Only a listener on exactly `host` could answer, and
 * `host` is picked at random from 16 million. A fixture may itself listen on `host:port` and
 * close again (a server that stops listening): once closed, the address refuses again.
 */
export async function holdRefusedAddress(): Promise<RefusedAddress> {
  const holder = net.createServer((socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    holder.once('error', reject);
    holder.listen(0, '127.0.0.1', () => resolve());
  });
  holder.unref();
  const { port } = holder.address() as net.AddressInfo;
  // 127.1.0.1 … 127.254.255.254: never 127.0.x.x (127.0.0.1 is where everything else listens).
  const host = `127.${randomInt(1, 255)}.${randomInt(0, 256)}.${randomInt(1, 255)}`;
  let released: Promise<void> | undefined;
  return {
    host,
    port,
    target: `${host}:${port}`,
    release: () => (released ??= new Promise<void>((resolve) => holder.close(() => resolve()))),
  };
}
