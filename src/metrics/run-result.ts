import type { ResumeMode, RunConfig } from '../config/run-config.js';
import type { TargetProbe } from '../engine/probe.js';
import { serverCost, serverCpuRatio, type ServerCost } from './server-cost.js';
import type { ServerCpu } from './server-cpu.js';
import type { BuiltInServerCounts } from './built-in-server-counts.js';
import { summarizeTally, type PhaseSummary } from './summary.js';
import type { HandshakeClass, Tally } from './tally.js';
import type { TimelinePoint } from './timeline.js';

/**
 * Bumped whenever the shape of RunResult changes (schema/run-result.schema.json follows it).
 * 2: optional `machines` (merged results) and per-phase `samples` (--repeat).
 * 4: per-phase `server` (server CPU over the window) and `serverCost`; `samples[].serverCpuUs`;
 *    `resumptionGain.serverCpuRatio`.
 * 5: `machines[]` (merged results) carry each machine's source, workers, --start-at and, per
 *    phase, its window, client load and rate: a merged result says how its machines ran.
 *    Also OCSP stapling: `config.tls.ocsp`/`requireStaple`, `config.server.ocspStaple`,
 *    `target.builtIn.ocspStaple`, per-class `ocsp` in tallies and summaries, `probe.ocsp`.
 * 6: comparisons carry `gate`, per row `crossed`, per threshold `failed`, `withinNoise`, `noSpread`, `passed`.
 * 7: TLS 1.3 early data (`config.earlyData`, per phase `earlyData` with its `zeroRtt` tally and
 *    summary, the `first-byte` latency metric); the negotiated sample's `clientCertificateRequested`
 *    (native engine); `probe.refusals` (why a version the server speaks was refused).
 * 8: `config.server.engine` (--server-engine) and `target.builtIn.engine` (the server that ran: node
 *    or native).
 */
export const SCHEMA_VERSION = 8;

export interface RuntimeInfo {
  node: string;
  openssl: string;
  platform: string;
  arch: string;
  cpuModel: string;
  cores: number;
  hostname: string;
  /** CPUs the client was pinned to, or null when it was not pinned. */
  clientCpus: number[] | null;
}

/** One phase as one load machine of a merged result ran it. */
export interface MachinePhase {
  name: string;
  /** Its own measured window (epoch ms); set beside the merged window it shows the alignment. */
  windowStartedAt: number;
  windowMs: number;
  /** Handshakes of every class per second of its own window. */
  rate: number;
  client: ClientLoad;
}

/** A load machine of a merged result: its runtime and how its own run went. */
export interface MachineInfo extends RuntimeInfo {
  /** Where it came from: the file given to `tlsbench merge` (or #1, #2, …). */
  source: string;
  workers: number;
  /** The shared wall-clock start it waited for (epoch ms), or null. */
  startAt: number | null;
  phases: MachinePhase[];
}

export interface ClientLoad {
  /** Event-loop utilisation of each worker over the measured window (0..1). */
  elu: number[];
  /** True when some worker was busy enough that the client, not the server, may be the limit. */
  saturated: boolean;
}

export interface PhaseResult {
  name: string;
  resume: ResumeMode;
  /** Epoch ms when the measured window opened, and its actual length. */
  windowStartedAt: number;
  windowMs: number;
  interrupted: boolean;
  /** The mergeable source of truth; `summary` is derived from it. */
  tally: Tally;
  summary: PhaseSummary;
  timeline: TimelinePoint[];
  client: ClientLoad;
  /** Plain-language findings: why nothing resumed, that the client was saturated, … */
  findings: string[];
  /**
   * With --repeat N: the headline figures of each repeat, in order, so `compare` knows the
   * run-to-run spread. Absent for a single run (and after merging machines).
   */
  samples?: PhaseSample[];
  /** The server's CPU over the window, when it was measured (built-in server, --server-pid, …). */
  server?: ServerCpu;
  /** Derived from `server` and the summary: server CPU per handshake, cores busy, … */
  serverCost?: ServerCost;
  /** The built-in server's own counts over the phase (warm-up included), when it could be asked. */
  builtInServer?: BuiltInServerCounts;
}

/** One class in one repeat: handshakes/s and TLS handshake latency (µs). */
export interface ClassSample {
  rate: number;
  p50: number;
  p99: number;
}

/** The headline figures of one repeat of a phase. */
export interface PhaseSample {
  windowStartedAt: number;
  windowMs: number;
  /** Handshakes of every class per second. */
  rate: number;
  hitRate: number | null;
  classes: Partial<Record<HandshakeClass, ClassSample>>;
  /** Server CPU-µs per handshake of this repeat, when the server was measured. */
  serverCpuUs?: number;
}

export interface BuiltInTarget {
  /** Which server ran (server-engine.ts); absent in results before schema 8 (Node's). */
  engine?: 'node' | 'native';
  keyType: string;
  cpus: number[] | null;
  coreSplit: string;
  tickets: boolean;
  sessionCache: boolean;
  mtls: false | 'required' | 'optional';
  ocspStaple: 'good' | 'revoked' | 'none';
}

export interface TargetInfo {
  host: string;
  port: number;
  /** The address the workers connect to: resolved once, so no attempt pays for a DNS lookup. */
  address?: string;
  servername: string | null;
  builtIn: BuiltInTarget | null;
}

/** Resumed vs full, when a run measured both. Ratios > 1 mean resumption helps. */
export interface ResumptionGain {
  throughputRatio: number | null;
  p50LatencyRatio: number | null;
  /** Server CPU per full handshake ÷ per resumed handshake; null when the server was not measured. */
  serverCpuRatio: number | null;
}

export interface RunResult {
  schemaVersion: number;
  tool: { name: 'tlsbench'; version: string };
  startedAt: string;
  finishedAt: string;
  interrupted: boolean;
  config: RunConfig;
  target: TargetInfo;
  /** The client runtime; after a merge, the first machine's. */
  runtime: RuntimeInfo;
  /** After `tlsbench merge`: every load machine (runtime, load, window), `runtime` first. */
  machines?: MachineInfo[];
  phases: PhaseResult[];
  resumptionGain: ResumptionGain | null;
  warnings: string[];
  /** Why the run could not finish (its built-in server died): the run failed, whatever it measured. */
  failure?: string;
  /** With --probe: what one look at the target found before the load. */
  probe?: TargetProbe;
}

/** Recomputes summaries from tallies, e.g. after a merge or when a file is read. */
export function resummarize(phase: PhaseResult): PhaseResult {
  return withServerCost({ ...phase, summary: summarizeTally(phase.tally, phase.windowMs) });
}

/** Recomputes the derived `serverCost` from `server` and the summary (drops it without `server`). */
export function withServerCost(phase: PhaseResult): PhaseResult {
  const { serverCost: _old, ...rest } = phase;
  return phase.server ? { ...rest, serverCost: serverCost(phase.server, phase.summary) } : rest;
}

export function resumptionGain(phases: readonly PhaseResult[]): ResumptionGain | null {
  const full = phases.find((p) => p.resume === 'none');
  const resumed = phases.find((p) => p.resume !== 'none');
  if (!full || !resumed) return null;
  const fullClass = full.summary.classes.full;
  const resumedClass = resumed.summary.classes.resumed;
  const ratio = (a: number | undefined, b: number | undefined) => (a && b ? a / b : null);
  return {
    throughputRatio: ratio(resumedClass?.rate, fullClass?.rate),
    p50LatencyRatio: ratio(fullClass?.latency.tls?.p50, resumedClass?.latency.tls?.p50),
    serverCpuRatio: serverCpuRatio(full, resumed),
  };
}
