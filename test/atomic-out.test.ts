// README: `--out FILE` writes the result atomically (temp file + rename): a reader sees the old
// file or the new one, never a part of one, and a write that fails halfway leaves what was there.
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from './support/cli.js';
import type { RunResult } from '../src/metrics/run-result.js';

const RUN = ['-n', '20', '--warmup', '0', '-c', '2', '-w', '1', '--resume', 'none', '--quiet'];
/** Stands in for a result an earlier run left there: it must stay whole until replaced whole. */
const OLD = `${JSON.stringify({ earlier: 'result', padding: 'x'.repeat(3000) })}\n`;

function readAll(fd: number): string {
  const chunks: Buffer[] = [];
  const buffer = Buffer.alloc(65536);
  for (let n, at = 0; (n = readSync(fd, buffer, 0, buffer.length, at)) > 0; at += n) chunks.push(Buffer.from(buffer.subarray(0, n)));
  return Buffer.concat(chunks).toString('utf8');
}

test('--out replaces the file by rename: a reader holding the old one reads it whole, the path holds the new one whole', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tlsbench-atomic-'));
  const out = join(dir, 'result.json');
  try {
    writeFileSync(out, OLD);
    const before = statSync(out).ino;
    // A reader that opened the old file before the run: written in place, it would see the
    // file truncated and rewritten under it.
    const reader = openSync(out, 'r');
    try {
      const outcome = await runCli([...RUN, '--out', out]);
      assert.equal(outcome.code, 0, outcome.stderr);
      assert.equal(readAll(reader), OLD, 'the old file changed under its reader: written in place, not renamed over');
    } finally {
      closeSync(reader);
    }
    assert.notEqual(statSync(out).ino, before, 'same inode: the file was rewritten in place');
    const result = JSON.parse(readFileSync(out, 'utf8')) as RunResult;
    assert.equal(result.phases[0]!.summary.attempts, 20);
    assert.equal(statSync(out).mode & 0o777, 0o644);
    assert.deepEqual(readdirSync(dir), ['result.json'], 'a temp file was left beside the result');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a write that fails halfway (file size limit) leaves the existing file as it was; the result goes to stdout, exit 1', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tlsbench-atomic-'));
  const out = join(dir, 'result.json');
  try {
    writeFileSync(out, OLD);
    // `ulimit -f 4`: no file may grow past 4 KiB, so the result (some 7 KiB with its histograms)
    // fails part way through, wherever it is written; stdout, a pipe, is not a file.
    const outcome = await runCli([...RUN, '--out', out], { prefix: ['bash', '-c', 'ulimit -f 4 && exec "$@"', 'limited'] });
    assert.equal(outcome.code, 1, outcome.stderr);
    assert.equal(readFileSync(out, 'utf8'), OLD, 'the existing result was damaged by a write that failed');
    assert.deepEqual(readdirSync(dir), ['result.json'], 'a partial temp file was left beside the result');
    assert.match(outcome.stderr, /could not write the results to .*result\.json \(EFBIG.*nor to the temp directory; the JSON follows on stdout/);
    // Never lost: the complete result follows the table on stdout.
    const json = outcome.stdout.slice(outcome.stdout.indexOf('\n{\n') + 1);
    const result = JSON.parse(json) as RunResult;
    assert.ok(json.length > 4 * 1024, `the result (${json.length} bytes) fits under the limit: the test proves nothing`);
    assert.equal(result.phases[0]!.summary.attempts, 20);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
