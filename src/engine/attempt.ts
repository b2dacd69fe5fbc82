import type { X509Certificate } from 'node:crypto';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';
import type { ResponseFraming, Timeouts } from '../config/run-config.js';
import { elapsedMicros } from '../metrics/histogram.js';
import type { NegotiatedSample } from '../metrics/tally.js';
import { betweenExchanges, classifyError, httpStatusError, isTlsAlert, NO_KEEP_ALIVE, PhaseTimeout, type AttemptPhase } from './errors.js';
import type { OcspObservation } from '../metrics/ocsp-tally.js';
import type { EarlyDataOutcome } from '../metrics/early-data.js';
import type { OcspClient } from './ocsp-client.js';
import { ResponseReader } from './response-reader.js';
import { withoutPeerCertificate } from './session-der.js';
import { hasForwardSecrecy } from '../metrics/forward-secrecy.js';

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
  /** Bound on waiting for the server's close after ours (its TLS 1.3 tickets come in this time). */
  closeWaitMs: number;
  keylog: ((line: Buffer) => void) | null;
  clientCertificate: boolean;
  /** --ocsp: ask for a stapled OCSP response and check it; null: do not ask. */
  ocsp: OcspClient | null;
}

export interface AttemptOptions {
  session: Buffer | undefined;
  /** Listen for the sessions the server issues (only then does Node serialise them). */
  captureSession: boolean;
  /**
   * Wait (bounded) for the server's close after ours. False only once a worker has seen that this
   * server never answers a close_notify: then the attempt ends right after sending its own.
   */
  awaitServerClose: boolean;
  /** Read what was negotiated (costs a few native calls: done on a sample only). */
  sample: boolean;
}

export interface AttemptOutcome {
  /** null on success; otherwise the one error class this attempt is counted in. */
  errorClass: string | null;
  /** Set when the handshake completed and the server did not reject it afterwards. */
  reused: boolean | null;
  offered: boolean;
  startedAt: number;
  tcpUs: number;
  tlsUs: number;
  /** performance.now() at secureConnect, for the open loop's intended-start latency. */
  handshakeAt: number;
  /** performance.now() when the attempt's fate was decided: its handshake, or its failure. */
  decidedAt: number;
  ttfbUs: number[];
  /** The HTTP status class digit (2 for 2xx) of each response that began with a status line. */
  statuses: number[];
  bytesRead: number;
  /** The newest session the server issued (some servers honour only the last of two tickets). */
  session: Buffer | undefined;
  /** The server did not close within the bound after the client's close_notify. */
  closeWaitExpired: boolean;
  negotiated: Omit<NegotiatedSample, 'count'> | null;
  /** --ocsp, on a handshake where the server sent its certificate: the staple, or that there was none. */
  ocsp: OcspObservation | null;
  aborted: boolean;
  /** --early-data (native engine only): what became of the early data on an attempt that offered a session. */
  earlyData?: EarlyDataOutcome | null;
  /** --early-data: TCP connected → the connection's first response byte, µs (tally.ts's first-byte). */
  firstByteUs?: number | null;
}

/**
 * One connection: TCP connect → TLS handshake → (request/response exchanges) → close → done.
 * Each phase has its own timer; the first failure decides the attempt's one error class.
 *
 * The close is part of the verdict. The client sends close_notify and FIN at once, then reads
 * until the server closes. A TLS 1.3 server checks the client's certificate only after the
 * client's Finished, so an alert in that time is the server rejecting the handshake: the attempt
 * fails in that alert's class, in every mode. Reading to the server's close also collects every
 * ticket it sends, and leaves no unread record in the receive queue, which would turn the close
 * into a reset (Node 24 servers then count a failed handshake per connection).
 */
export class Attempt {
  readonly outcome: AttemptOutcome;
  private socket!: tls.TLSSocket;
  private phase: AttemptPhase | 'closing' | 'done' = 'tcp';
  private timer: NodeJS.Timeout | undefined;
  private timerMs = 0;
  private connectedAt = 0;
  private resolve!: (outcome: AttemptOutcome) => void;
  private reader: ResponseReader | null = null;
  private exchangesLeft = 0;
  private responsesDone = 0;
  private writtenAt = 0;
  /**
   * The request phase's verdict once the handshake and the exchanges went through: a non-2xx
   * response, or a server that closed before the K-th exchange. The attempt still closes cleanly.
   */
  private appVerdict: string | null = null;
  /** What the 'OCSPResponse' event gave (fires before secureConnect, with null when nothing was stapled). */
  private staple: Buffer | null = null;
  /** The client's own verdict on a completed handshake (a bad staple): the attempt fails in it after a clean close. */
  private rejection: string | null = null;
  private awaitServerClose: boolean;

  constructor(
    private readonly settings: DialSettings,
    private readonly options: AttemptOptions,
  ) {
    this.awaitServerClose = options.awaitServerClose;
    this.outcome = {
      errorClass: null, reused: null, offered: options.session !== undefined,
      startedAt: 0, tcpUs: 0, tlsUs: 0, handshakeAt: 0, decidedAt: 0, ttfbUs: [], statuses: [], bytesRead: 0,
      session: undefined, closeWaitExpired: false, negotiated: null, ocsp: null, aborted: false,
    };
  }

  run(): Promise<AttemptOutcome> {
    const s = this.settings;
    return new Promise((resolve) => {
      this.resolve = resolve;
      this.outcome.startedAt = performance.now();
      const socket = tls.connect(<tls.ConnectionOptions & { requestOCSP: boolean }>{
        host: s.host,
        port: s.port,
        servername: s.servername,
        secureContext: s.secureContext,
        rejectUnauthorized: s.rejectUnauthorized,
        ALPNProtocols: s.alpn,
        session: this.options.session,
        checkServerIdentity: checkPeerIdentity,
        requestOCSP: s.ocsp !== null,
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
      socket.on('end', this.onEnd);
      socket.on('close', this.onClose);
      if (this.options.captureSession) socket.on('session', this.onSession);
      if (s.keylog) socket.on('keylog', s.keylog);
      if (s.ocsp) socket.on('OCSPResponse', this.onOcspResponse);
    });
  }

  /**
   * The measured window closed under the attempt. A handshake that already completed (only the
   * server's close was pending) stays a completed handshake; anything earlier is unfinished.
   */
  abort(): void {
    if (this.phase === 'done') return;
    if (this.phase === 'closing') return this.finish(null);
    this.outcome.aborted = true;
    this.finish(null);
  }

  /**
   * Stops waiting for the server's close: the worker has seen this server never sends one. An
   * attempt still before its close will not wait when it gets there.
   */
  releaseCloseWait(): void {
    this.awaitServerClose = false;
    if (this.phase === 'closing') this.finish(null);
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
    if (this.phase === 'closing') {
      this.outcome.closeWaitExpired = true;
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
    const ocsp = this.settings.ocsp;
    if (ocsp && !this.outcome.reused) {
      // A resumed handshake carries no certificate, so no staple: only full handshakes are judged.
      const { observation, errorClass } = ocsp.judge(this.staple, peerX509(socket));
      this.outcome.ocsp = observation;
      this.rejection = errorClass;
    }
    const request = this.settings.request;
    // A client that rejects the staple sends no request: it closes, and the attempt fails.
    if (request && !this.rejection) {
      this.phase = 'app';
      this.exchangesLeft = request.perConnection;
      this.reader = new ResponseReader(request.framing);
      socket.on('data', this.onData);
      this.writeRequest();
    } else {
      this.close();
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
    if (reader.consume(chunk)) this.responseComplete(false);
  };

  /**
   * A response is complete: the next exchange, or the close. A non-2xx status ends the
   * exchanges (the attempt is counted in its status class); so does a server that announced
   * (`Connection: close`) or did its close before the last of --requests-per-connection.
   */
  private responseComplete(serverClosed: boolean): void {
    const reader = this.reader!;
    this.responsesDone++;
    const status = reader.statusClass;
    if (status !== null) this.outcome.statuses.push(status);
    if (status !== null && status !== 2) this.appVerdict = httpStatusError(status);
    else if (this.exchangesLeft > 0 && (serverClosed || reader.serverCloses)) this.appVerdict = NO_KEEP_ALIVE;
    else if (this.exchangesLeft > 0) return this.writeRequest();
    this.close();
  }

  /** The client is done: close_notify and FIN now, then read until the server closes (bounded). */
  private close(): void {
    this.phase = 'closing';
    this.socket.end();
    if (!this.awaitServerClose) return this.finish(null);
    // Without a reader the stream stays paused and never reports the server's close.
    if (!this.settings.request) this.socket.resume();
    this.arm(this.settings.closeWaitMs);
  }

  private readonly onEnd = (): void => {
    if (this.phase === 'closing') return this.finish(null);
    if (this.phase !== 'app') return;
    // A response framed by the connection's end (--read all) completes here.
    if (this.reader!.completeAtEnd()) this.responseComplete(true);
    else this.fail(Object.assign(new Error('the server closed before the response was complete'), { code: 'EARLY_CLOSE' }));
  };

  private readonly onOcspResponse = (response: Buffer | null): void => {
    this.staple = response;
  };

  private readonly onSession = (session: Buffer): void => {
    this.outcome.session = session;
  };

  private readonly onError = (err: Error): void => {
    // While closing, a reset costs nothing that was measured; an alert, though, is the server
    // rejecting the handshake (a TLS 1.3 server checks the client certificate after the client
    // has finished), so the attempt failed.
    if (this.phase === 'closing' && !isTlsAlert(err)) return this.finish(null);
    this.fail(err);
  };

  private readonly onClose = (): void => {
    if (this.phase === 'done') return;
    if (this.phase === 'closing') return this.finish(null);
    this.fail(Object.assign(new Error('connection closed'), { code: 'EARLY_CLOSE' }));
  };

  private fail(err: unknown): void {
    if (this.phase === 'done') return;
    let errorClass = classifyError(err, this.phase === 'closing' ? 'tls' : this.phase);
    // Closed or reset between two exchanges, the last response complete: no keep-alive.
    if (this.phase === 'app' && this.responsesDone > 0 && this.reader!.bytes === 0) errorClass = betweenExchanges(errorClass);
    this.finish(errorClass);
  }

  private finish(errorClass: string | null): void {
    if (this.phase === 'done') return;
    // The client rejected the handshake itself (a bad staple), unless the server said why first.
    errorClass ??= this.rejection;
    // Rejected after the client's side of the handshake (by the server, or by the client's own
    // checks): not a completed handshake.
    if (errorClass?.startsWith('tls.')) {
      this.outcome.reused = null;
      this.outcome.negotiated = null;
      this.outcome.session = undefined;
    }
    this.phase = 'done';
    if (this.timer) clearTimeout(this.timer);
    const outcome = this.outcome;
    errorClass ??= this.appVerdict;
    outcome.errorClass = errorClass;
    // A success counts when its handshake completed; a failure when it failed.
    outcome.decidedAt = errorClass === null ? outcome.handshakeAt : performance.now();
    if (outcome.session) outcome.session = withoutPeerCertificate(outcome.session);
    this.socket.destroy();
    this.resolve(outcome);
  }
}

export function describeNegotiated(socket: tls.TLSSocket, clientCertificate: boolean): Omit<NegotiatedSample, 'count'> {
  const cipher = socket.getCipher();
  const key = socket.getEphemeralKeyInfo();
  const reused = socket.isSessionReused();
  const protocol = socket.getProtocol() ?? 'unknown';
  const cipherName = cipher?.standardName ?? cipher?.name ?? 'unknown';
  const forwardSecrecy = hasForwardSecrecy(protocol, cipherName);
  let certificate = 'not sent (resumed)';
  if (!reused) {
    const cert = peerX509(socket);
    certificate = cert ? describePublicKey(cert.publicKey) : 'none';
  }
  return {
    protocol,
    cipher: cipherName,
    // A resumed TLS 1.2 handshake exchanges no key, and RSA key transport none ephemeral: no group to name.
    group: key && 'name' in key && key.name ? key.name : key && 'type' in key && key.type ? key.type : reused ? 'none (resumed)'
      : forwardSecrecy === false ? 'none (RSA key transport)' : 'unknown',
    alpn: socket.alpnProtocol || '',
    certificate,
    clientCertificate: clientCertificate && !reused,
    forwardSecrecy,
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
