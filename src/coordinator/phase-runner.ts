import { performance } from 'node:perf_hooks';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import type { Piscina } from 'piscina';
import type { Credentials, PhasePlan, RunConfig } from '../config/run-config.js';
import { UsageError } from '../config/usage-error.js';
import type { PhaseClock, WorkerMessage, WorkerResult, WorkerTask } from '../engine/task.js';
import { clientSaturated, loadFindings, resumptionFindings } from '../metrics/findings.js';
import { withServerCost, type PhaseResult } from '../metrics/run-result.js';
import { summarizeTally } from '../metrics/summary.js';
import { mergeTallies } from '../metrics/tally.js';
import { mergeTimelinePoints, type Snapshot, type TimelinePoint } from '../metrics/timeline.js';
import { OwnProcessSource } from '../server-cpu/cpu-source.js';
import { CpuSampler, now } from './cpu-sampler.js';
import type { ServerCpuSampler } from './server-cpu-sampler.js';
import type { PhaseObserver, SecondCpu } from './phase-observer.js';
import { splitWork } from './work-split.js';

/** Lead time between the start barrier and the first attempt, so every worker starts together. */
const START_LEAD_MS = 50;

export interface PhaseTarget {
  host: string;
  port: number;
  credentials: Credentials;
}

/**
 * One phase: one long task per worker, a start barrier, per-second snapshots merged into a
 * timeline, and the workers' tallies merged exactly into a PhaseResult.
 */
export class PhaseRunner {
  private controls: MessagePort[] = [];
  private stopped = false;

  constructor(
    private readonly pool: Piscina,
    private readonly config: RunConfig,
    private readonly phase: PhasePlan,
    private readonly target: PhaseTarget,
    private readonly observer: PhaseObserver = {},
    private readonly serverCpu: ServerCpuSampler | null = null,
  ) {}

  /** Graceful stop (Ctrl-C): workers abort what is in flight and return what they measured. */
  stop(): void {
    this.stopped = true;
    for (const control of this.controls) control.postMessage({ type: 'stop' });
  }

  async run(): Promise<PhaseResult> {
    const { config, phase } = this;
    const shares = splitWork(config);
    const pending = new Map<number, Snapshot[]>();
    const timeline: TimelinePoint[] = [];
    let clock: PhaseClock | null = null;
    let readyCount = 0;
    let setupFailure: string | null = null;
    let releaseBarrier!: () => void;
    const barrier = new Promise<void>((resolve) => (releaseBarrier = resolve));
    const inFlightBySecond = new Map<number, number>();
    // Only read when someone shows it: a run without a live view reads nothing extra.
    const clientCpu = this.observer.onSecond ? new CpuSampler(new OwnProcessSource()) : null;

    const flushSecond = (second: number) => {
      const group = pending.get(second);
      if (!group) return;
      pending.delete(second);
      const point = mergeTimelinePoints(group);
      point.second = second;
      if (second >= 0) timeline.push(point);
      if (clock) this.observer.onSecond?.(point, phase, clock, inFlightBySecond.get(second) ?? 0, this.secondCpu(point, clock, clientCpu));
      inFlightBySecond.delete(second);
    };

    const onMessage = (message: WorkerMessage) => {
      if (message.type === 'ready' || message.type === 'setup-failed') {
        if (message.type === 'setup-failed') setupFailure ??= message.message;
        if (++readyCount === shares.length) releaseBarrier();
      } else if (message.type === 'snapshot') {
        const s = message.snapshot;
        const group = pending.get(s.second) ?? [];
        group.push(s);
        pending.set(s.second, group);
        inFlightBySecond.set(s.second, (inFlightBySecond.get(s.second) ?? 0) + s.inFlight);
        if (group.length === shares.length) flushSecond(s.second);
      }
    };

    const tasks = shares.map((share) => {
      const { port1, port2 } = new MessageChannel();
      port1.on('message', onMessage);
      this.controls.push(port1);
      const task: WorkerTask = {
        config, phase, share, host: this.target.host, port: this.target.port,
        credentials: this.target.credentials, control: port2,
      };
      return this.pool.run(task, { transferList: [port2] }) as Promise<WorkerResult | null>;
    });

    await barrier;
    if (setupFailure) {
      for (const control of this.controls) control.postMessage({ type: 'stop' });
      await Promise.allSettled(tasks);
      this.closeControls();
      throw new UsageError(`the client TLS settings were rejected: ${setupFailure}`);
    }
    const now = performance.timeOrigin + performance.now();
    const startAt = Math.max(config.startAt ?? 0, now + START_LEAD_MS);
    const rampEndAt = startAt + config.rampMs;
    const windowAt = rampEndAt + config.warmupMs;
    clock = { startAt, rampEndAt, windowAt, endAt: windowAt + (config.durationMs ?? config.maxDurationMs) };
    for (const control of this.controls) control.postMessage({ type: 'start', clock });
    this.serverCpu?.openWindow(clock.windowAt, clock.endAt);
    clientCpu?.everySecond(clock.windowAt, clock.endAt);
    if (this.stopped) this.stop();

    let results: WorkerResult[];
    try {
      results = (await Promise.all(tasks)).filter((r): r is WorkerResult => r !== null);
    } finally {
      clientCpu?.stop();
    }
    // Snapshots travel on the control ports and may trail the task results by a tick.
    await new Promise((resolve) => setImmediate(resolve));
    for (const second of [...pending.keys()].sort((a, b) => a - b)) flushSecond(second);
    this.closeControls();

    const windowEnd = Math.min(clock.endAt, Math.max(...results.map((r) => r.windowEndedAt)));
    const windowMs = Math.max(0, windowEnd - clock.windowAt);
    const tally = mergeTallies(results.map((r) => r.tally));
    const summary = summarizeTally(tally, Math.round(windowMs));
    const elu = results.sort((a, b) => a.index - b.index).map((r) => r.elu);
    const server = this.serverCpu?.closeWindow(clock.windowAt, windowMs);
    return withServerCost({
      name: phase.name,
      resume: phase.resume,
      windowStartedAt: Math.round(clock.windowAt),
      windowMs: Math.round(windowMs),
      interrupted: this.stopped,
      tally,
      summary,
      timeline,
      client: { elu, saturated: clientSaturated(elu, summary.windowSeconds) },
      findings: [
        ...resumptionFindings(phase.resume, tally, summary, config.closeWaitMs),
        ...loadFindings(summary, elu),
      ],
      ...(server ? { server } : {}),
    });
  }

  /**
   * The client's and the server's CPU over the point's second (cut at now when it ended early:
   * Ctrl-C), from readings on the same second boundaries the workers count handshakes on.
   */
  private secondCpu(point: TimelinePoint, clock: PhaseClock, clientCpu: CpuSampler | null): SecondCpu {
    const from = point.at;
    const to = Math.min(point.at + 1000, clock.endAt, now());
    const seconds = (to - from) / 1000;
    if (seconds <= 0) return { clientCores: null, server: null };
    const client = clientCpu?.secondsBetween(from, to) ?? null;
    const server = this.serverCpu?.sampler.secondsBetween(from, to) ?? null;
    const h = point.handshakes;
    const handshakes = h.full + h.resumed + h.miss;
    return {
      clientCores: client === null ? null : client / seconds,
      server: server === null ? null : { cores: server / seconds, perHandshakeUs: handshakes ? (server * 1e6) / handshakes : null },
    };
  }

  private closeControls(): void {
    for (const control of this.controls) control.close();
    this.controls = [];
  }
}
