/**
 * Server-side TLS session-ID cache (RFC 5246 "session ID" resumption).
 *
 * Node turns OpenSSL's internal server session cache off and instead emits
 * `newSession` / `resumeSession`; without handlers a TLS 1.2 client that offers a
 * session ID (no ticket) never resumes. This is the smallest cache that makes ID
 * resumption work: in-process, bounded, least recently used evicted first.
 */
import type { Server } from 'node:tls';

export interface SessionCacheStats {
  /** resumeSession lookups that found the session: the server resumed. */
  hits: number;
  /**
   * resumeSession lookups that found nothing: the client fell back to a full handshake.
   * Includes the random session IDs that TLS 1.3-capable clients send for middlebox
   * compatibility when a server picks TLS 1.2, so misses are not "offered and refused".
   */
  misses: number;
  /** Sessions stored by newSession. */
  stored: number;
  /** Sessions dropped to stay within maxEntries. */
  evicted: number;
}

export class SessionCache {
  readonly stats: SessionCacheStats = { hits: 0, misses: 0, stored: 0, evicted: 0 };
  // A Map iterates in insertion order; re-inserting on every hit makes its first key the
  // least recently used one, so eviction is O(1) without a linked list.
  readonly #entries = new Map<string, Buffer>();

  constructor(readonly maxEntries: number) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError(`maxEntries must be a positive integer, got ${maxEntries}`);
  }

  get size(): number {
    return this.#entries.size;
  }

  get(id: string): Buffer | undefined {
    const data = this.#entries.get(id);
    if (data === undefined) {
      this.stats.misses++;
      return undefined;
    }
    this.#entries.delete(id);
    this.#entries.set(id, data);
    this.stats.hits++;
    return data;
  }

  set(id: string, data: Buffer): void {
    this.#entries.delete(id);
    this.#entries.set(id, data);
    this.stats.stored++;
    while (this.#entries.size > this.maxEntries) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
      this.stats.evicted++;
    }
  }

  clear(): void {
    this.#entries.clear();
  }
}

/**
 * Serve TLS 1.2 session-ID resumption on `server` from a bounded LRU cache.
 * Returns the cache so callers (and tests) can read its hit/miss counters.
 */
export function attachSessionCache(server: Server, opts: { maxEntries: number }): SessionCache {
  const cache = new SessionCache(opts.maxEntries);
  server.on('newSession', (sessionId: Buffer, sessionData: Buffer, done: () => void) => {
    cache.set(sessionId.toString('hex'), sessionData);
    done();
  });
  server.on('resumeSession', (sessionId: Buffer, done: (err: Error | null, sessionData?: Buffer | null) => void) => {
    // null (not an error) tells Node to carry on with a full handshake.
    done(null, cache.get(sessionId.toString('hex')) ?? null);
  });
  return cache;
}
