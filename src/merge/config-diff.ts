import type { RunConfig } from '../config/run-config.js';

/** One setting that differs between two configurations, by its dotted path (e.g. `tls.groups`). */
export interface ConfigDifference {
  path: string;
  values: unknown[];
}

/**
 * Settings each load machine may legitimately set its own way when several machines load one
 * target together: how much load it brings (its cores decide that), and where its own files
 * live. Everything else says *what* is measured (target, TLS settings, resumption, request,
 * timeouts, window, warm-up, the shared --start-at) and must match for the sum to mean anything.
 */
export const PER_MACHINE_SETTINGS: readonly string[] = [
  'workers', 'connections', 'rate', 'maxConnections', 'handshakes',
  'tls.caFile', 'tls.certFile', 'tls.keyFile', 'tls.keylogFile', 'requireResumption',
];

function leaves(value: unknown, prefix: string, out: Map<string, string>): void {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [key, inner] of Object.entries(value)) leaves(inner, prefix ? `${prefix}.${key}` : key, out);
  } else {
    out.set(prefix, JSON.stringify(value ?? null));
  }
}

/** Every setting whose value is not the same in all configurations, minus the ignored paths. */
export function configDifferences(configs: readonly RunConfig[], ignore: readonly string[] = []): ConfigDifference[] {
  const flat = configs.map((c) => {
    const out = new Map<string, string>();
    leaves(c, '', out);
    return out;
  });
  const paths = new Set(flat.flatMap((f) => [...f.keys()]));
  const differences: ConfigDifference[] = [];
  for (const path of [...paths].sort()) {
    if (ignore.some((i) => path === i || path.startsWith(`${i}.`))) continue;
    const values = flat.map((f) => f.get(path) ?? 'null');
    if (values.every((v) => v === values[0])) continue;
    differences.push({ path, values: values.map((v) => JSON.parse(v) as unknown) });
  }
  return differences;
}

/** `tls.groups: "X25519" in a.json, "P-256" in b.json`. */
export function describeDifference(d: ConfigDifference, labels: readonly string[]): string {
  return `${d.path}: ${d.values.map((v, i) => `${JSON.stringify(v)} in ${labels[i] ?? `#${i + 1}`}`).join(', ')}`;
}
