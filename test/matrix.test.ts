import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { UsageError } from '../src/config/usage-error.js';
import { gridFromFile, gridFromOptions } from '../src/matrix/grid.js';
import type { MatrixResult } from '../src/matrix/matrix-result.js';
import { SCHEMA_VERSION } from '../src/metrics/run-result.js';
import { runCli } from './support/cli.js';

const scratch = await mkdtemp(join(tmpdir(), 'tlsbench-matrix-'));
process.on('exit', () => void rm(scratch, { recursive: true, force: true }));

/** OpenSSL 3.5 (Node 24) has X25519MLKEM768; Node 20's 3.0 does not. */
const [major = 0, minor = 0] = (process.versions.openssl ?? '0.0').split('.').map(Number);
const hasPostQuantum = major > 3 || (major === 3 && minor >= 5);

test('matrix: a 2×1 grid against the built-in server, every cell in the file, run or skipped', async () => {
  const out = join(scratch, 'matrix.json');
  const res = await runCli(['matrix', '--tls', '1.3', '--groups', 'X25519,X25519MLKEM768', '--resume', 'none',
    '-n', '50', '-w', '1', '-c', '4', '--warmup', '200ms', '--quiet', '--out', out]);
  assert.equal(res.code, 0, res.stderr);
  const m = JSON.parse(await readFile(out, 'utf8')) as MatrixResult;
  assert.deepEqual(Object.keys(m).sort(), ['baseline', 'cells', 'interrupted', 'kind', 'schemaVersion']);
  assert.equal(m.schemaVersion, SCHEMA_VERSION);
  assert.equal(m.kind, 'matrix');
  assert.equal(m.baseline, 'groups=X25519');
  assert.deepEqual(m.cells.map((c) => c.name), ['groups=X25519', 'groups=X25519MLKEM768']);
  const [classic, pq] = m.cells as [MatrixResult['cells'][0], MatrixResult['cells'][0]];
  assert.equal(classic.options.groups, 'X25519');
  assert.equal(classic.options.tls, '1.3');
  assert.equal(classic.result!.config.tls.groups, 'X25519');
  assert.equal(classic.result!.phases[0]!.summary.successes, 50);
  assert.equal(classic.result!.phases[0]!.summary.classes.full!.negotiated[0]!.protocol, 'TLSv1.3');
  assert.equal(pq.options.groups, 'X25519MLKEM768');
  if (hasPostQuantum) {
    assert.equal(pq.skipped, undefined);
    assert.equal(pq.result!.phases[0]!.summary.successes, 50);
    assert.equal(pq.result!.phases[0]!.summary.classes.full!.negotiated[0]!.group, 'X25519MLKEM768');
  } else {
    assert.equal(pq.result, null);
    assert.match(pq.skipped!, /OpenSSL 3\.5/);
    // The table lists it too, with the reason, rather than dropping it.
    assert.match(res.stdout, /groups=X25519MLKEM768.*skipped/);
    assert.match(res.stdout, /skipped groups=X25519MLKEM768: .*OpenSSL 3\.5/);
  }
  assert.match(res.stdout, /groups=X25519 \(baseline\).*1\.00×/);
});

test('matrix: comma lists span the grid as a cartesian product, first axis slowest', () => {
  const cells = gridFromOptions({ tls: '1.2,1.3', groups: 'X25519:P-256', keyType: 'ecdsa-p256,rsa-2048', handshakes: 10 });
  assert.deepEqual(cells.map((c) => c.name), [
    'tls=1.2,key-type=ecdsa-p256', 'tls=1.2,key-type=rsa-2048', 'tls=1.3,key-type=ecdsa-p256', 'tls=1.3,key-type=rsa-2048',
  ]);
  assert.deepEqual(cells[1]!.options, { tls: '1.2', groups: 'X25519:P-256', keyType: 'rsa-2048', handshakes: 10 });
  assert.deepEqual(gridFromOptions({ handshakes: 5 }).map((c) => c.name), ['default']);
  assert.throws(() => gridFromOptions({ tls: '1.2,,1.3' }), UsageError);
});

test('matrix --config: axes, extra cells and options from a JSON file; the command line wins', async () => {
  const path = join(scratch, 'grid.json');
  await writeFile(path, JSON.stringify({
    options: { duration: '2s', 'resume': 'none' },
    axes: { tls: [1.2, '1.3'] },
    cells: [{ name: 'rsa', 'key-type': 'rsa-2048', tls: '1.3' }],
    baseline: 'rsa',
  }));
  const spec = await gridFromFile(path, { duration: '1s' });
  assert.deepEqual(spec.cells.map((c) => c.name), ['tls=1.2', 'tls=1.3', 'rsa']);
  assert.deepEqual(spec.cells[0]!.options, { duration: '1s', resume: 'none', tls: '1.2' });
  assert.deepEqual(spec.cells[2]!.options, { duration: '1s', resume: 'none', tls: '1.3', keyType: 'rsa-2048' });
  assert.equal(spec.baseline, 'rsa');

  const bad = join(scratch, 'bad.json');
  await writeFile(bad, JSON.stringify({ axes: { duration: ['1s'] }, options: { colour: 'red', connections: 'many' }, extra: 1 }));
  await assert.rejects(gridFromFile(bad, {}), (err: Error) => err instanceof UsageError &&
    /unknown key "extra"/.test(err.message) && /"colour" is not a run option/.test(err.message) &&
    /"connections" must be a number/.test(err.message) && /"duration" cannot span the grid/.test(err.message));
});

test('matrix --config: the same grid from a YAML file', async () => {
  const path = join(scratch, 'grid.yaml');
  await writeFile(path, [
    'options:',
    '  duration: 2s',
    '  resume: none',
    'axes:',
    '  tls: ["1.2", "1.3"]',
    '  key-type: [ecdsa-p256, rsa-2048]',
    'baseline: tls=1.2,key-type=ecdsa-p256',
    '',
  ].join('\n'));
  const spec = await gridFromFile(path, {});
  assert.deepEqual(spec.cells.map((c) => c.name), [
    'tls=1.2,key-type=ecdsa-p256', 'tls=1.2,key-type=rsa-2048', 'tls=1.3,key-type=ecdsa-p256', 'tls=1.3,key-type=rsa-2048',
  ]);
  assert.deepEqual(spec.cells[3]!.options, { duration: '2s', resume: 'none', tls: '1.3', keyType: 'rsa-2048' });
  const broken = join(scratch, 'broken.yaml');
  await writeFile(broken, 'axes: [unclosed\n');
  await assert.rejects(gridFromFile(broken, {}), (err: Error) => err instanceof UsageError && /not valid YAML/.test(err.message));
});

test('matrix: bad input exits 2 before anything runs', async () => {
  const baseline = await runCli(['matrix', '--tls', '1.2,1.3', '-n', '10', '--baseline', 'tls=1.4']);
  assert.equal(baseline.code, 2);
  assert.match(baseline.stderr, /--baseline 'tls=1\.4' is not a cell of this grid; cells: tls=1\.2 \| tls=1\.3/);
  const nothing = await runCli(['matrix', '--resume', 'never,always', '-n', '10']);
  assert.equal(nothing.code, 2);
  // A typo in any cell fails the grid (not "skipped"), naming the cell and the option.
  assert.match(nothing.stderr, /cell resume=never: --resume: 'never'/);
});

test('matrix: every cell and every repeat runs with the same core split (each run undoes its taskset pin)', async (t) => {
  const { allowedCpus, splitCores } = await import('../src/coordinator/cores.js');
  const split = splitCores(allowedCpus());
  if (split.shared) return t.skip('one core: nothing is pinned');
  const out = join(scratch, 'cores.json');
  const res = await runCli(['matrix', '--tls', '1.2,1.3', '--resume', 'none', '--repeat', '2',
    '-n', '20', '-w', '1', '-c', '2', '--warmup', '0', '--quiet', '--out', out]);
  assert.equal(res.code, 0, res.stderr);
  const m = JSON.parse(await readFile(out, 'utf8')) as MatrixResult;
  assert.equal(m.cells.length, 2);
  for (const cell of m.cells) {
    // Each cell records its split; before the fix cells 2… read "one core: … share it".
    assert.equal(cell.result!.target.builtIn!.coreSplit, split.description, cell.name);
    assert.deepEqual(cell.result!.runtime.clientCpus, split.client, cell.name);
    assert.deepEqual(cell.result!.target.builtIn!.cpus, split.server, cell.name);
  }
});

test('run --repeat in-process (the API): the process\'s own affinity is what it was once the run is over', async (t) => {
  const { allowedCpus } = await import('../src/coordinator/cores.js');
  const { run } = await import('../src/api/run.js');
  const before = allowedCpus();
  if (before.length < 2) return t.skip('one core: nothing is pinned');
  const result = await run({ resume: 'none', handshakes: 10, workers: 1, connections: 2, warmup: '0s', repeat: 2 });
  assert.deepEqual(result.runtime.clientCpus, before.slice(0, before.length - Math.floor(before.length / 2)));
  assert.deepEqual(allowedCpus(), before);
});
