// Builds and starts test/fixtures/last-ticket-server.c: a TLS 1.3 server that issues two (or N)
// tickets per connection and resumes only the last one issued on that connection, logging one
// line per connection. Built with the system C compiler against the system OpenSSL (libssl-dev).
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { spawnManaged, startOnFreePort } from './process.js';

const execFileP = promisify(execFile);
/** dist/test/support → the source tree's test/fixtures (tsc does not copy C sources). */
const SOURCE = fileURLToPath(new URL('../../../test/fixtures/last-ticket-server.c', import.meta.url));

/** One connection as the server logged it. */
export interface TicketLogLine {
  connection: number;
  /** `<connection>.<ordinal>` of the ticket the client offered, or null when it offered none. */
  offered: string | null;
  resumed: boolean;
  issued: number;
}

export interface LastTicketServer {
  host: '127.0.0.1';
  port: number;
  log(): TicketLogLine[];
  stop(): Promise<void>;
}

export function parseTicketLog(text: string): TicketLogLine[] {
  // A connection without a handshake (a probe, a client that gave up) is logged as `failed`: not a handshake.
  return text.split('\n').filter((l) => l.startsWith('conn=') && !l.endsWith(' failed')).map((line) => {
    const m = /^conn=(\d+) offered=(\S+) resumed=([01]) issued=(\d+)$/.exec(line);
    if (!m) throw new Error(`unexpected last-ticket-server line: ${line}`);
    return { connection: Number(m[1]), offered: m[2] === 'none' ? null : m[2]!, resumed: m[3] === '1', issued: Number(m[4]) };
  });
}

/** Builds the server, or returns why it cannot be built here (no compiler or no OpenSSL headers). */
export async function startLastTicketServer(certPath: string, keyPath: string, tickets = 2): Promise<LastTicketServer | string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'tlsbench-last-ticket-'));
  const binary = path.join(dir, 'last-ticket-server');
  try {
    await execFileP('cc', ['-O1', '-o', binary, SOURCE, '-lssl', '-lcrypto']);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    return `cannot build the two-ticket fixture (needs cc and libssl-dev): ${(err as Error).message.split('\n')[0]}`;
  }
  const started = await startOnFreePort(async (port) => {
    const args = [String(port), certPath, keyPath, String(tickets)];
    return { proc: spawnManaged(binary, args, { removeOnExit: dir }), command: `last-ticket-server ${args.join(' ')}` };
  }, { bindFailed: /^bind\/listen: address already in use/im }).catch(async (err: unknown) => {
    await rm(dir, { recursive: true, force: true });
    throw err;
  });
  const { port, launched: { proc } } = started;
  return {
    host: '127.0.0.1',
    port,
    log: () => parseTicketLog(proc.output()),
    stop: async () => {
      await proc.stop('SIGTERM', 2000);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
