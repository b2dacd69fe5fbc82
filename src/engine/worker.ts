import type { CoordinatorMessage, WorkerMessage, WorkerResult, WorkerTask } from './task.js';
import { Engine, waitForStart } from './engine.js';
import { runClosedLoop } from './pacing/closed-loop.js';
import { runOpenLoop } from './pacing/open-loop.js';
import { NativeWorkerLoop } from './native-engine.js';

/**
 * The piscina task: one per worker per phase, long-lived. Setup errors (a bad cipher string, an
 * unreadable key) are reported before the start barrier so the coordinator can say what is wrong.
 */
export default async function runWorker(task: WorkerTask): Promise<WorkerResult | null> {
  const { control, config, share } = task;
  const post = (message: WorkerMessage) => control.postMessage(message);
  let engine: Engine;
  let native: NativeWorkerLoop | null = null;
  try {
    engine = new Engine(task, post);
    // The native engine (config.engine, chosen by the coordinator) runs the closed or open loop in C.
    if (config.engine?.name === 'native') {
      native = new NativeWorkerLoop(task);
      engine.attachOutsideLoad(native.outsideLoad());
    }
  } catch (err) {
    post({ type: 'setup-failed', message: (err as Error).message });
    control.close();
    return null;
  }
  const started = waitForStart(control);
  post({ type: 'ready' });
  const clock = await started;
  if (!clock) {
    control.close();
    return null;
  }
  control.on('message', (message: CoordinatorMessage) => {
    if (message.type === 'stop') engine.stop();
  });
  engine.begin(clock);
  const { rampEndAt, startAt } = engine.clock;
  await (native ? native.run(engine)
    : share.rate !== null
    ? runOpenLoop(engine, {
        totalRate: config.rate!,
        workers: config.workers,
        index: share.rateOffset,
        maxInFlight: share.slots,
        rampMs: rampEndAt - startAt,
      })
    : runClosedLoop(engine, share.slots));
  engine.stop();
  const result = await engine.result();
  control.close();
  return result;
}
