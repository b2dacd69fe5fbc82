import type { ResponseFraming } from '../config/run-config.js';

const HEADER_END = Buffer.from('\r\n\r\n');
const CHUNKED_END = Buffer.from('0\r\n\r\n');

export class ResponseReader {
  bytes = 0;
  private head: Buffer | null = null;
  private bodyExpected = -1;
  private bodySeen = 0;
  private chunked = false;
  private tail: Buffer = Buffer.alloc(0);

  constructor(private readonly framing: ResponseFraming) {}

  reset(): void {
    this.bytes = 0;
    this.head = null;
    this.bodyExpected = -1;
    this.bodySeen = 0;
    this.chunked = false;
    this.tail = Buffer.alloc(0);
  }

  /** Feeds a chunk; true when the response is complete. */
  consume(chunk: Buffer): boolean {
    this.bytes += chunk.length;
    switch (this.framing.kind) {
      case 'first-byte': return true;
      case 'bytes': return this.bytes >= this.framing.count;
      case 'until-close': return false;
      case 'http': return this.consumeHttp(chunk);
    }
  }

  /** Whether a close by the server at this point ends the response properly. */
  completeAtEnd(): boolean {
    if (this.framing.kind === 'until-close') return true;
    // An HTTP response with neither length nor chunking is delimited by the close.
    return this.framing.kind === 'http' && this.head !== null && this.bodyExpected < 0 && !this.chunked;
  }

  private consumeHttp(chunk: Buffer): boolean {
    if (this.head === null) {
      this.tail = this.tail.length ? Buffer.concat([this.tail, chunk]) : chunk;
      const end = this.tail.indexOf(HEADER_END);
      if (end < 0) return false;
      this.head = this.tail.subarray(0, end);
      const headers = this.head.toString('latin1').toLowerCase();
      const length = /\r\ncontent-length:\s*(\d+)/.exec(headers);
      this.chunked = /\r\ntransfer-encoding:[^\r]*chunked/.test(headers);
      if (length) this.bodyExpected = Number(length[1]);
      chunk = this.tail.subarray(end + HEADER_END.length);
      this.tail = Buffer.alloc(0);
    }
    if (this.chunked) {
      // Enough for load-testing: the terminating zero-size chunk closes the body.
      this.tail = Buffer.concat([this.tail, chunk]).subarray(-CHUNKED_END.length - 2);
      return this.tail.includes(CHUNKED_END);
    }
    this.bodySeen += chunk.length;
    return this.bodyExpected >= 0 && this.bodySeen >= this.bodyExpected;
  }
}
