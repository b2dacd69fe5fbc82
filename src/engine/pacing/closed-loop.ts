import { setTimeout as sleep } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import type { Engine } from '../engine.js';
import { CLIENT_RESOURCES } from '../errors.js';

/** Longest pause of a slot that keeps failing for lack of client resources. */
const MAX_BACKOFF_MS = 100;

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
    let backoffMs = 0;
    for (;;) {
      const claim = engine.claim();
      if (claim === 'none') return;
      const errorClass = await engine.launch(index, claim);
      // Out of descriptors or ports, a socket fails before any I/O, so retrying at once would
      // chain attempts without ever yielding to the event loop: no timer (end of window), no stop
      // message (Ctrl-C) would run, and memory would grow. Back off, doubling up to a ceiling.
      if (errorClass === CLIENT_RESOURCES) {
        backoffMs = Math.min(MAX_BACKOFF_MS, backoffMs * 2 || 1);
        await sleep(backoffMs);
      } else {
        backoffMs = 0;
      }
    }
  };
  await Promise.all(Array.from({ length: slots }, (_, i) => slot(i)));
}
