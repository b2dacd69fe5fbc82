import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { generateKeyPairSync, sign } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { MatrixResult } from '../src/matrix/matrix-result.js';
import { SCHEMA_VERSION, type PhaseResult, type RunResult } from '../src/metrics/run-result.js';
import { createTestCerts, type TestCerts } from './support/certs.js';
import { MAIN_JS, runCli, runJson } from './support/cli.js';
import { startNginx, type ExternalServer } from './support/nginx-server.js';

/** Small, bounded loads: every run is a fixed count of handshakes. */
const LOAD = ['-n', '600', '-c', '8', '-w', '1', '--warmup', '300ms'];

function serverUs(phase: PhaseResult): number {
  const us = phase.serverCost?.perHandshakeUs;
  assert.ok(typeof us === 'number' && us > 0, `phase ${phase.name} has a server CPU figure: ${JSON.stringify(phase.serverCost)}`);
  return us;
}

/** CPU-µs of one signature with this key, measured here with the runtime's own OpenSSL. */
function signCostUs(key: ReturnType<typeof generateKeyPairSync>['privateKey'], count: number): number {
  const data = Buffer.alloc(32, 1);
  const start = process.cpuUsage();
  for (let i = 0; i < count; i++) sign('sha256', data, key);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / count;
}

/** utime + stime (seconds) of the process and its direct children, read here from /proc: the reference. */
function procTreeCpuSeconds(pid: number): number {
  const children = execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  let ticks = 0;
  for (const p of [pid, ...children]) {
    const fields = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]!.split(' ');
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));
}

describe('server cost: built-in server', () => {
  /*
   * A Node server spends ~0.7 ms of CPU per connection besides the crypto, and that part swings by
   * ±20 % from run to run on a shared 2-core VM, while an RSA-2048 signature adds ~0.3 ms: so the
   * figure is the total over 3 repeats of each, and the bound a quarter of what the signatures
   * alone account for. A tool that measured the client (which verifies, cheaply for RSA) would
   * find RSA cheaper and fail it.
   */
  it('RSA-2048 full handshakes cost the server more CPU than ECDSA P-256, by at least a quarter of the signatures\' difference; matrix ranks by it', async (t) => {
    const out = join(tmpdir(), `tlsbench-server-cost-${process.pid}.json`);
    // RSA first, so ranking by server CPU must reorder the grid.
    const run = await runCli(['matrix', '--key-types', 'rsa-2048,ecdsa-p256', '--tls', '1.2', '--resume', 'none', '--repeat', '3', ...LOAD, '--out', out, '--quiet'], { boundMs: 240_000 });
    assert.equal(run.code, 0, run.stderr);
    const matrix = JSON.parse(readFileSync(out, 'utf8')) as MatrixResult;
    const cell = (name: string) => matrix.cells.find((c) => c.name === `key-type=${name}`)!.result!.phases[0]!;
    const rsa = cell('rsa-2048');
    const ecdsa = cell('ecdsa-p256');
    for (const phase of [rsa, ecdsa]) {
      assert.equal(phase.serverCost!.handshakes, 3 * 600);
      assert.deepEqual(phase.serverCost!.classShares, { full: 1 });
      assert.equal(phase.server!.sharedWithClient, true);
      assert.ok(phase.server!.processes >= 1);
    }
    // What the signatures alone account for, measured independently on this machine and runtime.
    const rsaSign = signCostUs(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey, 200);
    const ecSign = signCostUs(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, 2000);
    const [rsaUs, ecdsaUs] = [serverUs(rsa), serverUs(ecdsa)];
    const figures = `server CPU-µs per full handshake (3 repeats): RSA-2048 ${rsaUs.toFixed(0)} ` +
      `(${rsa.samples!.map((s) => s.serverCpuUs!.toFixed(0)).join(', ')}), P-256 ${ecdsaUs.toFixed(0)} (${ecdsa.samples!.map((s) => s.serverCpuUs!.toFixed(0)).join(', ')}); ` +
      `sign RSA-2048 ${rsaSign.toFixed(0)} µs, P-256 ${ecSign.toFixed(0)} µs`;
    t.diagnostic(figures);
    assert.ok(rsaUs - ecdsaUs >= 0.25 * (rsaSign - ecSign), figures);
    // The matrix's table ranks the cheaper server first, whatever the client's throughput said.
    const table = (await runCli(['report', out])).stdout;
    assert.ok(table.indexOf('key-type=ecdsa-p256') < table.indexOf('key-type=rsa-2048'), table);
    assert.match(table, /server µs/);
  });

  it('resumed TLS 1.2 handshakes cost the server less CPU than full ones, and every format shows it', async (t) => {
    const out = join(tmpdir(), `tlsbench-server-cost-compare-${process.pid}.json`);
    // RSA-2048: a full handshake signs (~0.3 ms here), a resumed one does not, so the saving is
    // structural and well above what a loaded machine does to a Node server's per-connection cost.
    const { result } = await runJson(['--tls', '1.2', '--key-type', 'rsa-2048', ...LOAD, '--out', out]);
    const [full, resumed] = result.phases as [PhaseResult, PhaseResult];
    assert.ok(resumed.summary.hitRate! >= 0.99);
    assert.ok(serverUs(resumed) < serverUs(full), `resumed ${serverUs(resumed)} µs, full ${serverUs(full)} µs`);
    const ratio = result.resumptionGain!.serverCpuRatio!;
    t.diagnostic(`server CPU-µs per handshake: full ${serverUs(full).toFixed(0)}, resumed ${serverUs(resumed).toFixed(0)}; ratio ${ratio.toFixed(2)}`);
    assert.ok(ratio > 1.2, `server CPU per full ÷ per resumed: ${ratio}`);
    // CPU per second for the timeline: readings at the window's open, each second, and its close.
    assert.ok(full.server!.readings.length >= 2);
    assert.ok(full.server!.readings[0]!.at <= full.windowStartedAt);
    assert.ok(full.server!.readings.at(-1)!.at >= full.windowStartedAt + full.windowMs);

    const table = (await runCli(['report', out])).stdout;
    assert.match(table, /server CPU per handshake \(full\) \d+ µs/);
    assert.match(table, /server CPU per full handshake ÷ per resumed: \d+\.\d\d×/);
    const markdown = (await runCli(['report', out, '--format', 'markdown'])).stdout;
    assert.match(markdown, /\| server CPU per handshake \(full\) \| \d+ µs \|/);
    const csv = (await runCli(['report', out, '--format', 'csv'])).stdout.trim().split('\n');
    const header = csv[0]!.split(',');
    const row = csv[1]!.split(',');
    assert.equal(Number(row[header.indexOf('server_cpu_us_per_handshake')]), Number(serverUs(full).toFixed(2)));
    const html = join(tmpdir(), `tlsbench-server-cost-${process.pid}.html`);
    assert.equal((await runCli(['report', out, '--html', html])).code, 0);
    const page = readFileSync(html, 'utf8');
    assert.match(page, /Server CPU per second/);
    assert.match(page, /server CPU-µs per handshake/);

    // compare: server-cpu is a --fail-if figure. HEAD: the same run with 20 % more server CPU.
    const head = structuredClone(result) as RunResult;
    for (const p of head.phases) p.server!.userSeconds *= 1.2;
    const headFile = join(tmpdir(), `tlsbench-server-cost-head-${process.pid}.json`);
    writeFileSync(headFile, JSON.stringify(head));
    const compared = await runCli(['compare', out, headFile, '--fail-if', 'server-cpu>+5%']);
    assert.equal(compared.code, 1, compared.stdout + compared.stderr);
    assert.match(compared.stdout, /FAIL server-cpu>\+5%: phase full: server-cpu \+\d+\.\d %/);
  });
});

describe('server cost: external server on this machine', () => {
  let certs: TestCerts;
  let nginx: ExternalServer | null = null;
  let accessLog: string;

  before(async () => {
    certs = await createTestCerts();
    accessLog = join(certs.dir, 'access.log');
    // A master and two workers: the workers are the master's children and must be counted.
    nginx = await startNginx({ certPath: certs.chainPath, keyPath: certs.keyPath, workers: 2, extraServerConfig: `    access_log ${accessLog};` });
  });
  after(async () => {
    await nginx?.stop();
    await certs?.cleanup();
  });

  const target = () => [`127.0.0.1:${nginx!.port}`, '--ca', certs.caCertPath, '--resume', 'none', '--http', '/', ...LOAD];
  const requests = () => (existsSync(accessLog) ? readFileSync(accessLog, 'utf8').split('\n').filter(Boolean).length : 0);

  it('--server-pid: nginx CPU-µs per handshake within a factor of 2 of its own /proc figure ÷ its access-log count', async (t) => {
    if (!nginx) return t.skip('nginx is not installed');
    const cpuBefore = procTreeCpuSeconds(nginx.pid);
    const logged = requests();
    const { result, outcome } = await runJson([...target(), '--server-pid', String(nginx.pid)]);
    assert.equal(outcome.code, 0, outcome.stderr);
    const reference = ((procTreeCpuSeconds(nginx.pid) - cpuBefore) * 1e6) / (requests() - logged);
    const phase = result.phases[0]!;
    assert.equal(phase.server!.processes, 3, 'the master and its two workers');
    const measured = serverUs(phase);
    t.diagnostic(`nginx server CPU-µs per handshake: tlsbench ${measured.toFixed(0)}, reference ${reference.toFixed(0)}`);
    assert.ok(measured > reference / 2 && measured < reference * 2, `tlsbench ${measured.toFixed(0)} µs, reference ${reference.toFixed(0)} µs`);
  });

  it('observe on the server host, joined by merge and report --server: the same figure as --server-pid; Ctrl-C keeps the readings', async (t) => {
    if (!nginx) return t.skip('nginx is not installed');
    const dir = certs.dir;
    const observation = join(dir, 'server.json');
    // Bounded by -d 60s; stopped with SIGINT as soon as the run is done.
    const observer = spawn(process.execPath, [MAIN_JS, 'observe', '--pid', String(nginx.pid), '-d', '60s', '--interval', '250ms', '--out', observation], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    observer.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    const exited = new Promise<number | null>((resolve) => observer.on('close', (code) => resolve(code)));
    try {
      for (let i = 0; i < 100 && !stderr.includes('observing'); i++) await new Promise((r) => setTimeout(r, 100));
      const clientFile = join(dir, 'client.json');
      const { result, outcome } = await runJson([...target(), '--server-pid', String(nginx.pid), '--out', clientFile]);
      assert.equal(outcome.code, 0, outcome.stderr);
      observer.kill('SIGINT');
      assert.equal(await exited, 130, stderr);
      const local = serverUs(result.phases[0]!);

      const merged = join(dir, 'merged.json');
      const merge = await runCli(['merge', clientFile, observation, '--out', merged]);
      assert.equal(merge.code, 0, merge.stderr);
      const joined = JSON.parse(readFileSync(merged, 'utf8')) as RunResult;
      const phase = joined.phases[0]!;
      assert.match(phase.server!.source, /\(observed\)$/);
      assert.equal(phase.server!.coverage, 1);
      const observed = serverUs(phase);
      t.diagnostic(`nginx server CPU-µs per handshake: --server-pid ${local.toFixed(0)}, observe ${observed.toFixed(0)}`);
      // The same window read twice, a second apart at most at each edge: close, not equal.
      assert.ok(observed > local / 1.5 && observed < local * 1.5, `observe ${observed} µs, --server-pid ${local} µs`);

      // The file is what its schema says.
      const schema = JSON.parse(readFileSync(new URL('../../schema/server-observation.schema.json', import.meta.url), 'utf8')) as { properties: { schemaVersion: { const: number } } };
      assert.equal(schema.properties.schemaVersion.const, SCHEMA_VERSION, 'bump schema/server-observation.schema.json with SCHEMA_VERSION');
      const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
      ajv.addFormat('date-time', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
      const validate = ajv.compile(schema);
      assert.ok(validate(JSON.parse(readFileSync(observation, 'utf8'))), JSON.stringify(validate.errors));

      const report = await runCli(['report', clientFile, '--server', observation]);
      assert.equal(report.code, 0, report.stderr);
      assert.match(report.stdout, /server: pid \d+ and its children \(observed\)/);
    } finally {
      observer.kill('SIGKILL');
    }
  });

  it('--server-cgroup: the same figure from a cgroup v2 holding nginx', async (t) => {
    if (!nginx) return t.skip('nginx is not installed');
    const root = ['/sys/fs/cgroup', '/sys/fs/cgroup/unified'].find((d) => existsSync(join(d, 'cgroup.controllers')));
    if (!root) return t.skip('no cgroup v2 hierarchy');
    const dir = join(root, `tlsbench-test-${process.pid}`);
    const pids = [nginx.pid, ...execFileSync('pgrep', ['-P', String(nginx.pid)], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number)];
    const home = readFileSync(`/proc/${nginx.pid}/cgroup`, 'utf8').split('\n').find((l) => l.startsWith('0::'))!.slice(3);
    try {
      mkdirSync(dir);
      for (const pid of pids) writeFileSync(join(dir, 'cgroup.procs'), String(pid));
    } catch (err) {
      if (existsSync(dir)) rmdirSync(dir);
      return t.skip(`cannot create and fill a cgroup here (${(err as NodeJS.ErrnoException).code})`);
    }
    try {
      const cpuBefore = procTreeCpuSeconds(nginx.pid);
      const logged = requests();
      const { result, outcome } = await runJson([...target(), '--server-cgroup', dir]);
      assert.equal(outcome.code, 0, outcome.stderr);
      const reference = ((procTreeCpuSeconds(nginx.pid) - cpuBefore) * 1e6) / (requests() - logged);
      const phase = result.phases[0]!;
      assert.equal(phase.server!.processes, 3);
      const measured = serverUs(phase);
      t.diagnostic(`nginx (cgroup) server CPU-µs per handshake: tlsbench ${measured.toFixed(0)}, reference ${reference.toFixed(0)}`);
      assert.ok(measured > reference / 2 && measured < reference * 2, `tlsbench ${measured.toFixed(0)} µs, reference ${reference.toFixed(0)} µs`);
      // The same processes named twice would be counted twice.
      const twice = await runCli([...target(), '--server-cgroup', dir, '--server-pid', String(nginx.pid), '--quiet']);
      assert.equal(twice.code, 2);
      assert.match(twice.stderr, /counted twice/);
    } finally {
      for (const pid of pids) writeFileSync(join(root, home, 'cgroup.procs'), String(pid));
      rmdirSync(dir);
    }
  });

  it('bad --server-pid / --server-cgroup: exit 2 before any load, with a plain message', async () => {
    const cases: [string[], RegExp][] = [
      [['127.0.0.1:9', '--server-pid', '999999999'], /--server-pid: no process 999999999 on this machine/],
      [['127.0.0.1:9', '--server-pid', 'nginx'], /--server-pid: 'nginx' is not a process id/],
      [['127.0.0.1:9', '--server-cgroup', '/nonexistent/tlsbench'], /--server-cgroup: cannot read \/nonexistent\/tlsbench\/cpu.stat/],
      [['--server-pid', String(process.pid)], /the built-in server \(no target given\) is always measured/],
    ];
    for (const [args, message] of cases) {
      const run = await runCli([...args, '-n', '10', '--quiet']);
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, message);
      assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
    }
  });
});
