import { createWriteStream, type WriteStream } from 'node:fs';
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import type { MessagePort } from 'node:worker_threads';
import { createHistogram, elapsedMicros, encodeHistogram, type Histogram } from '../metrics/histogram.js';
import { addNegotiated, ClassRecorder, emptyTally, HANDSHAKE_CLASSES, type HandshakeClass, type Tally } from '../metrics/tally.js';
import { emptyCounts, type Snapshot } from '../metrics/timeline.js';
import { Attempt, type AttemptOutcome, type DialSettings, type TicketSink } from './attempt.js';
import { alpnWireFormat, buildClientContext } from './secure-context.js';
import { SessionStore } from './sessions.js';
import type { CoordinatorMessage, PhaseClock, WorkerMessage, WorkerResult, WorkerTask } from './task.js';

/** Consecutive unanswered TLS 1.3 ticket waits, with no ticket ever seen, before a worker stops waiting. */
const TICKET_WAIT_GIVE_UP = 3;
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
 * Runs inside a worker thread: one phase of load against one target. Pacing decides when attempts
 * start; the engine starts them, decides whether they are measured, and records their outcomes.
 */
export class Engine implements TicketSink {
  clock: LocalClock = { startAt: 0, rampEndAt: 0, windowAt: 0, endAt: 0 };
  readonly sessions: SessionStore;
  private readonly dial: DialSettings;
  private readonly keylogStream: WriteStream | null;
  private readonly recorders = new Map<HandshakeClass, ClassRecorder>();
  private readonly tally: Tally = emptyTally();
  private readonly inFlight = new Set<Attempt>();
  private measuredLeft: number;
  private measuredInFlight = 0;
  /** Measured attempts started: negotiation samples come from the window, never from warm-up. */
  private measuredStarted = 0;
  private waitForTickets: boolean;
  private ticketWaitsInARow = 0;
  /**
   * After a resumed TLS 1.3 handshake the connection lingers in the background for a fresh ticket
   * until the server has shown it sends none after a resumption (Node's does not).
   */
  private lingerAfterResumption = true;
  private lingersInARow = 0;
  private ticketAfterResumption = false;
  private readonly lingering = new Set<Attempt>();
  /** Sessions this worker has received, warm-up included (the tally counts measured ones only). */
  private sessionsSeen = 0;
  private stopping = false;
  private resolveDone!: () => void;
  readonly done: Promise<void>;

  // The second being accumulated for the next snapshot.
  private second: number;
  private secondCounts = emptyCounts();
  private secondErrors: Record<string, number> = {};
  private secondErrorCount = 0;
  private secondDropped = 0;
  private secondLatency: Histogram = createHistogram();
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
      ticketWaitMs: config.ticketWaitMs,
      keylog: keylogStream ? (line: Buffer) => keylogStream.write(line) : null,
      clientCertificate: !!credentials.cert,
      ticketSink: this,
    };
    this.measuredLeft = task.share.handshakes ?? Number.POSITIVE_INFINITY;
    this.waitForTickets = phase.resume !== 'none';
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    this.second = 0;
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
    this.second = Math.floor((performance.now() - this.clock.windowAt) / 1000);
    this.secondElu = this.utilisation();
    this.scheduleSnapshot();
    const untilEnd = this.clock.endAt - performance.now();
    setTimeout(() => this.stop(), Math.max(0, untilEnd)).unref();
    const untilWindow = this.clock.windowAt - performance.now();
    setTimeout(() => (this.windowElu = this.utilisation()), Math.max(0, untilWindow)).unref();
  }

  /**
   * Whether an attempt may start now, and whether it is measured. With --handshakes the quota
   * is claimed here, so exactly N measured attempts start.
   */
  claim(): 'measured' | 'unmeasured' | 'none' {
    if (this.stopping) return 'none';
    if (performance.now() < this.clock.windowAt) return 'unmeasured';
    if (this.measuredLeft <= 0) return 'none';
    this.measuredLeft--;
    return 'measured';
  }

  /** Counts an arrival that found every slot busy (open loop). */
  drop(measured: boolean): void {
    if (measured) this.tally.dropped++;
    if (measured || this.second < 0) this.secondDropped++;
  }

  /** Runs one attempt for `slot` and records it. `intendedAt`: open loop's intended start (local ms). */
  async launch(slot: number, measured: boolean, intendedAt: number | null = null): Promise<void> {
    const session = this.sessions.sessionToOffer(slot);
    const attempt = new Attempt(this.dial, {
      session,
      captureSession: this.sessions.capturing,
      waitForTicket: this.waitForTickets,
      lingerForTicket: this.sessions.capturing && this.lingerAfterResumption,
      slot,
      sample: measured && (this.measuredStarted++ < 8 || this.measuredStarted % SAMPLE_EVERY === 0),
    });
    this.inFlight.add(attempt);
    if (measured) this.measuredInFlight++;
    const outcome = await attempt.run();
    this.inFlight.delete(attempt);
    if (attempt.lingering) this.lingering.add(attempt);
    if (measured) this.measuredInFlight--;
    this.record(slot, outcome, measured, intendedAt);
    if (measured && this.measuredLeft <= 0 && this.measuredInFlight === 0) this.stop();
  }

  /**
   * Counts one outcome. `completedAt` (local ms): when it completed, for outcomes recorded after the
   * fact (the native loop hands them over in batches); the timeline's second follows it.
   */
  record(slot: number, outcome: AttemptOutcome, measured: boolean, intendedAt: number | null, completedAt = performance.now()): void {
    if (outcome.aborted) {
      if (measured) this.tally.unfinished++;
      return;
    }
    if (outcome.session) {
      this.sessions.store(slot, outcome.session);
      this.sessionsSeen++;
      this.ticketWaitsInARow = 0;
    }
    if (outcome.ticketWaitExpired && ++this.ticketWaitsInARow >= TICKET_WAIT_GIVE_UP && this.sessionsSeen === 0 && this.waitForTickets) {
      // This server issues no TLS 1.3 tickets: waiting on every connection would only slow the run.
      this.waitForTickets = false;
      for (const attempt of [...this.inFlight]) attempt.releaseTicketWait();
    }
    const second = Math.floor((completedAt - this.clock.windowAt) / 1000);
    const inSnapshot = measured || second < 0;
    const t = this.tally;
    if (measured) {
      t.attempts++;
      if (outcome.offered) t.offered++;
      if (outcome.session) t.sessionsReceived++;
      if (outcome.ticketWaitExpired) t.ticketWaitsExpired++;
    }
    if (outcome.reused !== null) {
      const cls: HandshakeClass = outcome.reused ? 'resumed' : outcome.offered ? 'miss' : 'full';
      if (inSnapshot) {
        this.secondCounts[cls]++;
        this.secondLatency.recordValue(outcome.tlsUs);
      }
      if (measured) {
        let recorder = this.recorders.get(cls);
        if (!recorder) this.recorders.set(cls, (recorder = new ClassRecorder()));
        recorder.handshakes++;
        recorder.record('tcp', outcome.tcpUs);
        recorder.record('tls', outcome.tlsUs);
        recorder.record('connect', outcome.tcpUs + outcome.tlsUs);
        if (intendedAt !== null) recorder.record('scheduled', elapsedMicros(intendedAt, outcome.handshakeAt));
        for (const ttfb of outcome.ttfbUs) recorder.record('ttfb', ttfb);
        recorder.requests += outcome.ttfbUs.length;
        recorder.bytesRead += outcome.bytesRead;
        if (outcome.negotiated) addNegotiated((t.negotiated[cls] ??= []), outcome.negotiated);
      }
    }
    if (outcome.errorClass !== null) {
      if (measured) t.errors[outcome.errorClass] = (t.errors[outcome.errorClass] ?? 0) + 1;
      if (inSnapshot) {
        this.secondErrors[outcome.errorClass] = (this.secondErrors[outcome.errorClass] ?? 0) + 1;
        this.secondErrorCount++;
      }
    } else if (measured) {
      t.successes++;
    }
  }

  /** A ticket that arrived after a resumed handshake: the slot offers it next. */
  lateSession(slot: number, session: Buffer): void {
    this.sessions.store(slot, session);
    this.sessionsSeen++;
    this.ticketAfterResumption = true;
    this.lingersInARow = 0;
  }

  lingerEnded(attempt: Attempt, gotTicket: boolean): void {
    this.lingering.delete(attempt);
    if (gotTicket || this.ticketAfterResumption || ++this.lingersInARow < TICKET_WAIT_GIVE_UP || !this.lingerAfterResumption) return;
    // This server sends no ticket after a resumption: stop lingering, and let the others go now.
    this.lingerAfterResumption = false;
    for (const other of [...this.lingering]) other.releaseTicketWait();
  }

  private scheduleSnapshot(): void {
    const nextBoundary = this.clock.windowAt + (this.second + 1) * 1000;
    // The window's last second is reported by stop(): a tick racing the end-of-window timer
    // would otherwise open a stray second past the window.
    if (nextBoundary >= this.clock.endAt) return;
    this.snapshotTimer = setTimeout(() => {
      this.emitSnapshot();
      this.second++;
      if (!this.stopping) this.scheduleSnapshot();
    }, Math.max(0, nextBoundary - performance.now()));
  }

  private emitSnapshot(): void {
    const elu = this.utilisation(this.secondElu);
    this.secondElu = this.utilisation();
    const h = this.secondLatency;
    const snapshot: Snapshot = {
      worker: this.task.share.index,
      second: this.second,
      at: Math.round(performance.timeOrigin + this.clock.windowAt + this.second * 1000),
      handshakes: this.secondCounts,
      errors: this.secondErrorCount,
      errorClasses: this.secondErrors,
      dropped: this.secondDropped,
      elu: elu.utilization,
      workers: 1,
      inFlight: this.inFlightCount,
      p50: h.totalCount ? h.getValueAtPercentile(50) : 0,
      p99: h.totalCount ? h.getValueAtPercentile(99) : 0,
    };
    if (h.totalCount) snapshot.latency = encodeHistogram(h);
    this.post({ type: 'snapshot', snapshot });
    this.secondCounts = emptyCounts();
    this.secondErrors = {};
    this.secondErrorCount = 0;
    this.secondDropped = 0;
    h.reset();
  }

  /** Ends the phase: aborts what is in flight (counted as unfinished if measured). */
  stop(): void {
    if (this.stopping) return;
    this.stopping = true;
    if (this.windowElu) this.elu = this.utilisation(this.windowElu).utilization;
    for (const attempt of [...this.inFlight, ...this.lingering]) attempt.abort();
    if (this.snapshotTimer) clearTimeout(this.snapshotTimer);
    this.emitSnapshot();
    this.resolveDone();
  }

  async result(): Promise<WorkerResult> {
    await this.done;
    if (this.keylogStream) await new Promise((resolve) => this.keylogStream!.end(resolve));
    for (const cls of HANDSHAKE_CLASSES) {
      const recorder = this.recorders.get(cls);
      if (recorder) this.tally.classes[cls] = recorder.toTally();
    }
    return {
      index: this.task.share.index,
      tally: this.tally,
      elu: this.elu,
      windowEndedAt: performance.timeOrigin + performance.now(),
    };
  }
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
