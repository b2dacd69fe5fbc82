import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { SCHEMA_VERSION, type RunResult } from '../src/metrics/run-result.js';
import { runJson } from './support/cli.js';

/** dist/test → the package root, where schema/ ships. */
const SCHEMA_PATH = new URL('../../schema/run-result.schema.json', import.meta.url);
const schema = JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')) as { properties: { schemaVersion: { const: number } } };

function validator() {
  // Union types (`["string", "null"]`) are how the schema says "nullable"; ajv's strict mode
  // would otherwise ask for oneOf everywhere.
  const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
  ajv.addFormat('date-time', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/);
  return ajv.compile(schema);
}

function problems(validate: ReturnType<typeof validator>): string {
  return JSON.stringify(validate.errors?.slice(0, 10), null, 2);
}

describe('results file schema (schema/run-result.schema.json)', () => {
  const validate = validator();

  it('describes the schema version this tlsbench writes', () => {
    assert.equal(schema.properties.schemaVersion.const, SCHEMA_VERSION,
      'bump schema/run-result.schema.json together with SCHEMA_VERSION in src/metrics/run-result.ts');
  });

  it('is shipped in the package', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { files: string[] };
    assert.ok(pkg.files.includes('schema'), 'package.json "files" must list schema');
  });

  let compare: RunResult;
  it('accepts a real closed-loop run: full then resumed phase', async () => {
    ({ result: compare } = await runJson(['-n', '150', '--warmup', '100ms', '-w', '1', '-c', '4']));
    assert.equal(compare.phases.length, 2);
    assert.ok(validate(compare), problems(validate));
  });

  it('accepts a real open-loop run with a request and a probe (scheduled and ttfb histograms, request config, probe)', async () => {
    const { result } = await runJson(['-n', '60', '--warmup', '100ms', '-w', '1', '--rate', '100', '--resume', 'none', '--http', '/', '--response-bytes', '64', '--probe']);
    assert.ok(result.probe, 'the run should carry its probe');
    const full = result.phases[0]!.tally.classes.full!;
    assert.ok(full.histograms.scheduled && full.histograms.ttfb, 'the run should have recorded scheduled and ttfb');
    assert.notEqual(result.config.request, null);
    assert.ok(validate(result), problems(validate));
  });

  it('rejects what a result must not be: missing counts, wrong types, unknown fields, another version', () => {
    const mutate = (change: (r: any) => void) => {
      const copy = structuredClone(compare) as any;
      change(copy);
      return validate(copy);
    };
    assert.equal(mutate((r) => delete r.phases[0].tally.attempts), false);
    assert.equal(mutate((r) => (r.phases[0].summary.hitRate = '100 %')), false);
    assert.equal(mutate((r) => (r.phases[0].tally.classes.full.histograms.tls = 'not a histogram')), false);
    assert.equal(mutate((r) => (r.phases[0].timeline[0].handshakes.partial = 1)), false);
    assert.equal(mutate((r) => (r.config.resume = 'sometimes')), false);
    assert.equal(mutate((r) => (r.schemaVersion = SCHEMA_VERSION + 1)), false);
    assert.equal(mutate((r) => (r.surprise = true)), false);
  });
});
