import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type { RunResult } from '../src/metrics/run-result.js';
import { Chromium, chromiumAvailable, CHROMIUM } from './support/chromium.js';
import { compileProject, declarationImports, packageOf, readmeApiExample, writeConsumerProject } from './support/consumer-project.js';

const exec = promisify(execFile);

/** dist/test → the repository root. */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const OWN = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
/** What a checkout holds besides sources: never part of what is packed. */
const NOT_SOURCES = new Set(['node_modules', 'dist', '.git', '.runtimes', 'results', 'tmp']);

interface Outcome { code: number; stdout: string; stderr: string }

/** Runs a command to its end; a non-zero exit is an outcome to assert on, not a throw. */
async function sh(file: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<Outcome> {
  try {
    const { stdout, stderr } = await exec(file, args, { cwd, env: { ...process.env, ...env }, timeout: 240_000, maxBuffer: 64 << 20 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number | string; stdout?: string; stderr?: string; message: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: `${e.stderr ?? ''}${e.message}` };
  }
}

/**
 * As a user gets it: `npm pack` of a copy of this checkout (its prepack builds the shipped files;
 * the checkout's own dist/ is left alone), then `npm install` of the tarball into a fresh project
 * that has a package.json of its own, with another version.
 */
describe('the packed tarball, installed into a fresh project', { timeout: 600_000 }, () => {
  let dir: string;
  let app: string;
  let install: Outcome;
  let tarballFiles: string[];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tlsbench-pack-'));
    const copy = join(dir, 'checkout');
    mkdirSync(copy);
    for (const entry of readdirSync(ROOT)) {
      if (!NOT_SOURCES.has(entry)) cpSync(join(ROOT, entry), join(copy, entry), { recursive: true });
    }
    // The dev dependencies (typescript) for prepack, without installing them again.
    symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
    const pack = await sh('npm', ['pack', '--json', '--pack-destination', dir], copy);
    assert.equal(pack.code, 0, pack.stderr);
    const packed = (JSON.parse(pack.stdout.slice(pack.stdout.indexOf('['))) as { filename: string; files: { path: string }[] }[])[0]!;
    tarballFiles = packed.files.map((f) => f.path);

    app = join(dir, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'someone-elses-project', version: '9.9.9', private: true }));
    // --foreground-scripts: every lifecycle script npm runs is printed as `> name@version script`.
    install = await sh('npm', ['install', '--no-audit', '--no-fund', '--foreground-scripts', join(dir, packed.filename)], app);
    assert.equal(install.code, 0, install.stderr);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('ships built JavaScript, its licences and no source map or TypeScript source', () => {
    for (const file of ['LICENSE', 'README.md', 'package.json', 'dist/src/cli/main.js', 'dist/src/index.js', 'dist/src/index.d.ts', 'vendor/chart.js/chart.umd.min.js', 'vendor/chart.js/LICENSE.md',
      'native/binding.gyp', 'scripts/build-native.mjs']) {
      assert.ok(tarballFiles.includes(file), `${file} is not in the tarball`);
    }
    assert.deepEqual(tarballFiles.filter((f) => f.endsWith('.map') || (f.endsWith('.ts') && !f.endsWith('.d.ts'))), []);
    assert.deepEqual(tarballFiles.filter((f) => f.startsWith('dist/test') || f.startsWith('dist/bench') || f.startsWith('native/build')), []);
    assert.ok(tarballFiles.some((f) => f.startsWith('native/src/') && f.endsWith('.c')), 'the native engine\'s C sources are not in the tarball');
    const shipped = readFileSync(join(app, 'node_modules', OWN.name, 'dist/src/cli/main.js'), 'utf8');
    assert.doesNotMatch(shipped, /sourceMappingURL/);
  });

  it('installs without building TypeScript: its one install script builds the native engine, no TypeScript in the project', () => {
    // The native engine is compiled against the installing Node's headers (or skipped, with the
    // Node engine as fallback, where no compiler exists): npm's `install` script, and nothing else.
    const scripts = [...(install.stdout + install.stderr).matchAll(/^> tlsbench@\S+ (\S+)$/gm)].map((m) => m[1]);
    assert.deepEqual(scripts, ['install'], `npm ran these scripts of tlsbench: ${scripts.join(', ')}`);
    assert.match(install.stdout + install.stderr, /^> node scripts\/build-native\.mjs$/m);
    assert.match(install.stdout + install.stderr, /tlsbench: native engine (built|not built)/);
    // npm may warn that the install script awaits approval (allowScripts): that one script, never a build of TypeScript.
    assert.doesNotMatch(install.stdout + install.stderr, /prepare|tsc/);
    const unapproved = [...install.stderr.matchAll(/^npm warn install-scripts +tlsbench@\S+ \((.*)\)$/gm)].map((m) => m[1]);
    assert.ok(unapproved.every((script) => script === 'install: node scripts/build-native.mjs'), unapproved.join(', '));
    assert.ok(!existsSync(join(app, 'node_modules', 'typescript')), 'typescript was installed with the package');
    assert.ok(!existsSync(join(app, 'node_modules', 'chart.js')), 'chart.js is vendored, not a dependency');
  });

  it('npx tlsbench --version prints its own version, not the project\'s', async () => {
    const out = await sh('npx', ['tlsbench', '--version'], app);
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout.trim(), OWN.version);
    assert.notEqual(OWN.version, '9.9.9');
  });

  let resultFile: string;
  it('npx tlsbench runs against its built-in server', async () => {
    resultFile = join(app, 'result.json');
    const out = await sh('npx', ['tlsbench', '-d', '1s', '--warmup', '200ms', '-w', '1', '-c', '2', '--quiet', '--out', resultFile], app);
    assert.equal(out.code, 0, out.stderr);
    const result = JSON.parse(readFileSync(resultFile, 'utf8')) as RunResult;
    assert.equal(result.tool.version, OWN.version);
    assert.deepEqual(result.phases.map((p) => p.name), ['full', 'resumed']);
    // Built at install on a machine with a compiler (CI installs one first): the default engine.
    assert.equal(result.config.engine.name, /native engine built/.test(install.stdout + install.stderr) ? 'native' : 'node');
    for (const phase of result.phases) {
      assert.ok(phase.tally.successes > 0, `${phase.name}: no handshake`);
      assert.equal(phase.tally.attempts, phase.tally.successes, `${phase.name}: errors ${JSON.stringify(phase.tally.errors)}`);
    }
    // The built-in server's own CPU was read: it served these handshakes.
    assert.ok(result.phases.every((p) => p.serverCost !== undefined && p.serverCost !== null));
  });

  it('its HTML report renders every chart offline in Chromium, with the vendored Chart.js', async (t: TestContext) => {
    assert.ok(resultFile, 'the run before this one wrote no result');
    const html = join(app, 'report.html');
    const out = await sh('npx', ['tlsbench', 'report', resultFile, '--html', html], app);
    assert.equal(out.code, 0, out.stderr);
    const page = readFileSync(html, 'utf8');
    assert.match(page, /Chart\.js v4\.\d+\.\d+[\s\S]*Released under the MIT License/, 'the licence banner is kept');
    if (!chromiumAvailable()) {
      assert.notEqual(process.env.CI, 'true', `${CHROMIUM} is missing in CI: run scripts/install-chromium.sh`);
      t.skip(`${CHROMIUM} not found: install it with 'bash scripts/install-chromium.sh'`);
      return;
    }
    const browser = Chromium.launch();
    try {
      const tab = await browser.newPage(1280, 900);
      await tab.open(pathToFileURL(html).href);
      await tab.waitFor('typeof window.__chartsExpected === "number" && window.__chartsRendered === window.__chartsExpected');
      const state = await tab.evaluate<{ expected: number; drawn: number }>(`({
        expected: window.__chartsExpected,
        drawn: [...document.querySelectorAll('canvas')].filter((c) => c.dataset.rendered === 'true').length,
      })`);
      assert.ok(state.expected >= 3, `${state.expected} charts`);
      assert.equal(state.drawn, state.expected);
      assert.deepEqual(tab.errors, []);
      assert.deepEqual(tab.requests.filter((u) => !u.startsWith('file:')), []);
    } finally {
      await browser.close();
    }
  });

  it('a strict TypeScript project compiles the README\'s API example against it (skipLibCheck false)', async () => {
    // The user's own TypeScript and Node types, the versions this checkout builds with.
    const installedVersion = (name: string) => (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
    const dev = ['typescript', '@types/node'].map((name) => `${name}@${installedVersion(name)}`);
    const added = await sh('npm', ['install', '--no-audit', '--no-fund', '--save-dev', ...dev], app);
    assert.equal(added.code, 0, added.stderr);
    writeFileSync(join(app, 'example.ts'), readmeApiExample(readFileSync(join(ROOT, 'README.md'), 'utf8')));
    writeConsumerProject(app, ['example.ts']);
    const out = await compileProject(join(app, 'node_modules', '.bin', 'tsc'), app);
    assert.equal(out.code, 0, out.output);
    assert.deepEqual(out.errors, []);
    // What the installed declarations bring into that compile: node's types, never the worker pool's.
    const installed = declarationImports(join(app, 'node_modules', OWN.name));
    const piscina = [...installed].filter(([, specs]) => specs.some((spec) => packageOf(spec) === 'piscina')).map(([file]) => file);
    assert.deepEqual(piscina, []);
  });
});
