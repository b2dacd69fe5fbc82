import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { CapacityResult, CapacityStep } from '../src/capacity/capacity-result.js';
import { parseObjective, parseObjectives } from '../src/capacity/objective.js';
import { answer, bracket, nextRate, type SearchPlan } from '../src/capacity/search.js';
import { judgeStep } from '../src/capacity/step.js';
import { UsageError } from '../src/config/usage-error.js';
import { mergeHistograms } from '../src/metrics/histogram.js';
import type { RunResult } from '../src/metrics/run-result.js';
import { HANDSHAKE_CLASSES } from '../src/metrics/tally.js';
import { createTestCerts, type TestCerts } from './support/certs.js';
import { Chromium, chromiumAvailable } from './support/chromium.js';
import { MAIN_JS, runCli } from './support/cli.js';
import { startNginx, type LoggingNginx } from './support/nginx-server.js';
import { startPacedServer, type PacedServer } from './support/paced-server.js';
import { processCpuSeconds } from './support/proc.js';
import { externalTarget } from './support/tls-run.js';

const SCHEMA_DIR = new URL('../../schema/', import.meta.url);

function capacityValidator() {
  const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
  ajv.addFormat('date-time', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/);
  for (const name of ['run-result', 'capacity-result']) ajv.addSchema(JSON.parse(readFileSync(new URL(`${name}.schema.json`, SCHEMA_DIR), 'utf8')) as object);
  return ajv.getSchema('urn:tlsbench:schema:capacity-result')!;
}

async function capacityJson(args: string[], boundMs = 180_000): Promise<{ result: CapacityResult; code: number | null; stderr: string }> {
  const outcome = await runCli(['capacity', ...args, '--json', '--quiet'], { boundMs });
  assert.equal(outcome.killed, false, `capacity did not stop by itself: ${outcome.stderr.slice(-2000)}`);
  try {
    return { result: JSON.parse(outcome.stdout) as CapacityResult, code: outcome.code, stderr: outcome.stderr };
  } catch {
    throw new Error(`no JSON (exit ${outcome.code}): ${outcome.stderr.slice(-2000)}`);
  }
}

/** Every step judged pass is below every step judged failed: the answer rests on a real bracket. */
function assertBracketed(steps: readonly CapacityStep[]): void {
  const passes = steps.filter((s) => s.verdict === 'pass').map((s) => s.offered);
  const fails = steps.filter((s) => s.verdict === 'fail' || s.verdict === 'client-limit').map((s) => s.offered);
  if (passes.length && fails.length) assert.ok(Math.max(...passes) < Math.min(...fails), `passes ${passes} / fails ${fails}`);
}

/** What a step reports is what its own run measured (the step is a run, not a second load loop). */
function assertStepFromItsRun(step: CapacityStep): void {
  const phase = step.result.phases[0]!;
  assert.equal(step.result.config.rate, step.offered);
  assert.equal(step.achieved, phase.summary.rate);
  assert.equal(step.dropped, phase.summary.dropped);
  assert.equal(step.errors, phase.summary.errorCount);
  assert.equal(step.arrivals, phase.summary.arrivals);
  assert.equal(step.clientSaturated, phase.client.saturated);
  const h = mergeHistograms(HANDSHAKE_CLASSES.map((c) => phase.tally.classes[c]?.histograms[step.metric]));
  assert.equal(step.p99, h.totalCount ? h.getValueAtPercentile(99) : null);
}

const PLAN: SearchPlan = { startRate: 100, maxRate: 1000, stepFactor: 2, precision: 0.1, minRate: 10 };
const judged = (offered: number, verdict: CapacityStep['verdict']) => ({ offered, verdict, reason: `${verdict} at ${offered}` });

describe('capacity: objectives and the search (pure)', () => {
  it('parses the objective forms and names what is wrong with the others', () => {
    assert.deepEqual(parseObjective('p99<50ms'), { kind: 'latency', metric: 'tls', percentile: 99, limit: 50_000, inclusive: false, text: 'tls p99 < 50 ms' });
    assert.equal(parseObjective('scheduled-p99.9<=0.5ms').limit, 500);
    assert.equal(parseObjective('max<1s').percentile, 100);
    assert.equal(parseObjective('errors<0.1%').limit, 0.001);
    assert.equal(parseObjective('achieved>=0.95').limit, 0.95);
    assert.equal(parseObjective('hit-rate>99%').kind, 'hit-rate');
    assert.equal(parseObjectives(['p99<50ms,errors<1%']).length, 2);
    const bad: [string, RegExp][] = [
      ['p99>50ms', /ceiling/], ['p99<50', /not a latency/], ['latency<5ms', /not an objective name/], ['errors<150%', /not a share/],
      ['errors>1%', /errors takes < or <=/], ['foo-p99<5ms', /not a latency metric/], ['p0<5ms', /not a percentile/], ['p99 50ms', /not an objective/],
    ];
    for (const [text, why] of bad) assert.throws(() => parseObjective(text), (e: Error) => e instanceof UsageError && why.test(e.message) && e.message.includes(`'${text}'`), text);
    assert.throws(() => parseObjectives([]), /at least one objective/);
  });

  it('steps up by the factor, bisects the bracket to the precision, searches down when the first step fails', () => {
    assert.equal(nextRate([], PLAN), 100);
    assert.equal(nextRate([judged(100, 'pass')], PLAN), 200);
    assert.equal(nextRate([judged(100, 'pass'), judged(200, 'fail')], PLAN), 150);
    assert.equal(nextRate([judged(100, 'pass'), judged(200, 'fail'), judged(150, 'pass')], PLAN), 175);
    assert.equal(nextRate([judged(100, 'pass'), judged(200, 'fail'), judged(150, 'pass'), judged(175, 'fail'), judged(163, 'pass')], PLAN), null, '163–175 is within 10 %');
    assert.equal(nextRate([judged(100, 'pass'), judged(110, 'fail')], PLAN), null, 'within 10 %: settled');
    assert.equal(nextRate([judged(100, 'fail')], PLAN), 50);
    assert.equal(nextRate([judged(10, 'fail')], PLAN), null, 'never below the rate that gives a step enough arrivals');
    assert.equal(nextRate([judged(800, 'pass'), judged(1000, 'pass')], PLAN), null, 'at --max-rate');
    assert.equal(nextRate([judged(100, 'pass'), judged(200, 'interrupted')], PLAN), 200, 'an interrupted step says nothing');
  });

  it('the answer is the last passing rate; a bracket the client broke is the client\'s limit, never the server\'s capacity', () => {
    const server = answer([judged(100, 'pass'), judged(200, 'fail'), judged(150, 'pass'), judged(160, 'fail')], PLAN, 'p99 < 50 ms', null);
    assert.deepEqual([server.rate, server.lastPassing, server.firstFailing, server.limitedBy, server.settled], [150, 150, 160, 'server', true]);
    assert.match(server.text, /^The server sustains 150\/s/);
    const client = answer([judged(100, 'pass'), judged(200, 'client-limit'), judged(150, 'pass'), judged(160, 'client-limit')], PLAN, 'p99 < 50 ms', null);
    assert.equal(client.limitedBy, 'client');
    assert.match(client.text, /^The client is the limit, not the server/);
    assert.doesNotMatch(client.text, /server sustains 150/);
    const mixed = bracket([judged(100, 'pass'), judged(200, 'fail'), judged(150, 'client-limit')]);
    assert.equal(mixed.firstFailing?.verdict, 'client-limit', 'the lowest failure above the last pass bounds the answer, whoever broke it');
    assert.equal(answer([judged(1000, 'pass')], PLAN, 'x', null).limitedBy, 'max-rate');
    const stopped = answer([judged(100, 'pass'), judged(200, 'pass')], PLAN, 'x', 'stopped by --max-duration');
    assert.deepEqual([stopped.limitedBy, stopped.rate], ['unknown', 200]);
  });
});

describe('capacity: bad input exits 2 before any step', () => {
  it('names the objective or option that is wrong and what to give', async () => {
    const cases: [string[], RegExp][] = [
      [[], /at least one objective: add --slo/],
      [['--slo', 'p99>50ms'], /--slo 'p99>50ms'.*ceiling/],
      [['--slo', 'p99<fast'], /not a latency/],
      [['--slo', 'errors<200%'], /not a share/],
      [['--slo', 'p99<50ms', '--rate', '100'], /--rate: capacity chooses/],
      [['--slo', 'p99<50ms', '-c', '10'], /--connections is the closed loop/],
      [['--slo', 'p99<50ms', '-n', '100'], /--handshakes: capacity steps are timed/],
      [['--slo', 'p99<50ms', '--start-rate', '500', '--max-rate', '100'], /--start-rate 500\/s is above --max-rate 100\/s/],
      [['--slo', 'p99<50ms', '--precision', '0'], /--precision: '0' is out of range/],
      [['--slo', 'p99<50ms', '--max-duration', '0s'], /--max-duration: '0s' is out of range/],
      [['--slo', 'p99<50ms', '--step-factor', '1'], /--step-factor/],
      [['--slo', 'p99<50ms', '--resume', 'sometimes'], /--resume: 'sometimes'/],
      [['--slo', 'p99<50ms', '--start-rate', '1', '-d', '1s'], /fewer than 10 arrivals/],
    ];
    for (const [args, why] of cases) {
      const out = await runCli(['capacity', ...args], { boundMs: 30_000 });
      assert.equal(out.code, 2, `${args.join(' ')}: exit ${out.code}: ${out.stderr}`);
      assert.match(out.stderr, why, args.join(' '));
      assert.doesNotMatch(out.stderr, /\n\s+at /, 'no stack trace');
      assert.doesNotMatch(out.stderr, /step 1/, 'nothing ran');
      assert.equal(out.stdout, '');
    }
  });
});

describe('capacity against a server of known capacity (paced TLS server, 20 handshakes/s)', () => {
  const CAPACITY = 20;
  let certs: TestCerts;
  let server: PacedServer;
  let result: CapacityResult;
  const common = () => [`127.0.0.1:${server.port}`, '--ca', certs.caCertPath, '--resume', 'none', '-d', '2s', '--warmup', '300ms'];

  before(async () => {
    certs = await createTestCerts();
    server = await startPacedServer({ key: certs.pem.key, cert: certs.pem.cert }, CAPACITY);
    ({ result } = await capacityJson([...common(), '--slo', 'p99<250ms', '--slo', 'errors<1%', '--start-rate', '30', '--precision', '0.1', '--max-duration', '2m']));
  });
  after(async () => {
    await server?.stop();
    await certs?.cleanup();
  });

  it('brackets the server\'s capacity: the answer lies between the last passing and the first failing step', (t) => {
    const search = result.searches[0]!;
    t.diagnostic(search.steps.map((s) => `${s.offered}/s ${s.verdict}: ${s.reason}`).join('\n'));
    assert.equal(result.searches.length, 1);
    assert.equal(result.stoppedBy, null);
    const a = search.answer;
    assert.equal(a.limitedBy, 'server', a.text);
    assert.equal(a.settled, true);
    assert.ok(a.lastPassing !== null && a.firstFailing !== null);
    assert.equal(a.rate, a.lastPassing);
    assert.ok(a.lastPassing < a.firstFailing && (a.firstFailing - a.lastPassing) / a.lastPassing <= result.plan.precision, `${a.lastPassing}–${a.firstFailing}`);
    // The server admits 20/s: at 30 % more its queue grows by 14 connections over warm-up and window, 690 ms of waiting.
    assert.ok(a.lastPassing < CAPACITY * 1.3, `it cannot sustain ${a.lastPassing}/s`);
    assert.ok(a.firstFailing > CAPACITY / 2, `at ${a.firstFailing}/s nothing queues`);
    assertBracketed(search.steps);
    for (const step of search.steps) assertStepFromItsRun(step);
    const failing = search.steps.find((s) => s.offered === a.firstFailing)!;
    assert.equal(failing.verdict, 'fail');
    assert.match(failing.reason, /tls p99 < 250 ms \(was/);
    assert.match(a.text, new RegExp(`^The server sustains ${a.lastPassing}/s`));
  });

  it('the server admitted every handshake the client counted', () => {
    const counted = result.searches[0]!.steps.reduce((n, s) => n + s.result.phases[0]!.tally.successes + s.result.phases[0]!.tally.warmup.successes, 0);
    assert.ok(counted <= server.admitted(), `client counted ${counted}, server admitted ${server.admitted()}`);
    assert.ok(counted > 0);
  });

  it('a step is the run `run --rate` makes: same configuration, same shape of figures', async () => {
    const search = result.searches[0]!;
    const passing = search.steps.find((s) => s.offered === search.answer.lastPassing)!;
    const overloaded = search.steps.reduce((a, b) => (b.offered > a.offered ? b : a));
    // The first step, at 1.5 × the capacity, is the highest: its queue grows by 23 connections, 1.1 s of waiting.
    assert.equal(overloaded.offered, CAPACITY * 1.5);
    for (const step of [passing, overloaded]) {
      const out = await runCli(['run', ...common(), '--rate', String(step.offered), '--json', '--quiet'], { boundMs: 60_000 });
      const run = JSON.parse(out.stdout) as RunResult;
      assert.deepEqual(run.config, step.result.config, 'the step ran with exactly the configuration `run --rate` resolves');
      const phase = run.phases[0]!;
      const p99 = mergeHistograms(HANDSHAKE_CLASSES.map((c) => phase.tally.classes[c]?.histograms.tls)).getValueAtPercentile(99);
      if (step === passing) {
        // Below the server's capacity both deliver what was offered.
        for (const achieved of [step.achieved, phase.summary.rate]) assert.ok(Math.abs(achieved - step.offered) / step.offered < 0.15, `achieved ${achieved} at ${step.offered}/s`);
      } else {
        // Far above it both queue: the objective breaks in the separate run too.
        assert.ok(p99 >= 250_000, `run --rate ${step.offered}: p99 ${p99} µs`);
        assert.ok(step.p99! >= 250_000);
      }
    }
  });

  it('a step where the client broke the objective is recognised, whatever the figures', () => {
    const step = result.searches[0]!.steps.find((s) => s.verdict === 'fail')!;
    const saturated = structuredClone(step.result);
    saturated.phases[0]!.client = { elu: [0.97], saturated: true };
    const judgedAgain = judgeStep(saturated, step.offered, result.objectives, 1);
    assert.equal(judgedAgain.verdict, 'client-limit');
    assert.match(judgedAgain.reason, /client was saturated \(a worker's event loop 97 % busy\)/);
  });

  it('matches the shipped schema; report renders it as table, Markdown, CSV and an HTML knee', async () => {
    const validate = capacityValidator();
    assert.ok(validate(result), JSON.stringify(validate.errors?.slice(0, 5), null, 2));
    const broken = structuredClone(result) as unknown as { searches: { answer: { limitedBy: string } }[] };
    broken.searches[0]!.answer.limitedBy = 'luck';
    assert.equal(validate(broken), false);

    const dir = mkdtempSync(join(tmpdir(), 'tlsbench-cap-'));
    try {
      const file = join(dir, 'capacity.json');
      (await import('node:fs')).writeFileSync(file, JSON.stringify(result));
      const steps = result.searches[0]!.steps;
      const table = await runCli(['report', file]);
      assert.equal(table.code, 0, table.stderr);
      assert.match(table.stdout, /answer: The server sustains/);
      const md = await runCli(['report', file, '--format', 'markdown']);
      assert.match(md.stdout, /\*\*Answer:\*\* The server sustains/);
      assert.equal(md.stdout.split('\n').filter((l) => /^\| \d+ \|/.test(l)).length, steps.length);
      const csv = await runCli(['report', file, '--format', 'csv']);
      const rows = csv.stdout.trim().split('\n');
      assert.equal(rows.length, steps.length + 1);
      const header = rows[0]!.split(',');
      const last = rows.find((r) => r.split(',')[header.indexOf('bracket')] === 'last passing')!.split(',');
      assert.equal(Number(last[header.indexOf('offered_per_s')]), result.searches[0]!.answer.lastPassing);
      const json = await runCli(['report', file, '--format', 'json']);
      assert.deepEqual(JSON.parse(json.stdout).searches[0].answer, result.searches[0]!.answer);

      const html = join(dir, 'capacity.html');
      const out = await runCli(['report', file, '--html', html]);
      assert.equal(out.code, 0, out.stderr);
      const page = readFileSync(html, 'utf8');
      const specs = JSON.parse(/<script id="tlsbench-charts" type="application\/json">(.*?)<\/script>/s.exec(page)![1]!) as { kind: string; series: { label: string; points: { x: number }[] }[] }[];
      assert.deepEqual(specs.map((s) => s.kind), ['knee', 'knee']);
      assert.deepEqual(specs[0]!.series.map((s) => s.label), ['full p50', 'full p99', 'objective: tls p99 < 250 ms']);
      assert.equal(specs[1]!.series.find((s) => s.label === 'achieved (all classes)')!.points.length, steps.length);
      if (chromiumAvailable()) {
        const browser = Chromium.launch();
        try {
          const tab = await browser.newPage(1280, 900);
          await tab.open(pathToFileURL(html).href);
          await tab.waitFor('typeof window.__chartsExpected === "number" && window.__chartsRendered === window.__chartsExpected');
          assert.equal(await tab.evaluate<number>('window.__chartsRendered'), 2);
          assert.deepEqual(tab.errors, []);
        } finally {
          await browser.close();
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('capacity against the built-in server', () => {
  it('with one slot in flight the client is the limit, and the answer says so', async (t) => {
    const { result, code, stderr } = await capacityJson(['--resume', 'none', '--max-connections', '1', '--slo', 'p99<2s', '--slo', 'errors<1%',
      '-d', '1s', '--warmup', '200ms', '--start-rate', '400', '--precision', '0.5', '--max-duration', '2m']);
    const search = result.searches[0]!;
    t.diagnostic(search.steps.map((s) => `${s.offered}/s ${s.verdict}: ${s.reason}`).join('\n'));
    // Exit 1 only when no rate passed at all (one slot can be too few even at the lowest rate).
    assert.equal(code, search.answer.rate === null ? 1 : 0, stderr.slice(-1500));
    assert.equal(search.answer.limitedBy, 'client', search.answer.text);
    assert.match(search.answer.text, /^The client is the limit, not the server/);
    assert.doesNotMatch(search.answer.text, /server sustains/);
    const limited = search.steps.filter((s) => s.verdict !== 'pass');
    assert.ok(limited.length >= 1);
    for (const step of limited) {
      assert.equal(step.verdict, 'client-limit', step.reason);
      assert.ok(step.dropped > 0);
      assert.equal(step.maxConnections, 1);
      assert.match(step.reason, /raise --max-connections/);
    }
    assertBracketed(search.steps);
    // The built-in server is always measured, and every step got the same cores (each run gives its pinning back).
    for (const step of search.steps) {
      assert.ok(step.serverCpuPerHandshakeUs !== null && step.serverCpuPerHandshakeUs > 0);
      assert.deepEqual(step.result.target.builtIn!.cpus, search.steps[0]!.result.target.builtIn!.cpus);
      assert.deepEqual(step.result.runtime.clientCpus, search.steps[0]!.result.runtime.clientCpus);
    }
  });

  it('--max-duration bounds the search: it stops, keeps its steps, and says so', async () => {
    const began = Date.now();
    const { result, code } = await capacityJson(['--resume', 'none', '--slo', 'p99<2s', '-d', '1s', '--warmup', '200ms', '--start-rate', '20', '--max-duration', '4s']);
    const wall = Date.now() - began;
    assert.equal(code, 0);
    assert.equal(result.stoppedBy, 'max-duration');
    assert.ok(result.searches[0]!.steps.length >= 1);
    assert.equal(result.searches[0]!.answer.limitedBy, 'unknown');
    assert.match(result.searches[0]!.answer.text, /stopped by --max-duration/);
    // The bound is on the search; process start and the last step's teardown come on top.
    assert.ok(wall < 4000 + 15_000, `took ${wall} ms`);
  });

  it('Ctrl-C stops the step under way and keeps the steps done (exit 130)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tlsbench-cap-int-'));
    const out = join(dir, 'capacity.json');
    try {
      const child = spawn(process.execPath, [MAIN_JS, 'capacity', '--resume', 'none', '--slo', 'p99<2s', '-d', '5s', '--warmup', '200ms', '--start-rate', '20', '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.resume();
      let stderr = '';
      const closed = new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
      const bound = setTimeout(() => child.kill('SIGKILL'), 90_000);
      await new Promise<void>((resolve, reject) => {
        child.stderr.setEncoding('utf8').on('data', (t: string) => {
          stderr += t;
          // Step 2 has started (its server is up): a second in, it is well inside its 5 s window or warm-up.
          if (/step 2: [\d.]+\/s\n.*→ built-in server/.test(stderr)) setTimeout(resolve, 1000);
        });
        void closed.then((c) => reject(new Error(`exited (${c}) before step 2 measured: ${stderr}`)));
      });
      child.kill('SIGINT');
      const code = await closed;
      clearTimeout(bound);
      assert.equal(code, 130, stderr);
      assert.ok(existsSync(out));
      const result = JSON.parse(readFileSync(out, 'utf8')) as CapacityResult;
      assert.equal(result.interrupted, true);
      assert.equal(result.stoppedBy, 'interrupted');
      const steps = result.searches[0]!.steps;
      assert.equal(steps.length, 2);
      assert.notEqual(steps[0]!.verdict, 'interrupted');
      assert.equal(steps[1]!.verdict, 'interrupted');
      assert.equal(steps[1]!.result.interrupted, true);
      assert.ok(capacityValidator()(result));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});


/*
 * nginx as the server under test, its capacity set by limit_req: LIMIT requests/s per client
 * address with a burst of BURST (refused with 503, an app.http-5xx error). Each step is 1 s of
 * warm-up and a 2 s window (T = 3 s of arrivals). Over a step nginx admits at most LIMIT·T + BURST
 * arrivals, and its refusals fall in the window; `errors<5%` therefore fails at every rate r with
 * r·T − (LIMIT·T + BURST) ≥ 5 % of the window's 2r attempts, i.e. from (LIMIT·T + BURST) / (T − 0.1)
 * = 69/s up. Steps follow each other within a second, so a step may start with the bucket an
 * overloaded step left (up to BURST): that only adds refusals, never lifts the ceiling. Below the
 * limit the bucket drains; a step at 0.8 × LIMIT refuses 5 % of its arrivals only if the client
 * bunched them into a stall on top of a bucket left full. The search stays small: one worker,
 * at most 80/s.
 */
describe('capacity against nginx limited to 50 requests/s (limit_req, burst 50), its CPU measured with --server-pid', () => {
  const LIMIT = 50;
  const BURST = 50;
  const T = 3;
  const CEILING = (LIMIT * T + BURST) / (T - 0.1);
  let certs: TestCerts;
  let server: LoggingNginx | null = null;
  let result: CapacityResult;
  /** nginx's own CPU over the whole search (warm-ups and set-up included), from /proc: the reference. */
  let nginxCpuSeconds = 0;
  let wallMs = 0;

  before(async () => {
    certs = await createTestCerts();
    server = await startNginx({
      certPath: certs.certPath, keyPath: certs.keyPath, accessLog: true,
      extraHttpConfig: `  limit_req_zone $binary_remote_addr zone=capacity:1m rate=${LIMIT}r/s;`,
      // empty_gif answers in the content phase, after limit_req (a `return` would answer before it).
      extraServerConfig: `    location = /limited { limit_req zone=capacity burst=${BURST} nodelay; empty_gif; }`,
    });
    if (!server) return;
    // master_process off: the one nginx process is the worker that does the handshakes.
    const cpuBefore = processCpuSeconds(server.pid)!;
    const began = Date.now();
    ({ result } = await capacityJson([...externalTarget(server, certs), '--server-pid', String(server.pid), '--http', '/limited', '--resume', 'none',
      '-w', '1', '-d', '2s', '--warmup', '1s', '--slo', 'errors<5%', '--start-rate', '20', '--max-rate', '160', '--precision', '0.1', '--max-duration', '90s'], 120_000));
    wallMs = Date.now() - began;
    nginxCpuSeconds = processCpuSeconds(server.pid)! - cpuBefore;
  });
  after(async () => {
    await server?.stop();
    await certs?.cleanup();
  });

  it('brackets nginx\'s limit: the server is the limit, between a passing and a failing step within the precision', (t) => {
    if (!server) return void t.skip('nginx is not installed');
    const search = result.searches[0]!;
    // The pause before each step: how long nginx's bucket had to drain what the last step left.
    const pause = (i: number) => {
      if (i === 0) return '';
      const last = search.steps[i - 1]!.result.phases[0]!;
      const next = search.steps[i]!.result.phases[0]!;
      return `, ${((next.windowStartedAt - result.plan.warmupMs - last.windowStartedAt - last.windowMs) / 1000).toFixed(2)} s after the last step`;
    };
    t.diagnostic(`${(wallMs / 1000).toFixed(1)} s:\n${search.steps.map((s, i) => `${s.offered}/s ${s.verdict}: ${s.reason} (errors ${s.errors} of ${s.attempts}, server ${s.serverCpuPerHandshakeUs?.toFixed(0)} µs/handshake${pause(i)})`).join('\n')}`);
    assert.equal(result.stoppedBy, null, 'the search settled inside --max-duration');
    const a = search.answer;
    assert.equal(a.limitedBy, 'server', a.text);
    assert.equal(a.settled, true);
    assert.ok(a.lastPassing !== null && a.firstFailing !== null, a.text);
    assert.equal(a.rate, a.lastPassing);
    assert.ok(a.lastPassing < a.firstFailing && (a.firstFailing - a.lastPassing) / a.lastPassing <= result.plan.precision, `${a.lastPassing}–${a.firstFailing}`);
    assert.ok(a.lastPassing < CEILING, `${a.lastPassing}/s passed, but nginx must refuse 5 % from ${CEILING.toFixed(1)}/s`);
    assert.ok(a.firstFailing > 0.8 * LIMIT, `${a.firstFailing}/s failed, well below nginx's ${LIMIT} r/s`);
    assertBracketed(search.steps);
    const failing = search.steps.find((s) => s.offered === a.firstFailing)!;
    assert.equal(failing.verdict, 'fail');
    assert.ok((failing.result.phases[0]!.summary.errors['app.http-5xx'] ?? 0) > 0, 'nginx\'s refusals broke it');
    for (const step of search.steps) assertStepFromItsRun(step);
  });

  it('each step\'s handshakes, and its 503s, are what nginx logged in the step\'s window', (t) => {
    if (!server) return void t.skip('nginx is not installed');
    return server.accessLog().then((log) => {
      for (const step of result.searches[0]!.steps) {
        const phase = step.result.phases[0]!;
        const from = phase.windowStartedAt;
        const to = from + phase.windowMs;
        const inWindow = log.filter((l) => l.msec >= from && l.msec < to);
        const handshakes = HANDSHAKE_CLASSES.reduce((n, c) => n + (phase.summary.classes[c]?.handshakes ?? 0), 0);
        const refused = phase.summary.errors['app.http-5xx'] ?? 0;
        const logged503 = inWindow.filter((l) => l.status === 503).length;
        const near = (edge: number) => log.filter((l) => Math.abs(l.msec - edge) < 100).map((l) => l.msec - edge).join(',');
        const s = phase.summary;
        const figures = `${step.offered}/s: tlsbench ${handshakes} handshakes (${refused} refused, unfinished ${s.unfinished}, carried in ${s.carriedIn}), ` +
          `nginx ${inWindow.length} requests (${logged503} 503) in the window; logged near its start [${near(from)}] ms, near its end [${near(to)}] ms`;
        t.diagnostic(figures);
        // nginx logs a request when it ends, a millisecond after its handshake: only a request
        // straddling an edge of the window can fall on the other side of it.
        const slack = (n: number) => 2 + 0.02 * n;
        assert.ok(handshakes > 0, figures);
        assert.ok(Math.abs(handshakes - inWindow.length) <= slack(inWindow.length), figures);
        assert.ok(Math.abs(refused - logged503) <= slack(logged503), figures);
        assert.ok(Math.abs(step.achieved - inWindow.length / (phase.windowMs / 1000)) <= slack(inWindow.length) / (phase.windowMs / 1000), figures);
      }
    });
  });

  it('every step reports nginx\'s CPU; per handshake within a factor of 2 of nginx\'s /proc CPU ÷ its logged requests', async (t) => {
    if (!server) return void t.skip('nginx is not installed');
    const steps = result.searches[0]!.steps;
    let cpu = 0;
    let handshakes = 0;
    for (const step of steps) {
      const phase = step.result.phases[0]!;
      assert.match(phase.server!.source, new RegExp(`^pid ${server.pid} and its children$`));
      assert.ok(step.serverCpuPerHandshakeUs !== null && step.serverCpuPerHandshakeUs > 0, `${step.offered}/s: no server CPU`);
      assert.ok(step.serverCoresBusy !== null && step.serverCoresBusy < 1);
      cpu += phase.serverCost!.cpuSeconds;
      handshakes += HANDSHAKE_CLASSES.reduce((n, c) => n + (phase.summary.classes[c]?.handshakes ?? 0), 0);
    }
    // The windows' CPU summed over every step against nginx's CPU over the whole search, each
    // divided by its own count of handshakes (the reference: every request nginx logged, warm-ups
    // included). /proc counts in 10 ms ticks, a few dozen of them over the windows together.
    const mine = (cpu * 1e6) / handshakes;
    const reference = (nginxCpuSeconds * 1e6) / (await server.accessLog()).length;
    t.diagnostic(`tlsbench ${mine.toFixed(0)} µs/handshake over the windows; nginx's /proc ÷ its log ${reference.toFixed(0)} µs/request`);
    assert.ok(mine > reference / 2 && mine < reference * 2, `${mine} vs ${reference}`);
  });
});
