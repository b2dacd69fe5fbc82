/**
 * `tlsbench observe --pid PID -d D --out server.json`: on the server's host, read the server's
 * CPU for the load machines' run; `tlsbench merge` / `report --server` join it by wall clock.
 */
import type { CommandModule } from 'yargs';
import { parseDuration } from '../config/duration.js';
import { UsageError } from '../config/usage-error.js';
import { toolVersion } from '../coordinator/runtime-info.js';
import { onInterrupt } from '../coordinator/signals.js';
import { writeFileAtomic } from '../report/atomic-file.js';
import { resolveMeasuredServer, sourceFor } from '../server-cpu/measured-server.js';
import { observe } from '../server-cpu/observation.js';

interface ObserveArgs {
  pid?: string;
  cgroup?: string;
  startAt?: string;
  duration: string;
  interval: string;
  out: string;
}

/** Finer readings make the window edges more exact; coarser than a second would blur the timeline. */
const MIN_INTERVAL_MS = 100;
const MAX_INTERVAL_MS = 1000;

export const observeCommand: CommandModule<object, ObserveArgs> = {
  command: 'observe',
  describe: "Read a server's CPU on its own host during a run from other machines (join with merge or report --server)",
  builder: (y) =>
    y
      .option('pid', { type: 'string', describe: 'server process(es): PID[,PID…], each with its children (nginx master, HAProxy)' })
      .option('cgroup', { type: 'string', describe: 'server cgroup v2 (a systemd unit, a container): a path, absolute or under the cgroup mount' })
      .option('start-at', { type: 'string', describe: 'wall-clock start (ISO 8601); give the load machines\' --start-at' })
      .option('duration', { alias: 'd', type: 'string', demandOption: true, describe: 'how long to read, e.g. 2m: span warm-up and every phase of the run' })
      .option('interval', { type: 'string', default: '1s', describe: `time between readings (${MIN_INTERVAL_MS}ms–1s)` })
      .option('out', { alias: 'o', type: 'string', demandOption: true, describe: 'write the readings to FILE (atomically)' })
      .example('tlsbench observe --pid $(pgrep -o nginx) --start-at 2026-11-22T14:00:00Z -d 3m --out server.json', '')
      .epilog('Then, where the results are: tlsbench merge part-*.json server.json --out merged.json ' +
        '(or tlsbench report result.json --server server.json). The hosts\' clocks must agree (NTP).') as never,
  handler: async (argv) => {
    const problems: string[] = [];
    const measured = resolveMeasuredServer(argv.pid === undefined ? [] : [argv.pid], argv.cgroup, { pid: '--pid', cgroup: '--cgroup' }, problems);
    if (!measured && problems.length === 0) problems.push('say which server to read: --pid PID[,PID…] and/or --cgroup PATH');
    const attempt = (fn: () => number): number | null => {
      try {
        return fn();
      } catch (err) {
        if (!(err instanceof UsageError)) throw err;
        problems.push(err.message);
        return null;
      }
    };
    const durationMs = attempt(() => parseDuration(argv.duration, '--duration'));
    if (durationMs === 0) problems.push('--duration must be longer than 0');
    const intervalMs = attempt(() => parseDuration(argv.interval, '--interval'));
    if (intervalMs !== null && (intervalMs < MIN_INTERVAL_MS || intervalMs > MAX_INTERVAL_MS)) problems.push(`--interval must be between ${MIN_INTERVAL_MS}ms and 1s`);
    let startAt: number | null = null;
    if (argv.startAt !== undefined) {
      startAt = Date.parse(argv.startAt);
      if (Number.isNaN(startAt)) problems.push(`--start-at: '${argv.startAt}' is not a time; use ISO 8601, e.g. 2026-11-22T14:00:00Z`);
    }
    if (problems.length) throw new UsageError(problems.length === 1 ? problems[0]! : `${problems.length} problems:\n  - ${problems.join('\n  - ')}`);

    const stop = new AbortController();
    const release = onInterrupt(() => stop.abort());
    const source = sourceFor(measured!);
    process.stderr.write(`observing ${source.description}${startAt ? ` from ${new Date(startAt).toISOString()}` : ''} for ${argv.duration}\n`);
    try {
      const observation = await observe({ source, startAt, durationMs: durationMs!, intervalMs: intervalMs!, toolVersion: toolVersion(), signal: stop.signal });
      writeFileAtomic(argv.out, `${JSON.stringify(observation, null, 2)}\n`);
      const first = observation.readings[0]!;
      const last = observation.readings.at(-1)!;
      const cpu = last.userSeconds + last.systemSeconds - first.userSeconds - first.systemSeconds;
      process.stderr.write(`${observation.readings.length} readings, ${cpu.toFixed(2)} server CPU-s over ${((last.at - first.at) / 1000).toFixed(1)} s, written to ${argv.out}\n`);
      if (observation.interrupted) process.exitCode = 130;
    } finally {
      release();
    }
  },
};
