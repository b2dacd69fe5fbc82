import type { PhasePlan } from '../config/run-config.js';
import type { SecondCpu } from '../coordinator/phase-observer.js';
import type { PhaseClock } from '../engine/task.js';
import type { TimelinePoint } from '../metrics/timeline.js';
import { cpuMicros } from './server-cost-labels.js';
import { ms } from './table.js';

/** Off a TTY (CI logs) a plain line this often, so logs stay readable. */
const PLAIN_EVERY_S = 5;
/** When a TTY does not say its width (some CI pseudo-terminals): the classic terminal. */
const DEFAULT_COLUMNS = 80;

/** One part of the status line; the lower its rank, the longer it stays when the line is too wide. */
interface Part { text: string; rank: number }

/**
 * The parts that fit `width` columns, in their own order: the least important go first. The
 * phase and second always stay (cut with "…" on a terminal narrower than themselves).
 */
export function fitLine(parts: readonly Part[], width: number): string {
  const sep = ' · ';
  const kept = new Set<Part>();
  let length = 0;
  for (const part of [...parts].sort((a, b) => a.rank - b.rank)) {
    const added = part.text.length + (kept.size ? sep.length : 0);
    if (kept.size && length + added > width) continue;
    kept.add(part);
    length += added;
  }
  const line = parts.filter((p) => kept.has(p)).map((p) => p.text).join(sep);
  return line.length > width ? `${line.slice(0, Math.max(0, width - 1))}…` : line;
}

/**
 * Whether the stream can take a line rewritten in place: a TTY whose terminal understands cursor
 * codes. `TERM=dumb` (Emacs shell buffers, some CI runners) gets plain lines, as a log does.
 */
function rewritable(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv): boolean {
  return !!stream.isTTY && env.TERM !== 'dumb';
}

/**
 * The live status: on a terminal one line rewritten every second, fitted to the terminal's width
 * so it never wraps; elsewhere a plain line every few seconds; nothing when quiet. Always on
 * stderr, so `--json` output on stdout stays clean. Every other line written while the status is
 * up goes through `say` or `note`, so it never lands on the status line's row.
 */
export class LiveView {
  private readonly tty: boolean;
  private lastPlain = -Infinity;
  /** Length of the status line on screen (0: none). */
  private shown = 0;
  /** The phase the plain lines are counted in: each phase (and repeat) starts with its first second. */
  private clock: PhaseClock | null = null;

  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly quiet = false,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.tty = rewritable(stream, env);
  }

  onSecond(point: TimelinePoint, phase: PhasePlan, clock: PhaseClock, inFlight: number, cpu: SecondCpu = { clientCores: null, server: null }): void {
    // The start barrier's lead-in shows up as an empty second before the window: not news.
    if (this.quiet || (point.second < 0 && point.handshakes.full + point.handshakes.resumed + point.handshakes.miss + point.errors === 0)) return;
    if (clock !== this.clock) {
      this.clock = clock;
      this.lastPlain = -Infinity;
    }
    const total = Math.round((clock.endAt - clock.windowAt) / 1000);
    const stage = point.second < 0 ? `warm-up ${point.second + 1}s` : `${point.second + 1}/${total}s`;
    const h = point.handshakes;
    const parts: Part[] = [
      { text: `[${phase.name}] ${stage}`, rank: 0 },
      { text: `full ${h.full}/s`, rank: 1 },
      { text: `resumed ${h.resumed}/s`, rank: 1 },
      ...(h.miss ? [{ text: `miss ${h.miss}/s`, rank: 2 }] : []),
      { text: `errors ${point.errors}`, rank: 2 },
      ...(point.dropped ? [{ text: `dropped ${point.dropped}`, rank: 2 }] : []),
      { text: `p50 ${ms(point.p50)} ms`, rank: 4 },
      { text: `p99 ${ms(point.p99)} ms`, rank: 3 },
      { text: `in flight ${inFlight}`, rank: 6 },
      { text: `client busy ${(point.elu * 100).toFixed(0)} %`, rank: 5 },
      ...(cpu.clientCores === null ? [] : [{ text: `client CPU ${cpu.clientCores.toFixed(2)} cores`, rank: 5 }]),
      // Only a measured server has figures: none is ever shown for a server that was not.
      ...(cpu.server ? [{ text: `server CPU ${cpu.server.cores.toFixed(2)} cores`, rank: 4 }] : []),
      ...(cpu.server?.perHandshakeUs != null ? [{ text: `server CPU ${cpuMicros(cpu.server.perHandshakeUs)} µs/handshake`, rank: 3 }] : []),
    ];
    if (this.tty) {
      // One column short of the width: a line that fills the last column leaves some terminals
      // with a pending wrap, and the next \r then lands on the row below.
      const line = fitLine(parts, this.columns() - 1);
      this.clear();
      this.stream.write(line);
      this.shown = line.length;
    } else if (point.second - this.lastPlain >= PLAIN_EVERY_S || point.second === total - 1) {
      this.stream.write(`${fitLine(parts, Infinity)}\n`);
      this.lastPlain = point.second;
    }
  }

  private columns(): number {
    return this.stream.columns || DEFAULT_COLUMNS;
  }

  /**
   * Removes the status line. A terminal made narrower since it was written (most terminals
   * reflow) now shows it on several rows: go up to its first row and clear to the end of screen.
   */
  private clear(): void {
    if (!this.shown) return;
    const rows = Math.ceil(this.shown / this.columns());
    this.stream.write(rows > 1 ? `\r\x1b[${rows - 1}A\x1b[J` : '\r\x1b[2K');
    this.shown = 0;
  }

  /** Clears the live line before the table is printed. */
  end(): void {
    this.clear();
  }

  /** A progress line (repeat, cell, target): not with --quiet. */
  say(text: string): void {
    if (this.quiet) return;
    this.note(text);
  }

  /** A line that is printed even with --quiet (a warning, an asked-for probe), never onto the status line. */
  note(text: string): void {
    this.clear();
    this.stream.write(`${text}\n`);
  }
}
