// A real terminal of a set width for the live-status tests: a detached tmux session on a socket
// of its own (so it touches no other tmux), whose screen is read back with capture-pane.
import { execFileSync, spawnSync } from 'node:child_process';

export function tmuxAvailable(): boolean {
  return spawnSync('tmux', ['-V']).status === 0;
}

export class TmuxPane {
  private constructor(private readonly socket: string) {}

  /** Runs `argv` (with `env` on top of this process's) in a new `columns`×`rows` terminal; the pane stays after it exits. */
  static start(argv: string[], columns: number, rows: number, env: Record<string, string> = {}): TmuxPane {
    const socket = `tlsbench-test-${process.pid}-${Date.now()}`;
    const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    const vars = Object.entries(env).map(([k, v]) => `${k}=${quote(v)}`);
    const command = `env ${vars.join(' ')} ${argv.map(quote).join(' ')}; echo __EXIT__$?; sleep 600`;
    execFileSync('tmux', ['-L', socket, '-f', '/dev/null', 'new-session', '-d', '-s', 'main', '-x', String(columns), '-y', String(rows), command]);
    return new TmuxPane(socket);
  }

  /**
   * The screen with wrapped rows joined back into the lines they came from (a line that wrapped
   * is longer than the terminal is wide); with `history`, the rows scrolled off it too.
   */
  lines(history = false): string[] {
    return this.tmux(['capture-pane', '-p', '-J', ...(history ? ['-S', '-'] : []), '-t', 'main']).replace(/\n+$/, '').split('\n');
  }

  resize(columns: number): void {
    this.tmux(['resize-window', '-t', 'main', '-x', String(columns)]);
  }

  /** The command's exit status once it has exited, else null. */
  exitCode(): number | null {
    const m = /__EXIT__(\d+)/.exec(this.lines().join('\n'));
    return m ? Number(m[1]) : null;
  }

  /** Ends this session's own tmux server (and the command, if still running). */
  close(): void {
    spawnSync('tmux', ['-L', this.socket, 'kill-server']);
  }

  private tmux(args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, ...args], { encoding: 'utf8' });
  }
}
