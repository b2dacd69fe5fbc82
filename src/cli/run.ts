import type { Argv, CommandModule } from 'yargs';
import { resolveRepeat, resolveRun, runResolved, type RunRequest } from '../api/run.js';
import { DEFAULTS, KEY_TYPE_NAMES } from '../config/run-options.js';
import { layerRunOptions, optionsFromEnv, pickRunOptions, runConfigFromFile } from '../config/option-sources.js';
import { UsageError } from '../config/usage-error.js';
import { verdict } from '../metrics/verdict.js';
import { checkOutputFile, reportWrite, writeOrFallback } from '../config/output-path.js';
import { describeRun } from '../report/describe.js';
import { LiveView } from '../report/live-view.js';
import { OUTPUT_FORMATS, outputFormat, renderResult } from '../report/format.js';
import { formatTarget } from '../config/target.js';
import { probeLine } from '../report/probe-line.js';

interface RunArgs extends RunRequest {
  config?: string;
  json?: boolean;
  format?: string;
  out?: string;
  quiet?: boolean;
  probe?: boolean;
}

/**
 * The run options. `matrix` passes `switchesAsAxes`: there --ocsp takes a comma list of on/off (a
 * grid axis), where `run` has a plain switch that never swallows the target after it.
 */
export function runOptionsBuilder<T>(y: Argv<T>, switchesAsAxes = false) {
  return y
    .positional('target', { type: 'string', describe: 'host:port, [ipv6]:port or https://host[:port]; omit to start the built-in server' })
    .option('workers', { alias: 'w', type: 'number', describe: 'worker threads (default: the client cores)' , group: 'Load:' })
    .option('connections', { alias: 'c', type: 'number', describe: `concurrent connection slots in total, closed loop (default ${DEFAULTS.connections})`, group: 'Load:' })
    .option('rate', { alias: 'r', type: 'number', describe: 'open loop: handshakes per second in total', group: 'Load:' })
    .option('max-connections', { type: 'number', describe: 'open loop: cap on attempts in flight (default max(100, rate/10))', group: 'Load:' })
    .option('duration', { alias: 'd', type: 'string', describe: `measured window, e.g. 10s, 1m (default ${DEFAULTS.duration}; per phase)`, group: 'Load:' })
    .option('handshakes', { alias: 'n', type: 'number', describe: 'exactly this many measured attempts (per phase)', group: 'Load:' })
    .option('warmup', { type: 'string', describe: `excluded from every figure (default ${DEFAULTS.warmup})`, group: 'Load:' })
    .option('ramp', { type: 'string', describe: 'linear ramp of connections or rate before warm-up', group: 'Load:' })
    .option('start-at', { type: 'string', describe: 'wall-clock start (ISO 8601) shared by several load machines', group: 'Load:' })
    .option('repeat', { type: 'number', describe: 'run the configuration N times; the result keeps each run\'s figures, so `compare` knows the noise', group: 'Load:' })
    .option('config', { type: 'string', describe: 'JSON or YAML file of run options: { options: { duration: 10s, … }, repeat }; TLSBENCH_* variables win over it, command-line options over both', group: 'Load:' })
    .option('resume', { type: 'string', describe: 'none | ticket | id (default: a full phase, then a resumed phase)', group: 'Resumption:' })
    .option('resume-ratio', { type: 'number', describe: 'share of attempts that offer a session, 0..1', group: 'Resumption:' })
    .option('session-scope', { type: 'string', describe: 'slot (each slot its own session) | worker (shared newest)', group: 'Resumption:' })
    .option('close-wait', { type: 'string', alias: 'ticket-wait', describe: `bound on waiting for the server's close after the client's close_notify; TLS 1.3 tickets and a rejection of the client certificate arrive in this time (default ${DEFAULTS.closeWait})`, group: 'Resumption:' })
    .option('require-resumption', { type: 'boolean', describe: 'exit 1 when the hit rate is below 99 %', group: 'Resumption:' })
    .option('tls', { type: 'string', describe: '1.2 | 1.3 | both | a range such as 1.0-1.3 (default both)', group: 'TLS:' })
    .option('ciphers', { type: 'string', describe: 'TLS 1.2 ciphers (OpenSSL names)', group: 'TLS:' })
    .option('ciphersuites', { type: 'string', describe: 'TLS 1.3 suites (TLS_* names)', group: 'TLS:' })
    .option('groups', { type: 'string', describe: 'key-exchange groups, e.g. X25519:P-256 or X25519MLKEM768', group: 'TLS:' })
    .option('sigalgs', { type: 'string', describe: 'signature algorithms, e.g. ecdsa_secp256r1_sha256', group: 'TLS:' })
    .option('sni', { type: 'string', describe: 'server name to send (default: the host, unless an IP)', group: 'TLS:' })
    .option('alpn', { type: 'string', describe: 'ALPN protocols, comma-separated', group: 'TLS:' })
    .option('insecure', { alias: 'k', type: 'boolean', describe: 'do not verify the server certificate', group: 'TLS:' })
    .option('ca', { type: 'string', describe: 'PEM file of CA certificates to trust', group: 'TLS:' })
    .option('cert', { type: 'string', describe: 'client certificate (PEM) for mutual TLS', group: 'TLS:' })
    .option('key', { type: 'string', describe: 'client private key (PEM)', group: 'TLS:' })
    .option('key-passphrase', { type: 'string', describe: 'passphrase of --key', group: 'TLS:' })
    .option('engine', { type: 'string', describe: 'native (C addon, the default where built) | node (tls.connect); env TLSBENCH_ENGINE', group: 'Load:' })
    .option('probe', { type: 'boolean', describe: 'first look at the target: versions, cipher, group, certificate, resumption support (stderr and the result)', group: 'TLS:' })
    .option('ocsp', { type: switchesAsAxes ? 'string' : 'boolean', describe: 'ask for a stapled OCSP response on every handshake and check it (status, signature, freshness); a bad staple fails the attempt (tls.ocsp.*)', group: 'Revocation:' })
    .option('crl', { type: 'string', describe: 'check the server certificate against this CRL (PEM or DER); revoked: tls.verify.CERT_REVOKED; a stale CRL or one not signed by --ca is refused before the run', group: 'Revocation:' })
    .option('require-staple', { type: 'boolean', describe: 'a handshake without a stapled OCSP response fails (tls.ocsp.missing); implies --ocsp', group: 'Revocation:' })
    .option('keylog', { type: 'string', describe: 'append NSS key log lines to FILE (for Wireshark)', group: 'TLS:' })
    .option('timeout', { type: 'string', describe: `default for every phase timeout (default ${DEFAULTS.timeout})`, group: 'Timeouts:' })
    .option('connect-timeout', { type: 'string', describe: 'TCP connect timeout', group: 'Timeouts:' })
    .option('handshake-timeout', { type: 'string', describe: 'TLS handshake timeout', group: 'Timeouts:' })
    .option('response-timeout', { type: 'string', describe: 'request → complete response timeout', group: 'Timeouts:' })
    .option('request', { type: 'string', describe: 'bytes to send after the handshake, or @FILE', group: 'Request:' })
    .option('http', { type: 'string', describe: 'send an HTTP/1.1 GET for PATH', group: 'Request:' })
    .option('read-bytes', { type: 'number', describe: 'read N response bytes per request', group: 'Request:' })
    .option('read', { type: 'string', describe: '"all": read until the server closes', group: 'Request:' })
    .option('early-data', { type: 'number', describe: 'TLS 1.3 0-RTT: send the request\'s first N bytes as early data on resumed handshakes (native engine; only idempotent requests: early data can be replayed)', group: 'Request:' })
    .option('requests-per-connection', { type: 'number', describe: 'request/response exchanges per connection (default 1)', group: 'Request:' })
    .option('key-type', { type: 'string', describe: `built-in server certificate key: ${KEY_TYPE_NAMES.join(', ')} (default ${DEFAULTS.keyType})`, group: 'Built-in server:' })
    .option('mtls', { type: 'string', describe: 'built-in server asks for a client certificate: required (a bare --mtls) or optional; the generated one is presented unless --cert is given', group: 'Built-in server:' })
    .option('server-cert-dir', { type: 'string', describe: 'built-in server serves the chain in DIR (written by tlsbench certs --out DIR, e.g. with --revoke) instead of its cache', group: 'Built-in server:' })
    .option('server-crl', { type: 'string', describe: 'with --mtls: the built-in server rejects client certificates this CRL revokes (it must be the server CA\'s: see tlsbench certs --revoke)', group: 'Built-in server:' })
    .option('server-tickets', { type: 'string', describe: 'on | off: built-in server issues session tickets', group: 'Built-in server:' })
    .option('server-ocsp-staple', { type: 'string', describe: 'good | revoked | none: OCSP response the built-in server staples for clients that ask (default good)', group: 'Built-in server:' })
    .option('server-session-cache', { type: 'string', describe: 'on | off: built-in server keeps a TLS 1.2 session-ID cache', group: 'Built-in server:' })
    .option('response-bytes', { type: 'number', describe: 'built-in server response size', group: 'Built-in server:' })
    .option('server-pid', { type: 'string', describe: 'measure the CPU of this server on this machine: PID[,PID…], each with its children (nginx master, HAProxy)', group: 'Server cost:' })
    .option('server-cgroup', { type: 'string', describe: 'measure the CPU of this cgroup v2 (a systemd unit, a container): a path, absolute or under the cgroup mount', group: 'Server cost:' })
    .option('json', { type: 'boolean', describe: 'print the full result as JSON on stdout (= --format json)', group: 'Output:' })
    .option('format', { alias: 'f', type: 'string', describe: `stdout: ${OUTPUT_FORMATS.join(' | ')} (default table)`, group: 'Output:' })
    .option('out', { alias: 'o', type: 'string', describe: 'write the full JSON result to FILE (atomically)', group: 'Output:' })
    .option('quiet', { alias: 'q', type: 'boolean', describe: 'no live status', group: 'Output:' });
}

export const runCommand: CommandModule<object, RunArgs> = {
  command: ['run [target]', '$0 [target]'],
  describe: 'Measure TLS handshakes against a target (default: the built-in server)',
  builder: (y) => runOptionsBuilder(y) as unknown as Argv<RunArgs>,
  handler: async (argv) => {
    const format = outputFormat(argv.format, argv.json);
    const file = argv.config !== undefined ? runConfigFromFile(argv.config) : { options: {} };
    const { options, origins } = layerRunOptions(pickRunOptions(argv as unknown as Record<string, unknown>), optionsFromEnv(), file.options, argv.config);
    const repeat = resolveRepeat(argv.repeat ?? file.repeat);
    const resolved = withOrigins(origins, () => resolveRun(options));
    if (argv.out !== undefined) checkOutputFile(argv.out, '--out');
    const { config } = resolved;
    const live = new LiveView(process.stderr, !!argv.quiet);
    const result = await runResolved(resolved, repeat, {
      handleSignals: true,
      onRepeat: (index, total) => live.say(`repeat ${index}/${total}`),
      onStart: (target) => {
        const where = target.builtIn ? `built-in server at ${formatTarget(target)} (${target.builtIn.coreSplit})` : formatTarget(target);
        live.say(`tlsbench → ${where}: ${describeRun(config, repeat)}`);
      },
      onSecond: (point, phase, clock, inFlight, cpu) => live.onSecond(point, phase, clock, inFlight, cpu),
      onWarning: (text) => live.note(`warning: ${text}`),
      probe: !!argv.probe,
      // Asked for explicitly, so printed even with --quiet.
      onProbe: (probe) => live.note(probeLine(probe)),
    });
    live.end();
    const json = JSON.stringify(result, null, 2);
    process.stdout.write(`${format === 'json' ? json : renderResult(result, format)}\n`);
    const failures = verdict(result);
    for (const f of failures) process.stderr.write(`FAIL ${f}\n`);
    const saved = argv.out === undefined || saveOutput(argv.out, json, format === 'json');
    process.exitCode = failures.length || !saved ? 1 : result.interrupted ? 130 : 0;
  },
};

/** A problem with a value from the environment or a file names where the values came from, as its option is named after the flag. */
function withOrigins<T>(origins: string[], resolve: () => T): T {
  try {
    return resolve();
  } catch (err) {
    if (!(err instanceof UsageError) || !origins.length) throw err;
    throw new UsageError(`${err.message}\n  (values not given on the command line: ${origins.join('; ')})`);
  }
}

/**
 * Writes the JSON result where --out says, after the run; when that fails the result goes to a
 * fallback file or, failing that, to stdout (unless it is there already). False when not at --out.
 */
export function saveOutput(path: string, json: string, onStdoutAlready: boolean): boolean {
  const outcome = writeOrFallback(path, `${json}\n`);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  if (reportWrite(outcome, path, 'the results', log)) {
    log(`results written to ${path}`);
    return true;
  }
  if ('lost' in outcome && !onStdoutAlready) process.stdout.write(`${json}\n`);
  return false;
}
