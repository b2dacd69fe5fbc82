import type { ResponseFraming } from '../config/run-config.js';

const HEADER_END = Buffer.from('\r\n\r\n');
const CHUNKED_END = Buffer.from('0\r\n\r\n');
/** `HTTP/1.1 404 …`: the status line of an HTTP/1.x response. */
const STATUS_LINE = /^HTTP\/\d(?:\.\d)? ([1-5])\d\d(?: |\r)/;
/** Enough bytes to hold any status line a server sends; past this the response is not HTTP. */
const STATUS_LINE_MAX = 256;

export class ResponseReader {
  bytes = 0;
  /**
   * The response's HTTP status class digit (2 for 2xx), or null when it did not start with an
   * HTTP/1.x status line: any request (--http or a raw --request) whose answer is HTTP gets one.
   */
  statusClass: number | null = null;
  /** The response's headers said `Connection: close`: the server closes after this response. */
  serverCloses = false;
  private head: Buffer | null = null;
  private bodyExpected = -1;
  private bodySeen = 0;
  private chunked = false;
  private tail: Buffer = Buffer.alloc(0);
  /** The first bytes of the response, until its status line is read (or proves not to be HTTP). */
  private firstLine: Buffer | null = Buffer.alloc(0);

  constructor(private readonly framing: ResponseFraming) {}

  reset(): void {
    this.bytes = 0;
    this.statusClass = null;
    this.serverCloses = false;
    this.head = null;
    this.bodyExpected = -1;
    this.bodySeen = 0;
    this.chunked = false;
    this.tail = Buffer.alloc(0);
    this.firstLine = Buffer.alloc(0);
  }

  /** Feeds a chunk; true when the response is complete. */
  consume(chunk: Buffer): boolean {
    this.bytes += chunk.length;
    if (this.firstLine) this.readStatusLine(chunk);
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

  private readStatusLine(chunk: Buffer): void {
    const seen = this.firstLine!.length ? Buffer.concat([this.firstLine!, chunk]) : chunk;
    const end = seen.indexOf('\r\n');
    if (end < 0 && seen.length < STATUS_LINE_MAX) {
      this.firstLine = Buffer.from(seen.subarray(0, STATUS_LINE_MAX));
      return;
    }
    this.firstLine = null;
    const match = STATUS_LINE.exec(seen.subarray(0, end < 0 ? STATUS_LINE_MAX : end + 1).toString('latin1'));
    if (match) this.statusClass = Number(match[1]);
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
      this.serverCloses = /\r\nconnection:[^\r]*\bclose\b/.test(headers);
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
