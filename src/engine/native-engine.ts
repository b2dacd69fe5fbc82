import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import tls from 'node:tls';
import type { RequestConfig } from '../config/run-config.js';
import type { ResumptionMechanism } from '../metrics/tally.js';
import type { AttemptOutcome } from './attempt.js';
import type { Claim, Engine } from './engine.js';
import { betweenExchanges, classifyError, httpStatusError, isTlsAlert, NO_KEEP_ALIVE } from './errors.js';
import { hasForwardSecrecy } from '../metrics/forward-secrecy.js';
import { EARLY_DATA_CODES, FLAG, loadNativeAddon, OUTCOME, OUTCOME_FIELDS, protocolNumber, type HandshakeLoop, type NativeDetail, type NativeLoopOptions } from './native-addon.js';
import { NativeStaples } from './native-staples.js';
import { arrivalTime } from './pacing/arrivals.js';
import { alpnWireFormat } from './secure-context.js';
import type { WorkerTask } from './task.js';

/**
 * The native engine's TypeScript side: runs a worker's closed loop in the C addon (native/) and
 * records its outcomes through the same Engine.record path as the Node engine, so tally,
 * histograms, timeline and RunResult are one code path for both.
 *
 * JS and C share the thread in slices: run(SLICE_MS) drives the epoll loop for up to a slice and
 * returns a batch of outcomes; between slices the event loop runs (snapshot timers, the stop
 * message). C starts each slot's next attempt itself (claim rules mirror Engine.claim and
 * closed-loop.ts), so a slot never waits for JS between attempts (only after a handshake whose staple it has never seen: native-staples.ts). In an open loop JS computes
 * the arrivals' intended starts (arrivals.ts, the one schedule of both engines) a slice ahead and
 * C starts each on time, or drops it when every slot is busy (open-loop.ts's rules).
 */

/**
 * Length of one native slice. Snapshots and the stop message wait at most this long; a slice
 * also ends early when its outcome buffer fills. 10 ms costs under 0.1 % in JS round trips.
 */
const SLICE_MS = 10;

/** Open loop: arrivals handed to the loop per call (it queues up to 65536). */
const ARRIVALS_PER_FEED = 8192;

/** How the offered session resumes if the server takes it (OUTCOME.flags, 3 bits from FLAG.mechanismShift). */
const MECHANISMS: readonly (ResumptionMechanism | null)[] = [null, 'tls12-ticket', 'tls12-session-id', 'tls13-psk-stateless', 'tls13-psk-stateful'];

export interface NativeOutcome extends AttemptOutcome {
  /** How the offered session resumes if the server takes it (null: nothing offered), as the Node engine's StoredSession. */
  mechanism: ResumptionMechanism | null;
}

/**
 * Marks "the server issued a session" in AttemptOutcome.session: the native loop keeps the
 * session itself (an SSL_SESSION*), so no DER copy ever reaches JS.
 */
const SESSION_KEPT_NATIVELY = Buffer.alloc(0);

/** A worker's native loop, built before the start barrier so setup errors reach the coordinator. */
export class NativeWorkerLoop {
  private readonly loop: HandshakeLoop;
  private readonly outcomes: Float64Array;
  /** native monotonic ms − performance.now() ms, read at one instant. */
  private readonly offsetMs: number;
  /** Date.now() − performance.now(): the wall-clock time of an outcome's handshake (a staple's freshness). */
  private readonly wallOffsetMs = Date.now() - performance.now();
  /** --ocsp: the verdicts on the staples the loop meets. */
  private readonly staples: NativeStaples | null;

  constructor(private readonly task: WorkerTask) {
    const { addon, error } = loadNativeAddon();
    if (!addon) throw new Error(`the native engine ${error}`);
    const slots = task.share.slots;
    this.outcomes = new Float64Array((2 * slots + 1024) * OUTCOME_FIELDS);
    this.staples = task.config.tls.ocsp ? new NativeStaples(task.credentials.ca, task.config.tls.requireStaple) : null;
    this.loop = new addon.HandshakeLoop(loopOptions(task, this.staples), this.outcomes);
    this.offsetMs = addon.now() - performance.now();
  }

  /** Runs the phase to its end on `engine`'s clock; every outcome goes through engine.record. */
  async run(engine: Engine): Promise<void> {
    const loop = this.loop;
    const toNative = (local: number) => local + this.offsetMs;
    const { startAt, rampEndAt, windowAt, endAt } = engine.clock;
    const quota = this.task.share.handshakes;
    try {
      loop.begin(toNative(startAt), toNative(rampEndAt), toNative(windowAt), toNative(endAt), quota ?? -1);
      const feed = this.arrivalFeed(engine);
      for (;;) {
        if (!engine.running) loop.stop();
        // Every arrival due before this slice can end is queued before it starts.
        feed?.(performance.now() + 2 * SLICE_MS);
        const n = loop.run(SLICE_MS);
        const ttfbs = this.task.config.request && n > 0 ? loop.ttfbs() : null;
        for (let i = 0; i < n; i++) this.recordOne(engine, i, ttfbs);
        // Staples met in this slice: their slots wait for the verdict until the next one.
        this.staples?.answer(loop);
        if (loop.finished) break;
        // Let timers (snapshots, the end of the window) and the control port's messages run.
        await yieldToEventLoop();
      }
    } finally {
      // The last second's snapshot is taken after the loop closes: its idle time must be in.
      this.readStats();
      loop.close();
    }
  }

  /**
   * Open loop: a function that queues, in the loop, every arrival of this worker due by a horizon
   * (local ms). Worker i of W takes arrivals i, i+W, … of the whole stream (open-loop.ts).
   */
  private arrivalFeed(engine: Engine): ((horizon: number) => void) | null {
    const { config, share } = this.task;
    if (share.rate === null || config.rate === null) return null;
    const totalRate = config.rate;
    const { startAt, rampEndAt } = engine.clock;
    const rampMs = rampEndAt - startAt;
    const times = new Float64Array(ARRIVALS_PER_FEED);
    let k = share.rateOffset;
    return (horizon) => {
      let n = 0;
      for (; n < times.length; n++) {
        const at = startAt + arrivalTime(k + n * config.workers, totalRate, rampMs);
        if (at > horizon) break;
        times[n] = at + this.offsetMs;
      }
      if (n > 0) k += this.loop.schedule(times.subarray(0, n)) * config.workers;
    };
  }

  private lastStats = { inFlight: 0, idleMs: 0 };

  private readStats(): { inFlight: number; idleMs: number } {
    try {
      this.lastStats = this.loop.stats();
    } catch {
      // Closed: the figures read just before it closed (run() reads them then).
    }
    return this.lastStats;
  }

  /** For Engine: attempts in flight and the loop's idle time (its epoll wait is not busy time). */
  outsideLoad() {
    return { inFlight: () => this.readStats().inFlight, idleMs: () => this.readStats().idleMs };
  }

  private recordOne(engine: Engine, i: number, ttfbs: Float64Array | null): void {
    const o = this.outcomes;
    const at = i * OUTCOME_FIELDS;
    const flags = o[at + OUTCOME.flags]!;
    const has = (bit: number) => (flags & bit) !== 0;
    const toLocal = (native: number) => native - this.offsetMs;
    const intended = o[at + OUTCOME.intendedAt]!;
    const intendedAt = intended >= 0 ? toLocal(intended) : null;
    if (intendedAt !== null) {
      // Open loop: every measured arrival is one outcome, started (its attempt) or dropped.
      const claim: Claim = has(FLAG.measured) ? 'measured' : 'unmeasured';
      engine.arrive(claim);
      if (has(FLAG.dropped)) return engine.drop(claim, intendedAt);
    }
    const handshake = has(FLAG.handshake);
    const earlyData = this.task.config.earlyData ?? null;
    const firstByte = o[at + OUTCOME.firstByteUs]!;
    const outcome: NativeOutcome = {
      errorClass: null,
      reused: handshake ? has(FLAG.reused) : null,
      offered: has(FLAG.offered),
      startedAt: toLocal(o[at + OUTCOME.startedAt]!),
      tcpUs: o[at + OUTCOME.tcpUs]!,
      tlsUs: o[at + OUTCOME.tlsUs]!,
      handshakeAt: toLocal(o[at + OUTCOME.handshakeAt]!),
      decidedAt: toLocal(o[at + OUTCOME.completedAt]!),
      ttfbUs: ttfbs ? Array.from(ttfbs.subarray(o[at + OUTCOME.ttfbAt]!, o[at + OUTCOME.ttfbAt]! + o[at + OUTCOME.ttfbCount]!)) : [],
      bytesRead: o[at + OUTCOME.bytesRead]!,
      statuses: unpackStatuses(o[at + OUTCOME.statuses]!),
      ocsp: null,
      session: has(FLAG.session) ? SESSION_KEPT_NATIVELY : undefined,
      closeWaitExpired: has(FLAG.closeWaitExpired),
      negotiated: null,
      aborted: has(FLAG.aborted),
      mechanism: has(FLAG.offered) ? MECHANISMS[(flags >> FLAG.mechanismShift) & 7] ?? null : null,
      ...(earlyData !== null ? { earlyData: EARLY_DATA_CODES[o[at + OUTCOME.earlyData]!] ?? null, firstByteUs: firstByte >= 0 ? firstByte : null } : {}),
    };
    if (has(FLAG.detail)) applyDetail(outcome, this.loop.detail(o[at + OUTCOME.detail]!), has(FLAG.betweenExchanges));
    // --ocsp: the full handshake's staple. A rejected one fails the attempt (the loop sent no request
    // and closed cleanly), unless the server said why first; counted in the tally either way.
    const staple = handshake ? this.staples?.outcome(o[at + OUTCOME.staple]!, o[at + OUTCOME.ocspVerdict]!, outcome.handshakeAt + this.wallOffsetMs) : null;
    if (staple) {
      outcome.ocsp = staple.observation;
      if (outcome.errorClass === null && staple.errorClass !== null) {
        outcome.errorClass = staple.errorClass;
        outcome.reused = null;
        outcome.negotiated = null;
        outcome.session = undefined;
      }
    }
    // The request phase's verdict, given after a clean close (attempt.ts's finish): the status
    // class of a non-2xx response, or a server that did not keep the connection alive.
    if (outcome.errorClass === null) {
      const ending = o[at + OUTCOME.statuses]! % 8;
      if (ending !== 0) outcome.errorClass = httpStatusError(ending);
      else if (has(FLAG.noKeepAlive)) outcome.errorClass = NO_KEEP_ALIVE;
    }
    // A success counts when its handshake completed, a failure when it failed (as the Node engine).
    if (outcome.errorClass === null && handshake) outcome.decidedAt = outcome.handshakeAt;
    engine.record(o[at + OUTCOME.slot]!, outcome, has(FLAG.measured), outcome.mechanism ?? undefined, intendedAt);
  }
}

/** An error and/or a negotiated sample, classified by errors.ts exactly as the Node engine's. */
function applyDetail(outcome: NativeOutcome, detail: NativeDetail | null, afterResponse: boolean): void {
  if (!detail) return;
  if (detail.protocol !== undefined) {
    const cipher = detail.cipher ?? 'unknown';
    const forwardSecrecy = hasForwardSecrecy(detail.protocol, cipher);
    outcome.negotiated = {
      protocol: detail.protocol,
      cipher,
      // As describeNegotiated: RSA key transport has no ephemeral key, so no group to name.
      group: detail.group && detail.group !== 'unknown' ? detail.group : forwardSecrecy === false ? 'none (RSA key transport)' : detail.group ?? 'unknown',
      forwardSecrecy,
      alpn: detail.alpn ?? '',
      certificate: detail.certificate ?? 'none',
      clientCertificate: detail.clientCertificate ?? false,
      clientCertificateRequested: detail.clientCertificateRequested ?? false,
    };
  }
  if (detail.code === undefined || detail.phase === undefined) return;
  const error = { code: detail.code, ...(detail.syscall ? { syscall: detail.syscall } : {}) };
  if (detail.phase === 'close') {
    // While waiting for the server's close, only an alert counts: the server rejected the
    // handshake after the client's Finished (a TLS 1.3 client certificate check). A reset there
    // costs nothing that was measured.
    if (!isTlsAlert(error)) return;
    outcome.errorClass = classifyError(error, 'tls');
  } else {
    outcome.errorClass = classifyError(error, detail.phase);
    if (detail.phase === 'app' && afterResponse) outcome.errorClass = betweenExchanges(outcome.errorClass);
  }
  if (outcome.errorClass.startsWith('tls.')) {
    // Not a completed handshake: it counts in its error class only.
    outcome.reused = null;
    outcome.negotiated = null;
  }
}

/**
 * OUTCOME.statuses as AttemptOutcome.statuses: the 2xx responses, then the non-2xx one that ended
 * the exchanges (a non-2xx response is always the last, so the order is whole).
 */
function unpackStatuses(packed: number): number[] {
  const statuses: number[] = new Array(Math.floor(packed / 8)).fill(2);
  if (packed % 8 !== 0) statuses.push(packed % 8);
  return statuses;
}

/** Node's default cipher list, split as the loop takes it: TLS 1.3 suites and TLS 1.2 ciphers. */
function nodeDefaultCiphers(): { suites: string; ciphers: string } {
  const all = tls.DEFAULT_CIPHERS.split(':');
  return { suites: all.filter((c) => c.startsWith('TLS_')).join(':'), ciphers: all.filter((c) => !c.startsWith('TLS_')).join(':') };
}

/** The worker's settings in the loop's terms; the same RunConfig fields the Node engine reads. */
function loopOptions(task: WorkerTask, staples: NativeStaples | null): NativeLoopOptions {
  const { config, phase, credentials } = task;
  const t = config.tls;
  const servername = t.servername;
  // Node checks the identity against the SNI name, or else the address dialled.
  const identity = servername ?? task.host;
  const defaults = nodeDefaultCiphers();
  return {
    host: task.host,
    port: task.port,
    servername,
    verify: !t.insecure,
    verifyHost: isIP(identity) ? null : identity,
    verifyIp: isIP(identity) ? identity : null,
    // Without --ca, Node trusts its own bundled roots (not the system's): so does the loop.
    ca: credentials.ca ?? tls.rootCertificates.join('\n'),
    cert: credentials.cert ?? null,
    key: credentials.key ?? null,
    passphrase: credentials.passphrase ?? null,
    minVersion: protocolNumber(t.minVersion),
    maxVersion: protocolNumber(t.maxVersion),
    ciphers: t.ciphers ?? defaults.ciphers,
    ciphersuites: t.ciphersuites ?? defaults.suites,
    groups: t.groups,
    sigalgs: t.sigalgs,
    alpn: alpnWireFormat(t.alpn) ?? null,
    resume: phase.resume === 'none' ? 0 : phase.resume === 'ticket' ? 1 : 2,
    resumeRatio: config.resumeRatio,
    scopeWorker: config.sessionScope === 'worker',
    connectMs: config.timeouts.connectMs,
    handshakeMs: config.timeouts.handshakeMs,
    closeWaitMs: config.closeWaitMs,
    keylogFile: t.keylogFile,
    crl: credentials.crl ?? null,
    ocsp: staples !== null,
    ocspMissingVerdict: staples?.missingVerdict ?? 0,
    slots: task.share.slots,
    openLoop: task.share.rate !== null,
    ...requestOptions(config.request, config.timeouts.responseMs),
    // Early data only where sessions are offered: the resuming phase.
    ...(config.earlyData && phase.resume !== 'none' ? { earlyData: config.earlyData } : {}),
  };
}

/** The request phase in the loop's terms (response-reader.ts's framings, numbered). */
function requestOptions(request: RequestConfig | null, responseMs: number): Partial<NativeLoopOptions> {
  if (!request) return {};
  const f = request.framing;
  return {
    request: Buffer.from(request.payloadBase64, 'base64'),
    framing: f.kind === 'first-byte' ? 0 : f.kind === 'bytes' ? 1 : f.kind === 'until-close' ? 2 : 3,
    framingCount: f.kind === 'bytes' ? f.count : 0,
    perConnection: request.perConnection,
    responseMs,
  };
}
