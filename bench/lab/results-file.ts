// Bench outputs under results/: <bench>-<node version>-<date>.json and .md, written atomically.
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { writeFileAtomic } from '../../src/report/atomic-file.js';

/** results/ at the package root (this file runs from dist/bench/lab/). */
export const RESULTS_DIR = fileURLToPath(new URL('../../../results/', import.meta.url));

export function writeResults(bench: string, nodeVersion: string, data: unknown, markdown: string, dir = RESULTS_DIR): { json: string; md: string } {
  mkdirSync(dir, { recursive: true });
  const base = path.join(dir, `${bench}-${nodeVersion}-${new Date().toISOString().slice(0, 10)}`);
  writeFileAtomic(`${base}.json`, `${JSON.stringify(data, null, 2)}\n`);
  writeFileAtomic(`${base}.md`, markdown.endsWith('\n') ? markdown : `${markdown}\n`);
  return { json: `${base}.json`, md: `${base}.md` };
}

export function markdownTable(head: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}
