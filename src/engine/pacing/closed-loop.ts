import { setTimeout as sleep } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import type { Engine } from '../engine.js';

/**
 * Closed loop: every slot starts its next attempt the moment the last one ends. With a ramp,
 * slot i joins at rampStart + ramp·i/slots, so concurrency rises linearly.
 */
export async function runClosedLoop(engine: Engine, slots: number): Promise<void> {
  const { startAt, rampEndAt } = engine.clock;
  const slot = async (index: number) => {
    const joinAt = startAt + ((rampEndAt - startAt) * index) / slots;
    // Timers may fire up to a millisecond early; a slot that woke before the window opened
    // would have its first attempt filed as warm-up.
    while (performance.now() < joinAt) await sleep(Math.max(1, joinAt - performance.now()));
    for (;;) {
      const claim = engine.claim();
      if (claim === 'none') return;
      await engine.launch(index, claim);
    }
  };
  await Promise.all(Array.from({ length: slots }, (_, i) => slot(i)));
}
