import type { PhaseResult } from '../metrics/run-result.js';
import { measureWindow, type ServerCpu } from '../metrics/server-cpu.js';

/**
 * The server CPU of a merged phase (the caller recomputes `serverCost` from it):
 * - load machines at the same time (`concurrent`): one server, so its CPU is never added up;
 *   the first part's readings are measured again over the merged window;
 * - repeats one after another: each repeat's window CPU adds up, like its window does. Their
 *   readings started from different zeros (a built-in server per repeat), so none are kept.
 * Nothing when no part measured the server; with repeats, only when every one did.
 */
export function mergeServerCpu(parts: readonly PhaseResult[], concurrent: boolean, windowStartedAt: number, windowMs: number): { server?: ServerCpu } {
  const measured = parts.map((p) => p.server).filter((s): s is ServerCpu => !!s);
  if (measured.length === 0) return {};
  const first = measured[0]!;
  const origin = { source: first.source, host: first.host, cores: first.cores, sharedWithClient: first.sharedWithClient };
  if (concurrent) return { server: measureWindow(origin, first.readings, windowStartedAt, windowMs) };
  if (measured.length < parts.length) return {};
  const total = (pick: (s: ServerCpu) => number) => measured.reduce((a, s) => a + pick(s), 0);
  return {
    server: {
      ...origin,
      userSeconds: total((s) => s.userSeconds),
      systemSeconds: total((s) => s.systemSeconds),
      processes: Math.max(...measured.map((s) => s.processes)),
      coverage: windowMs > 0 ? parts.reduce((a, p) => a + p.server!.coverage * p.windowMs, 0) / windowMs : 1,
      readings: [],
    },
  };
}
