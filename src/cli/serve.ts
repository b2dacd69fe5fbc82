/**
 * `tlsbench serve`: run the built-in target until SIGINT/SIGTERM.
 * Parse → validate (serve-flags) → start (target-server / cluster) → say where things are.
 */
import cluster from 'node:cluster';
import type { CommandModule } from 'yargs';
import { runTargetClusterWorker, startTargetCluster } from '../server/cluster.js';
import { KEY_TYPES } from '../server/pki.js';
import { isLoopback, serveOptionsFromFlags, type ServeFlags } from '../server/serve-flags.js';
import { SERVE_DEFAULTS } from '../api/serve.js';
import { ON_OFF } from '../config/run-option-table.js';
import { TLS_CHOICES } from '../config/tls-versions.js';
import { neverResumesReason, type ServeOptions } from '../server/target-server.js';
import { chooseBuiltInEngine, startBuiltInServer } from '../server/built-in-server.js';
import { SERVER_ENGINES, type ServerEngineChoice } from '../server/server-engine.js';
import type { CertificateChain } from '../server/pki.js';
import { UsageError } from '../config/usage-error.js';
import { STAPLE_CHOICES } from '../server/ocsp-stapler.js';
import { mtlsModeOf } from '../server/client-certificates.js';
import { onLines } from '../server/control-lines.js';
import type { TargetServerStats } from '../server/target-server.js';

/** The stop line: what the server did, in counts a test or a user can hold a client's report against. */
function stopSummary(stats: TargetServerStats): string {
  const parts = [`${stats.handshakes} handshakes (${stats.resumed} resumed), ${stats.tlsClientErrors} failed`];
  if (stats.ocsp) parts.push(`${stats.ocsp.staples} OCSP staples`);
  const c = stats.clientCertificates;
  if (c) {
    const rejected = Object.entries(c.rejected).map(([why, n]) => `${n} ${why}`).join(', ');
    parts.push(`client certificates: requested ${c.requested}, sent ${c.sent}, accepted ${c.accepted}, rejected ${rejected || 0}`);
  }
  return parts.join('; ');
}

const onOff = (on: boolean) => ON_OFF[on ? 0 : 1];

interface ServeArgs extends ServeFlags {
  readyJson: boolean;
  exitOnStdinClose: boolean;
}

export const serveCommand: CommandModule<object, ServeArgs> = {
  command: 'serve',
  describe: 'Run the built-in TLS target server',
  builder: (y) =>
    y
      .option('engine', { type: 'string', choices: SERVER_ENGINES, default: SERVE_DEFAULTS.engine, describe: 'node: Node\'s TLS server; native: OpenSSL driven by the native addon (rejects a client certificate inside the handshake, with an alert); auto: native with --mtls when built, else node' })
      .option('port', { type: 'number', default: 8443, describe: 'Port to listen on (0: any free port)' })
      .option('host', { type: 'string', default: SERVE_DEFAULTS.host, describe: 'Address to listen on' })
      .option('tls', { type: 'string', choices: TLS_CHOICES, default: SERVE_DEFAULTS.tls, describe: 'TLS versions accepted' })
      .option('tickets', { type: 'string', choices: ON_OFF, default: onOff(SERVE_DEFAULTS.tickets), describe: 'Issue session tickets' })
      .option('session-cache', { type: 'string', choices: ON_OFF, default: onOff(SERVE_DEFAULTS.sessionCache), describe: 'Keep a TLS 1.2 session-ID cache' })
      .option('key-type', { type: 'string', choices: KEY_TYPES, default: SERVE_DEFAULTS.keyType, describe: 'Certificate key type' })
      .option('mtls', { type: 'string', describe: 'Ask for a client certificate issued by the CA: required (a bare --mtls) or optional (accept a client without one); one sent must verify' })
      .option('crl', { type: 'string', describe: 'With --mtls: reject client certificates this CRL revokes (PEM or DER; must be the CA\'s and in force)' })
      .option('ocsp-staple', { type: 'string', choices: STAPLE_CHOICES, default: SERVE_DEFAULTS.ocspStaple, describe: 'OCSP response stapled for clients that ask (status_request), signed by the chain\'s OCSP responder' })
      .option('ciphers', { type: 'string', describe: 'TLS 1.2 cipher list (OpenSSL syntax)' })
      .option('ciphersuites', { type: 'string', describe: 'TLS 1.3 cipher suites, colon-separated' })
      .option('groups', { type: 'string', describe: 'Key-exchange groups, colon-separated (e.g. X25519:P-256)' })
      .option('response-bytes', { type: 'number', default: 0, describe: 'Body size of each response' })
      .option('workers', { type: 'number', default: 1, describe: 'Server processes sharing the port (threads of one process on the native engine)' })
      .option('cert-dir', { type: 'string', describe: 'Directory holding the certificate chain (created if needed)' })
      .option('san', { type: 'string', array: true, describe: 'Extra DNS names or IPs for the server certificate' })
      .option('ready-json', { type: 'boolean', default: false, hidden: true, describe: 'Print one JSON line on stdout when listening' })
      .option('exit-on-stdin-close', { type: 'boolean', default: false, hidden: true, describe: 'Stop when stdin closes (parent died)' }) as never,
  handler: async (argv) => {
    const { options, workers } = serveOptionsFromFlags(argv);
    if (cluster.isWorker) return serveAsClusterWorker(options);
    await serve(options, workers, argv);
  },
};

/** Why the address cannot be listened on, in the user's terms; null for any other failure. */
function listenError(err: unknown, options: ServeOptions): UsageError | null {
  const code = (err as NodeJS.ErrnoException).code ?? /\b(EADDRINUSE|EADDRNOTAVAIL|EACCES|ENOTFOUND|EAI_AGAIN)\b/.exec(String((err as Error)?.message))?.[1];
  const where = `${options.host}:${options.port}`;
  switch (code) {
    case 'EADDRINUSE': return new UsageError(`--port ${options.port}: ${where} is already in use; stop what listens there, or pick another port (--port 0 picks a free one)`);
    case 'EADDRNOTAVAIL': return new UsageError(`--host ${options.host}: no interface of this machine has that address; use 127.0.0.1, ::1 or an address this machine has`);
    case 'EACCES': return new UsageError(`--port ${options.port}: not allowed to listen on ports below 1024 as this user; pick a port from 1024 up`);
    case 'ENOTFOUND': case 'EAI_AGAIN': return new UsageError(`--host ${options.host}: the name does not resolve; give an IP address such as 127.0.0.1`);
    default: return null;
  }
}

/** Human lines go to stderr when stdout carries the machine-readable ready line. */
function makeLog(readyJson: boolean): (line: string) => void {
  return readyJson ? (line) => process.stderr.write(line + '\n') : (line) => process.stdout.write(line + '\n');
}

async function serve(options: ServeOptions, workers: number, argv: ServeArgs): Promise<void> {
  const log = makeLog(argv.readyJson);
  if (!isLoopback(options.host)) {
    process.stderr.write(`warning: listening on ${options.host}, not loopback: anyone who can reach it can load this machine\n`);
  }

  let target: { host: string; port: number; chain: CertificateChain; stop(): Promise<void> };
  let summary: () => string | null = () => null;
  let stats: (() => TargetServerStats) | null = null;
  const engine = chooseBuiltInEngine(options);
  try {
    if (engine.name === 'node' && workers > 1) {
      target = await startTargetCluster(options, workers);
    } else {
      const server = await startBuiltInServer(options, workers, engine);
      target = server;
      summary = () => stopSummary(server.stats);
      stats = () => server.stats;
    }
  } catch (err) {
    throw listenError(err, options) ?? err;
  }

  if (argv.readyJson) {
    const ready = { event: 'listening', engine: engine.name, host: target.host, port: target.port, certDir: target.chain.dir, keyType: target.chain.keyType, caCertPath: target.chain.caCertPath, pid: process.pid };
    process.stdout.write(JSON.stringify(ready) + '\n');
  }
  printStartMessage(log, options, workers, target, engine);

  await new Promise<void>((resolve) => {
    const stop = (why: string) => {
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigterm);
      log(`stopping (${why})`);
      void target.stop().then(resolve);
    };
    const onSigint = () => stop('SIGINT');
    const onSigterm = () => stop('SIGTERM');
    process.on('SIGINT', onSigint);
    process.on('SIGTERM', onSigterm);
    if (argv.exitOnStdinClose) {
      // The parent holds our stdin open; when it dies for any reason (even SIGKILL) the
      // pipe closes, and a target nobody can stop must not outlive it.
      process.stdin.on('end', () => stop('parent closed stdin'));
      process.stdin.on('error', () => stop('parent closed stdin'));
      process.stdin.resume();
    }
    // The parent (run's coordinator) asks for the counters with a 'stats' line and gets one JSON
    // line back: what the server saw, to hold the client's counts against.
    if (argv.readyJson && stats) {
      const current = stats;
      onLines(process.stdin, (line) => {
        if (line === 'stats') process.stdout.write(`${JSON.stringify({ event: 'stats', stats: current() })}\n`);
      });
    }
  });
  const totals = summary();
  if (totals) log(`stopped after ${totals}`);
  // stdin may still hold the loop open; nothing else is left to do.
  if (argv.exitOnStdinClose) process.stdin.destroy();
}

function printStartMessage(
  log: (line: string) => void,
  opts: ServeOptions,
  workers: number,
  target: { host: string; port: number; chain: CertificateChain },
  engine: ServerEngineChoice,
): void {
  const hostPort = target.host.includes(':') ? `[${target.host}]:${target.port}` : `${target.host}:${target.port}`;
  const versions = opts.tls.min === opts.tls.max ? opts.tls.min : `${opts.tls.min}–${opts.tls.max}`;
  log(`tlsbench target listening on ${hostPort} (${engine.name} server; ${engine.reason})`);
  log(
    `  ${versions}, ${target.chain.keyType} certificate, tickets ${opts.tickets ? 'on' : 'off'}, ` +
      `session cache ${opts.sessionCache ? 'on' : 'off'}${mtlsModeOf(opts.mtls) ? `, client certificates ${mtlsModeOf(opts.mtls)}${opts.crlFile ? ` (CRL ${opts.crlFile})` : ''}` : ''}, ` +
      `OCSP staple ${opts.ocspStaple ?? 'none'}, ` +
      (engine.name === 'native' ? `${workers} thread${workers > 1 ? 's' : ''}` : `${workers} process${workers > 1 ? 'es' : ''}`),
  );
  log(`  certificates in ${target.chain.dir}`);
  log(`  CA to trust (--ca): ${target.chain.caCertPath}`);
  if ((opts.ocspStaple ?? 'none') !== 'none' && !target.chain.ocspResponderCert) {
    log(`  warning: no OCSP staples: ${target.chain.dir} has no OCSP responder certificate (written by an older tlsbench); tlsbench certs --out DIR writes a chain with one`);
  }
  if (mtlsModeOf(opts.mtls)) log(`  client certificate: ${target.chain.clientCertPath}  key: ${target.chain.clientKeyPath}`);
  if (workers > 1) {
    log(engine.name === 'native'
      ? '  threads share one OpenSSL context: its ticket keys and session cache'
      : '  processes share ticket keys and one session-ID cache (kept in the primary, asked over IPC)');
  }
  const reason = neverResumesReason(opts, engine.name);
  if (reason) log(`  warning: resumption: ${reason}`);
}

/** In a cluster worker: start, report to the primary, and let the primary decide when to stop. */
async function serveAsClusterWorker(options: ServeOptions): Promise<void> {
  const target = await runTargetClusterWorker(options);
  await new Promise<void>((resolve) => {
    // Ctrl-C reaches every process in the group; the primary coordinates the stop
    // (it sends SIGTERM), so a worker leaving on its own would look like a crash.
    process.on('SIGINT', () => undefined);
    process.once('SIGTERM', () => void target.stop().then(resolve));
  });
  process.exit(0);
}
