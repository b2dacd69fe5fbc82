import { performance } from 'node:perf_hooks';
import type { Engine } from '../engine.js';
import { arrivalTime } from './arrivals.js';

/**
 * Open loop (wrk2-style): attempts start on a fixed schedule whatever the server does. An
 * arrival that finds all `maxInFlight` slots busy is dropped and counted, never delayed, and
 * latency is also measured from the intended start so a stalled server cannot hide.
 */
export async function runOpenLoop(
  engine: Engine,
  opts: { totalRate: number; workers: number; index: number; maxInFlight: number; rampMs: number },
): Promise<void> {
  const { startAt } = engine.clock;
  const freeSlots = Array.from({ length: opts.maxInFlight }, (_, i) => opts.maxInFlight - 1 - i);
  const running = new Set<Promise<void>>();
  let k = opts.index;
  await new Promise<void>((resolve) => {
    const tick = () => {
      if (!engine.running) return resolve();
      const now = performance.now();
      let intended = startAt + arrivalTime(k, opts.totalRate, opts.rampMs);
      while (intended <= now) {
        // Classified by when the arrival was due, not when a late tick got to it.
        const claim = engine.claim(intended);
        if (claim === 'none') return resolve();
        engine.arrive(claim);
        const slot = freeSlots.pop();
        if (slot === undefined) {
          engine.drop(claim, intended);
        } else {
          const p = engine.launch(slot, claim, intended).then(() => {
            freeSlots.push(slot);
            running.delete(p);
          });
          running.add(p);
        }
        k += opts.workers;
        intended = startAt + arrivalTime(k, opts.totalRate, opts.rampMs);
      }
      setTimeout(tick, Math.max(0, intended - performance.now()));
    };
    tick();
  });
  await Promise.all(running);
}
