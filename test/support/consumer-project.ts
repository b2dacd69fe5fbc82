/**
 * A TypeScript project of a user of tlsbench: strict, with `skipLibCheck: false` so every
 * declaration file the package brings in is checked too (a dependency's types that do not compile
 * in a user's project fail here). Shared by the type test and the packed-tarball test.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

export const CONSUMER_COMPILER_OPTIONS = {
  strict: true,
  skipLibCheck: false,
  noEmit: true,
  module: 'nodenext',
  moduleResolution: 'nodenext',
  target: 'es2023',
  lib: ['es2023'],
  types: ['node'],
} as const;

/** Writes package.json (an ES module project) and tsconfig.json compiling `files`. */
export function writeConsumerProject(dir: string, files: readonly string[]): void {
  const pkg = join(dir, 'package.json');
  if (!existsSync(pkg)) writeFileSync(pkg, JSON.stringify({ name: 'a-typescript-user', version: '1.0.0', private: true, type: 'module' }));
  else writeFileSync(pkg, JSON.stringify({ ...JSON.parse(readFileSync(pkg, 'utf8')), type: 'module' }));
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: CONSUMER_COMPILER_OPTIONS, files }, null, 2));
}

export interface Diagnostic { file: string; line: number; column: number; code: string; message: string }

/** `tsc -p dir`: the exit code and each error as file, line, code and message. */
export async function compileProject(tsc: string, dir: string): Promise<{ code: number; output: string; errors: Diagnostic[] }> {
  let code = 0;
  let output: string;
  try {
    const out = await exec(tsc, ['-p', dir, '--pretty', 'false'], { cwd: dir, timeout: 240_000, maxBuffer: 16 << 20 });
    output = out.stdout + out.stderr;
  } catch (err) {
    const e = err as { code?: number | string; stdout?: string; stderr?: string; message: string };
    code = typeof e.code === 'number' ? e.code : -1;
    output = `${e.stdout ?? ''}${e.stderr ?? ''}${e.stdout || e.stderr ? '' : e.message}`;
  }
  const errors = [...output.matchAll(/^(.+?)\((\d+),(\d+)\): error (TS\d+): (.*)$/gm)]
    .map((m) => ({ file: m[1]!, line: Number(m[2]), column: Number(m[3]), code: m[4]!, message: m[5]! }));
  return { code, output, errors };
}

/** The README's API example: the first ```ts block of its "Programmatic API" section. */
export function readmeApiExample(readme: string): string {
  const section = /^## Programmatic API\n([\s\S]*?)(?=^## )/m.exec(readme)?.[1];
  const block = section && /^```ts\n([\s\S]*?)^```$/m.exec(section)?.[1];
  if (!block) throw new Error('README.md has no ```ts block under "## Programmatic API"');
  return block;
}

/**
 * The declaration files a user's compiler reads from the package (from `types`, following
 * relative imports), each with the packages it imports: what the API's types bring in.
 */
export function declarationImports(packageDir: string): Map<string, string[]> {
  const pkg = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { types: string; exports: Record<string, { types?: string }> };
  const entries = [pkg.types, pkg.exports['.']?.types].filter((t): t is string => !!t);
  const imports = new Map<string, string[]>();
  const visit = (file: string) => {
    if (imports.has(file)) return;
    // Comments may quote an import (`import { run } from 'tlsbench'` in a doc comment): not one.
    const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
    const specifiers = [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]/gm)].map((m) => m[1]!);
    imports.set(file, specifiers.filter((s) => !s.startsWith('.')));
    for (const s of specifiers.filter((s) => s.startsWith('.'))) visit(resolve(dirname(file), s.replace(/\.js$/, '.d.ts')));
  };
  for (const entry of entries) visit(resolve(packageDir, entry));
  return imports;
}

/** The package a bare specifier names: `@peculiar/x509/sub` → `@peculiar/x509`, `node:tls` → `node:tls`. */
export function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}
