/**
 * What the built-in server says after the handshake, built once for both engines (the Node server
 * in target-server.ts, the native one in native/src/target_server.c). Benchmark clients usually say
 * nothing and close; a client measuring time to first byte sends an HTTP/1.1 request (answered with
 * a fixed-size body) or any bytes (answered with responseBytes per chunk).
 */
export interface Responses {
  /** To any chunk that is not an HTTP request (empty: no answer). */
  raw: Buffer;
  /** To an HTTP request. */
  keepAlive: Buffer;
  /** To an HTTP request with Connection: close; close_notify follows. */
  close: Buffer;
}

/** A request head larger than this is not a benchmark client: the connection is dropped. */
export const MAX_REQUEST_HEAD = 64 * 1024;

export function buildResponses(responseBytes: number): Responses {
  if (!Number.isInteger(responseBytes) || responseBytes < 0) throw new RangeError(`responseBytes must be a non-negative integer, got ${responseBytes}`);
  // Each answer is one write of a shared Buffer (one TLS record for small bodies), no allocation per request.
  const body = Buffer.alloc(responseBytes, 0x78);
  // X-Served-By names the process, so clients (and tests) can see which of several
  // `serve --workers` processes answered, e.g. that a session resumed across processes.
  const head = `HTTP/1.1 200 OK\r\nContent-Length: ${responseBytes}\r\nContent-Type: application/octet-stream\r\nX-Served-By: ${process.pid}\r\n`;
  return {
    raw: body,
    keepAlive: Buffer.concat([Buffer.from(`${head}\r\n`), body]),
    close: Buffer.concat([Buffer.from(`${head}Connection: close\r\n\r\n`), body]),
  };
}
