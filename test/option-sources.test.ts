// `run --config FILE` and TLSBENCH_* variables: the command line wins over the environment, the
// environment over the file; a bad value from either is exit 2, named, before any work.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { MatrixResult } from '../src/matrix/matrix-result.js';
import { envName, optionsFromEnv } from '../src/config/option-sources.js';
import { runCli, runJson } from './support/cli.js';

describe('run options from --config and TLSBENCH_*', () => {
  let dir: string;
  let file: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tlsbench-options-'));
    file = join(dir, 'run.yaml');
    writeFileSync(file, 'options:\n  handshakes: 24\n  warmup: 0s\n  resume: none\n  workers: 1\n  connections: 3\nrepeat: 2\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('command line over environment over file, each value used by the run', async () => {
    // The file alone: its connections, its handshakes per phase, its repeat.
    const fromFile = await runJson(['run', '--config', file]);
    assert.equal(fromFile.outcome.code, 0, fromFile.outcome.stderr);
    assert.equal(fromFile.result.config.connections, 3);
    assert.equal(fromFile.result.phases.length, 1);
    assert.equal(fromFile.result.phases[0]!.samples?.length, 2, 'repeat: 2 from the file');
    assert.equal(fromFile.result.phases[0]!.tally.attempts, 2 * 24, 'handshakes: 24 per repeat');

    const env = { TLSBENCH_CONNECTIONS: '4', TLSBENCH_HANDSHAKES: '30' };
    const fromEnv = await runJson(['run', '--config', file, '--repeat', '1'], { env });
    assert.equal(fromEnv.outcome.code, 0, fromEnv.outcome.stderr);
    assert.equal(fromEnv.result.config.connections, 4);
    assert.equal(fromEnv.result.phases[0]!.tally.attempts, 30);

    const fromArgs = await runJson(['run', '--config', file, '--repeat', '1', '-c', '5'], { env });
    assert.equal(fromArgs.outcome.code, 0, fromArgs.outcome.stderr);
    assert.equal(fromArgs.result.config.connections, 5);
    assert.equal(fromArgs.result.phases[0]!.tally.attempts, 30, 'the environment still wins over the file');
  });

  it('a bad or empty variable is exit 2 naming it; other TLSBENCH_* variables are not options', async () => {
    const out = await runCli(['-n', '5'], { env: { TLSBENCH_INSECURE: 'maybe', TLSBENCH_SNI: '', TLSBENCH_RATE: 'fast' } });
    assert.equal(out.code, 2, out.stderr);
    assert.equal(out.stdout, '');
    assert.match(out.stderr, /TLSBENCH_SNI is set but empty: unset it or give a value/);
    assert.match(out.stderr, /TLSBENCH_INSECURE='maybe': give 1\/true\/yes or 0\/false\/no/);
    assert.match(out.stderr, /TLSBENCH_RATE='fast': a number is needed/);
    assert.doesNotMatch(out.stderr, /\n\s+at /);
    assert.deepEqual(optionsFromEnv({ TLSBENCH_CACHE_DIR: '/tmp/x', TLSBENCH_REQUIRE_NGINX: '1', TLSBENCH_MAX_CONNECTIONS: '7', TLSBENCH_KEY_TYPE: 'rsa-2048' }), { maxConnections: 7, keyType: 'rsa-2048' });
    assert.equal(envName('closeWait'), 'TLSBENCH_CLOSE_WAIT');
  });

  it('a value from the environment that fails validation says where it came from', async () => {
    const out = await runCli(['--config', file], { env: { TLSBENCH_DURATION: '-5s' } });
    assert.equal(out.code, 2, out.stderr);
    assert.match(out.stderr, /^tlsbench: --duration: '-5s' is negative/);
    assert.match(out.stderr, /\(values not given on the command line: from the environment: TLSBENCH_DURATION; from .*run\.yaml: handshakes, warmup, resume, workers, connections\)/);
  });

  it('a grid in a run --config file is refused, pointing at matrix; unknown keys and options are named', async () => {
    const grid = join(dir, 'grid.json');
    writeFileSync(grid, JSON.stringify({ axes: { tls: ['1.2', '1.3'] }, options: { bogus: 1, connections: 'many' }, extra: true }));
    const out = await runCli(['run', '--config', grid]);
    assert.equal(out.code, 2, out.stderr);
    assert.match(out.stderr, /"axes" describes a grid: run the file with 'tlsbench matrix --config /);
    assert.match(out.stderr, /unknown key "extra" \(known: options, repeat\)/);
    assert.match(out.stderr, /options: "bogus" is not a run option/);
    assert.match(out.stderr, /options: "connections" must be a number, not "many"/);
    const broken = join(dir, 'broken.yaml');
    writeFileSync(broken, 'options: [unclosed\n');
    const bad = await runCli(['run', '--config', broken]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--config .*broken\.yaml is not valid YAML/);
  });

  it('matrix: TLSBENCH_* apply to every cell, under the command line', async () => {
    const out = await runCli(['matrix', '--resume', 'none,ticket', '-w', '1', '-c', '2', '--warmup', '0', '--quiet', '--json'], {
      env: { TLSBENCH_HANDSHAKES: '12', TLSBENCH_CONNECTIONS: '9' },
    });
    assert.equal(out.code, 0, out.stderr);
    const matrix = JSON.parse(out.stdout) as MatrixResult;
    assert.equal(matrix.cells.length, 2);
    for (const cell of matrix.cells) {
      assert.equal(cell.result!.config.connections, 2, `${cell.name}: -c wins over TLSBENCH_CONNECTIONS`);
      for (const phase of cell.result!.phases) assert.equal(phase.tally.attempts, 12, `${cell.name} ${phase.name}`);
    }
  });
});
