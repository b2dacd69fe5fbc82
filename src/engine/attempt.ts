import type { X509Certificate } from 'node:crypto';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';
import type { ResponseFraming, Timeouts } from '../config/run-config.js';
import { elapsedMicros } from '../metrics/histogram.js';
import type { NegotiatedSample } from '../metrics/tally.js';
import { classifyError, isTlsAlert, PhaseTimeout, type AttemptPhase } from './errors.js';
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
  ticketSink: TicketSink;
}

export interface AttemptOptions {
  session: Buffer | undefined;
  /** Listen for the sessions the server issues (only then does Node serialise them). */
  captureSession: boolean;
  /** TLS 1.3 tickets arrive after the handshake: wait (bounded) for one before closing. */
  waitForTicket: boolean;
  /**
   * After a resumed TLS 1.3 handshake the slot already holds a session that works, and some
   * servers (Node's) send no new ticket: the attempt completes at once and the connection lingers
   * in the background (bounded by the ticket wait) to pick up a fresh ticket if one comes.
   */
  lingerForTicket: boolean;
  /** The slot this attempt runs for: a ticket that arrives while lingering is stored for it. */
  slot: number;
  /** Read what was negotiated (costs a few native calls: done on a sample only). */
  sample: boolean;
}

/** Where a lingering connection reports what it got (the worker's engine). */
export interface TicketSink {
  lateSession(slot: number, session: Buffer): void;
  lingerEnded(attempt: Attempt, gotTicket: boolean): void;
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
  private phase: AttemptPhase | 'ticket' | 'linger' | 'done' = 'tcp';
  private timer: NodeJS.Timeout | undefined;
  private timerMs = 0;
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
        checkServerIdentity: checkPeerIdentity,
      });
      // Node's onConnectSecure calls getPeerCertificate(true) only to hand it to
      // checkServerIdentity: that copies and translates the whole chain into JS objects, a fifth
      // of a full handshake's client CPU. Hand over the native certificate instead.
      socket.getPeerCertificate = peerCertificateForIdentityCheck as tls.TLSSocket['getPeerCertificate'];
      this.socket = socket;
      // A request written right after the client's Finished must not wait for an ACK (Nagle).
      if (s.request) socket.setNoDelay(true);
      this.arm(s.timeouts.connectMs);
      // Each fires once per socket: `on` spares the wrapper that `once` allocates per attempt.
      socket.on('connect', this.onConnect);
      socket.on('secureConnect', this.onSecureConnect);
      socket.on('error', this.onError);
      socket.on('close', this.onClose);
      if (this.options.captureSession) socket.on('session', this.onSession);
      if (s.keylog) socket.on('keylog', s.keylog);
    });
  }

  /** Completed, but still listening in the background for a fresh ticket. */
  get lingering(): boolean {
    return this.phase === 'linger';
  }

  /** Ends the attempt without counting it (the measured window closed under it). */
  abort(): void {
    if (this.phase === 'done') return;
    if (this.phase === 'linger') return this.endLinger(false);
    this.outcome.aborted = true;
    this.finish(null);
  }

  /** Stops waiting for a ticket the server has shown it does not send; the attempt succeeded. */
  releaseTicketWait(): void {
    if (this.phase === 'linger') return this.endLinger(false);
    if (this.phase !== 'ticket') return;
    this.outcome.ticketWaitExpired = true;
    this.finish(null);
  }

  private arm(ms: number): void {
    const timer = this.timer;
    // Phases usually share one timeout: restarting the same timer allocates nothing.
    if (timer && this.timerMs === ms) {
      timer.refresh();
      return;
    }
    if (timer) clearTimeout(timer);
    this.timer = setTimeout(this.onTimeout, ms);
    this.timerMs = ms;
  }

  private readonly onTimeout = (): void => {
    if (this.phase === 'linger') return this.endLinger(false);
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
    const needTicket = this.outcome.session === undefined && this.socket.getProtocol() === 'TLSv1.3';
    if (needTicket && this.outcome.reused && this.options.lingerForTicket) {
      // Complete now (the slot moves on with the session it has); keep listening in the background.
      this.phase = 'linger';
      this.arm(this.settings.ticketWaitMs);
      this.resolve(this.outcome);
      return;
    }
    if (!needTicket || this.outcome.reused || !this.options.waitForTicket) return this.finish(null);
    this.phase = 'ticket';
    this.arm(this.settings.ticketWaitMs);
  }

  private readonly onSession = (session: Buffer): void => {
    if (this.phase === 'linger') {
      this.settings.ticketSink.lateSession(this.options.slot, withoutPeerCertificate(session));
      return this.endLinger(true);
    }
    // TLS 1.3 servers often send two tickets: the first is enough.
    if (this.outcome.session === undefined) this.outcome.session = withoutPeerCertificate(session);
    if (this.phase === 'ticket') this.finish(null);
  };

  private readonly onError = (err: Error): void => {
    if (this.phase === 'linger') return this.endLinger(false);
    // After the handshake, while only waiting for a ticket, a reset costs nothing that was measured;
    // an alert, though, is the server rejecting the handshake (a TLS 1.3 server checks the client
    // certificate after the client has finished), so the attempt failed.
    if (this.phase === 'ticket' && !isTlsAlert(err)) return this.finish(null);
    this.fail(err);
  };

  private readonly onClose = (): void => {
    if (this.phase === 'done') return;
    if (this.phase === 'linger') return this.endLinger(false);
    if (this.phase === 'ticket') return this.finish(null);
    if (this.phase === 'app' && this.reader!.completeAtEnd() && this.exchangesLeft === 0) return this.afterExchanges();
    this.fail(Object.assign(new Error('connection closed'), { code: 'EARLY_CLOSE' }));
  };

  private fail(err: unknown): void {
    if (this.phase === 'done' || this.phase === 'linger') return;
    const errorClass = classifyError(err, this.phase === 'ticket' ? 'tls' : this.phase);
    // Rejected by the server after the client's side of the handshake: not a completed handshake.
    if (errorClass.startsWith('tls.')) {
      this.outcome.reused = null;
      this.outcome.negotiated = null;
    }
    this.finish(errorClass);
  }

  /** The background wait for a fresh ticket is over: close, and tell the engine what came of it. */
  private endLinger(gotTicket: boolean): void {
    this.phase = 'done';
    if (this.timer) clearTimeout(this.timer);
    if (!this.socket.destroyed) this.socket.end();
    this.socket.destroy();
    this.settings.ticketSink.lingerEnded(this, gotTicket);
  }

  private finish(errorClass: string | null): void {
    if (this.phase === 'done' || this.phase === 'linger') return;
    this.phase = 'done';
    if (this.timer) clearTimeout(this.timer);
    this.outcome.errorClass = errorClass;
    // Close as a well-behaved client does, with close_notify first (end() writes it at once):
    // OpenSSL servers such as s_server drop the session of a connection that ends without one,
    // and a Node server sees a TLS 1.3 client that vanishes right after its Finished as a failed
    // handshake (ECONNRESET), which would fill the target's error counters and logs.
    if (errorClass === null && !this.outcome.aborted && !this.socket.destroyed) this.socket.end();
    this.socket.destroy();
    this.resolve(this.outcome);
  }
}

export function describeNegotiated(socket: tls.TLSSocket, clientCertificate: boolean): Omit<NegotiatedSample, 'count'> {
  const cipher = socket.getCipher();
  const key = socket.getEphemeralKeyInfo();
  const reused = socket.isSessionReused();
  let certificate = 'not sent (resumed)';
  if (!reused) {
    const cert = peerX509(socket);
    certificate = cert ? describePublicKey(cert.publicKey) : 'none';
  }
  return {
    protocol: socket.getProtocol() ?? 'unknown',
    cipher: cipher?.standardName ?? cipher?.name ?? 'unknown',
    // A resumed TLS 1.2 handshake exchanges no key: there is no group to name.
    group: key && 'name' in key && key.name ? key.name : key && 'type' in key && key.type ? key.type : reused ? 'none (resumed)' : 'unknown',
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

const PEER_X509 = Symbol('peer X509Certificate');

/**
 * The server's leaf certificate, read once per socket: on a client, Node's
 * getPeerX509Certificate() removes the leaf from OpenSSL's peer chain, so a second call
 * (the identity check, then the negotiated sample) would see no certificate.
 */
function peerX509(socket: tls.TLSSocket): X509Certificate | undefined {
  const holder = socket as tls.TLSSocket & { [PEER_X509]?: X509Certificate | undefined };
  if (!(PEER_X509 in holder)) holder[PEER_X509] = socket.getPeerX509Certificate();
  return holder[PEER_X509];
}
type PeerForIdentityCheck = tls.PeerCertificate & { [PEER_X509]?: X509Certificate | undefined };

/** Installed as getPeerCertificate on our sockets: the only caller is Node's identity check. */
function peerCertificateForIdentityCheck(this: tls.TLSSocket): PeerForIdentityCheck {
  return { [PEER_X509]: peerX509(this) } as PeerForIdentityCheck;
}

/**
 * tls.checkServerIdentity's rules (IP: IP SANs only; names: DNS SANs, the subject CN only when
 * there is none, one leftmost wildcard label) through OpenSSL's X509_check_ip / X509_check_host
 * on the certificate the handshake already holds, with the error Node would give.
 */
function checkPeerIdentity(hostname: string, cert: PeerForIdentityCheck): Error | undefined {
  const x509 = cert[PEER_X509];
  if (!x509) return tls.checkServerIdentity(hostname, cert);
  const name = hostname.replace(/\.$/, '');
  const ip = net.isIP(name) !== 0;
  if (ip ? x509.checkIP(name) : x509.checkHost(name, { subject: 'default', wildcards: true, partialWildcards: true })) return undefined;
  const reason = ip ? `IP: ${name} is not in the cert's list: ${x509.subjectAltName ?? ''}` : `Host: ${name}. is not in the cert's altnames: ${x509.subjectAltName ?? ''}`;
  return Object.assign(new Error(`Hostname/IP does not match certificate's altnames: ${reason}`), {
    code: 'ERR_TLS_CERT_ALTNAME_INVALID', reason, host: hostname,
  });
}

/** DER tag of SSL_SESSION's optional `peer [3] EXPLICIT Certificate` (ssl/ssl_asn1.c). */
const SESSION_PEER_TAG = 0xa3;

/** SSL_SESSION's ssl_version field for TLS 1.3: INTEGER 0x0304. */
const TLS13_VERSION_FIELD = Buffer.from([0x02, 0x02, 0x03, 0x04]);

/**
 * A TLS 1.3 session without the server certificate OpenSSL keeps in it. Node takes a session only
 * as DER, so every offer decodes it again, and decoding the certificate's public key is the most
 * expensive part of that on OpenSSL 3.0. A TLS 1.3 client does not need it to resume: Node skips
 * the identity check on a resumed connection and accepts a certificate-less TLS 1.3 resumption as
 * verified. Not TLS 1.2: there Node reports a resumed connection without a peer certificate as
 * UNABLE_TO_GET_ISSUER_CERT. Returns the input unchanged when the DER is not what is expected.
 */
export function withoutPeerCertificate(session: Buffer): Buffer {
  const header = derHeader(session, 0);
  if (!header || session[0] !== 0x30 || header.end !== session.length) return session;
  // SEQUENCE { INTEGER version, INTEGER ssl_version, … }
  const version = derHeader(session, header.contentAt);
  if (!version || !session.subarray(version.end, version.end + 4).equals(TLS13_VERSION_FIELD)) return session;
  let at = header.contentAt;
  while (at < session.length) {
    const field = derHeader(session, at);
    if (!field || field.end > session.length) return session;
    if (session[at] === SESSION_PEER_TAG) {
      const content = Buffer.concat([session.subarray(header.contentAt, at), session.subarray(field.end)]);
      return Buffer.concat([derSequenceHeader(content.length), content]);
    }
    at = field.end;
  }
  return session;
}

function derHeader(der: Buffer, at: number): { contentAt: number; end: number } | null {
  if (at + 2 > der.length || (der[at]! & 0x1f) === 0x1f) return null;
  const first = der[at + 1]!;
  if (first < 0x80) return { contentAt: at + 2, end: at + 2 + first };
  const lengthBytes = first & 0x7f;
  if (lengthBytes === 0 || lengthBytes > 4 || at + 2 + lengthBytes > der.length) return null;
  let length = 0;
  for (let i = 0; i < lengthBytes; i++) length = length * 256 + der[at + 2 + i]!;
  return { contentAt: at + 2 + lengthBytes, end: at + 2 + lengthBytes + length };
}

function derSequenceHeader(length: number): Buffer {
  if (length < 0x80) return Buffer.from([0x30, length]);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n % 256);
  return Buffer.from([0x30, 0x80 | bytes.length, ...bytes]);
}
