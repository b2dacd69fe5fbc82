/**
 * `serve --workers N`: the target in N processes sharing one port (node:cluster).
 *
 * Handshakes are CPU-bound and a Node process runs TLS on one thread, so a target that
 * must outrun the load generator needs processes. Two things must then be shared for
 * resumption to work whichever process a client reaches:
 *  - ticket keys: made once in the primary and given to every worker, so a ticket from
 *    one process decrypts in another;
 *  - the TLS 1.2 session-ID cache: kept in the primary, workers ask it over IPC.
 */
import cluster from 'node:cluster';
import type { Worker } from 'node:cluster';
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:tls';
import { ensureChain, type CertificateChain } from './pki.js';
import { SessionCache, type SessionCacheStats } from './session-cache.js';
import { DEFAULT_SESSION_CACHE_ENTRIES, startTargetServer, type ServeOptions, type TargetServer } from './target-server.js';


/** Messages between primary and workers; `tlsbench` tags them apart from anything else. */
type ToWorker =
  | { tlsbench: 'config'; ticketKeys: string; certDir: string }
  | { tlsbench: 'session'; req: number; data: string | null };
type ToPrimary =
  | { tlsbench: 'ready-for-config' }
  | { tlsbench: 'listening'; port: number }
  | { tlsbench: 'session-set'; id: string; data: string }
  | { tlsbench: 'session-get'; req: number; id: string };

function isTagged<T extends { tlsbench: string }>(msg: unknown): msg is T {
  return typeof msg === 'object' && msg !== null && typeof (msg as { tlsbench?: unknown }).tlsbench === 'string';
}

export interface TargetCluster {
  host: string;
  port: number;
  chain: CertificateChain;
  workers: number;
  /** The shared session-ID cache's counters (null when the cache is off). */
  sessionCache: SessionCacheStats | null;
  stop(): Promise<void>;
}

/**
 * In the primary: fork `workers` processes that each run this same command line, hand
 * them the chain and ticket keys, and resolve once all of them listen.
 */
export async function startTargetCluster(opts: ServeOptions, workers: number): Promise<TargetCluster> {
  if (!cluster.isPrimary) throw new Error('startTargetCluster must run in the cluster primary');
  // Generate (or validate) the chain once here, so N workers don't race to create it.
  const chain = opts.chain ?? (await ensureChain({ keyType: opts.keyType, hosts: opts.hosts ?? [], ...(opts.certDir ? { dir: opts.certDir } : {}) }));
  const ticketKeys = opts.ticketKeys ?? randomBytes(48);
  const cache = opts.sessionCache ? new SessionCache(opts.sessionCacheEntries ?? DEFAULT_SESSION_CACHE_ENTRIES) : null;

  // Round-robin (Node's default on Linux) makes the primary accept every connection and
  // pass it to a worker over IPC; with one new connection per handshake that makes the
  // primary the bottleneck. Let the kernel hand connections to workers instead, unless
  // the user chose a policy with NODE_CLUSTER_SCHED_POLICY.
  if (!process.env.NODE_CLUSTER_SCHED_POLICY) cluster.schedulingPolicy = cluster.SCHED_NONE;

  const forked: Worker[] = [];
  let stopping = false;
  let port = 0;

  const ready = new Promise<void>((resolve, reject) => {
    let listening = 0;
    for (let i = 0; i < workers; i++) {
      const worker = cluster.fork();
      forked.push(worker);
      worker.on('message', (msg: unknown) => {
        if (!isTagged<ToPrimary>(msg)) return;
        switch (msg.tlsbench) {
          case 'ready-for-config': {
            // Asked for, not pushed on 'online': a message that arrives before the worker
            // has loaded its modules and started listening for it would be lost.
            const config: ToWorker = { tlsbench: 'config', ticketKeys: ticketKeys.toString('hex'), certDir: chain.dir };
            worker.send(config);
            break;
          }
          case 'listening':
            port = msg.port;
            if (++listening === workers) resolve();
            break;
          case 'session-set':
            cache?.set(msg.id, Buffer.from(msg.data, 'base64'));
            break;
          case 'session-get': {
            const data = cache?.get(msg.id);
            const reply: ToWorker = { tlsbench: 'session', req: msg.req, data: data ? data.toString('base64') : null };
            if (worker.isConnected()) worker.send(reply);
            break;
          }
        }
      });
      worker.on('exit', (code, signal) => {
        if (stopping) return;
        // A target that silently lost a process would skew results: stop everything.
        const why = `target worker ${worker.process.pid} exited (${signal ?? `code ${code}`})`;
        reject(new Error(why));
        process.stderr.write(`tlsbench serve: ${why}; stopping\n`);
        void stop().then(() => process.exit(1));
      });
    }
  });

  async function stop(): Promise<void> {
    stopping = true;
    await Promise.all(
      forked.map(
        (worker) =>
          new Promise<void>((resolve) => {
            if (worker.isDead()) return resolve();
            worker.once('exit', () => resolve());
            worker.process.kill('SIGTERM');
          }),
      ),
    );
  }

  try {
    await ready;
  } catch (err) {
    await stop();
    throw err;
  }
  return { host: opts.host, port, chain, workers, sessionCache: cache?.stats ?? null, stop };
}

/**
 * In a worker: wait for the primary's configuration, then start the server with the
 * shared ticket keys and the primary's session cache, and report the port.
 */
export async function runTargetClusterWorker(opts: ServeOptions): Promise<TargetServer> {
  if (!cluster.isWorker || !process.send) throw new Error('runTargetClusterWorker must run in a cluster worker');
  const config = await new Promise<Extract<ToWorker, { tlsbench: 'config' }>>((resolve) => {
    const onMessage = (msg: unknown) => {
      if (isTagged<ToWorker>(msg) && msg.tlsbench === 'config') {
        process.off('message', onMessage);
        resolve(msg);
      }
    };
    process.on('message', onMessage);
    const hello: ToPrimary = { tlsbench: 'ready-for-config' };
    process.send!(hello);
  });

  const target = await startTargetServer({
    ...opts,
    certDir: config.certDir,
    ticketKeys: Buffer.from(config.ticketKeys, 'hex'),
    ...(opts.sessionCache ? { attachSessionCache: attachPrimarySessionCache } : {}),
  });
  const listening: ToPrimary = { tlsbench: 'listening', port: target.port };
  process.send(listening);
  return target;
}

/** Session-ID cache lookups forwarded to the primary, so any worker can resume any session. */
function attachPrimarySessionCache(server: Server): null {
  const send = process.send!.bind(process);
  const waiting = new Map<number, (data: Buffer | null) => void>();
  let nextReq = 0;
  process.on('message', (msg: unknown) => {
    if (!isTagged<ToWorker>(msg) || msg.tlsbench !== 'session') return;
    const resolve = waiting.get(msg.req);
    waiting.delete(msg.req);
    resolve?.(msg.data === null ? null : Buffer.from(msg.data, 'base64'));
  });
  server.on('newSession', (id: Buffer, data: Buffer, done: () => void) => {
    const msg: ToPrimary = { tlsbench: 'session-set', id: id.toString('hex'), data: data.toString('base64') };
    send(msg);
    done();
  });
  server.on('resumeSession', (id: Buffer, done: (err: Error | null, data?: Buffer | null) => void) => {
    const req = nextReq++;
    waiting.set(req, (data) => done(null, data));
    const msg: ToPrimary = { tlsbench: 'session-get', req, id: id.toString('hex') };
    send(msg);
  });
  // Counters live in the primary.
  return null;
}
