// tlsbench against servers that misbehave on purpose (test/hostile/), through the CLI as a child
// process, with one and with two workers. Each run must end by itself, without an internal
// error, count every measured attempt exactly once (successes + Σ errors === attempts), file
// the failures under the one class a user would act on, and write a results file that parses.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { PhaseResult, RunResult } from '../src/metrics/run-result.js';
import {
  ALERT, createHostileCertificates, OVERSIZED_RECORD_HEADER, startCloseAtOnce, startCorruptTicket, startFatalAlert, startLongChain,
  startNeverAnswer, startNotTls, startResetAfterHandshake, startResetMidHandshake, startSlowHandshake, startStopListening, startTlsServer,
  type HostileCertificates, type HostileServer,
} from './hostile/index.js';
import { holdRefusedAddress } from './support/refused-address.js';

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src/cli/main.js');
/** Far beyond any run here (≤ 2 s window, ≤ 5 s phase timeouts): only a hung client reaches it. */
const KILL_AFTER_MS = 60_000;
const CONNECTIONS = 4;
/** The handshake timeout of runs whose expected outcome is a handshake timeout. */
const SHORT_TIMEOUT_MS = 500;
/**
 * Every other run waits long enough that a loaded machine can never turn an expected
 * reset, alert or success into a timeout; attempts still in flight when the 1 s window
 * closes are aborted (counted as unfinished, not as attempts).
 */
const PATIENT_TIMEOUT = '5s';
/** Attempts of the stop-listening run: one per slot is accepted, the rest are refused. */
const STOP_LISTENING_ATTEMPTS = 40;

interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  result: RunResult;
}

let scratch: string;
let certs: HostileCertificates;
let runs = 0;

before(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'tlsbench-hostile-runs-'));
  certs = await createHostileCertificates();
});
after(async () => {
  await certs?.cleanup();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

/** Runs the CLI against `server`, stops the server, and returns what the run printed and wrote. */
async function runTlsbench(server: HostileServer, args: string[]): Promise<CliRun> {
  const out = path.join(scratch, `result-${++runs}.json`);
  const argv = [CLI, `${server.host}:${server.port}`, '--resume', 'none', '--warmup', '0', '-c', String(CONNECTIONS),
    '--quiet', '--out', out, '--json', ...args];
  try {
    const { code, signal, stdout, stderr } = await new Promise<Omit<CliRun, 'result'>>((resolve, reject) => {
      const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const killer = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
      child.once('error', reject);
      child.once('close', (code, signal) => {
        clearTimeout(killer);
        resolve({ code, signal, stdout, stderr });
      });
    });
    const context = `tlsbench ${argv.slice(1).join(' ')}\nexit ${code} ${signal ?? ''}\nstderr:\n${stderr}`;
    assert.equal(signal, null, `the run did not exit by itself (killed after ${KILL_AFTER_MS} ms)\n${context}`);
    assert.doesNotMatch(stderr, /internal error/i, context);
    const text = await readFile(out, 'utf8').catch((err: Error) => assert.fail(`no results file: ${err.message}\n${context}`));
    const result = JSON.parse(text) as RunResult;
    assert.deepEqual(JSON.parse(stdout), result, 'the --json output and the --out file differ');
    assert.ok(result.phases.length > 0, 'no phase in the result');
    for (const phase of result.phases) assertCountedOnce(phase);
    return { code, signal, stdout, stderr, result };
  } finally {
    await server.stop();
  }
}

/** Every measured attempt that finished is a success or exactly one error: nothing lost, nothing twice. */
function assertCountedOnce(phase: PhaseResult): void {
  const s = phase.summary;
  const errors = Object.values(s.errors).reduce((a, b) => a + b, 0);
  assert.ok(s.attempts > 0, `phase ${phase.name}: no attempt finished in the window`);
  assert.equal(s.successes + errors, s.attempts, `phase ${phase.name}: ${s.successes} successes + ${errors} errors ≠ ${s.attempts} attempts`);
  assert.equal(s.errorCount, errors);
}

/**
 * Every attempt decided in the window completed its handshake, and so did some that the window's
 * end cut during their request or close (unfinished): their handshakes count in the class too.
 */
function assertEveryHandshakeCounted(s: PhaseResult['summary']): void {
  const handshakes = s.classes.full?.handshakes ?? 0;
  assert.ok(handshakes >= s.attempts && handshakes <= s.attempts + s.unfinished,
    `${handshakes} full handshakes: not within attempts ${s.attempts} + unfinished ${s.unfinished}`);
}

function onlyPhase(run: CliRun): PhaseResult {
  assert.equal(run.result.phases.length, 1, '--resume none runs one phase');
  return run.result.phases[0]!;
}

/** No attempt succeeded, and every one failed with a class from `classes`. */
function assertAllFailed(run: CliRun, classes: string[]): PhaseResult {
  const phase = onlyPhase(run);
  const s = phase.summary;
  assert.equal(run.code, 1, `nothing succeeds, so the CLI exits 1 (stderr: ${run.stderr})`);
  assert.equal(s.successes, 0);
  assert.deepEqual(Object.keys(s.errors).filter((c) => !classes.includes(c)), [], `unexpected classes in ${JSON.stringify(s.errors)}`);
  return phase;
}

interface Scenario {
  name: string;
  start: () => Promise<HostileServer>;
  args: () => string[];
  /** `server`: the fixture of this run, stopped by now (its counts stay readable). */
  check: (run: CliRun, server: HostileServer) => void;
}

const window = ['-d', '1s'];
const patient = () => [...window, '--timeout', PATIENT_TIMEOUT];
const trusting = () => [...patient(), '--ca', certs.caPath];
/**
 * Runs that wait for the handshake timer get a 2 s window, so that several rounds of timeouts
 * end inside it even if the first attempts of the slots start late or count as warm-up.
 */
const impatient = () => ['-d', '2s', '--timeout', PATIENT_TIMEOUT, '--handshake-timeout', `${SHORT_TIMEOUT_MS}ms`];

const scenarios: Scenario[] = [
  {
    name: 'accepts and closes at once',
    start: startCloseAtOnce,
    args: patient,
    // A FIN before the ClientHello went out, or the RST the kernel answers a late ClientHello with.
    check: (run) => assertAllFailed(run, ['tls.closed', 'tls.reset']),
  },
  {
    name: 'accepts and never answers',
    start: startNeverAnswer,
    args: impatient,
    check: (run) => assertAllFailed(run, ['tls.timeout']),
  },
  {
    name: 'answers with HTTP, not TLS',
    start: startNotTls,
    args: patient,
    check: (run) => assertAllFailed(run, ['tls.not-tls']),
  },
  {
    name: 'answers with a record header announcing 64 KiB',
    start: () => startNotTls(OVERSIZED_RECORD_HEADER),
    args: patient,
    check: (run) => assertAllFailed(run, ['tls.not-tls']),
  },
  {
    name: 'resets after reading the ClientHello',
    start: startResetMidHandshake,
    args: patient,
    check: (run) => assertAllFailed(run, ['tls.reset']),
  },
  {
    name: 'resets after the handshake, no request configured',
    start: () => startResetAfterHandshake(certs.good),
    args: trusting,
    check: (run) => {
      const s = onlyPhase(run).summary;
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(s.errors, {}, 'the handshake completed before the reset: that is a success');
      assert.equal(s.successes, s.attempts);
      assertEveryHandshakeCounted(s);
    },
  },
  {
    name: 'resets after the handshake, with --http /',
    start: () => startResetAfterHandshake(certs.good),
    args: () => [...trusting(), '--http', '/'],
    check: (run) => {
      const s = assertAllFailed(run, ['app.reset']).summary;
      // The handshake itself completed every time: it is measured even though the request failed.
      assertEveryHandshakeCounted(s);
    },
  },
  {
    name: 'sends a fatal handshake_failure alert',
    start: () => startFatalAlert(ALERT.handshakeFailure),
    args: patient,
    check: (run) => assertAllFailed(run, ['tls.alert.handshake_failure']),
  },
  {
    name: 'sends a fatal protocol_version alert',
    start: () => startFatalAlert(ALERT.protocolVersion),
    args: patient,
    check: (run) => assertAllFailed(run, ['tls.version']),
  },
  {
    name: 'sends a fatal unrecognized_name alert (strict SNI)',
    start: () => startFatalAlert(ALERT.unrecognizedName),
    args: patient,
    check: (run) => assertAllFailed(run, ['tls.alert.unrecognized_name']),
  },
  {
    name: 'speaks TLS 1.2 at most, client --tls 1.3',
    start: () => startTlsServer({ ...certs.good, maxVersion: 'TLSv1.2' }),
    args: () => [...trusting(), '--tls', '1.3'],
    check: (run) => assertAllFailed(run, ['tls.version']),
  },
  {
    name: 'presents an expired certificate',
    start: () => startTlsServer(certs.expired),
    args: trusting,
    check: (run) => assertAllFailed(run, ['tls.verify.CERT_HAS_EXPIRED']),
  },
  {
    name: 'presents a certificate for another name',
    start: () => startTlsServer(certs.otherName),
    args: trusting,
    check: (run) => assertAllFailed(run, ['tls.verify.ERR_TLS_CERT_ALTNAME_INVALID']),
  },
  {
    name: 'presents a self-signed certificate',
    start: () => startTlsServer(certs.selfSigned),
    args: trusting,
    check: (run) => assertAllFailed(run, ['tls.verify.DEPTH_ZERO_SELF_SIGNED_CERT']),
  },
  {
    name: 'sends a TLS 1.2 NewSessionTicket whose length field is wrong',
    start: () => startCorruptTicket(certs.good, 'length'),
    args: () => [...trusting(), '--tls', '1.2'],
    check: (run) => assertAllFailed(run, ['tls.protocol.LENGTH_MISMATCH']),
  },
  {
    name: 'sends a TLS 1.2 NewSessionTicket altered in transit',
    start: () => startCorruptTicket(certs.good, 'content'),
    args: () => [...trusting(), '--tls', '1.2'],
    // The ticket decodes; the server's Finished no longer matches the transcript the client saw.
    check: (run) => assertAllFailed(run, ['tls.protocol.DIGEST_CHECK_FAILED']),
  },
  {
    name: 'sends a certificate chain longer than the client accepts (150 KiB)',
    start: () => startLongChain(certs.good, certs.caCert),
    args: trusting,
    check: (run) => assertAllFailed(run, ['tls.message-too-large']),
  },
  {
    name: 'handshakes slower than --handshake-timeout',
    // Every byte from the server is held three times as long as the client waits.
    start: () => startSlowHandshake(certs.good, 3 * SHORT_TIMEOUT_MS),
    args: () => [...impatient(), '--ca', certs.caPath],
    check: (run) => assertAllFailed(run, ['tls.timeout']),
  },
  {
    name: 'accepts one connection per slot, then stops listening',
    start: async () => startStopListening(certs.good, CONNECTIONS, await holdRefusedAddress()),
    // -n: an exact count of attempts, whatever the machine's speed. The fixture listens on a
    // random 127.x.y.z address, so the name on its certificate is given by SNI.
    args: () => ['-n', String(STOP_LISTENING_ATTEMPTS), '--timeout', PATIENT_TIMEOUT, '--ca', certs.caPath, '--sni', 'localhost'],
    check: (run, server) => {
      const s = onlyPhase(run).summary;
      assert.equal(run.code, 0, `some handshakes succeeded, so the CLI exits 0 (stderr: ${run.stderr})`);
      // Each attempt by what the server did with it: the ones it accepted (one per slot, before it
      // closed its listener) completed their handshakes; every other one was dialled after the
      // close and refused. No slot is lost to an error: every one keeps dialling once refused.
      assert.equal(server.accepted(), CONNECTIONS, 'connections the server accepted');
      assert.equal(s.attempts, STOP_LISTENING_ATTEMPTS);
      assert.equal(s.successes, server.accepted());
      assert.deepEqual(s.errors, { 'tcp.refused': STOP_LISTENING_ATTEMPTS - server.accepted() });
    },
  },
];

for (const workers of [1, 2]) {
  describe(`hostile servers, -w ${workers}`, () => {
    for (const scenario of scenarios) {
      test(scenario.name, async () => {
        const server = await scenario.start();
        const run = await runTlsbench(server, ['-w', String(workers), ...scenario.args()]);
        scenario.check(run, server);
      });
    }
  });
}

test('-n 50 against a server that closes at once counts exactly 50 attempts', async () => {
  const run = await runTlsbench(await startCloseAtOnce(), ['-w', '2', '-n', '50', '--timeout', PATIENT_TIMEOUT]);
  const s = assertAllFailed(run, ['tls.closed', 'tls.reset']).summary;
  assert.equal(s.attempts, 50);
  assert.equal(s.unfinished, 0);
});
