import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as hdr from 'hdr-histogram-js';
import type { MatrixResult } from '../src/matrix/matrix-result.js';
import { resummarize, SCHEMA_VERSION, type RunResult } from '../src/metrics/run-result.js';
import { HANDSHAKE_CLASSES, LATENCY_METRICS } from '../src/metrics/tally.js';
import { CSV_HEADER } from '../src/report/csv.js';
import { renderHtml } from '../src/report/html.js';
import { mdText, renderMarkdown } from '../src/report/markdown.js';
import { runCli } from './support/cli.js';

/** Splits CSV that has no quoted fields (what a plain run writes) into header-keyed records. */
function parseCsv(text: string): Record<string, string>[] {
  const [header, ...lines] = text.trim().split('\n');
  const names = header!.split(',');
  return lines.map((line) => Object.fromEntries(line.split(',').map((v, i) => [names[i]!, v])));
}

/** The table's display rules, restated here so expected text never comes from the code under test. */
function msText(us: number): string {
  return us >= 100_000 ? (us / 1000).toFixed(0) : us >= 10_000 ? (us / 1000).toFixed(1) : (us / 1000).toFixed(2);
}
function perSecondText(count: number, windowMs: number): string {
  const perSecond = count / (windowMs / 1000);
  return perSecond >= 100 ? perSecond.toFixed(0) : perSecond.toFixed(1);
}

describe('report formats on a real result', () => {
  let dir: string;
  let file: string;
  let result: RunResult;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tlsbench-report-'));
    file = join(dir, 'result.json');
    const run = await runCli(['-n', '150', '--warmup', '100ms', '-w', '1', '-c', '4', '--quiet', '--out', file, '--format', 'csv']);
    assert.equal(run.code, 0, run.stderr);
    const saved = JSON.parse(readFileSync(file, 'utf8')) as RunResult;
    // What `report` shows: summaries recomputed from the tallies and the saved (whole-ms) window.
    result = { ...saved, phases: saved.phases.map(resummarize) };
    for (const [i, phase] of saved.phases.entries()) {
      assert.deepEqual(result.phases[i]!.summary.classes.full?.latency, phase.summary.classes.full?.latency, 'latency summaries survive the file');
    }
    assert.equal(result.phases.length, 2);
    // `run --format csv` printed CSV, not the table.
    assert.equal(run.stdout.split('\n')[0], CSV_HEADER.join(','));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const report = (...args: string[]) => runCli(['report', file, ...args]);

  it('csv: one row per phase × class × metric, counts and µs equal to the JSON summary', async () => {
    const out = await report('--format', 'csv');
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout.split('\n')[0], CSV_HEADER.join(','));
    const rows = parseCsv(out.stdout);
    let expected = 0;
    for (const phase of result.phases) {
      for (const cls of HANDSHAKE_CLASSES) {
        for (const metric of LATENCY_METRICS) if (phase.summary.classes[cls]?.latency[metric]) expected++;
      }
    }
    assert.equal(rows.length, expected);
    const full = result.phases[0]!.summary.classes.full!;
    const row = rows.find((r) => r.phase === 'full' && r.class === 'full' && r.metric === 'tls');
    assert.ok(row, 'a row for full/full/tls');
    assert.equal(Number(row.count), full.handshakes);
    assert.equal(Number(row.count), full.latency.tls!.count);
    assert.equal(Number(row.p50_us), full.latency.tls!.p50);
    assert.equal(Number(row.p99_us), full.latency.tls!.p99);
    assert.equal(Number(row.max_us), full.latency.tls!.max);
    assert.equal(Number(row.window_s), result.phases[0]!.summary.windowSeconds);
    const resumed = rows.find((r) => r.phase === 'resumed' && r.class === 'resumed' && r.metric === 'tls');
    assert.equal(Number(resumed?.count), result.phases[1]!.summary.classes.resumed?.handshakes);
  });

  it('markdown: the latency rows carry the figures of the histograms in the file', async () => {
    const out = await report('--format', 'markdown');
    assert.equal(out.code, 0, out.stderr);
    const md = out.stdout;
    // Expected figures computed here, from the raw tally: the encoded histogram decoded with
    // hdr-histogram-js itself, counts over the window, and the display rule of the table (ms:
    // two decimals below 10, one below 100, none above).
    const phase = result.phases[0]!;
    const full = phase.tally.classes.full!;
    const h = hdr.decodeFromCompressedBase64(full.histograms.tls!, 32, false);
    const rateText = perSecondText(full.handshakes, phase.windowMs);
    const [p50, p90, p99, p999] = [50, 90, 99, 99.9].map((q) => msText(h.getValueAtPercentile(q)));
    const tlsRow = `| full | tls | ${full.handshakes} | ${rateText} | ${p50} | ${p90} | ${p99} | ${p999} | ${msText(h.maxValue)} |`;
    assert.ok(md.includes(tlsRow), `expected ${tlsRow} in\n${md}`);
    assert.equal(full.handshakes, 150);
    assert.ok(md.includes(`**${rateText} handshakes/s**`));
    const resumed = result.phases[1]!.tally;
    const hitRate = resumed.classes.resumed!.handshakes / resumed.offered;
    assert.equal(hitRate, 1, 'the built-in server resumes every offered ticket');
    assert.ok(md.includes('**hit rate 100.0 %**'), md);
    assert.ok(md.includes(`OpenSSL ${result.runtime.openssl}`));
    assert.match(md, /^### tlsbench /);
    assert.match(md, /Resumption speedup/);
  });

  it('json and table re-render the same result', async () => {
    const json = await report('--format', 'json');
    const again = JSON.parse(json.stdout) as RunResult;
    assert.deepEqual(again.phases.map((p) => p.summary), result.phases.map((p) => p.summary));
    const table = await report();
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /── phase full \(resume none\)/);
  });

  it('hgrm: one HdrHistogram percentile distribution (ms) per phase × class × metric', async () => {
    const hgrm = join(dir, 'hgrm');
    const out = await report('--hgrm', hgrm, '--metric', 'tls');
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout, '', 'only files were asked for');
    const expected = result.phases.flatMap((p) => HANDSHAKE_CLASSES.filter((c) => p.tally.classes[c]?.histograms.tls).map((c) => `${p.name}-${c}-tls.hgrm`));
    assert.deepEqual(readdirSync(hgrm).sort(), expected.sort());
    const text = readFileSync(join(hgrm, 'full-full-tls.hgrm'), 'utf8');
    const lines = text.split('\n');
    assert.equal(lines[0], '       Value     Percentile TotalCount 1/(1-Percentile)');
    assert.equal(lines[1], '');
    const summary = result.phases[0]!.summary.classes.full!.latency.tls!;
    assert.match(text, new RegExp(`#\\[Max     = +${(summary.max / 1000).toFixed(3)}, Total count    = +${summary.count}\\]`));
    const rows = lines.slice(2).filter((l) => /^\s+\d/.test(l)).map((l) => l.trim().split(/\s+/).map(Number));
    assert.ok(rows.length > 5);
    assert.equal(rows.at(-1)![1], 1, 'the distribution ends at percentile 1.0');
    assert.equal(rows.at(-1)![2], summary.count);
    for (let i = 1; i < rows.length; i++) assert.ok(rows[i]![0]! >= rows[i - 1]![0]! && rows[i]![1]! >= rows[i - 1]![1]!, 'values and percentiles never decrease');
    // Every metric when --metric is not given.
    const all = join(dir, 'hgrm-all');
    const allOut = await report('--hgrm', all);
    assert.equal(allOut.code, 0, allOut.stderr);
    assert.ok(readdirSync(all).includes('full-full-connect.hgrm'));
  });

  it('hgrm: a file that cannot be written halfway does not stop the others; the command says which, exit 1', async () => {
    const hgrm = join(dir, 'hgrm-half');
    // A non-empty directory where one file goes: its rename fails, the files after it must not.
    mkdirSync(join(hgrm, 'full-full-tls.hgrm', 'taken'), { recursive: true });
    const out = await report('--hgrm', hgrm, '--metric', 'tls');
    assert.equal(out.code, 1, out.stderr);
    assert.doesNotMatch(out.stderr, /internal error|\n\s+at /);
    assert.match(out.stderr, /could not write .*full-full-tls\.hgrm/);
    assert.match(out.stderr, /1 of \d+ \.hgrm files not written; .*result\.json is unchanged: fix the cause and run this report again/);
    const expected = result.phases.flatMap((p) => HANDSHAKE_CLASSES.filter((c) => p.tally.classes[c]?.histograms.tls).map((c) => `${p.name}-${c}-tls.hgrm`));
    assert.ok(expected.length > 1 && expected[0] === 'full-full-tls.hgrm', `the blocked file comes first: ${expected.join(', ')}`);
    for (const name of expected.slice(1)) assert.ok(readFileSync(join(hgrm, name), 'utf8').length > 0, `${name} written after the failure`);
  });

  it('bad input exits 2 with a message saying what to do', async () => {
    const cases: [string[], RegExp][] = [
      [['report', file, '--format', 'xml'], /--format 'xml' is not a format/],
      [['report', file, '--hgrm', join(dir, 'x'), '--metric', 'latency'], /--metric latency: not a metric/],
      [['report', file, '--metric', 'tls'], /add --hgrm DIR/],
      [['report', join(dir, 'missing.json')], /cannot read/],
      [['report', file, '--html', join(dir, 'no', 'such', 'dir', 'r.html')], /does not exist/],
      [['--json', '--format', 'csv', '-n', '10'], /--json and --format csv/],
      [['-f', 'yaml', '-n', '10'], /--format 'yaml'/],
    ];
    for (const [args, message] of cases) {
      const out = await runCli(args);
      assert.equal(out.code, 2, `${args.join(' ')}: ${out.stderr}`);
      assert.match(out.stderr, message);
    }
    const notResult = join(dir, 'other.json');
    writeFileSync(notResult, '{"hello": 1}');
    const out = await runCli(['report', notResult]);
    assert.equal(out.code, 2);
    assert.match(out.stderr, /not a tlsbench result/);
  });

  it('matrix files: csv gains a cell column, markdown a cost table, skipped cells say why', async () => {
    const matrix: MatrixResult = {
      schemaVersion: SCHEMA_VERSION, kind: 'matrix', baseline: 'first', interrupted: false,
      cells: [
        { name: 'first', options: {}, result },
        { name: 'second', options: {}, result },
        { name: 'pq', options: {}, result: null, skipped: 'this Node cannot negotiate X25519MLKEM768' },
      ],
    };
    const matrixFile = join(dir, 'matrix.json');
    writeFileSync(matrixFile, JSON.stringify(matrix));
    const csv = await runCli(['report', matrixFile, '-f', 'csv']);
    assert.equal(csv.code, 0, csv.stderr);
    const rows = parseCsv(csv.stdout);
    assert.deepEqual([...new Set(rows.map((r) => r.cell))], ['first', 'second']);
    assert.equal(Number(rows.find((r) => r.cell === 'second' && r.phase === 'full' && r.metric === 'tls')?.count), result.phases[0]!.summary.classes.full!.handshakes);
    const md = await runCli(['report', matrixFile, '-f', 'markdown']);
    assert.equal(md.code, 0, md.stderr);
    assert.ok(md.stdout.includes(`| first (baseline) | full | ${perSecondText(result.phases[0]!.tally.successes, result.phases[0]!.windowMs)} |`), md.stdout);
    assert.match(md.stdout, /\| 1\.00× \|/);
    assert.match(md.stdout, /skipped: this Node cannot negotiate X25519MLKEM768/);
  });

  it('escapes what a result file carries, in Markdown and HTML', () => {
    const hostile = structuredClone(result);
    hostile.phases[0]!.name = '<img src=x onerror=alert(1)>|*x*';
    hostile.phases[0]!.findings = ['</script><script>alert(2)</script>'];
    hostile.warnings = ['"quoted" & <b>bold</b>'];
    const md = renderMarkdown(hostile);
    assert.ok(!md.includes('<img') && !md.includes('<script>') && !md.includes('<b>'), md);
    assert.ok(md.includes(mdText('<img src=x onerror=alert(1)>|*x*')));
    assert.equal(mdText('a|b*c_d<e>'), 'a\\|b\\*c\\_d&lt;e&gt;');
    const html = renderHtml({ kind: 'run', result: hostile });
    assert.ok(!html.includes('<img src=x'), 'phase name must be escaped');
    assert.ok(!html.includes('<script>alert(2)'), 'findings must be escaped');
    assert.ok(!html.includes('<b>bold'), 'warnings must be escaped');
    assert.ok(html.includes('&#60;img src=x onerror=alert(1)&#62;'));
    // The chart data island cannot be closed early by a label either.
    const island = /<script id="tlsbench-charts" type="application\/json">([^]*?)<\/script>/.exec(html);
    assert.ok(island);
    assert.ok(!island[1]!.includes('<'));
    assert.ok(Array.isArray(JSON.parse(island[1]!)));
  });
});
