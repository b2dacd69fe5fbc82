// Every error class the README documents, produced end to end through the CLI by a real cause:
// a network namespace made for the test (nothing listens, no route, a link where nobody answers,
// a resolver that fails), a real server with nothing in common, or a hostile fixture. Each run
// makes exactly N attempts, and all N must land in the one class the README names.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestCerts, type TestCerts } from './support/certs.js';
import { runCli, runJson, type CliOptions } from './support/cli.js';
import { createNetns, netnsUnavailable, type Netns } from './support/netns.js';
import { startOpenSslServer, type OpenSslServerOptions } from './support/openssl-server.js';
import { skipUnlessCi } from './support/required.js';
import type { PhaseResult } from '../src/metrics/run-result.js';
import {
  createHostileCertificates, resetAtConnectUnavailable, startCloseAfterHello, startCloseOnRequest, startResetAfterHandshake, startResetAtConnect,
  startResetMidHandshake, startSilentAfterHandshake, startWrongCipher, type HostileCertificates, type HostileServer,
} from './hostile/index.js';
import { ENGINES, nativeBuilt } from './support/engines.js';

const N = 12;
/** -n N with a few slots and no warm-up: every attempt is a measured one. Patient by default. */
const EXACT = ['--resume', 'none', '-n', String(N), '-w', '1', '-c', '3', '--warmup', '0', '--timeout', '10s'];
/** The one phase timeout a test shortens, far below the 10 s default every other phase keeps. */
const SHORT = '300ms';

/** Runs the CLI and asserts that all N attempts failed, every one in `errorClass`; exit 1. */
async function assertAllIn(target: string, args: string[], errorClass: string, opts: CliOptions = {}) {
  const { result, outcome } = await runJson([target, ...EXACT, ...args], opts);
  assert.equal(result.phases.length, 1);
  const s = result.phases[0]!.summary;
  assert.deepEqual({ errors: s.errors, attempts: s.attempts, successes: s.successes }, { errors: { [errorClass]: N }, attempts: N, successes: 0 },
    `tlsbench ${target} ${args.join(' ')}\n${outcome.stderr.slice(-1500)}`);
  assert.equal(outcome.code, 1, 'nothing succeeded: exit 1');
  assert.doesNotMatch(outcome.stderr, /internal error|\n\s+at /);
  return { result, outcome, phase: result.phases[0]! };
}

/**
 * N attempts in 3 slots, each ending at the 300 ms limit, take about 1.2 s; had the 10 s default
 * applied, the window would last 40 s. (No lower bound: that would be a timing margin.)
 */
function assertEndedAtShortLimit(phase: PhaseResult): void {
  assert.ok(phase.windowMs < 10_000, `window ${phase.windowMs} ms: the attempts waited for the 10 s default, not ${SHORT}`);
}

describe('TCP errors, in network namespaces made for the test', () => {
  let ns: Netns | null = null;
  const unavailable = netnsUnavailable();
  before(() => {
    if (unavailable) return;
    ns = createNetns({ resolver: '127.0.0.1' });
    // A link that is up and owns 10.77.0.1/24, with nobody at 10.77.0.2: ARP goes unanswered,
    // so a SYN to it never leaves and never gets an answer (for seconds, until ARP gives up).
    ns.ip('link', 'add', 'tbv0', 'type', 'veth', 'peer', 'name', 'tbv1');
    ns.ip('addr', 'add', '10.77.0.1/24', 'dev', 'tbv0');
    ns.ip('link', 'set', 'tbv0', 'up');
    ns.ip('link', 'set', 'tbv1', 'up');
  });
  after(() => ns?.remove());
  const inNs = (): CliOptions => ({ prefix: ns!.exec });

  test('tcp.refused: nothing listens (a namespace where nothing runs)', async (t) => {
    if (unavailable) return void skipUnlessCi(t, unavailable);
    const { phase } = await assertAllIn('127.0.0.1:443', [], 'tcp.refused', inNs());
    assert.ok(phase.findings.some((f) => f.includes('nothing listens there')), phase.findings.join(' | '));
  });

  test('tcp.unreachable: no route to the address', async (t) => {
    if (unavailable) return void skipUnlessCi(t, unavailable);
    await assertAllIn('10.255.255.1:443', [], 'tcp.unreachable', inNs());
  });

  test('tcp.timeout: --connect-timeout bounds the TCP connect alone', async (t) => {
    if (unavailable) return void skipUnlessCi(t, unavailable);
    const { phase } = await assertAllIn('10.77.0.2:443', ['--connect-timeout', SHORT], 'tcp.timeout', inNs());
    assertEndedAtShortLimit(phase);
  });

  // The target's name is resolved once, before any worker starts, so no attempt pays for a
  // lookup: a name that does not resolve is bad input, said up front, and never a run of
  // `tcp.dns` errors (README lists tcp.dns; no run can produce it).
  test('a name that does not resolve is refused up front (exit 2), not a run of errors', async (t) => {
    if (unavailable) return void skipUnlessCi(t, unavailable);
    const outcome = await runCli(['tlsbench-test.invalid:443', ...EXACT], inNs());
    assert.equal(outcome.code, 2, outcome.stderr);
    assert.match(outcome.stderr, /^tlsbench: cannot resolve the target host 'tlsbench-test\.invalid' \(EAI_AGAIN\)/);
    assert.doesNotMatch(outcome.stderr, /\n\s+at /);
  });
  // tcp.dns: the README says why no run produces it (an unresolvable name is exit 2: the test above).
});

// A reset is filed by what the client had sent when it came: nothing yet (tcp.reset), the
// ClientHello (tls.reset), a completed handshake and a request (app.reset). A server resetting
// at accept cannot pin the first (its reset races the client's connect; see reset-at-connect.ts),
// so each class has its own fixture, whose reset lands at one point only. The classes are the
// engines' common names: each fixture is run on both.
describe('resets: one fixture per class, on both engines', () => {
  let certs: HostileCertificates;
  before(async () => {
    certs = await createHostileCertificates();
  });
  after(() => certs?.cleanup());
  const engines = () => ENGINES.filter((e) => e === 'node' || nativeBuilt());

  test('tcp.reset: the TCP handshake\'s last packet is answered with a reset, before the client sends a byte', async (t) => {
    const unavailable = resetAtConnectUnavailable();
    if (unavailable) return void skipUnlessCi(t, unavailable);
    const server = await startResetAtConnect();
    try {
      for (const engine of engines()) await assertAllIn(server.target, ['--engine', engine], 'tcp.reset', { prefix: server.exec });
    } finally {
      await server.stop();
    }
  });

  const fixtures = [
    { name: 'tls.reset: the server reads the ClientHello, then resets', start: () => startResetMidHandshake(), args: () => [] as string[], cls: 'tls.reset' },
    { name: 'app.reset: the handshake completes, then a reset meets the request', start: () => startResetAfterHandshake(certs.good),
      args: () => ['--ca', certs.caPath, '--http', '/'], cls: 'app.reset' },
  ];
  for (const f of fixtures) {
    test(f.name, async () => {
      const server = await f.start();
      try {
        for (const engine of engines()) await assertAllIn(`${server.host}:${server.port}`, ['--engine', engine, ...f.args()], f.cls);
      } finally {
        await server.stop();
      }
    });
  }
});

describe('TLS and request errors from hostile fixtures', () => {
  let certs: HostileCertificates;
  const servers: HostileServer[] = [];
  before(async () => {
    certs = await createHostileCertificates();
  });
  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await certs?.cleanup();
  });
  const started = async (server: Promise<HostileServer>): Promise<string> => {
    const s = await server;
    servers.push(s);
    return `${s.host}:${s.port}`;
  };

  test('tls.closed: an orderly close (FIN) in mid-handshake, after the ClientHello was read', async () => {
    await assertAllIn(await started(startCloseAfterHello()), [], 'tls.closed');
  });

  test('tls.cipher: the server picks a cipher the client never offered', async () => {
    await assertAllIn(await started(startWrongCipher()), ['--tls', '1.2', '--insecure'], 'tls.cipher');
  });

  test('app.closed: the server closes after the request without answering', async () => {
    const { phase } = await assertAllIn(await started(startCloseOnRequest(certs.good)), ['--ca', certs.caPath, '--http', '/'], 'app.closed');
    // The handshakes themselves completed: measured, though the requests failed.
    assert.equal(phase.summary.classes.full?.handshakes, N);
  });

  test('app.timeout: --response-timeout bounds the wait for the response alone', async () => {
    const { phase } = await assertAllIn(await started(startSilentAfterHandshake(certs.good)),
      ['--ca', certs.caPath, '--http', '/', '--response-timeout', SHORT], 'app.timeout');
    assert.equal(phase.summary.classes.full?.handshakes, N);
    assertEndedAtShortLimit(phase);
  });
});

// A real server (openssl s_server) that shares nothing with the client answers the ClientHello
// with a handshake_failure alert: that is what the client sees, and the class it lands in, for a
// cipher, group or signature algorithm in common. (tls.cipher above needs a server that breaks
// the protocol.) The hint names the options to check.
describe('nothing in common with a real server', () => {
  let certs: TestCerts;
  before(async () => {
    certs = await createTestCerts();
  });
  after(() => certs?.cleanup());

  const cases: { name: string; server: Partial<OpenSslServerOptions>; client: string[] }[] = [
    { name: 'TLS 1.2 ciphers', server: { tls: '1.2', ciphers: 'ECDHE-ECDSA-AES256-GCM-SHA384' }, client: ['--tls', '1.2', '--ciphers', 'ECDHE-ECDSA-AES128-GCM-SHA256'] },
    { name: 'TLS 1.3 cipher suites', server: { tls: '1.3', ciphersuites: 'TLS_AES_256_GCM_SHA384' }, client: ['--tls', '1.3', '--ciphersuites', 'TLS_AES_128_GCM_SHA256'] },
    { name: 'groups', server: { tls: '1.3', groups: 'X25519' }, client: ['--tls', '1.3', '--groups', 'P-384'] },
    { name: 'signature algorithms (--sigalgs)', server: { tls: '1.3' }, client: ['--tls', '1.3', '--sigalgs', 'rsa_pss_rsae_sha256'] },
  ];
  for (const c of cases) {
    test(`${c.name}: tls.alert.handshake_failure, with the hint`, async () => {
      const server = await startOpenSslServer({ certPath: certs.certPath, keyPath: certs.keyPath, www: false, ...c.server });
      try {
        const { phase } = await assertAllIn(`127.0.0.1:${server.port}`, ['--ca', certs.caCertPath, ...c.client], 'tls.alert.handshake_failure');
        assert.ok(phase.findings.some((f) => f.includes('check --ciphers/--ciphersuites/--groups/--sigalgs')), phase.findings.join(' | '));
      } finally {
        await server.stop();
      }
    });
  }
});
