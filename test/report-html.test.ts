import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it, type TestContext } from 'node:test';
import type { MatrixResult } from '../src/matrix/matrix-result.js';
import { SCHEMA_VERSION, type RunResult } from '../src/metrics/run-result.js';
import { Chromium, chromiumAvailable, CHROMIUM } from './support/chromium.js';
import { runCli } from './support/cli.js';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

interface CanvasState { id: string; width: number; height: number; rendered: boolean }

/** Opens the page, waits for the charts it promised, and returns what the browser saw. */
async function inspect(browser: Chromium, file: string, screenshot: string) {
  const page = await browser.newPage(1280, 900);
  await page.open(pathToFileURL(file).href);
  await page.waitFor('typeof window.__chartsExpected === "number" && window.__chartsRendered === window.__chartsExpected');
  const state = await page.evaluate<{ expected: number; rendered: number; canvases: CanvasState[]; title: string }>(`({
    expected: window.__chartsExpected,
    rendered: window.__chartsRendered,
    title: document.title,
    canvases: [...document.querySelectorAll('canvas')].map((c) => {
      const box = c.getBoundingClientRect();
      return { id: c.id, width: box.width, height: box.height, rendered: c.dataset.rendered === 'true' };
    }),
  })`);
  const png = await page.screenshot();
  writeFileSync(screenshot, png);
  return { ...state, png, errors: page.errors, requests: page.requests };
}

describe('HTML report in headless Chromium', () => {
  let dir: string;
  let resultFile: string;
  let result: RunResult;
  let browser: Chromium | null = null;

  const skipWithoutChromium = (t: TestContext): boolean => {
    if (chromiumAvailable()) return false;
    // CI installs it (scripts/install-chromium.sh); locally it is optional.
    assert.notEqual(process.env.CI, 'true', `${CHROMIUM} is missing in CI: run scripts/install-chromium.sh`);
    t.skip(`${CHROMIUM} not found: install it with 'bash scripts/install-chromium.sh' to run this test`);
    return true;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tlsbench-html-'));
    if (!chromiumAvailable()) return; // each test says why it skips (or fails, in CI)
    resultFile = join(dir, 'result.json');
    const run = await runCli(['-d', '1s', '--warmup', '200ms', '-w', '1', '-c', '4', '--quiet', '--out', resultFile]);
    assert.equal(run.code, 0, run.stderr);
    result = JSON.parse(readFileSync(resultFile, 'utf8')) as RunResult;
    browser = Chromium.launch();
  });
  after(async () => {
    await browser?.close();
    // The screenshots stay for a person to look at; the rest goes (all of it when nothing ran).
    if (resultFile === undefined) rmSync(dir, { recursive: true, force: true });
    else rmSync(resultFile, { force: true });
  });

  it('a run: every chart renders, no console error, nothing fetched, a real screenshot', async (t) => {
    if (skipWithoutChromium(t)) return;
    const html = join(dir, 'run.html');
    const out = await runCli(['report', resultFile, '--html', html]);
    assert.equal(out.code, 0, out.stderr);
    const page = readFileSync(html, 'utf8');
    assert.doesNotMatch(page, /<(script|link|img)[^>]+(src|href)=["']?(https?:)?\/\//i, 'the page must not load anything');
    const seen = await inspect(browser!, html, join(dir, 'run.png'));
    t.diagnostic(`screenshot: ${join(dir, 'run.png')}`);
    // Two phases (full, resumed): one overlay of both, then percentile + timeline + server CPU
    // per phase (the built-in server's CPU is always measured).
    assert.equal(result.phases.length, 2);
    assert.equal(seen.expected, 1 + 2 * 3);
    assert.equal(seen.rendered, seen.expected);
    assert.equal(seen.canvases.length, seen.expected);
    for (const c of seen.canvases) {
      assert.ok(c.rendered, `${c.id} never rendered`);
      assert.ok(c.width > 100 && c.height > 100, `${c.id} is ${c.width}×${c.height}`);
    }
    assert.deepEqual(seen.errors, []);
    assert.deepEqual(seen.requests.filter((u) => !u.startsWith('file:')), []);
    assert.match(seen.title, /^tlsbench · built-in server/);
    assert.ok(seen.png.subarray(0, 8).equals(PNG_SIGNATURE), 'a PNG');
    assert.ok(seen.png.length > 30_000, `a screenshot of ${seen.png.length} bytes is too small to show charts`);
    // What the page says, besides the charts.
    assert.ok(page.includes(`OpenSSL ${result.runtime.openssl}`));
    assert.ok(page.includes(`Node ${result.runtime.node}`));
  });

  it('repeats (timeline with gaps) and a merged result (machines table): every chart renders, no console error', async (t) => {
    if (skipWithoutChromium(t)) return;
    const repeated = join(dir, 'repeat.json');
    const run = await runCli(['-n', '60', '--warmup', '100ms', '-w', '1', '-c', '2', '--repeat', '2', '--quiet', '--out', repeated]);
    assert.equal(run.code, 0, run.stderr);
    const merged = join(dir, 'merged.json');
    const merge = await runCli(['merge', resultFile, resultFile, '--out', merged]);
    assert.equal(merge.code, 0, merge.stderr);
    for (const [name, file] of [['repeat', repeated], ['merged', merged]] as const) {
      const html = join(dir, `${name}.html`);
      const out = await runCli(['report', file, '--html', html]);
      assert.equal(out.code, 0, out.stderr);
      const seen = await inspect(browser!, html, join(dir, `${name}.png`));
      assert.ok(seen.expected >= 5, `${name}: ${seen.expected} charts`);
      assert.equal(seen.rendered, seen.expected, name);
      for (const c of seen.canvases) assert.ok(c.rendered && c.width > 100 && c.height > 100, `${name} ${c.id}: ${JSON.stringify(c)}`);
      assert.deepEqual(seen.errors, [], name);
      const page = readFileSync(html, 'utf8');
      if (name === 'repeat') assert.ok(page.includes('Repeats: 2 repeats'));
      else assert.ok(page.includes('Load machines (merged)') && page.includes('merged from 2 load machines'));
    }
  });

  it('a matrix: the relative-cost bars and per-cell curves render; skipped cells are listed', async (t) => {
    if (skipWithoutChromium(t)) return;
    const matrix: MatrixResult = {
      schemaVersion: SCHEMA_VERSION, kind: 'matrix', baseline: 'ecdsa-p256', interrupted: false,
      cells: [
        { name: 'ecdsa-p256', options: {}, result },
        { name: 'ecdsa-p256 again', options: {}, result },
        { name: 'X25519MLKEM768', options: {}, result: null, skipped: 'this Node (OpenSSL 3.0) cannot negotiate X25519MLKEM768' },
      ],
    };
    const matrixFile = join(dir, 'matrix.json');
    writeFileSync(matrixFile, JSON.stringify(matrix));
    const html = join(dir, 'matrix.html');
    const out = await runCli(['report', matrixFile, '--html', html]);
    assert.equal(out.code, 0, out.stderr);
    const seen = await inspect(browser!, html, join(dir, 'matrix.png'));
    t.diagnostic(`screenshot: ${join(dir, 'matrix.png')}`);
    assert.equal(seen.expected, 2);
    assert.equal(seen.rendered, 2);
    for (const c of seen.canvases) assert.ok(c.rendered && c.width > 100 && c.height > 100, `${c.id}: ${JSON.stringify(c)}`);
    assert.deepEqual(seen.errors, []);
    assert.ok(seen.png.length > 20_000);
    const page = readFileSync(html, 'utf8');
    assert.ok(page.includes('skipped: this Node (OpenSSL 3.0) cannot negotiate X25519MLKEM768'));
    assert.ok(page.includes('1.00×'), 'the baseline costs 1.00×');
  });
});
