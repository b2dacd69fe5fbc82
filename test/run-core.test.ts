import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestCerts, type TestCerts } from './support/certs.js';
import { runCli, runJson } from './support/cli.js';
import { startOpenSslServer, type ExternalServer } from './support/openssl-server.js';
import { createNetns, netnsUnavailable } from './support/netns.js';
import { skipUnlessCi } from './support/required.js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PhaseResult, RunResult } from '../src/metrics/run-result.js';

/** Small loads: these tests prove counting and classification, never speed. */
const SMALL = ['-c', '4', '-w', '2', '--warmup', '0'];

function onlyPhase(phases: PhaseResult[]): PhaseResult {
  assert.equal(phases.length, 1);
  return phases[0]!;
}

/** Each attempt is counted exactly once: as a success or in one error class. */
function assertAccounted(phase: PhaseResult): void {
  const s = phase.summary;
  const errors = Object.values(s.errors).reduce((a, b) => a + b, 0);
  assert.equal(s.successes + errors, s.attempts, `successes ${s.successes} + errors ${errors} ≠ attempts ${s.attempts}`);
}

function assertResumes(phase: PhaseResult): void {
  const s = phase.summary;
  assertAccounted(phase);
  assert.deepEqual(s.errors, {});
  assert.ok(s.hitRate !== null && s.hitRate >= 0.99, `hit rate ${s.hitRate}`);
  const resumed = s.classes.resumed?.handshakes ?? 0;
  // Only a slot's first attempt (nothing to offer yet) may be a full handshake.
  assert.ok(resumed >= s.attempts - 4, `resumed ${resumed} of ${s.attempts}`);
  assert.equal(s.classes.resumed!.latency.tls!.count, resumed);
}

describe('built-in server', () => {
  test('TLS 1.2 tickets resume and are classified resumed', async () => {
    const { result } = await runJson(['--tls', '1.2', '--resume', 'ticket', '-n', '200', ...SMALL]);
    const phase = onlyPhase(result.phases);
    assertResumes(phase);
    assert.equal(phase.summary.classes.resumed!.negotiated[0]!.protocol, 'TLSv1.2');
  });

  test('TLS 1.2 session IDs resume with server tickets off', async () => {
    const { result } = await runJson(['--tls', '1.2', '--resume', 'id', '--server-tickets', 'off', '-n', '200', ...SMALL]);
    assertResumes(onlyPhase(result.phases));
  });

  test('TLS 1.3 tickets resume', async () => {
    const { result } = await runJson(['--tls', '1.3', '--resume', 'ticket', '-n', '200', ...SMALL]);
    const phase = onlyPhase(result.phases);
    assertResumes(phase);
    assert.equal(phase.summary.classes.resumed!.negotiated[0]!.protocol, 'TLSv1.3');
  });

  test('--resume none yields zero resumed and offers nothing', async () => {
    const { result } = await runJson(['--resume', 'none', '-n', '150', ...SMALL]);
    const s = onlyPhase(result.phases).summary;
    assert.equal(s.classes.resumed, undefined);
    assert.equal(s.offered, 0);
    assert.equal(s.hitRate, null);
    assert.equal(s.classes.full!.handshakes, 150);
  });

  test('--handshakes N completes exactly N, split over workers, merged exactly', async () => {
    const { result, outcome } = await runJson(['--resume', 'none', '-n', '137', '-c', '5', '-w', '2', '--warmup', '200ms']);
    assert.equal(outcome.code, 0);
    assert.equal(result.config.workers, 2);
    const phase = onlyPhase(result.phases);
    assertAccounted(phase);
    assert.equal(phase.summary.attempts, 137);
    assert.equal(phase.summary.successes, 137);
    const full = phase.summary.classes.full!;
    assert.equal(full.handshakes, 137);
    for (const metric of ['tcp', 'tls', 'connect'] as const) assert.equal(full.latency[metric]!.count, 137, metric);
    // Read after the identity check, which must not consume the peer certificate.
    assert.equal(full.negotiated[0]!.certificate, 'ECDSA prime256v1');
    assert.equal(phase.client.elu.length, 2);
  });

  test('default run measures full then resumed, side by side, with the speedup computed from both', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tlsbench-speedup-'));
    try {
      const file = join(dir, 'result.json');
      const outcome = await runCli(['-d', '1s', '--warmup', '200ms', '-c', '4', '--quiet', '--out', file]);
      assert.equal(outcome.code, 0, outcome.stderr);
      assert.match(outcome.stdout, /phase full \(resume none\)/);
      assert.match(outcome.stdout, /phase resumed \(resume ticket\)/);
      assert.match(outcome.stdout, /client: Node v\d+/);
      const result = JSON.parse(readFileSync(file, 'utf8')) as RunResult;
      const [full, resumed] = result.phases as [PhaseResult, PhaseResult];
      // By hand, from the counts and the windows: resumed handshakes/s over full handshakes/s.
      const perSecond = (p: PhaseResult, cls: 'full' | 'resumed') => p.tally.classes[cls]!.handshakes / (p.windowMs / 1000);
      const throughput = perSecond(resumed, 'resumed') / perSecond(full, 'full');
      // Printed the way round it goes: "1.24× higher", or "1.24× LOWER" for a ratio of 0.81.
      const printed = /resumption speedup: throughput (\d+\.\d+)× (higher|LOWER)/.exec(outcome.stdout);
      assert.ok(printed, outcome.stdout);
      assert.equal(printed[2], throughput >= 1 ? 'higher' : 'LOWER', outcome.stdout);
      const expected = throughput >= 1 ? throughput : 1 / throughput;
      // The file keeps the window in whole ms, the run divided by the exact one: a rounding apart.
      assert.ok(Math.abs(Number(printed[1]) - expected) <= 0.006, `printed ${printed[0]}, by hand ${throughput}`);
      assert.ok(Math.abs(result.resumptionGain!.throughputRatio! - throughput) < 1e-3 * throughput);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('openssl s_server', () => {
  let certs: TestCerts;
  before(async () => {
    certs = await createTestCerts();
  });
  after(() => certs.cleanup());

  const withServer = async (opts: { tls?: '1.2' | '1.3'; noTicket?: boolean }, body: (server: ExternalServer) => Promise<void>) => {
    const server = await startOpenSslServer({ certPath: certs.certPath, keyPath: certs.keyPath, www: false, ...opts });
    try {
      await body(server);
    } finally {
      await server.stop();
    }
  };
  const target = (s: ExternalServer) => `127.0.0.1:${s.port}`;

  test('TLS 1.2 tickets, TLS 1.2 session IDs (tickets off) and TLS 1.3 tickets resume', async () => {
    await withServer({}, async (server) => {
      for (const args of [['--tls', '1.2', '--resume', 'ticket'], ['--tls', '1.3', '--resume', 'ticket']]) {
        const { result } = await runJson([target(server), '--ca', certs.caCertPath, ...args, '-n', '120', '-c', '2', '-w', '1', '--warmup', '0']);
        assertResumes(onlyPhase(result.phases));
      }
    });
    await withServer({ noTicket: true }, async (server) => {
      const { result } = await runJson([target(server), '--ca', certs.caCertPath, '--tls', '1.2', '--resume', 'id', '-n', '120', '-c', '2', '-w', '1', '--warmup', '0']);
      assertResumes(onlyPhase(result.phases));
    });
  });

  test('a wrong CA is a verification error with its reason and the hint', async () => {
    await withServer({}, async (server) => {
      const { result, outcome } = await runJson([target(server), '--resume', 'none', '-n', '20', '-c', '2', '-w', '1', '--warmup', '0']);
      const phase = onlyPhase(result.phases);
      assertAccounted(phase);
      assert.deepEqual(Object.keys(phase.summary.errors), ['tls.verify.UNABLE_TO_VERIFY_LEAF_SIGNATURE']);
      assert.equal(phase.summary.errors['tls.verify.UNABLE_TO_VERIFY_LEAF_SIGNATURE'], 20);
      assert.ok(phase.findings.some((f) => /--ca FILE/.test(f) && /--insecure/.test(f)));
      assert.equal(outcome.code, 1, 'no attempt succeeded: exit 1');
      // --insecure skips verification on purpose.
      const insecure = await runJson([target(server), '--insecure', '--resume', 'none', '-n', '20', '-c', '2', '-w', '1', '--warmup', '0']);
      assert.equal(onlyPhase(insecure.result.phases).summary.successes, 20);
    });
  });

  test('a TLS version mismatch is a version error, not a crash', async () => {
    await withServer({ tls: '1.2' }, async (server) => {
      const { result } = await runJson([target(server), '--ca', certs.caCertPath, '--tls', '1.3', '--resume', 'none', '-n', '20', '-c', '2', '-w', '2', '--warmup', '0']);
      const phase = onlyPhase(result.phases);
      assertAccounted(phase);
      assert.equal(phase.summary.attempts, 20);
      // README: no protocol version in common is `tls.version`, whether the client saw the
      // server's protocol_version alert or found the mismatch itself.
      assert.deepEqual(phase.summary.errors, { 'tls.version': 20 });
    });
  });
});

test('a refused port is counted as tcp.refused, every slot keeps going, results are written', async (t) => {
  // In a namespace of its own nothing listens on any port: refused for certain, no race with
  // another process taking a port that was free a moment ago.
  const unavailable = netnsUnavailable();
  if (unavailable) return void skipUnlessCi(t, unavailable);
  const ns = createNetns();
  try {
    const { result, outcome } = await runJson(['127.0.0.1:443', '--resume', 'none', '-d', '1s', '--warmup', '0', '-c', '3', '-w', '2'], { prefix: ns.exec });
    const phase = onlyPhase(result.phases);
    assertAccounted(phase);
    assert.deepEqual(Object.keys(phase.summary.errors), ['tcp.refused']);
    // A tool that dropped a slot per error would stop at 3.
    assert.ok(phase.summary.attempts > 3, `attempts ${phase.summary.attempts}`);
    assert.equal(outcome.killed, false);
    assert.equal(outcome.code, 1);
    assert.doesNotMatch(outcome.stderr, /internal error|\n\s+at /);
  } finally {
    ns.remove();
  }
});

test('bad input: a clear message, exit 2, no stack trace', async () => {
  for (const args of [['--duration', 'soon'], ['example.com'], ['--resume', 'id', '--tls', '1.3'], ['--workers', '0']]) {
    const outcome = await runCli(args);
    assert.equal(outcome.code, 2, `${args.join(' ')}: ${outcome.stderr}`);
    assert.match(outcome.stderr, /^tlsbench: /);
    assert.doesNotMatch(outcome.stderr, /\n\s+at /);
  }
});
