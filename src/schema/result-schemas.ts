/**
 * The shipped JSON Schemas (schema/*.json), compiled together once: one description of every
 * file tlsbench writes. The matrix and capacity schemas refer to the run result's by its $id, so they are one
 * set, not copies. The package exports them as `tlsbench/schema/<file>`.
 */
import { readFileSync } from 'node:fs';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';

export const SCHEMA_FILES = {
  run: 'run-result.schema.json',
  matrix: 'matrix-result.schema.json',
  capacity: 'capacity-result.schema.json',
  comparison: 'comparison.schema.json',
  observation: 'server-observation.schema.json',
} as const;
export type SchemaKind = keyof typeof SCHEMA_FILES;

/** dist/src/schema → the package root, where schema/ ships. */
const SCHEMA_DIR = new URL('../../../schema/', import.meta.url);

let ajv: Ajv2020 | null = null;
const ids = new Map<SchemaKind, string>();

function compiled(): Ajv2020 {
  if (!ajv) {
    // Union types (`["string", "null"]`) are how the schemas say "nullable".
    ajv = new Ajv2020({ allErrors: false, strict: true, allowUnionTypes: true });
    ajv.addFormat('date-time', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/);
    for (const [kind, file] of Object.entries(SCHEMA_FILES) as [SchemaKind, string][]) {
      const schema = JSON.parse(readFileSync(new URL(file, SCHEMA_DIR), 'utf8')) as { $id: string };
      ajv.addSchema(schema);
      ids.set(kind, schema.$id);
    }
  }
  return ajv;
}

export function schemaValidator(kind: SchemaKind): ValidateFunction {
  const a = compiled();
  return a.getSchema(ids.get(kind)!)!;
}

/** Which schema describes a file tlsbench wrote, by its `kind` (a run result has none). */
export function schemaKindOf(value: unknown): SchemaKind {
  const kind = (value as { kind?: unknown } | null)?.kind;
  if (kind === 'matrix') return 'matrix';
  if (kind === 'capacity') return 'capacity';
  if (kind === 'comparison') return 'comparison';
  if (kind === 'server-observation') return 'observation';
  return 'run';
}

/**
 * The first field of `value` that its schema rejects, named by its path (`phases/0/tally/attempts
 * must be integer`), or null when it matches: a hand-edited or truncated file is named, never
 * left to crash a reporter later.
 */
export function schemaProblem(value: unknown, kind: SchemaKind = schemaKindOf(value)): string | null {
  const check = schemaValidator(kind);
  if (check(value)) return null;
  const e = check.errors?.[0];
  if (!e) return 'it does not match';
  const field = e.instancePath ? e.instancePath.slice(1) : 'the top level';
  const extra = e.keyword === 'additionalProperties' ? ` '${(e.params as { additionalProperty: string }).additionalProperty}'` : '';
  return `${field} ${e.message ?? 'is wrong'}${extra}`;
}
