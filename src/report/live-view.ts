import type { PhasePlan } from '../config/run-config.js';
import type { PhaseClock } from '../engine/task.js';
import type { TimelinePoint } from '../metrics/timeline.js';
import { ms } from './table.js';

/** Off a TTY (CI logs) a plain line this often, so logs stay readable. */
const PLAIN_EVERY_S = 5;

/**
 * The live status: on a TTY one line rewritten every second; elsewhere a plain line every few
 * seconds; nothing when quiet. Always on stderr, so `--json` output on stdout stays clean.
 */
export class LiveView {
  private readonly tty: boolean;
  private p99 = 0;
  private lastPlain = -Infinity;
  /** The phase the plain lines are counted in: each phase (and repeat) starts with its first second. */
  private clock: PhaseClock | null = null;
  private dirty = false;

  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly quiet = false,
  ) {
    this.tty = !!stream.isTTY;
  }

  onSecond(point: TimelinePoint, phase: PhasePlan, clock: PhaseClock, inFlight: number): void {
    // The start barrier's lead-in shows up as an empty second before the window: not news.
    if (this.quiet || (point.second < 0 && point.handshakes.full + point.handshakes.resumed + point.handshakes.miss + point.errors === 0)) return;
    if (clock !== this.clock) {
      this.clock = clock;
      this.lastPlain = -Infinity;
    }
    const total = Math.round((clock.endAt - clock.windowAt) / 1000);
    const stage = point.second < 0 ? `warm-up ${point.second + 1}s` : `${point.second + 1}/${total}s`;
    if (point.p99 > this.p99 && point.second >= 0) this.p99 = point.p99;
    const h = point.handshakes;
    const line = `[${phase.name}] ${stage} · full ${h.full}/s · resumed ${h.resumed}/s${h.miss ? ` · miss ${h.miss}/s` : ''}` +
      ` · errors ${point.errors}${point.dropped ? ` · dropped ${point.dropped}` : ''} · p50 ${ms(point.p50)} ms · p99 ${ms(point.p99)} ms` +
      ` · in flight ${inFlight} · client busy ${(point.elu * 100).toFixed(0)} %`;
    if (this.tty) {
      this.stream.write(`\r\x1b[2K${line}`);
      this.dirty = true;
    } else if (point.second - this.lastPlain >= PLAIN_EVERY_S || point.second === total - 1) {
      this.stream.write(`${line}\n`);
      this.lastPlain = point.second;
    }
  }

  /** Clears the live line before the table is printed. */
  end(): void {
    if (this.dirty) this.stream.write('\r\x1b[2K');
    this.dirty = false;
  }

  say(text: string): void {
    if (this.quiet) return;
    this.end();
    this.stream.write(`${text}\n`);
  }
}
