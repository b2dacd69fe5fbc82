// OCSP stapling, end to end: responses tlsbench builds are what OpenSSL's own `openssl ocsp` accepts;
// the client's check (trust/ocsp-staple.ts) fails each kind of bad staple in its own class; the
// built-in server staples good or revoked and the client's counts equal the server's; nginx staples a
// response file `tlsbench certs --ocsp` wrote, and `openssl s_client -status` sees the same bytes.
// The built-in server and nginx cases run on both engines (the native engine hands each distinct
// staple to the same TypeScript check): the same counts on each, and the server's.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { serve } from '../src/api/serve.js';
import { loadChain, type CertificateChain } from '../src/server/pki.js';
import type { TargetServer } from '../src/server/target-server.js';
import { buildOcspResponse } from '../src/trust/ocsp-responder.js';
import { checkStaple, inspectStaple, judgeStaple, verdictSpan } from '../src/trust/ocsp-staple.js';
import type { EngineName } from '../src/config/run-config.js';
import { ENGINES, nativeBuilt } from './support/engines.js';
import { runCli, runJson } from './support/cli.js';
import { startNginx } from './support/nginx-server.js';
import { tlsRun } from './support/tls-run.js';

const execFileP = promisify(execFile);
const SMALL = ['-w', '1', '-c', '2', '--warmup', '0', '-n', '60'];

let scratch: string;
/** A chain written by `tlsbench certs --ocsp --revoke bad-server`. */
let dir: string;
let chain: CertificateChain;
const der = (pem: string) => new X509Certificate(pem).raw;

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'tlsbench-ocsp-'));
  dir = join(scratch, 'pki');
  const made = await runCli(['certs', '--out', dir, '--ocsp', '--revoke', 'bad-server']);
  assert.equal(made.code, 0, made.stderr);
  assert.match(made.stdout, /server\.ocsp\.der\s+\(server: good, \d+ B/);
  assert.match(made.stdout, /bad-server\.ocsp\.der\s+\(bad-server: revoked/);
  chain = await loadChain(dir);
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('responses and the client check', () => {
  test('openssl ocsp verifies the response files certs --ocsp wrote: server good, bad-server revoked', async () => {
    const ask = (name: string) => execFileP('openssl', ['ocsp', '-respin', join(dir, `${name}.ocsp.der`), '-issuer', chain.caCertPath,
      '-cert', join(dir, `${name}.pem`), '-CAfile', chain.caCertPath], { encoding: 'utf8' });
    const good = await ask('server');
    assert.match(good.stderr + good.stdout, /Response verify OK/);
    assert.match(good.stdout, /server\.pem: good/);
    const revoked = await ask('bad-server');
    assert.match(revoked.stderr + revoked.stdout, /Response verify OK/);
    assert.match(revoked.stdout, /bad-server\.pem: revoked/);
  });

  test('checkStaple: good and revoked files, signed by the delegated responder, verify', async () => {
    const good = checkStaple(await readFile(join(dir, 'server.ocsp.der')), der(chain.serverCert), der(chain.caCert));
    assert.equal(good.status, 'good');
    assert.equal(good.signature, true);
    assert.equal(good.errorClass, null);
    const badServer = await readFile(join(dir, 'bad-server.pem'), 'utf8');
    const revoked = checkStaple(await readFile(join(dir, 'bad-server.ocsp.der')), der(badServer), der(chain.caCert));
    assert.equal(revoked.status, 'revoked');
    assert.equal(revoked.signature, true);
    assert.equal(revoked.errorClass, 'tls.ocsp.revoked');
  });

  test('checkStaple: each bad staple in its own class', async () => {
    const responder = { cert: chain.ocspResponderCert!, key: chain.ocspResponderKey! };
    const leaf = der(chain.serverCert);
    const ca = der(chain.caCert);
    const spec = { cert: chain.serverCert, issuer: chain.caCert, responder, status: 'good' as const };
    const day = 86_400_000;
    const stale = buildOcspResponse({ ...spec, thisUpdate: new Date(Date.now() - 9 * day), nextUpdate: new Date(Date.now() - 2 * day) });
    assert.equal(checkStaple(stale, leaf, ca).errorClass, 'tls.ocsp.stale');
    const future = buildOcspResponse({ ...spec, thisUpdate: new Date(Date.now() + day) });
    assert.equal(checkStaple(future, leaf, ca).errorClass, 'tls.ocsp.stale');
    assert.equal(checkStaple(buildOcspResponse({ ...spec, status: 'unknown' }), leaf, ca).errorClass, 'tls.ocsp.unknown');
    // About the server certificate, checked on a handshake that presented the client certificate.
    assert.equal(checkStaple(await readFile(join(dir, 'server.ocsp.der')), der(chain.clientCert), ca).errorClass, 'tls.ocsp.wrong-certificate');
    // Signed by a responder of another CA: not authorised by this certificate's issuer.
    const other = join(scratch, 'other');
    assert.equal((await runCli(['certs', '--out', other])).code, 0);
    const stranger = await loadChain(other);
    const forged = buildOcspResponse({ ...spec, responder: { cert: stranger.ocspResponderCert!, key: stranger.ocspResponderKey! } });
    const check = checkStaple(forged, leaf, ca);
    assert.equal(check.signature, false);
    assert.equal(check.errorClass, 'tls.ocsp.bad-signature');
    assert.equal(checkStaple(Buffer.from('not an OCSP response'), leaf, ca).errorClass, 'tls.ocsp.malformed');
    // Without the issuer (--insecure, no --ca) the status is still read, the signature not checked.
    const unchecked = checkStaple(await readFile(join(dir, 'server.ocsp.der')), leaf, null);
    assert.equal(unchecked.status, 'good');
    assert.equal(unchecked.signature, null);
  });

  test('verdictSpan: the native engine keeps a verdict exactly as long as judgeStaple gives it', () => {
    const responder = { cert: chain.ocspResponderCert!, key: chain.ocspResponderKey! };
    const spec = { cert: chain.serverCert, issuer: chain.caCert, responder, status: 'good' as const };
    const day = 86_400_000;
    const now = Date.now();
    const facts = inspectStaple(buildOcspResponse({ ...spec, thisUpdate: new Date(now + day), nextUpdate: new Date(now + 3 * day) }), der(chain.serverCert), der(chain.caCert));
    // Not yet valid (beyond the 5 min of clock skew) → good → expired: at each span's edges the class changes, inside it never.
    for (const at of [now, now + 2 * day, now + 4 * day]) {
      const span = verdictSpan(facts, at);
      const cls = judgeStaple(facts, at).errorClass;
      assert.ok(span.from <= at && at <= span.until);
      for (const inside of [span.from, span.until].filter(Number.isFinite)) assert.equal(judgeStaple(facts, inside).errorClass, cls, `inside ${new Date(inside).toISOString()}`);
      for (const outside of [span.from - 1, span.until + 1].filter(Number.isFinite)) assert.notEqual(judgeStaple(facts, outside).errorClass, cls, `outside ${new Date(outside).toISOString()}`);
    }
    assert.equal(judgeStaple(facts, now + 2 * day).errorClass, null);
    // A revoked staple stays revoked whatever the time.
    const revoked = inspectStaple(buildOcspResponse({ ...spec, status: 'revoked' }), der(chain.serverCert), der(chain.caCert));
    assert.deepEqual(verdictSpan(revoked, now), { from: -Infinity, until: Infinity });
  });
});

describe('built-in server --ocsp-staple', () => {
  const servers: TargetServer[] = [];
  const start = async (ocspStaple: 'good' | 'revoked' | 'none') => {
    const server = await serve({ certDir: dir, ocspStaple });
    servers.push(server);
    return server;
  };
  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
  });
  const target = (s: TargetServer) => [`${s.host}:${s.port}`, '--ca', chain.caCertPath, '--sni', 'localhost'];
  const onEngine = (engine: EngineName, s: TargetServer) => [...target(s), '--engine', engine];
  /** The errors and OCSP tally of each engine's run, for the last test to hold them equal. */
  const seen = new Map<string, unknown>();

  for (const engine of ENGINES) describe(`${engine} engine`, () => {
    for (const version of ['1.2', '1.3']) {
      test(`TLS ${version}, good: every handshake got the staple the server sent, and it verified`, async (t) => {
        if (engine === 'native' && !nativeBuilt()) return t.skip('the native engine is not built');
        const server = await start('good');
        const run = await tlsRun([...onEngine(engine, server), '--ocsp', '--tls', version, '--resume', 'none', ...SMALL]);
        assert.equal(run.result.config.engine.name, engine);
        const s = run.phase.summary;
        assert.deepEqual(s.errors, {});
        assert.equal(s.successes, 60);
        // The server stapled once per handshake it completed: exactly the client's count.
        assert.equal(server.stats.ocsp?.staples, 60);
        assert.equal(server.stats.handshakes, 60);
        const o = s.ocsp.full!;
        assert.equal(o.handshakes, 60);
        assert.equal(o.stapled, 60);
        assert.deepEqual(o.status, { good: 60 });
        assert.deepEqual(o.signature, { valid: 60, invalid: 0, unchecked: 0 });
        assert.equal(o.bytes / o.stapled, server.stats.ocsp?.stapleBytes);
        // Built a moment ago, valid a week.
        assert.ok(o.minSecondsToNextUpdate! > 6.9 * 86400 && o.minSecondsToNextUpdate! <= 7 * 86400, String(o.minSecondsToNextUpdate));
        seen.set(`${engine} good ${version}`, { errors: s.errors, status: o.status, signature: o.signature, stapled: o.stapled });
      });
    }

    for (const version of ['1.2', '1.3']) {
      test(`TLS ${version}, revoked: every attempt fails in tls.ocsp.revoked, the server completed each handshake`, async (t) => {
        if (engine === 'native' && !nativeBuilt()) return t.skip('the native engine is not built');
        const server = await start('revoked');
        const run = await tlsRun([...onEngine(engine, server), '--ocsp', '--tls', version, '--resume', 'none', ...SMALL], 1);
        const s = run.phase.summary;
        assert.deepEqual(s.errors, { 'tls.ocsp.revoked': 60 });
        assert.equal(s.successes, 0);
        assert.deepEqual(s.classes, {});
        assert.equal(server.stats.ocsp?.staples, 60);
        assert.deepEqual(s.ocsp.full?.status, { revoked: 60 });
        // The client closes cleanly after rejecting: the server saw no failed handshake.
        assert.equal(server.stats.tlsClientErrors, 0);
        assert.ok(run.phase.findings.some((f) => f.startsWith('60 × tls.ocsp.revoked:') && f.includes('revoked')), run.phase.findings.join(' | '));
        seen.set(`${engine} revoked ${version}`, { errors: s.errors, status: s.ocsp.full?.status, signature: s.ocsp.full?.signature, stapled: s.ocsp.full?.stapled });
      });
    }

    test('revoked, with a request and resumption: the client sends no request and keeps no session; the server answered none', async (t) => {
      if (engine === 'native' && !nativeBuilt()) return t.skip('the native engine is not built');
      const server = await start('revoked');
      const run = await tlsRun([...onEngine(engine, server), '--ocsp', '--http', '/', '--resume', 'ticket', ...SMALL], 1);
      const s = run.phase.summary;
      assert.deepEqual(s.errors, { 'tls.ocsp.revoked': 60 });
      assert.equal(server.stats.requests, 0);
      // Nothing of a rejected handshake is kept: no session offered, so every handshake was a full one.
      assert.equal(server.stats.resumed, 0);
      assert.equal(s.ocsp.full?.stapled, 60);
      assert.equal(server.stats.tlsClientErrors, 0);
    });

    test('none: "not stapled" and no error; with --require-staple every attempt is tls.ocsp.missing', async (t) => {
      if (engine === 'native' && !nativeBuilt()) return t.skip('the native engine is not built');
      const server = await start('none');
      const plain = await tlsRun([...onEngine(engine, server), '--ocsp', '--resume', 'none', ...SMALL]);
      assert.deepEqual(plain.phase.summary.errors, {});
      assert.equal(plain.phase.summary.ocsp.full?.handshakes, 60);
      assert.equal(plain.phase.summary.ocsp.full?.stapled, 0);
      const required = await tlsRun([...onEngine(engine, server), '--require-staple', '--resume', 'none', ...SMALL], 1);
      assert.deepEqual(required.phase.summary.errors, { 'tls.ocsp.missing': 60 });
      assert.equal(required.result.config.tls.ocsp, true);
      assert.equal(required.result.config.engine.name, engine);
      seen.set(`${engine} missing`, required.phase.summary.errors);
    });

    test('resumed handshakes carry no certificate and no staple: only full ones are counted', async (t) => {
      if (engine === 'native' && !nativeBuilt()) return t.skip('the native engine is not built');
      const server = await start('good');
      const run = await tlsRun([...onEngine(engine, server), '--ocsp', '--resume', 'ticket', '-w', '1', '-c', '2', '--warmup', '300ms', '-n', '60']);
      const s = run.phase.summary;
      assert.equal(s.classes.resumed?.handshakes, 60);
      assert.equal(s.ocsp.resumed, undefined);
      assert.equal(s.ocsp.full, undefined);
    });
  });

  test('both engines counted the same: errors, statuses, signatures and staples (each server signs its own, so sizes differ by a byte)', (t) => {
    if (!nativeBuilt()) return t.skip('the native engine is not built');
    const keys = [...seen.keys()].filter((k) => k.startsWith('node ')).map((k) => k.slice('node '.length));
    assert.equal(keys.length, 5);
    for (const k of keys) assert.deepEqual(seen.get(`native ${k}`), seen.get(`node ${k}`), k);
  });

  test('a --cert-dir from before OCSP stapling (no responder) is served as it is, without staples, never replaced', async () => {
    const old = join(scratch, 'old-chain');
    assert.equal((await runCli(['certs', '--out', old])).code, 0);
    await rm(join(old, 'ocsp-responder.pem'));
    await rm(join(old, 'ocsp-responder.key'));
    const ca = await readFile(join(old, 'ca.pem'), 'utf8');
    const server = await serve({ certDir: old, ocspStaple: 'good' });
    servers.push(server);
    assert.equal(server.stats.ocsp, null);
    const run = await tlsRun([`${server.host}:${server.port}`, '--ca', join(old, 'ca.pem'), '--sni', 'localhost', '--ocsp', '--resume', 'none', ...SMALL]);
    assert.deepEqual(run.phase.summary.errors, {});
    assert.equal(run.phase.summary.ocsp.full?.stapled, 0);
    assert.equal(await readFile(join(old, 'ca.pem'), 'utf8'), ca);
  });

  test('the probe says what is stapled', async () => {
    const good = await start('good');
    const a = await runCli([...target(good), '--ocsp', '--probe', '--resume', 'none', ...SMALL, '--quiet']);
    assert.equal(a.code, 0, a.stderr);
    assert.match(a.stderr, /OCSP: stapled \(\d+ B, good, next update in 7\.0 d\)/);
    const none = await start('none');
    const b = await runCli([...target(none), '--probe', '--resume', 'none', ...SMALL, '--quiet']);
    assert.equal(b.code, 0, b.stderr);
    assert.match(b.stderr, /OCSP: not stapled/);
  });

  test('table, Markdown and CSV carry the staple figures', async () => {
    const server = await start('good');
    const table = await runCli([...target(server), '--ocsp', '--resume', 'none', ...SMALL, '--quiet']);
    assert.match(table.stdout, /OCSP staple:\n {2}full: stapled 60 of 60 · \d+ B · good 60 · signature valid · next update in 7\.0 d/);
    const md = await runCli([...target(server), '--ocsp', '--resume', 'none', ...SMALL, '--quiet', '--format', 'markdown']);
    assert.match(md.stdout, /\*\*OCSP staple\*\*\n\n- full: stapled 60 of 60/);
    const csv = await runCli([...target(server), '--ocsp', '--resume', 'none', ...SMALL, '--quiet', '--format', 'csv']);
    const [head, first] = csv.stdout.trim().split('\n');
    const row = Object.fromEntries(head!.split(',').map((k, i) => [k, first!.split(',')[i]]));
    assert.equal(row.ocsp_stapled, '60');
    assert.equal(row.ocsp_good, '60');
    // The saved result matches the shipped schema (report validates it) and the HTML page says it too.
    const saved = join(scratch, 'ocsp-result.json');
    assert.equal((await runCli([...target(server), '--ocsp', '--probe', '--resume', 'none', ...SMALL, '--quiet', '--out', saved])).code, 0);
    const html = join(scratch, 'ocsp.html');
    const report = await runCli(['report', saved, '--html', html]);
    assert.equal(report.code, 0, report.stderr);
    assert.match(await readFile(html, 'utf8'), /<h4>OCSP staple<\/h4><ul><li>full: stapled 60 of 60/);
  });
});

test('matrix axis ocsp on,off: the on cell stapled every handshake, the off cell asked for none; every format has the staple column', async () => {
  const saved = join(scratch, 'ocsp-matrix.json');
  const { result, outcome } = await runJson(['matrix', '--ocsp', 'on,off', '--resume', 'none', ...SMALL, '-d', '20s', '--out', saved]);
  assert.equal(outcome.code, 0, outcome.stderr);
  const cells = (result as unknown as { cells: { name: string; result: { phases: { summary: { ocsp: Record<string, { stapled: number; bytes: number }> } }[] } }[] }).cells;
  assert.deepEqual(cells.map((c) => c.name), ['ocsp=on', 'ocsp=off']);
  const on = cells[0]!.result.phases[0]!.summary.ocsp.full;
  assert.equal(on?.stapled, 60);
  assert.deepEqual(cells[1]!.result.phases[0]!.summary.ocsp, {});
  // The mean staple size, computed here from the JSON's byte total: the on cell's row shows it, the off cell's a dash.
  const mean = Math.round(on!.bytes / 60);
  const size = (mean < 1024 ? `${mean} B` : `${(mean / 1024).toFixed(1)} KB`).replace('.', '\\.');
  const md = await runCli(['report', saved, '--format', 'markdown']);
  assert.equal(md.code, 0, md.stderr);
  assert.match(md.stdout, /\| cell \| phase \| handshakes\/s \| p50 ms \| p99 ms \| OCSP staple \| server µs/);
  assert.match(md.stdout, new RegExp(`\\| ocsp=on[^\\n]*\\| ${size} \\|`));
  assert.match(md.stdout, /\| ocsp=off[^\n]*\| — \|/);
  const table = await runCli(['report', saved]);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, new RegExp(`ocsp=on[^\\n]*${size}`));
  const html = join(scratch, 'ocsp-matrix.html');
  assert.equal((await runCli(['report', saved, '--html', html])).code, 0);
  const page = await readFile(html, 'utf8');
  assert.match(page, /<th class="num">p99 ms<\/th><th class="num">OCSP staple<\/th>/);
  assert.match(page, new RegExp(`<td>ocsp=on[^]*?<td class="num">${size}</td>`));
});

describe('nginx ssl_stapling_file', () => {
  for (const [name, status] of [['server', 'good'], ['bad-server', 'revoked']] as const) {
    test(`${name}.ocsp.der (${status}): tlsbench and openssl s_client -status see the same staple`, async (t) => {
      const nginx = await startNginx({
        certPath: join(dir, `${name}.pem`), keyPath: join(dir, `${name}.key`),
        extraServerConfig: `    ssl_stapling on;\n    ssl_stapling_file ${join(dir, `${name}.ocsp.der`)};`,
      });
      if (!nginx) return t.skip('nginx is not installed');
      try {
        const file = await readFile(join(dir, `${name}.ocsp.der`));
        for (const version of ['1.2', '1.3']) {
          for (const engine of ENGINES) {
            if (engine === 'native' && !nativeBuilt()) continue;
            const run = await tlsRun([`${nginx.host}:${nginx.port}`, '--engine', engine, '--ca', chain.caCertPath, '--sni', 'localhost', '--ocsp', '--tls', version, '--resume', 'none', ...SMALL],
              status === 'good' ? 0 : 1);
            const s = run.phase.summary;
            const label = `${engine} engine, TLS ${version}`;
            assert.equal(s.ocsp.full?.stapled, 60, label);
            assert.equal(s.ocsp.full?.bytes, 60 * file.length, label);
            assert.deepEqual(s.ocsp.full?.status, { [status]: 60 }, label);
            assert.deepEqual(s.ocsp.full?.signature, { valid: 60, invalid: 0, unchecked: 0 }, label);
            assert.deepEqual(s.errors, status === 'good' ? {} : { 'tls.ocsp.revoked': 60 }, label);
          }
          // stdin at its end at once: s_client prints the handshake and leaves.
          const text = execFileSync('openssl', ['s_client', '-connect', `${nginx.host}:${nginx.port}`, '-servername', 'localhost', '-status',
            `-tls${version.replace('.', '_')}`, '-CAfile', chain.caCertPath], { encoding: 'utf8', input: '', stdio: ['pipe', 'pipe', 'ignore'], timeout: 20_000 });
          assert.match(text, /OCSP Response Status: successful/);
          assert.match(text, new RegExp(`Cert Status: ${status}`));
        }
      } finally {
        await nginx.stop();
      }
    });
  }
});
