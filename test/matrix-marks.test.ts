// §4 of issue 9: a matrix cell whose client saturated, or whose repeats' spread swallows the
// difference it reports against the baseline, is marked in the table, Markdown and HTML, not
// only in the JSON.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { compareResults } from '../src/compare/compare.js';
import { CLIENT_BOUND, renderMatrix, WITHIN_SPREAD } from '../src/matrix/render.js';
import type { MatrixResult } from '../src/matrix/matrix-result.js';
import { readRunResult } from '../src/merge/result-file.js';
import { SCHEMA_VERSION } from '../src/metrics/run-result.js';
import { renderMatrixAs } from '../src/report/format.js';
import { renderHtml } from '../src/report/html.js';
import { runCli } from './support/cli.js';

const scratch = await mkdtemp(join(tmpdir(), 'tlsbench-matrix-marks-'));
process.on('exit', () => void rm(scratch, { recursive: true, force: true }));

/** The recorded runs of test/fixtures/compare (see compare-gate.test.ts), as cells of one matrix. */
const DIR = fileURLToPath(new URL('../../test/fixtures/compare/', import.meta.url));
const files = [...readdirSync(DIR).filter((f) => f.startsWith('ecdsa-p256-')).sort(), 'rsa-4096.json'];

/** The table row of a cell: its line in the rendered table. */
const line = (text: string, cell: string) => text.split(/\n|<tr/).find((l) => l.includes(` ${cell} `) || l.includes(`| ${cell} `) || l.includes(`>${cell}<`)) ?? '';

/** The server cost column (the first ratio of the row) and its mark. */
const serverCostOf = (l: string) => /(\d+\.\d\d×)( within spread)?/.exec(l.split(/[│|]/).find((c) => /\d\.\d\d×/.test(c)) ?? '');

test('matrix: a cell whose difference from the baseline lies within the repeats\' spread is marked, one beyond it is not', () => {
  const cells = files.map((f) => ({ name: f.replace('.json', ''), options: {}, result: readRunResult(join(DIR, f)) }));
  const matrix: MatrixResult = { schemaVersion: SCHEMA_VERSION, kind: 'matrix', baseline: cells[0]!.name, interrupted: false, cells };
  const table = renderMatrix(matrix);
  const markdown = renderMatrixAs(matrix, 'markdown');
  const html = renderHtml({ kind: 'matrix', matrix });
  let marked = 0;
  for (const cell of cells.slice(1)) {
    // The same band compare uses: marked exactly when compare calls the server-cpu change noise.
    const verdict = compareResults(cells[0]!.result, cell.result).rows.find((r) => r.metric === 'server-cpu')!.verdict;
    for (const [format, text] of [['table', table], ['markdown', markdown]] as const) {
      const m = serverCostOf(line(text, cell.name));
      assert.ok(m, `${format}: no server cost for ${cell.name}:\n${text}`);
      assert.equal(!!m[2], verdict === 'within noise', `${format}: ${cell.name} server cost ${m[0]} vs compare's ${verdict}`);
    }
    if (verdict === 'within noise') marked++;
  }
  assert.ok(marked > 0, 'no identical cell lies within the spread of the baseline');
  // RSA-4096's server cost (≈5× the baseline's) is beyond the spread: shown bare.
  const rsa = serverCostOf(line(table, 'rsa-4096'));
  assert.ok(rsa && Number(rsa[1]!.slice(0, -1)) > 2 && !rsa[2], line(table, 'rsa-4096'));
  assert.match(html, new RegExp(WITHIN_SPREAD));
  assert.match(table, /"within spread": the repeats' spread/);
});

/** Every format a matrix is read in, for the client-bound mark. */
function matrixViews(m: MatrixResult, table = renderMatrix(m)): [string, string][] {
  return [['table', table], ['markdown', renderMatrixAs(m, 'markdown')], ['html', renderHtml({ kind: 'matrix', matrix: m })]];
}

/** A cell is marked client-bound in every format exactly when its client saturated. */
function assertClientBoundMarks(m: MatrixResult, table?: string): void {
  for (const cell of m.cells) {
    const saturated = cell.result!.phases[0]!.client.saturated;
    for (const [format, text] of matrixViews(m, table)) {
      assert.equal(new RegExp(CLIENT_BOUND).test(line(text, cell.name)), saturated, `${format}, ${cell.name} (saturated: ${saturated}):\n${text}`);
    }
  }
}

// A small real matrix recorded once on the project VM (test/fixtures/matrix/saturation.json):
// `matrix --config` with options {resume: none, workers: 1, duration: 2s, warmup: 1s} and cells
// idle (--rate 20) and busy (-c 256) against the built-in server. Recorded, because whether 256
// slots saturate one worker on a shared 2-core machine is the machine's state, not the code's.
test('matrix: the cell whose client saturated is marked client-bound in the table, Markdown and HTML; the idle one is not (recorded)', async () => {
  const m = JSON.parse(await readFile(fileURLToPath(new URL('../../test/fixtures/matrix/saturation.json', import.meta.url)), 'utf8')) as MatrixResult;
  const phase = (name: string) => m.cells.find((c) => c.name === name)!.result!.phases[0]!;
  assert.equal(phase('busy').client.saturated, true);
  assert.equal(phase('idle').client.saturated, false);
  assertClientBoundMarks(m);
});

test('matrix: a live run marks client-bound exactly the cells whose client saturated (built-in server)', async () => {
  const grid = join(scratch, 'grid.json');
  await writeFile(grid, JSON.stringify({
    options: { resume: 'none', workers: 1, duration: '2s', warmup: '1s' },
    cells: [{ name: 'idle', rate: 20 }, { name: 'busy', connections: 256 }],
  }));
  const out = join(scratch, 'matrix.json');
  const res = await runCli(['matrix', '--config', grid, '--quiet', '--out', out]);
  assert.equal(res.code, 0, res.stderr);
  const m = JSON.parse(await readFile(out, 'utf8')) as MatrixResult;
  // 20 attempts/s leave one worker mostly idle on any machine.
  assert.equal(m.cells.find((c) => c.name === 'idle')!.result!.phases[0]!.client.saturated, false);
  assertClientBoundMarks(m, res.stdout);
});
