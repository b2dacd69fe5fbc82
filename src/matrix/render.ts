import Table from 'cli-table3';
import { noiseBand } from '../compare/spread.js';
import type { PhaseResult, PhaseSample } from '../metrics/run-result.js';
import { HANDSHAKE_CLASSES } from '../metrics/tally.js';
import { ms, rate } from '../report/table.js';
import { cpuMicros } from '../report/server-cost-labels.js';
import { sizeLabel } from '../report/ocsp-labels.js';
import type { MatrixCell, MatrixResult } from './matrix-result.js';

/**
 * Throughput-based cost of a cell's phase relative to the baseline's phase of the same name:
 * baseline handshakes/s ÷ this handshakes/s. It is a figure of whatever limited the run, the
 * client included (see `clientBound`); null when either side has no figure.
 */
export function relativeCost(phase: PhaseResult, baseline: MatrixCell | undefined): number | null {
  const base = baselinePhase(phase, baseline);
  if (!base || base.summary.rate <= 0 || phase.summary.rate <= 0) return null;
  return base.summary.rate / phase.summary.rate;
}

/** Server CPU per handshake relative to the baseline's same phase (1.30× = 30 % more server CPU). */
export function relativeServerCost(phase: PhaseResult, baseline: MatrixCell | undefined): number | null {
  const mine = phase.serverCost?.perHandshakeUs ?? null;
  const base = baselinePhase(phase, baseline)?.serverCost?.perHandshakeUs ?? null;
  return mine !== null && base !== null && base > 0 ? mine / base : null;
}

function baselinePhase(phase: PhaseResult, baseline: MatrixCell | undefined): PhaseResult | undefined {
  return baseline?.result?.phases.find((p) => p.name === phase.name);
}

/** A cell's costs as every matrix output shows them: server first, throughput second. */
export interface CellCosts {
  /** Server CPU-µs per handshake, when the server was measured. */
  serverUs: string;
  /** Server CPU per handshake × the baseline's. */
  serverRelative: string;
  /** Throughput-based cost × the baseline's, marked when the client was the limit. */
  throughputRelative: string;
}

/**
 * True when the repeats' spread (the compare noise band of the two cells' repeats) is at least
 * the difference the cell reports against the baseline: the ratio shown is not a difference.
 * False without repeats (nothing known) and for the baseline itself.
 */
function withinSpread(phase: PhaseResult, base: PhaseResult | undefined, pick: (s: PhaseSample) => number | null | undefined, mine: number | null, theirs: number | null): boolean {
  if (!base || base === phase || mine === null || theirs === null) return false;
  const values = (p: PhaseResult) => (p.samples ?? []).map(pick).filter((v): v is number => typeof v === 'number');
  const band = noiseBand(values(base), values(phase));
  return band !== null && band.width >= Math.abs(mine - theirs);
}

/** The mark on a relative cost whose difference the repeats' spread swallows. */
export const WITHIN_SPREAD = 'within spread';
/** The mark on a cell whose client saturated: its throughput is the client's limit. */
export const CLIENT_BOUND = 'client-bound';

export function cellCosts(phase: PhaseResult, baseline: MatrixCell | undefined): CellCosts {
  const times = (x: number | null) => (x === null ? '—' : `${x.toFixed(2)}×`);
  const mark = (text: string, ...marks: (string | false)[]) => [text, ...marks.filter(Boolean)].join(' ');
  const base = baselinePhase(phase, baseline);
  const throughput = relativeCost(phase, baseline);
  const server = relativeServerCost(phase, baseline);
  const serverNoise = server !== null && withinSpread(phase, base, (s) => s.serverCpuUs, phase.serverCost?.perHandshakeUs ?? null, base?.serverCost?.perHandshakeUs ?? null);
  const rateNoise = throughput !== null && withinSpread(phase, base, (s) => s.rate, phase.summary.rate, base?.summary.rate ?? null);
  return {
    serverUs: cpuMicros(phase.serverCost?.perHandshakeUs ?? null),
    serverRelative: mark(times(server), serverNoise && WITHIN_SPREAD),
    throughputRelative: mark(times(throughput), rateNoise && WITHIN_SPREAD, phase.client.saturated && CLIENT_BOUND),
  };
}

/**
 * Cells that ran, cheapest first by their first phase, then the skipped ones in grid order.
 * Ranked by server CPU per handshake when every cell measured it (a client-bound throughput
 * ranks certificates backwards: the client verifies, the server signs), else by throughput.
 */
export function cellsByCost(result: MatrixResult): MatrixCell[] {
  const baseline = result.cells.find((c) => c.name === result.baseline);
  const ran = result.cells.filter((c) => c.result);
  const serverUs = (c: MatrixCell) => c.result?.phases[0]?.serverCost?.perHandshakeUs ?? null;
  const byServer = ran.length > 0 && ran.every((c) => serverUs(c) !== null);
  const cost = (c: MatrixCell) => (byServer ? serverUs(c) : c.result?.phases[0] ? relativeCost(c.result.phases[0], baseline) : null) ?? Infinity;
  ran.sort((a, b) => cost(a) - cost(b));
  return [...ran, ...result.cells.filter((c) => !c.result)];
}

/** The line under every matrix table: what the cost columns mean. */
export const COST_LEGEND = 'server µs: server CPU-µs per handshake; server cost: that ÷ the baseline\'s (1.30× = 30 % more server CPU per handshake); ' +
  'throughput cost: baseline handshakes/s ÷ the cell\'s, a figure of whatever limited the run ("client-bound": the client saturated, so it is the client\'s limit, not the server\'s); ' +
  '"within spread": the repeats\' spread (--repeat) is at least the difference from the baseline, so the ratio is not a difference';

/**
 * The staple a class got (mean size), or the phase's over its classes when `cls` is not given;
 * '—' when it asked for none: the ocsp axis's bytes per handshake, in every matrix format.
 */
export function stapleCell(phase: PhaseResult, cls?: (typeof HANDSHAKE_CLASSES)[number]): string {
  const tallies = (cls ? [phase.summary.ocsp?.[cls]] : HANDSHAKE_CLASSES.map((c) => phase.summary.ocsp?.[c])).filter((o) => o !== undefined);
  if (!tallies.length) return '—';
  const stapled = tallies.reduce((n, o) => n + o.stapled, 0);
  const handshakes = tallies.reduce((n, o) => n + o.handshakes, 0);
  const bytes = tallies.reduce((n, o) => n + o.bytes, 0);
  return stapled ? `${sizeLabel(Math.round(bytes / stapled))}${stapled < handshakes ? ` on ${stapled}/${handshakes}` : ''}` : 'not stapled';
}

/** The staple column appears only where a cell asked for staples (the ocsp axis). */
export function matrixHasStaples(result: MatrixResult): boolean {
  return result.cells.some((c) => c.result?.phases.some((p) => Object.keys(p.summary.ocsp ?? {}).length > 0));
}

export function renderMatrix(result: MatrixResult): string {
  const baseline = result.cells.find((c) => c.name === result.baseline);
  const staples = matrixHasStaples(result);
  const table = new Table({
    head: ['cell', 'phase', 'class', 'handshakes/s', 'p50 ms', 'p99 ms', ...(staples ? ['OCSP staple'] : []), 'server µs', 'server cost', 'throughput cost'],
    colAligns: ['left', 'left', 'left', 'right', 'right', 'right', ...(staples ? ['right' as const] : []), 'right', 'right', 'right'],
    style: { head: [], border: [] },
  });
  const skipped: string[] = [];
  for (const cell of cellsByCost(result)) {
    if (!cell.result) {
      table.push([cell.name, '', '', '', '', '', ...(staples ? [''] : []), '', '', 'skipped']);
      skipped.push(`skipped ${cell.name}: ${cell.skipped ?? 'not run'}`);
      continue;
    }
    let firstRow = true;
    for (const phase of cell.result.phases) {
      const costs = cellCosts(phase, baseline);
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
          ...(staples ? [stapleCell(phase, cls)] : []),
          ...(firstClass ? [costs.serverUs, costs.serverRelative, costs.throughputRelative] : ['', '', '']),
        ]);
        firstRow = false;
        firstClass = false;
      }
      if (firstClass) {
        table.push([firstRow ? cell.name + (cell.result.interrupted ? ' (interrupted)' : '') : '', phase.name, '—', '0', '—', '—', ...(staples ? [''] : []), '—', '—', `${phase.summary.errorCount} errors`]);
        firstRow = false;
      }
    }
  }
  const out = [table.toString()];
  out.push(`${COST_LEGEND}; latency is TLS handshake time`);
  out.push(...skipped);
  if (result.interrupted) out.push('interrupted: the grid was stopped; the cell marked (interrupted) covers what ran, later cells were not run');
  return out.join('\n');
}
