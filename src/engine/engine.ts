import { createWriteStream, type WriteStream } from 'node:fs';
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import type { MessagePort } from 'node:worker_threads';
import { elapsedMicros } from '../metrics/histogram.js';
import { addNegotiated, ClassRecorder, emptyTally, HANDSHAKE_CLASSES, type HandshakeClass, type ResumptionMechanism, type Tally } from '../metrics/tally.js';
import type { Snapshot } from '../metrics/timeline.js';
import { addOcspObservation, emptyOcspTally } from '../metrics/ocsp-tally.js';
import { countEarlyData, emptyEarlyDataTally } from '../metrics/early-data.js';
import { Attempt, type AttemptOutcome, type DialSettings } from './attempt.js';
import { OcspClient } from './ocsp-client.js';
import { alpnWireFormat, buildClientContext } from './secure-context.js';
import { SessionStore } from './sessions.js';
import { SnapshotSeconds, type SecondCounts } from './snapshot-seconds.js';
import type { CoordinatorMessage, PhaseClock, WorkerMessage, WorkerResult, WorkerTask } from './task.js';

/** Consecutive connections whose server never answered our close_notify before a worker stops waiting. */
const CLOSE_WAIT_GIVE_UP = 3;
/** Negotiated parameters are read on the first attempts and then on one in this many. */
const SAMPLE_EVERY = 64;

/**
 * The seam for an engine whose attempts run outside JS (the native loop): what it has in flight,
 * and the time it spent waiting outside the event loop, which counts as idle in the utilisation.
 */
export interface OutsideLoad {
  inFlight(): number;
  /** Cumulative ms spent waiting for the network outside the JS event loop. */
  idleMs(): number;
}

/** Local clock of a phase, in this thread's performance.now() milliseconds. */
export interface LocalClock {
  startAt: number;
  rampEndAt: number;
  windowAt: number;
  endAt: number;
}

/**
 * Whether an attempt may start, and whether it starts inside the window ('measured'); with
 * --handshakes, 'measured' means it is one of the N counted attempts.
 */
export type Claim = 'measured' | 'unmeasured' | 'none';

/**
 * Runs inside a worker thread: one phase of load against one target. Pacing decides when attempts
 * start; the engine starts them, decides whether they are counted, and records their outcomes.
 */
export class Engine {
  clock: LocalClock = { startAt: 0, rampEndAt: 0, windowAt: 0, endAt: 0 };
  readonly sessions: SessionStore;
  private readonly dial: DialSettings;
  private readonly keylogStream: WriteStream | null;
  private readonly recorders = new Map<HandshakeClass, ClassRecorder>();
  /** --early-data: the 0-RTT handshakes, recorded as a class is (beside `resumed`, which holds them too). */
  private zeroRtt: ClassRecorder | null = null;
  private readonly tally: Tally = emptyTally();
  private readonly inFlight = new Set<Attempt>();
  /** --handshakes: the window counts the N attempts it starts, not what completes in it. */
  private readonly quota: boolean;
  private measuredLeft: number;
  private measuredInFlight = 0;
  /** Measured attempts started: negotiation samples come from the window, never from warm-up. */
  private measuredStarted = 0;
  private awaitServerClose = true;
  private closeWaitsInARow = 0;
  private serverClosesSeen = 0;
  private stopping = false;
  /** When stop() ran (local ms). */
  private stoppedAt = Number.POSITIVE_INFINITY;
  private resolveDone!: () => void;
  readonly done: Promise<void>;

  // Per-second counts, by the second each outcome was decided in (set up by begin()).
  private seconds = new SnapshotSeconds(0, 0);
  private secondElu: EventLoopUtilization;
  private snapshotTimer: NodeJS.Timeout | undefined;
  private windowElu: EventLoopUtilization | null = null;
  private elu = 0;
  private outside: OutsideLoad | null = null;

  constructor(
    private readonly task: WorkerTask,
    private readonly post: (message: WorkerMessage) => void,
  ) {
    const { config, phase, credentials } = task;
    this.sessions = new SessionStore(phase.resume, config.sessionScope, config.resumeRatio);
    this.keylogStream = config.tls.keylogFile ? createWriteStream(config.tls.keylogFile, { flags: 'a', mode: 0o600 }) : null;
    const keylogStream = this.keylogStream;
    this.dial = {
      host: task.host,
      port: task.port,
      servername: config.tls.servername ?? undefined,
      secureContext: buildClientContext(config.tls, credentials, phase.resume),
      rejectUnauthorized: !config.tls.insecure,
      alpn: alpnWireFormat(config.tls.alpn),
      timeouts: config.timeouts,
      request: config.request && {
        payload: Buffer.from(config.request.payloadBase64, 'base64'),
        framing: config.request.framing,
        perConnection: config.request.perConnection,
      },
      closeWaitMs: config.closeWaitMs,
      keylog: keylogStream ? (line: Buffer) => keylogStream.write(line) : null,
      clientCertificate: !!credentials.cert,
      ocsp: config.tls.ocsp ? new OcspClient(credentials.ca, config.tls.requireStaple) : null,
    };
    // Early data rides on offered sessions: counted in the resuming phase only.
    if ((config.earlyData ?? null) !== null && phase.resume !== 'none') this.tally.earlyData = emptyEarlyDataTally();
    this.quota = task.share.handshakes !== null;
    this.measuredLeft = task.share.handshakes ?? Number.POSITIVE_INFINITY;
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    this.secondElu = performance.eventLoopUtilization();
  }

  get running(): boolean {
    return !this.stopping;
  }

  get inFlightCount(): number {
    return this.inFlight.size + (this.outside?.inFlight() ?? 0);
  }

  /** Attaches the native loop (before begin()): its attempts and its idle time count here too. */
  attachOutsideLoad(outside: OutsideLoad): void {
    this.outside = outside;
  }

  /** Event-loop utilisation, where time an outside loop spent waiting counts as idle. */
  private utilisation(since?: EventLoopUtilization): EventLoopUtilization {
    const now = performance.eventLoopUtilization();
    const outsideIdle = this.outside?.idleMs() ?? 0;
    let idle = now.idle + outsideIdle;
    let active = now.active - outsideIdle;
    if (since) {
      idle -= since.idle;
      active -= since.active;
    }
    return { idle, active, utilization: idle + active > 0 ? Math.max(0, active) / (idle + active) : 0 };
  }

  /**
   * Adopts the phase clock (epoch ms → this thread's performance.now() ms) and starts the
   * snapshot ticks and the end-of-window timer; pacing starts attempts after this.
   */
  begin(clock: PhaseClock): void {
    const offset = performance.timeOrigin;
    this.clock = {
      startAt: clock.startAt - offset,
      rampEndAt: clock.rampEndAt - offset,
      windowAt: clock.windowAt - offset,
      endAt: clock.endAt - offset,
    };
    this.seconds = new SnapshotSeconds(Math.floor((performance.now() - this.clock.windowAt) / 1000), this.clock.windowAt);
    this.secondElu = this.utilisation();
    this.scheduleSnapshot();
    const untilEnd = this.clock.endAt - performance.now();
    setTimeout(() => this.stop(), Math.max(0, untilEnd)).unref();
    const untilWindow = this.clock.windowAt - performance.now();
    setTimeout(() => (this.windowElu = this.utilisation()), Math.max(0, untilWindow)).unref();
  }

  /**
   * Whether an attempt may start at `at` (open loop: its intended start), and whether it starts
   * inside the window. With --handshakes the quota is claimed here, so exactly N start.
   */
  claim(at: number = performance.now()): Claim {
    if (this.stopping) return 'none';
    if (at < this.clock.windowAt) return 'unmeasured';
    if (this.quota) {
      if (this.measuredLeft <= 0) return 'none';
      this.measuredLeft--;
      return 'measured';
    }
    // The end-of-window timer may fire late: nothing starts after the window has closed.
    return at < this.clock.endAt ? 'measured' : 'none';
  }

  /**
   * Open loop, once stopped: an arrival due before the stop and the window's end that a late tick
   * had not reached yet still arrived; classified as claim() would have done on time ('none': it
   * was due after). With a free slot it is started and unfinished at once (arrivalAtClose).
   */
  claimLate(at: number): Claim {
    if (at >= Math.min(this.stoppedAt, this.clock.endAt)) return 'none';
    if (at < this.clock.windowAt) return 'unmeasured';
    if (this.quota) {
      if (this.measuredLeft <= 0) return 'none';
      this.measuredLeft--;
    }
    return 'measured';
  }

  /** Open loop: a late arrival (claimLate) that found a free slot after the stop: aborted before it dialled. */
  arrivalAtClose(slot: number, claim: Claim, intendedAt: number): void {
    const outcome: AttemptOutcome = {
      errorClass: null, reused: null, offered: false, startedAt: intendedAt, tcpUs: 0, tlsUs: 0, handshakeAt: 0,
      decidedAt: 0, ttfbUs: [], statuses: [], bytesRead: 0, session: undefined, closeWaitExpired: false, negotiated: null, ocsp: null, aborted: true,
    };
    this.record(slot, outcome, claim === 'measured', undefined, intendedAt);
  }

  /** Open loop: an arrival was due at its claimed time (counted when it was due inside the window). */
  arrive(claim: Claim): void {
    if (claim === 'measured') this.tally.arrivals++;
  }

  /** Counts an arrival that found every slot busy (open loop); `at`: when it was due. */
  drop(claim: Claim, at: number): void {
    if (claim === 'measured') this.tally.dropped++;
    const bucket = this.bucket(claim === 'measured', at);
    if (bucket) bucket.dropped++;
  }

  /**
   * The snapshot second an event decided at `at` is counted in: a counted one in a second of the
   * window, an uncounted (warm-up) one only before the window opens (null: in no snapshot).
   */
  private bucket(counted: boolean, at: number): SecondCounts | null {
    const second = this.seconds.secondOf(at);
    if (counted) return this.seconds.at(Math.max(0, second));
    return second < 0 ? this.seconds.at(second) : null;
  }

  /**
   * Runs one attempt for `slot` and records it. `intendedAt`: open loop's intended start (local ms).
   * Resolves to the attempt's error class (null: it succeeded or was aborted), so pacing can back off.
   */
  async launch(slot: number, claim: Claim, intendedAt: number | null = null): Promise<string | null> {
    const offer = this.sessions.sessionToOffer(slot);
    const measured = claim === 'measured';
    const attempt = new Attempt(this.dial, {
      session: offer?.der,
      captureSession: this.sessions.capturing,
      awaitServerClose: this.awaitServerClose,
      sample: measured && (this.measuredStarted++ < 8 || this.measuredStarted % SAMPLE_EVERY === 0),
    });
    this.inFlight.add(attempt);
    if (measured) this.measuredInFlight++;
    const outcome = await attempt.run();
    this.inFlight.delete(attempt);
    if (measured) this.measuredInFlight--;
    this.record(slot, outcome, measured, offer?.mechanism, intendedAt);
    if (this.quota && measured && this.measuredLeft <= 0 && this.measuredInFlight === 0) this.stop();
    return outcome.errorClass;
  }

  /**
   * Counts one outcome, of either engine (the native loop hands its outcomes over in batches).
   * `measured`: it started inside the window (with --handshakes: it is one of the N).
   * `offeredMechanism`: how the offered session would resume, where known.
   */
  record(slot: number, outcome: AttemptOutcome, measured: boolean, offeredMechanism: ResumptionMechanism | undefined, intendedAt: number | null): void {
    const t = this.tally;
    if (measured) t.started++;
    const { windowAt, endAt } = this.clock;
    if (outcome.session) this.sessions.store(slot, outcome.session);
    this.learnServerClose(outcome);
    // Counted in the window, or undecided when it closed (an abort at stop, or decided after endAt).
    let counted: boolean;
    let unfinished: boolean;
    if (this.quota) {
      counted = measured && !outcome.aborted;
      unfinished = measured && outcome.aborted;
    } else {
      const decidedAt = outcome.aborted ? performance.now() : outcome.decidedAt;
      counted = !outcome.aborted && decidedAt >= windowAt && decidedAt < endAt;
      unfinished = decidedAt >= windowAt && !counted;
      // Carried in: claimed before the window (open loop: due before it, though it may have
      // started late, inside it), so `started` does not hold it. By the claim, not by startedAt,
      // or attempts + unfinished = started + carriedIn would not hold.
      if ((counted || unfinished) && !measured) t.carriedIn++;
    }
    // Undecided when the window closed, but its handshake completed inside it (only the request
    // phase or the close was cut): a handshake completed in the window, counted in its class like any other.
    const handshakeInWindow = unfinished && outcome.reused !== null && (this.quota || (outcome.handshakeAt >= windowAt && outcome.handshakeAt < endAt));
    if (unfinished) {
      t.unfinished++;
      if (!handshakeInWindow) return;
    } else if (outcome.aborted) {
      return;
    }
    const handshakeCounted = counted || handshakeInWindow;
    // Its snapshot second: when it was decided, or for a handshake the window's end cut, when it completed.
    const bucket = this.bucket(handshakeCounted, counted || !handshakeCounted ? outcome.decidedAt : outcome.handshakeAt);
    if (!handshakeCounted) {
      const w = t.warmup;
      w.attempts++;
      if (outcome.errorClass === null) w.successes++;
      else w.errors++;
    } else {
      if (counted) t.attempts++;
      if (outcome.offered) {
        t.offered++;
        if (offeredMechanism) t.offeredMechanisms[offeredMechanism] = (t.offeredMechanisms[offeredMechanism] ?? 0) + 1;
      }
      if (outcome.session) t.sessionsReceived++;
      if (outcome.closeWaitExpired) t.closeWaitsExpired++;
    }
    if (outcome.reused !== null) {
      const cls: HandshakeClass = outcome.reused ? 'resumed' : outcome.offered ? 'miss' : 'full';
      bucket?.handshake(cls, outcome.tlsUs);
      if (handshakeCounted) {
        let recorder = this.recorders.get(cls);
        if (!recorder) this.recorders.set(cls, (recorder = new ClassRecorder()));
        recordHandshake(recorder, outcome, intendedAt);
        const early = t.earlyData && outcome.earlyData;
        if (early) {
          countEarlyData(t.earlyData!, early);
          if (early === 'accepted') recordHandshake((this.zeroRtt ??= new ClassRecorder()), outcome, intendedAt);
        }
        if (outcome.reused && offeredMechanism) t.mechanisms[offeredMechanism] = (t.mechanisms[offeredMechanism] ?? 0) + 1;
        if (outcome.negotiated) addNegotiated((t.negotiated[cls] ??= []), outcome.negotiated);
      }
    }
    // A staple is counted whether or not it then failed the attempt (a revoked one is both).
    if (counted && outcome.ocsp) addOcspObservation((t.ocsp[outcome.offered ? 'miss' : 'full'] ??= emptyOcspTally()), outcome.ocsp);
    if (outcome.errorClass !== null) {
      if (counted) t.errors[outcome.errorClass] = (t.errors[outcome.errorClass] ?? 0) + 1;
      // An attempt the window's end cut is in no error count: only its handshake was counted.
      if (!handshakeInWindow) bucket?.error(outcome.errorClass);
    } else if (counted) {
      t.successes++;
    }
  }

  /**
   * A server that never answers a close_notify would hold every slot for the whole bound: after a
   * few such connections, with no close ever seen, the worker stops waiting for one.
   */
  private learnServerClose(outcome: AttemptOutcome): void {
    if (outcome.errorClass !== null || outcome.aborted || !this.awaitServerClose) return;
    if (!outcome.closeWaitExpired) {
      this.serverClosesSeen++;
      this.closeWaitsInARow = 0;
      return;
    }
    if (++this.closeWaitsInARow < CLOSE_WAIT_GIVE_UP || this.serverClosesSeen > 0) return;
    this.awaitServerClose = false;
    for (const attempt of [...this.inFlight]) attempt.releaseCloseWait();
  }

  private scheduleSnapshot(): void {
    const nextBoundary = this.clock.windowAt + (this.seconds.open + 1) * 1000;
    // The window's last second is reported by stop(): a tick racing the end-of-window timer
    // would otherwise open a stray second past the window.
    if (nextBoundary >= this.clock.endAt) return;
    this.snapshotTimer = setTimeout(() => {
      this.emitSnapshot();
      if (!this.stopping) this.scheduleSnapshot();
    }, Math.max(0, nextBoundary - performance.now()));
  }

  private emitSnapshot(): void {
    const elu = this.utilisation(this.secondElu);
    this.secondElu = this.utilisation();
    const { second, counts } = this.seconds.take();
    const snapshot: Snapshot = {
      worker: this.task.share.index,
      second,
      at: Math.round(performance.timeOrigin + this.clock.windowAt + second * 1000),
      ...counts.fields(),
      elu: elu.utilization,
      workers: 1,
      inFlight: this.inFlightCount,
    };
    this.post({ type: 'snapshot', snapshot });
  }

  /** Ends the phase: aborts what is in flight (counted as unfinished if measured). */
  stop(): void {
    if (this.stopping) return;
    this.stopping = true;
    this.stoppedAt = performance.now();
    if (this.windowElu) this.elu = this.utilisation(this.windowElu).utilization;
    for (const attempt of [...this.inFlight]) attempt.abort();
    if (this.snapshotTimer) clearTimeout(this.snapshotTimer);
    this.resolveDone();
  }

  /**
   * The worker's result, once its pacing (or the native loop) has recorded every outcome: the last
   * second's snapshot goes out here, not at stop(), because an attempt aborted at stop is recorded
   * a microtask later (a handshake that completed before the window closed, only its close pending,
   * belongs in it), and the native loop hands over its last batch after stop() too.
   */
  async result(): Promise<WorkerResult> {
    await this.done;
    // The open second, and any later one an outcome recorded after stop() was decided in.
    const last = this.seconds.last;
    do this.emitSnapshot();
    while (this.seconds.open <= last);
    if (this.keylogStream) await new Promise((resolve) => this.keylogStream!.end(resolve));
    for (const cls of HANDSHAKE_CLASSES) {
      const recorder = this.recorders.get(cls);
      if (recorder) this.tally.classes[cls] = recorder.toTally();
    }
    if (this.tally.earlyData && this.zeroRtt) this.tally.earlyData.zeroRtt = this.zeroRtt.toTally();
    return {
      index: this.task.share.index,
      tally: this.tally,
      elu: this.elu,
      windowEndedAt: performance.timeOrigin + performance.now(),
    };
  }
}

/** One completed handshake's figures into its class (metric definitions: tally.ts's LATENCY_METRICS). */
function recordHandshake(recorder: ClassRecorder, outcome: AttemptOutcome, intendedAt: number | null): void {
  recorder.handshakes++;
  recorder.record('tcp', outcome.tcpUs);
  recorder.record('tls', outcome.tlsUs);
  recorder.record('connect', outcome.tcpUs + outcome.tlsUs);
  if (intendedAt !== null) recorder.record('scheduled', elapsedMicros(intendedAt, outcome.handshakeAt));
  for (const ttfb of outcome.ttfbUs) recorder.record('ttfb', ttfb);
  if (outcome.firstByteUs !== undefined && outcome.firstByteUs !== null) recorder.record('first-byte', outcome.firstByteUs);
  recorder.requests += outcome.ttfbUs.length;
  recorder.countStatuses(outcome.statuses);
  recorder.bytesRead += outcome.bytesRead;
}

/** Waits for the coordinator's start message: the start barrier every worker of a phase shares. */
export function waitForStart(control: MessagePort): Promise<PhaseClock | null> {
  return new Promise((resolve) => {
    const onMessage = (message: CoordinatorMessage) => {
      if (message.type === 'start') resolve(message.clock);
      else resolve(null);
      control.off('message', onMessage);
    };
    control.on('message', onMessage);
  });
}
