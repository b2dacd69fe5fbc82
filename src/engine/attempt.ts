import { performance } from 'node:perf_hooks';
import tls from 'node:tls';
import type { ResponseFraming, Timeouts } from '../config/run-config.js';
import { elapsedMicros } from '../metrics/histogram.js';
import type { NegotiatedSample } from '../metrics/tally.js';
import { classifyError, PhaseTimeout, type AttemptPhase } from './errors.js';
import { ResponseReader } from './response-reader.js';

/** Everything an attempt needs that does not change between attempts of a worker. */
export interface DialSettings {
  host: string;
  port: number;
  servername: string | undefined;
  secureContext: tls.SecureContext;
  rejectUnauthorized: boolean;
  alpn: Buffer | undefined;
  timeouts: Timeouts;
  request: { payload: Buffer; framing: ResponseFraming; perConnection: number } | null;
  ticketWaitMs: number;
  keylog: ((line: Buffer) => void) | null;
  clientCertificate: boolean;
}

export interface AttemptOptions {
  session: Buffer | undefined;
  /** Listen for the sessions the server issues (only then does Node serialise them). */
  captureSession: boolean;
  /** TLS 1.3 tickets arrive after the handshake: wait (bounded) for one before closing. */
  waitForTicket: boolean;
  /** Read what was negotiated (costs a few native calls: done on a sample only). */
  sample: boolean;
}

export interface AttemptOutcome {
  /** null on success; otherwise the one error class this attempt is counted in. */
  errorClass: string | null;
  /** Set when the handshake completed (even if a later request failed). */
  reused: boolean | null;
  offered: boolean;
  startedAt: number;
  tcpUs: number;
  tlsUs: number;
  /** performance.now() at secureConnect, for the open loop's intended-start latency. */
  handshakeAt: number;
  ttfbUs: number[];
  bytesRead: number;
  session: Buffer | undefined;
  ticketWaitExpired: boolean;
  negotiated: Omit<NegotiatedSample, 'count'> | null;
  aborted: boolean;
}

/**
 * One connection: TCP connect → TLS handshake → (request/response exchanges) → (ticket) → close.
 * Each phase has its own timer; the first failure decides the attempt's one error class.
 */
export class Attempt {
  readonly outcome: AttemptOutcome;
  private socket!: tls.TLSSocket;
  private phase: AttemptPhase | 'ticket' | 'done' = 'tcp';
  private timer: NodeJS.Timeout | undefined;
  private connectedAt = 0;
  private resolve!: (outcome: AttemptOutcome) => void;
  private reader: ResponseReader | null = null;
  private exchangesLeft = 0;
  private writtenAt = 0;

  constructor(
    private readonly settings: DialSettings,
    private readonly options: AttemptOptions,
  ) {
    this.outcome = {
      errorClass: null, reused: null, offered: options.session !== undefined,
      startedAt: 0, tcpUs: 0, tlsUs: 0, handshakeAt: 0, ttfbUs: [], bytesRead: 0,
      session: undefined, ticketWaitExpired: false, negotiated: null, aborted: false,
    };
  }

  run(): Promise<AttemptOutcome> {
    const s = this.settings;
    return new Promise((resolve) => {
      this.resolve = resolve;
      this.outcome.startedAt = performance.now();
      const socket = tls.connect({
        host: s.host,
        port: s.port,
        servername: s.servername,
        secureContext: s.secureContext,
        rejectUnauthorized: s.rejectUnauthorized,
        ALPNProtocols: s.alpn,
        session: this.options.session,
      });
      this.socket = socket;
      this.arm(s.timeouts.connectMs);
      socket.once('connect', this.onConnect);
      socket.once('secureConnect', this.onSecureConnect);
      socket.on('error', this.onError);
      socket.once('close', this.onClose);
      if (this.options.captureSession) socket.on('session', this.onSession);
      if (s.keylog) socket.on('keylog', s.keylog);
    });
  }

  /** Ends the attempt without counting it (the measured window closed under it). */
  abort(): void {
    if (this.phase === 'done') return;
    this.outcome.aborted = true;
    this.finish(null);
  }

  private arm(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(this.onTimeout, ms);
  }

  private readonly onTimeout = (): void => {
    if (this.phase === 'ticket') {
      this.outcome.ticketWaitExpired = true;
      this.finish(null);
    } else {
      this.fail(new PhaseTimeout());
    }
  };

  private readonly onConnect = (): void => {
    this.connectedAt = performance.now();
    this.outcome.tcpUs = elapsedMicros(this.outcome.startedAt, this.connectedAt);
    this.phase = 'tls';
    this.arm(this.settings.timeouts.handshakeMs);
  };

  private readonly onSecureConnect = (): void => {
    const now = performance.now();
    const socket = this.socket;
    this.outcome.handshakeAt = now;
    this.outcome.tlsUs = elapsedMicros(this.connectedAt, now);
    // Read before anything can close the socket: after close it returns null.
    this.outcome.reused = socket.isSessionReused();
    if (this.options.sample) this.outcome.negotiated = describeNegotiated(socket, this.settings.clientCertificate);
    const request = this.settings.request;
    if (request) {
      this.phase = 'app';
      this.exchangesLeft = request.perConnection;
      this.reader = new ResponseReader(request.framing);
      socket.on('data', this.onData);
      socket.once('end', this.onEnd);
      this.writeRequest();
    } else {
      this.afterExchanges();
    }
  };

  private writeRequest(): void {
    this.exchangesLeft--;
    this.reader!.reset();
    this.writtenAt = performance.now();
    this.arm(this.settings.timeouts.responseMs);
    this.socket.write(this.settings.request!.payload);
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.phase !== 'app') return;
    const reader = this.reader!;
    if (reader.bytes === 0) this.outcome.ttfbUs.push(elapsedMicros(this.writtenAt, performance.now()));
    this.outcome.bytesRead += chunk.length;
    if (!reader.consume(chunk)) return;
    if (this.exchangesLeft > 0) this.writeRequest();
    else this.afterExchanges();
  };

  private readonly onEnd = (): void => {
    if (this.phase !== 'app') return;
    if (this.reader!.completeAtEnd() && this.exchangesLeft === 0) this.afterExchanges();
    else this.fail(Object.assign(new Error('the server closed before the response was complete'), { code: 'EARLY_CLOSE' }));
  };

  private afterExchanges(): void {
    const waiting = this.options.waitForTicket && this.outcome.session === undefined && this.socket.getProtocol() === 'TLSv1.3';
    if (!waiting) return this.finish(null);
    this.phase = 'ticket';
    this.arm(this.settings.ticketWaitMs);
  }

  private readonly onSession = (session: Buffer): void => {
    // TLS 1.3 servers often send two tickets: the first is enough.
    if (this.outcome.session === undefined) this.outcome.session = session;
    if (this.phase === 'ticket') this.finish(null);
  };

  private readonly onError = (err: Error): void => {
    // After the handshake, while only waiting for a ticket, a reset costs nothing that was measured.
    if (this.phase === 'ticket') return this.finish(null);
    this.fail(err);
  };

  private readonly onClose = (): void => {
    if (this.phase === 'done') return;
    if (this.phase === 'ticket') return this.finish(null);
    if (this.phase === 'app' && this.reader!.completeAtEnd() && this.exchangesLeft === 0) return this.afterExchanges();
    this.fail(Object.assign(new Error('connection closed'), { code: 'EARLY_CLOSE' }));
  };

  private fail(err: unknown): void {
    if (this.phase === 'done' || this.phase === 'ticket') return;
    this.finish(classifyError(err, this.phase));
  }

  private finish(errorClass: string | null): void {
    if (this.phase === 'done') return;
    this.phase = 'done';
    if (this.timer) clearTimeout(this.timer);
    this.outcome.errorClass = errorClass;
    this.socket.destroy();
    this.resolve(this.outcome);
  }
}

function describeNegotiated(socket: tls.TLSSocket, clientCertificate: boolean): Omit<NegotiatedSample, 'count'> {
  const cipher = socket.getCipher();
  const key = socket.getEphemeralKeyInfo();
  const reused = socket.isSessionReused();
  let certificate = 'not sent (resumed)';
  if (!reused) {
    const cert = socket.getPeerX509Certificate();
    certificate = cert ? describePublicKey(cert.publicKey) : 'none';
  }
  return {
    protocol: socket.getProtocol() ?? 'unknown',
    cipher: cipher?.standardName ?? cipher?.name ?? 'unknown',
    group: key && 'name' in key && key.name ? key.name : key && 'type' in key && key.type ? key.type : 'unknown',
    alpn: socket.alpnProtocol || '',
    certificate,
    clientCertificate: clientCertificate && !reused,
  };
}

export function describePublicKey(key: import('node:crypto').KeyObject): string {
  const type = key.asymmetricKeyType ?? 'unknown';
  const details = key.asymmetricKeyDetails ?? {};
  if (type === 'rsa' || type === 'rsa-pss') return `${type.toUpperCase()}-${details.modulusLength ?? '?'}`;
  if (type === 'ec') return `ECDSA ${details.namedCurve ?? '?'}`;
  return type.charAt(0).toUpperCase() + type.slice(1);
}
