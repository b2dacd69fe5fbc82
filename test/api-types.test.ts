/**
 * The API's types as a TypeScript user meets them: test/fixtures/api-types/consumer.ts, compiled
 * against this checkout's built declarations (dist/src/index.d.ts, through package.json's
 * `exports`) under `strict: true, skipLibCheck: false`. The values the CLI refuses must fail to
 * compile, each on its own line and for its own reason; the good ones must compile.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { RUN_OPTIONS, type OptionRow } from '../src/config/run-option-table.js';
import { compileProject, declarationImports, packageOf, writeConsumerProject } from './support/consumer-project.js';

/** dist/test → the repository root. */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURE = join(ROOT, 'test/fixtures/api-types/consumer.ts');
const TSC = join(ROOT, 'node_modules/.bin/tsc');
const DIRECTIVE = /^\s*\/\/ @ts-expect-error\b.*$/;

describe('the API\'s types, compiled as a user compiles them (strict, skipLibCheck false)', { timeout: 300_000 }, () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tlsbench-api-types-'));
    mkdirSync(join(dir, 'node_modules'));
    // The package as installed (its name resolves through package.json "exports"), with this
    // checkout's @types/node as a user's project has its own.
    symlinkSync(ROOT, join(dir, 'node_modules', 'tlsbench'));
    symlinkSync(join(ROOT, 'node_modules', '@types'), join(dir, 'node_modules', '@types'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('bad literals fail to compile (every @ts-expect-error is used) and good ones compile', async () => {
    const project = join(dir, 'as-is');
    mkdirSync(project);
    symlinkSync(join(dir, 'node_modules'), join(project, 'node_modules'));
    copyFileSync(FIXTURE, join(project, 'consumer.ts'));
    writeConsumerProject(project, ['consumer.ts']);
    const out = await compileProject(TSC, project);
    assert.equal(out.code, 0, out.output);
    assert.deepEqual(out.errors, []);
  });

  it('without the directives, exactly the bad lines fail, each at its option', async () => {
    const project = join(dir, 'stripped');
    mkdirSync(project);
    symlinkSync(join(dir, 'node_modules'), join(project, 'node_modules'));
    const lines = readFileSync(FIXTURE, 'utf8').split('\n');
    const kept = lines.filter((line) => !DIRECTIVE.test(line));
    // Line numbers (1-based) in the stripped file of each line a directive stood above.
    const bad = new Map<number, string>();
    let removed = 0;
    lines.forEach((line, i) => {
      if (DIRECTIVE.test(line)) removed++;
      else if (i > 0 && DIRECTIVE.test(lines[i - 1]!)) bad.set(i + 1 - removed, line);
    });
    assert.ok(bad.size >= 10, `${bad.size} bad lines in the fixture`);
    writeFileSync(join(project, 'consumer.ts'), kept.join('\n'));
    writeConsumerProject(project, ['consumer.ts']);
    const out = await compileProject(TSC, project);
    assert.notEqual(out.code, 0);
    assert.deepEqual(out.errors.filter((e) => e.file !== 'consumer.ts'), [], 'errors in the package\'s own declarations');
    const failing = new Set(out.errors.map((e) => e.line));
    assert.deepEqual([...failing].sort((a, b) => a - b), [...bad.keys()], out.output);
    // The compiler points at the option whose value it refuses, not at the call.
    for (const [line, text] of bad) {
      const option = /\{ (\w+):/.exec(text)![1]!;
      const at = out.errors.filter((e) => e.line === line).map((e) => text.slice(e.column - 1).split(':')[0]);
      assert.ok(at.includes(option), `line ${line} (${text.trim()}): errors at ${at.join(', ')}\n${out.output}`);
    }
  });

  it('the declarations users compile import no piscina (the worker pool stays inside)', () => {
    const imports = declarationImports(ROOT);
    assert.ok(imports.size > 10, `${imports.size} declaration files reached`);
    const piscina = [...imports].filter(([, specs]) => specs.some((s) => packageOf(s) === 'piscina')).map(([file]) => file);
    assert.deepEqual(piscina, []);
  });

  it('the README\'s table of option types is the option table\'s', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const cell = (text: string) => `\`${text.replaceAll('|', '\\|')}\``;
    const typeOf = (r: OptionRow): string => r.kind === 'on-off' ? 'boolean' : r.choices
      ? [...(r.kind === 'switch-or-choice' ? ['boolean'] : []), ...r.choices.map((c) => `'${c}'`)].join(' | ')
      : ({ duration: 'Duration', tls: 'TlsVersions', list: 'string | string[]', pids: 'string | number | (string | number)[]' } as Record<string, string>)[r.kind]!;
    // An on/off switch is a boolean in the API: its default as one.
    const defaultOf = (r: OptionRow) => r.kind === 'on-off' ? String(r.default === 'on') : String(r.default);
    const rows = Object.entries(RUN_OPTIONS as Record<string, OptionRow>)
      .filter(([, r]) => r.choices || !['string', 'number', 'boolean'].includes(r.kind))
      .map(([name, r]) => `| \`${name}\` | ${cell(typeOf(r))} | ${r.default === undefined ? '—' : cell(defaultOf(r))} |`);
    assert.ok(rows.length >= 15, `${rows.length} rows`);
    assert.ok(readme.includes(`| option | type | when left out |\n|---|---|---|\n${rows.join('\n')}\n\n`), `README.md's API section should hold:\n${rows.join('\n')}`);
  });
});
