// Shared by the TLS option and resumption tests: tiny loads through the real CLI against the
// built-in server, openssl s_server and nginx, and plain views of the result they print.
import assert from 'node:assert/strict';
import type { NegotiatedSample } from '../../src/metrics/tally.js';
import type { PhaseResult, RunResult } from '../../src/metrics/run-result.js';
import type { TestCerts } from './certs.js';
import { runJson, type CliOutcome } from './cli.js';
import type { ExternalServer } from './openssl-server.js';

/**
 * Small on purpose (2 shared cores): one worker, four slots, and a warm-up long enough for each
 * slot's first (full) handshake, so measured attempts of a resuming run all have a session to offer.
 */
export const LOAD = ['-w', '1', '-c', '4', '--warmup', '300ms'];

/** A target started by a test: address, the CA that signed it, and the name on its certificate. */
export function externalTarget(server: ExternalServer, certs: TestCerts): string[] {
  return [`${server.host}:${server.port}`, '--ca', certs.caCertPath, '--sni', 'localhost'];
}

export interface TlsRun {
  result: RunResult;
  outcome: CliOutcome;
  /** The run's only phase (these tests always pick --resume, so there is one). */
  phase: PhaseResult;
  /** Negotiated samples of every class. */
  negotiated: NegotiatedSample[];
}

/** Runs the CLI with --json and asserts the exit code (stderr in the message when it differs). */
export async function tlsRun(args: string[], expectedCode = 0): Promise<TlsRun> {
  const { result, outcome } = await runJson(args);
  assert.equal(outcome.code, expectedCode, `exit ${outcome.code}, expected ${expectedCode}: tlsbench ${args.join(' ')}\n${outcome.stderr.slice(-2000)}`);
  assert.equal(result.phases.length, 1, 'one phase (give --resume)');
  const phase = result.phases[0]!;
  const negotiated = Object.values(phase.summary.classes).flatMap((c) => c?.negotiated ?? []);
  return { result, outcome, phase, negotiated };
}

/** Every sampled handshake negotiated `expected` (and there was at least one sample). */
export function assertNegotiated(run: TlsRun, expected: Partial<Omit<NegotiatedSample, 'count'>>): void {
  assert.ok(run.negotiated.length > 0, `no negotiated samples: ${JSON.stringify(run.phase.summary)}`);
  for (const sample of run.negotiated) {
    for (const [key, value] of Object.entries(expected)) {
      assert.equal(sample[key as keyof NegotiatedSample], value, `negotiated ${key}: ${JSON.stringify(run.negotiated)}`);
    }
  }
}
