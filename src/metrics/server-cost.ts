/**
 * Server cost: server CPU-seconds (user + system, every process and thread) over the measured
 * window ÷ handshakes completed in it. The figure that ranks certificates, groups and ciphers
 * for a server operator, whatever limited the client. Every figure here is one of the server.
 */
import type { ServerCpu } from './server-cpu.js';
import type { PhaseSummary } from './summary.js';
import { HANDSHAKE_CLASSES, type HandshakeClass } from './tally.js';

export interface ServerCost {
  /** User + system CPU-seconds of the server over the window. */
  cpuSeconds: number;
  /** Handshakes completed in the window (every class). */
  handshakes: number;
  /** Share of those handshakes per class: the figure is of this mix (a phase separates classes). */
  classShares: Partial<Record<HandshakeClass, number>>;
  /** Server CPU-µs per completed handshake; null when none completed. */
  perHandshakeUs: number | null;
  /** Handshakes per server core-second (1e6 ÷ perHandshakeUs); null when no CPU was measured. */
  handshakesPerCoreSecond: number | null;
  /** Cores the server kept busy on average over the window. */
  coresBusy: number;
  /** coresBusy ÷ the server host's logical CPUs (0..1). */
  machineShare: number;
}

export function serverCost(server: ServerCpu, summary: PhaseSummary): ServerCost {
  const cpuSeconds = server.userSeconds + server.systemSeconds;
  const counts = HANDSHAKE_CLASSES.map((cls) => [cls, summary.classes[cls]?.handshakes ?? 0] as const);
  const handshakes = counts.reduce((a, [, n]) => a + n, 0);
  const classShares: Partial<Record<HandshakeClass, number>> = {};
  for (const [cls, n] of counts) if (n > 0) classShares[cls] = n / handshakes;
  const seconds = summary.windowSeconds * server.coverage;
  const coresBusy = seconds > 0 ? cpuSeconds / seconds : 0;
  return {
    cpuSeconds,
    handshakes,
    classShares,
    perHandshakeUs: handshakes > 0 ? (cpuSeconds * 1e6) / handshakes : null,
    handshakesPerCoreSecond: cpuSeconds > 0 ? handshakes / cpuSeconds : null,
    coresBusy,
    machineShare: server.cores > 0 ? coresBusy / server.cores : 0,
  };
}

/** A phase as far as server cost needs it. */
export interface CostedPhase {
  resume: string;
  summary: PhaseSummary;
  serverCost?: ServerCost;
}

/**
 * Server CPU per full handshake ÷ per resumed handshake: the saving a server operator gets from
 * resumption. The resumed phase's full and miss handshakes (a slot's first, refused offers) are
 * charged at the full phase's cost, so the divisor is the resumed handshakes' own cost.
 * null when either phase has no server figure or the estimate is not positive.
 */
export function serverCpuRatio(full: CostedPhase, resumed: CostedPhase): number | null {
  const fullCost = full.serverCost?.perHandshakeUs ?? null;
  const r = resumed.serverCost;
  const resumedCount = resumed.summary.classes.resumed?.handshakes ?? 0;
  if (fullCost === null || !r || resumedCount === 0) return null;
  const others = r.handshakes - resumedCount;
  const resumedCost = (r.cpuSeconds * 1e6 - others * fullCost) / resumedCount;
  return resumedCost > 0 ? fullCost / resumedCost : null;
}

/** "full", "resumed", or "97 % resumed, 3 % full": which handshakes a per-handshake figure is of. */
export function classMixLabel(shares: Partial<Record<HandshakeClass, number>>): string {
  const entries = HANDSHAKE_CLASSES.filter((c) => shares[c] !== undefined).map((c) => [c, shares[c]!] as const)
    .sort((a, b) => b[1] - a[1]);
  if (entries.length === 0) return 'no handshake';
  if (entries.length === 1) return entries[0]![0];
  return entries.map(([c, s]) => `${s >= 0.995 ? '>99' : s < 0.005 ? '<1' : (s * 100).toFixed(0)} % ${c}`).join(', ');
}
