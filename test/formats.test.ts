/**
 * Every command in every format, on real runs against the built-in server: the schema set
 * validates every file the CLI writes; merged results, repeats, CSV columns, compare thresholds,
 * the table's per-second column and the HTML charts say what the result holds.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { MatrixResult } from '../src/matrix/matrix-result.js';
import { SCHEMA_VERSION, type RunResult } from '../src/metrics/run-result.js';
import { schemaKindOf, schemaValidator, SCHEMA_FILES, type SchemaKind } from '../src/schema/result-schemas.js';
import { RESUMPTION_MECHANISMS } from '../src/metrics/tally.js';
import { runCli, type CliOutcome } from './support/cli.js';

const FORMATS = ['table', 'json', 'markdown', 'csv', 'html'] as const;
type Format = (typeof FORMATS)[number];

/** Each format recognised by what it must start with, never by the code under test. */
function assertFormat(out: string, format: Format | 'compare-csv', what: string): void {
  const text = out.trimStart();
  if (format === 'table') assert.match(text, /┌|^tlsbench/m, `${what}: a table`);
  if (format === 'json') assert.doesNotThrow(() => JSON.parse(text), `${what}: JSON`);
  if (format === 'markdown') assert.match(text, /^### tlsbench/, `${what}: Markdown`);
  if (format === 'csv') assert.match(text, /^(cell,)?phase,resume,class,metric,/, `${what}: CSV`);
  if (format === 'compare-csv') assert.match(text, /^phase,class,metric,base,head,change,noise,verdict/, `${what}: CSV`);
  if (format === 'html') assert.match(text, /^<!DOCTYPE html>/, `${what}: HTML`);
}

function validate(value: unknown, what: string, kind: SchemaKind = schemaKindOf(value)): void {
  const check = schemaValidator(kind);
  assert.ok(check(value), `${what} fails schema/${SCHEMA_FILES[kind]}: ${JSON.stringify(check.errors?.slice(0, 5))}`);
}

function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

function ok(out: CliOutcome, what: string): CliOutcome {
  assert.equal(out.code, 0, `${what}: exit ${out.code}: ${out.stderr.slice(-1500)}`);
  return out;
}

/** Header-keyed CSV records; fields with quotes are not expected in these runs. */
function parseCsv(text: string): Record<string, string>[] {
  const [header, ...lines] = text.trim().split('\n');
  const names = header!.split(',');
  return lines.map((line) => Object.fromEntries(line.split(',').map((v, i) => [names[i]!, v])));
}

interface ChartSpec { kind: string; id: string; labels?: string[]; series: { label: string; values?: (number | null)[] }[] }
function chartSpecs(html: string): ChartSpec[] {
  const m = /<script id="tlsbench-charts" type="application\/json">([\s\S]*?)<\/script>/.exec(html);
  assert.ok(m, 'the page carries its chart data');
  return JSON.parse(m[1]!) as ChartSpec[];
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const rateText = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(1));
const N = 120;

describe('formats, every command', () => {
  let dir: string;
  const at = (name: string) => join(dir, name);
  let repeatTable: string;
  let repeated: RunResult;
  let merged: RunResult;
  let matrix: MatrixResult;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tlsbench-formats-'));
    // --repeat 2 with two requests per connection: repeats, their spread and a ttfb row whose
    // requests/s differs from handshakes/s.
    const rep = ok(await runCli(['-n', String(N), '-w', '1', '-c', '4', '--warmup', '100ms', '--repeat', '2', '--http', '/',
      '--requests-per-connection', '2', '--quiet', '--out', at('repeat.json')]), 'run --repeat 2');
    repeatTable = rep.stdout;
    repeated = readJson<RunResult>(at('repeat.json'));
    // Two "machines": two runs sharing a --start-at, merged.
    const startAt = new Date(Date.now() + 4000).toISOString();
    const machine = (file: string) => runCli(['-n', '80', '-w', '1', '-c', '2', '--warmup', '100ms', '--start-at', startAt, '--quiet', '--out', at(file)]);
    const [a, b] = await Promise.all([machine('a.json'), machine('b.json')]);
    ok(a, 'machine a');
    ok(b, 'machine b');
    ok(await runCli(['merge', at('a.json'), at('b.json'), '--out', at('merged.json'), '-f', 'json']), 'merge');
    merged = readJson<RunResult>(at('merged.json'));
    // A matrix whose resumed phases all find the same thing (tickets off, no session cache for TLS 1.3).
    ok(await runCli(['matrix', '--key-types', 'ecdsa-p256,rsa-2048', '--tls', '1.3', '--server-tickets', 'off', '-n', '40', '-w', '1', '-c', '2',
      '--warmup', '0s', '--quiet', '--out', at('matrix.json'), '-f', 'csv']), 'matrix');
    matrix = readJson<MatrixResult>(at('matrix.json'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('the schema set is exported by the package and follows SCHEMA_VERSION', () => {
    const require = createRequire(import.meta.url);
    for (const file of Object.values(SCHEMA_FILES)) {
      const path = require.resolve(`tlsbench/schema/${file}`);
      const schema = readJson<{ properties: { schemaVersion: { const: number } } }>(path);
      assert.equal(schema.properties.schemaVersion.const, SCHEMA_VERSION, `${file}: bump with SCHEMA_VERSION`);
    }
  });

  it('every file the CLI wrote matches its schema: run (repeats), each machine, merged, matrix', () => {
    for (const file of ['repeat.json', 'a.json', 'b.json', 'merged.json', 'matrix.json']) validate(readJson(at(file)), file);
    assert.equal(schemaKindOf(matrix), 'matrix');
    // The one set: a cell's result is a run result by the run schema's $id.
    assert.equal(schemaValidator('matrix')({ ...matrix, cells: [{ ...matrix.cells[0]!, result: { surprise: true } }] }), false);
  });

  it('run, matrix and merge speak every format; their JSON on stdout matches the schema', async () => {
    for (const format of ['markdown', 'csv', 'html', 'json'] as const) {
      const out = ok(await runCli(['-n', '30', '-w', '1', '-c', '2', '--warmup', '0s', '--resume', 'none', '--quiet', '-f', format]), `run -f ${format}`);
      assertFormat(out.stdout, format, `run -f ${format}`);
      if (format === 'json') validate(JSON.parse(out.stdout), 'run -f json');
    }
    for (const format of ['markdown', 'html', 'json'] as const) {
      const out = ok(await runCli(['matrix', '--tls', '1.3', '-n', '20', '-w', '1', '-c', '2', '--warmup', '0s', '--resume', 'none', '--quiet', '-f', format]), `matrix -f ${format}`);
      assertFormat(out.stdout, format, `matrix -f ${format}`);
      if (format === 'json') validate(JSON.parse(out.stdout), 'matrix -f json', 'matrix');
    }
    for (const format of FORMATS) {
      const out = ok(await runCli(['merge', at('a.json'), at('b.json'), '--out', at(`merged-${format}.json`), '-f', format]), `merge -f ${format}`);
      assertFormat(out.stdout, format, `merge -f ${format}`);
      validate(readJson(at(`merged-${format}.json`)), `merge -f ${format} --out`);
    }
  });

  it('report speaks every format for a run, a merged result and a matrix', async () => {
    for (const file of ['repeat.json', 'merged.json', 'matrix.json']) {
      for (const format of FORMATS) {
        const out = ok(await runCli(['report', at(file), '-f', format]), `report ${file} -f ${format}`);
        assertFormat(out.stdout, format, `report ${file} -f ${format}`);
        if (format === 'json') validate(JSON.parse(out.stdout), `report ${file} -f json`);
      }
    }
  });

  it('compare speaks every format; its JSON holds the thresholds checked, each metric\'s values and verdict', async () => {
    const args = ['compare', at('a.json'), at('repeat.json'), '--fail-if', 'throughput<-99%', '--fail-if', 'hit-rate<99%', '--fail-if', 'p99>+1000%'];
    const json = ok(await runCli([...args, '-f', 'json']), 'compare -f json');
    const doc = JSON.parse(json.stdout) as { kind: string; passed: boolean; thresholds: { text: string; checked: number; crossed: number }[];
      rows: { phase: string; cls: string; metric: string; base: number | null; head: number | null; verdict: string; headSamples: number[] }[] };
    validate(doc, 'compare -f json', 'comparison');
    assert.equal(doc.kind, 'comparison');
    assert.equal(doc.passed, true);
    assert.deepEqual(doc.thresholds.map((t) => t.text), ['throughput<-99%', 'hit-rate<99%', 'p99>+1000%']);
    const a = readJson<RunResult>(at('a.json'));
    const full = doc.rows.find((r) => r.phase === 'full' && r.cls === 'full' && r.metric === 'throughput')!;
    assert.equal(full.base, a.phases[0]!.summary.classes.full!.rate);
    assert.equal(full.head, repeated.phases[0]!.summary.classes.full!.rate);
    assert.deepEqual(full.headSamples, repeated.phases[0]!.samples!.map((s) => s.classes.full!.rate), 'each HEAD repeat\'s figure');
    const throughputRows = doc.rows.filter((r) => r.metric === 'throughput' && r.base !== null && r.head !== null).length;
    assert.equal(doc.thresholds[0]!.checked, throughputRows);
    assert.equal(doc.thresholds[1]!.checked, 1, 'hit rate: the resumed phase');

    const md = ok(await runCli([...args, '-f', 'markdown']), 'compare -f markdown').stdout;
    assert.match(md, /\*\*Thresholds checked:\*\*/);
    for (const t of doc.thresholds) assert.ok(md.includes(`\`${t.text}\`: ${t.checked} rows checked, none failed`) || md.includes(`\`${t.text}\`: ${t.checked} row checked, none failed`), `markdown lists ${t.text}`);
    const table = ok(await runCli([...args, '-f', 'table']), 'compare').stdout;
    assert.match(table, /gate noise .*: 3 thresholds checked, 3 passed, 0 failed\n  pass throughput<-99%: \d+ rows checked, none failed/);
    const csv = parseCsv(ok(await runCli([...args, '-f', 'csv']), 'compare -f csv').stdout);
    assertFormat(ok(await runCli([...args, '-f', 'csv']), 'compare -f csv').stdout, 'compare-csv', 'compare -f csv');
    assert.equal(csv.length, doc.rows.length);
    const row = csv.find((r) => r.phase === 'full' && r.class === 'full' && r.metric === 'throughput')!;
    assert.equal(Number(row.base), Number(full.base!.toPrecision(8)));
    assert.equal(row.head_samples!.split(' ').length, 2);
  });

  it('a merged result says so in every format: machines, runtimes, cores, client load, window alignment', async () => {
    assert.equal(merged.machines?.length, 2);
    const names = [at('a.json'), at('b.json')];
    const offsets = merged.machines!.map((m) => m.phases[0]!.windowStartedAt - merged.phases[0]!.windowStartedAt);
    const skew = Math.max(...merged.phases.map((p) => {
      const starts = merged.machines!.map((m) => m.phases.find((x) => x.name === p.name)!.windowStartedAt);
      return Math.max(...starts) - Math.min(...starts);
    }));
    const report = async (format: Format) => ok(await runCli(['report', at('merged.json'), '-f', format]), `report merged -f ${format}`).stdout;
    const table = await report('table');
    assert.ok(table.includes(`merged from 2 load machines (shared --start-at): windows opened within ${skew} ms of each other`), table.slice(0, 600));
    for (const m of merged.machines!) {
      assert.ok(m.phases.length === 2 && m.phases.every((p) => p.client.elu.length === 1), 'each machine keeps its windows and client load');
      assert.ok(table.includes(`Node ${m.node}, OpenSSL ${m.openssl}`));
    }
    for (const [i, name] of names.entries()) {
      assert.ok(table.includes(`(${name})`), `table names ${name}`);
      assert.ok(table.includes(`+${offsets[i]} ms`), `table shows ${name}'s window offset`);
    }
    const md = await report('markdown');
    assert.ok(md.includes('**Clients:** merged from 2 load machines'));
    for (const name of names) assert.ok(md.includes(`(${name})`));
    const html = await report('html');
    assert.ok(html.includes('Load machines (merged)'));
    for (const name of names) assert.ok(html.includes(`(${name})`));
    const csv = parseCsv(await report('csv'));
    for (const r of csv) {
      assert.equal(r.machines, '2');
      assert.equal(Number(r.window_skew_ms), merged.machines!.map((m) => m.phases.find((p) => p.name === r.phase)!.windowStartedAt)
        .reduce((acc, s, _, all) => Math.max(acc, s - Math.min(...all)), 0));
    }
  });

  it('--repeat: the run line adds up, the window is each repeat\'s and their sum, the repeats and their spread are shown', async () => {
    assert.ok(repeatTable.includes(`${N} handshakes (bounded by 10m) per phase in each of 2 repeats (${2 * N} handshakes per phase in all)`), repeatTable.slice(0, 500));
    for (const phase of repeated.phases) {
      assert.equal(phase.summary.attempts, 2 * N);
      assert.ok(repeatTable.includes(`attempts ${2 * N}`));
      const samples = phase.samples!;
      assert.equal(samples.length, 2);
      assert.equal(Math.round(samples[0]!.windowMs + samples[1]!.windowMs), Math.round(phase.windowMs), 'the total is the sum of the repeats\' windows');
      const windowText = `window 2 repeats: ${seconds(samples[0]!.windowMs)} + ${seconds(samples[1]!.windowMs)} = ${seconds(phase.windowMs)} measured`;
      assert.ok(repeatTable.includes(windowText), windowText);
      const rates = samples.map((s) => s.rate);
      assert.ok(repeatTable.includes(`2 repeats · handshakes/s ${rateText(Math.min(...rates))}–${rateText(Math.max(...rates))}`));
      for (const [i, s] of samples.entries()) assert.match(repeatTable, new RegExp(`│ ${i + 1} +│ +${seconds(s.windowMs)} │ +${rateText(s.rate)} │`));
    }
    const md = ok(await runCli(['report', at('repeat.json'), '-f', 'markdown']), 'report -f markdown').stdout;
    assert.ok(md.includes('**Repeats:** 2 repeats'));
    assert.match(md, /\| repeat \| window \| handshakes\/s \|/);
    const csv = parseCsv(ok(await runCli(['report', at('repeat.json'), '-f', 'csv']), 'report -f csv').stdout);
    const row = csv.find((r) => r.phase === 'full' && r.class === 'full' && r.metric === 'tls')!;
    const classRates = repeated.phases[0]!.samples!.map((s) => s.classes.full!.rate);
    assert.equal(row.repeats, '2');
    assert.equal(Number(row.per_s_min), Number(Math.min(...classRates).toFixed(3)));
    assert.equal(Number(row.per_s_max), Number(Math.max(...classRates).toFixed(3)));
  });

  it('--repeat: the HTML timeline draws each repeat\'s own seconds with a gap between, and every handshake once', async () => {
    const html = ok(await runCli(['report', at('repeat.json'), '-f', 'html']), 'report -f html').stdout;
    const timelines = chartSpecs(html).filter((s) => s.kind === 'timeline');
    assert.equal(timelines.length, repeated.phases.length);
    repeated.phases.forEach((phase, i) => {
      const spec = timelines[i]!;
      const [first, second] = phase.samples!;
      const r1 = spec.labels!.filter((l) => l.startsWith('r1 ')).length;
      const r2 = spec.labels!.filter((l) => l.startsWith('r2 ')).length;
      assert.equal(r1, Math.max(1, Math.ceil(first!.windowMs / 1000)));
      assert.equal(r2, Math.max(1, Math.ceil(second!.windowMs / 1000)));
      assert.equal(spec.labels![r1], '', 'an empty slot between the repeats');
      for (const s of spec.series) assert.equal(s.values![r1], null, `${s.label}: no value in the gap`);
      const drawn = spec.series.filter((s) => s.label !== 'errors').flatMap((s) => s.values!).reduce<number>((a, v) => a + (v ?? 0), 0);
      assert.equal(drawn, phase.summary.successes, `${phase.name}: every handshake of both repeats is drawn once`);
    });
  });

  it('csv: error, hit-rate and mechanism columns carry the phase\'s counts', async () => {
    const csv = parseCsv(ok(await runCli(['report', at('repeat.json'), '-f', 'csv']), 'report -f csv').stdout);
    for (const phase of repeated.phases) {
      const row = csv.find((r) => r.phase === phase.name)!;
      assert.equal(Number(row.attempts), phase.summary.attempts);
      assert.equal(Number(row.errors), phase.summary.errorCount);
      assert.equal(row.hit_rate, phase.summary.hitRate === null ? '' : String(Number(phase.summary.hitRate.toFixed(6))));
      for (const m of RESUMPTION_MECHANISMS) assert.equal(Number(row[`resumed_${m.replace(/-/g, '_')}`]), phase.summary.mechanisms[m] ?? 0, m);
    }
    // Node's server (the built-in one) issues self-contained TLS 1.3 tickets.
    assert.ok(Number(csv.find((r) => r.phase === 'resumed')!.resumed_tls13_psk_stateless) > 0, 'the resumed phase resumed by stateless TLS 1.3 tickets');
    // Errors: nothing listens on port 1, so every attempt is refused; the phase still has its row.
    const refused = await runCli(['127.0.0.1:1', '-n', '5', '-w', '1', '-c', '1', '--warmup', '0s', '--resume', 'none', '--insecure', '--quiet', '-f', 'csv']);
    assert.equal(refused.code, 1, refused.stderr);
    const rows = parseCsv(refused.stdout);
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.class, '');
    assert.equal(rows[0]!.attempts, '5');
    assert.equal(rows[0]!.errors, '5');
    assert.equal(rows[0]!.error_classes, 'tcp.refused=5');
  });

  it('table: "per s" once per class; a ttfb row adds requests/s only when it differs', () => {
    const block = repeatTable.split('── phase full')[1]!.split('negotiated:')[0]!;
    const rows = block.split('\n').filter((l) => /^│ (full|\s+) +│ (tcp|tls|connect|ttfb) /.test(l)).map((l) => l.split('│').map((c) => c.trim()));
    assert.deepEqual(rows.map((r) => r[2]), ['tcp', 'tls', 'connect', 'ttfb']);
    const full = repeated.phases[0]!.summary;
    assert.equal(rows[0]![4], rateText(full.classes.full!.rate), 'handshakes/s on the class\'s first row');
    assert.equal(rows[1]![4], '');
    assert.equal(rows[2]![4], '');
    assert.equal(rows[3]![4], `${rateText(full.classes.full!.requests / full.windowSeconds)} req/s`, 'two requests per connection: requests/s');
  });

  it('html: the matrix latency chart covers every cell and phase; identical findings are one line with a count', async () => {
    const html = ok(await runCli(['report', at('matrix.json'), '-f', 'html']), 'report matrix -f html').stdout;
    const percentile = chartSpecs(html).find((s) => s.kind === 'percentile')!;
    for (const cell of matrix.cells) {
      for (const phase of cell.result!.phases) {
        for (const cls of Object.keys(phase.summary.classes)) {
          const label = [cell.name, phase.name, phase.name !== cls ? cls : ''].filter(Boolean).join(' · ');
          assert.ok(percentile.series.some((s) => s.label === label), `a curve for ${label}`);
        }
      }
    }
    const findings = matrix.cells.flatMap((c) => c.result!.phases.flatMap((p) => p.findings));
    assert.equal(findings.length, 2);
    assert.equal(findings[0], findings[1], 'both cells found the same thing');
    const escaped = findings[0]!.replace(/'/g, '&#39;');
    assert.equal(html.split(escaped).length - 1, 1, 'the finding is on the page once');
    assert.ok(html.includes(`${escaped} (×2: `));
  });

  it('the README\'s sample output has the lines and table layout a run prints', async () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const sample = /## Quick start[\s\S]*?\n```\n(tlsbench [\s\S]*?)```/.exec(readme)![1]!;
    const out = ok(await runCli(['-d', '1s', '--warmup', '200ms', '-w', '1', '-c', '4', '--quiet']), 'run').stdout;
    // The kind of each line: its words before the first figure; table rows by their layout.
    const kind = (line: string) => line.replace(/[\d.]+/g, '#').replace(/[┌├└][─┬┼┴]+[┐┤┘]/g, 'rule').replace(/│.*│/, (row) => (row.includes('class') ? row.replace(/\s+/g, ' ') : 'row')).slice(0, 18);
    // Findings (⚠) depend on how loaded the machine is: the layout around them is what must match.
    const kinds = (text: string) => text.split('\n').filter((l) => l && l !== '…' && !l.startsWith('⚠')).map(kind);
    const printed = kinds(out);
    let from = 0;
    for (const k of kinds(sample)) {
      const i = printed.indexOf(k, from);
      assert.ok(i >= 0, `README line "${k}" is not printed (in this order): ${printed.join(' / ')}`);
      from = i + 1;
    }
    const cells = (line: string) => line.split('│').map((c) => c.trim()).join('|');
    const header = sample.split('\n').find((l) => l.includes('│ class'))!;
    assert.ok(out.split('\n').some((l) => cells(l) === cells(header)), `the table header ${header}`);
  });
});
