import type { PhaseResult, PhaseSample } from '../metrics/run-result.js';
import { HANDSHAKE_CLASSES } from '../metrics/tally.js';

/** The headline figures of one run of a phase, kept per repeat for the spread. */
export function phaseSample(phase: PhaseResult): PhaseSample {
  const s = phase.summary;
  const classes: PhaseSample['classes'] = {};
  for (const cls of HANDSHAKE_CLASSES) {
    const c = s.classes[cls];
    if (!c) continue;
    classes[cls] = { rate: c.rate, p50: c.latency.tls?.p50 ?? 0, p99: c.latency.tls?.p99 ?? 0 };
  }
  const serverCpuUs = phase.serverCost?.perHandshakeUs;
  return {
    windowStartedAt: phase.windowStartedAt, windowMs: phase.windowMs, rate: s.rate, hitRate: s.hitRate, classes,
    ...(serverCpuUs != null ? { serverCpuUs } : {}),
  };
}
