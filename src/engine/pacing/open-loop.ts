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
    let timer: NodeJS.Timeout | undefined;
    const tick = () => {
      const now = performance.now();
      // Once stopped, arrivals due before the stop that this tick comes late for still arrived.
      const late = !engine.running;
      let intended = startAt + arrivalTime(k, opts.totalRate, opts.rampMs);
      while (intended <= now) {
        // Classified by when the arrival was due, not when a late tick got to it.
        const claim = late ? engine.claimLate(intended) : engine.claim(intended);
        if (claim === 'none') return resolve();
        engine.arrive(claim);
        const slot = freeSlots.pop();
        if (slot === undefined) {
          engine.drop(claim, intended);
        } else if (late) {
          engine.arrivalAtClose(slot, claim, intended);
          freeSlots.push(slot);
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
      if (late) return resolve();
      timer = setTimeout(tick, Math.max(0, intended - performance.now()));
    };
    // At the stop, at once: a slow schedule's next tick may be far off.
    void engine.done.then(() => {
      clearTimeout(timer);
      tick();
    });
    tick();
  });
  await Promise.all(running);
}
