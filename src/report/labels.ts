import { formatTarget } from '../config/target.js';
import type { RunResult } from '../metrics/run-result.js';

/** Where the handshakes went, in the words the table uses: shared by Markdown and HTML. */
export function targetLabel(result: RunResult): string {
  const t = result.target;
  if (t.builtIn) return `built-in server at ${formatTarget(t)} (${t.builtIn.keyType}; ${t.builtIn.coreSplit})`;
  return formatTarget(t) + (t.servername ? ` (SNI ${t.servername})` : '');
}

/** The client's runtime: resumption cost differs a lot between OpenSSL versions, so always shown. */
export function runtimeLabel(result: RunResult): string {
  const r = result.runtime;
  return `Node ${r.node}, OpenSSL ${r.openssl}, ${r.platform}/${r.arch}, ${r.cores} cores (${r.cpuModel}), ` +
    `${result.config.workers} worker${result.config.workers === 1 ? '' : 's'}${r.clientCpus ? ` pinned to CPU ${r.clientCpus.join(',')}` : ''}`;
}

export function speedupLabel(ratio: number | null): string {
  return ratio === null ? '—' : `${ratio.toFixed(2)}×`;
}
