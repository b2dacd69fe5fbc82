import Table from 'cli-table3';
import type { PhaseResult } from '../metrics/run-result.js';
import { HANDSHAKE_CLASSES } from '../metrics/tally.js';
import { ms, rate } from '../report/table.js';
import type { MatrixCell, MatrixResult } from './matrix-result.js';

/**
 * What a cell's phase costs relative to the baseline's phase of the same name: baseline
 * handshakes/s ÷ this handshakes/s, so 1.30× means a handshake costs 30 % more server (or
 * client) time at the same load. null when either side has no figure.
 */
export function relativeCost(phase: PhaseResult, baseline: MatrixCell | undefined): number | null {
  const base = baseline?.result?.phases.find((p) => p.name === phase.name);
  if (!base || base.summary.rate <= 0 || phase.summary.rate <= 0) return null;
  return base.summary.rate / phase.summary.rate;
}

/** Cells that ran, cheapest first (by their first phase), then the skipped ones in grid order. */
export function cellsByCost(result: MatrixResult): MatrixCell[] {
  const baseline = result.cells.find((c) => c.name === result.baseline);
  const cost = (c: MatrixCell) => (c.result?.phases[0] ? relativeCost(c.result.phases[0], baseline) : null) ?? Infinity;
  const ran = result.cells.filter((c) => c.result).sort((a, b) => cost(a) - cost(b));
  return [...ran, ...result.cells.filter((c) => !c.result)];
}

export function renderMatrix(result: MatrixResult): string {
  const baseline = result.cells.find((c) => c.name === result.baseline);
  const table = new Table({
    head: ['cell', 'phase', 'class', 'handshakes/s', 'p50 ms', 'p99 ms', 'cost'],
    colAligns: ['left', 'left', 'left', 'right', 'right', 'right', 'right'],
    style: { head: [], border: [] },
  });
  const skipped: string[] = [];
  for (const cell of cellsByCost(result)) {
    if (!cell.result) {
      table.push([cell.name, '', '', '', '', '', 'skipped']);
      skipped.push(`skipped ${cell.name}: ${cell.skipped ?? 'not run'}`);
      continue;
    }
    let firstRow = true;
    for (const phase of cell.result.phases) {
      const cost = relativeCost(phase, baseline);
      let firstClass = true;
      for (const cls of HANDSHAKE_CLASSES) {
        const c = phase.summary.classes[cls];
        if (!c) continue;
        table.push([
          firstRow ? cell.name + (cell.name === result.baseline ? ' (baseline)' : '') + (cell.result.interrupted ? ' (interrupted)' : '') : '',
          firstClass ? phase.name : '',
          cls,
          rate(c.rate),
          c.latency.tls ? ms(c.latency.tls.p50) : '—',
          c.latency.tls ? ms(c.latency.tls.p99) : '—',
          firstClass ? (cost === null ? '—' : `${cost.toFixed(2)}×`) : '',
        ]);
        firstRow = false;
        firstClass = false;
      }
      if (firstClass) {
        table.push([firstRow ? cell.name + (cell.result.interrupted ? ' (interrupted)' : '') : '', phase.name, '—', '0', '—', '—', `${phase.summary.errorCount} errors`]);
        firstRow = false;
      }
    }
  }
  const out = [table.toString()];
  out.push('cost: baseline handshakes/s ÷ the cell\'s, phase by phase (1.30× = each handshake costs 30 % more); latency is TLS handshake time');
  out.push(...skipped);
  if (result.interrupted) out.push('interrupted: the grid was stopped; the cell marked (interrupted) covers what ran, later cells were not run');
  return out.join('\n');
}
