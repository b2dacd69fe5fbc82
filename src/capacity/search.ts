/**
 * The rate search: from --start-rate, multiply by --step-factor until a step fails, then bisect
 * between the last passing and the first failing rate until they are within --precision. A first
 * step that fails searches downward instead. Pure: the next rate follows from the steps so far.
 */
import type { CapacityAnswer, CapacityStep } from './capacity-result.js';

export interface SearchPlan {
  startRate: number;
  maxRate: number;
  stepFactor: number;
  /** Stop bisecting when (firstFailing − lastPassing) ÷ lastPassing is at most this. */
  precision: number;
  /** No step below this rate: it would see too few arrivals to judge a percentile. */
  minRate: number;
}

type Judged = Pick<CapacityStep, 'offered' | 'verdict' | 'reason'>;

/** Whole arrivals per second from 10/s up; two decimals below (the shortest rates --rate takes). */
export function roundRate(rate: number): number {
  return rate >= 10 ? Math.round(rate) : Number(rate.toFixed(2));
}

/** The highest passing step, and the lowest judged failure above it (interrupted steps say nothing). */
export function bracket(steps: readonly Judged[]): { lastPassing: Judged | null; firstFailing: Judged | null } {
  let lastPassing: Judged | null = null;
  for (const s of steps) if (s.verdict === 'pass' && (!lastPassing || s.offered > lastPassing.offered)) lastPassing = s;
  let firstFailing: Judged | null = null;
  for (const s of steps) {
    if (s.verdict !== 'fail' && s.verdict !== 'client-limit') continue;
    if (lastPassing && s.offered <= lastPassing.offered) continue;
    if (!firstFailing || s.offered < firstFailing.offered) firstFailing = s;
  }
  return { lastPassing, firstFailing };
}

/** The next rate to step at, or null when the search has nothing left to learn. */
export function nextRate(steps: readonly Judged[], plan: SearchPlan): number | null {
  if (!steps.some((s) => s.verdict !== 'interrupted')) return roundRate(Math.min(plan.startRate, plan.maxRate));
  const { lastPassing: lo, firstFailing: hi } = bracket(steps);
  if (!hi) {
    if (!lo || lo.offered >= plan.maxRate) return null;
    return Math.min(plan.maxRate, roundRate(lo.offered * plan.stepFactor));
  }
  if (!lo) {
    const lower = roundRate(hi.offered / plan.stepFactor);
    return lower < plan.minRate || lower >= hi.offered ? null : lower;
  }
  if ((hi.offered - lo.offered) / lo.offered <= plan.precision) return null;
  const mid = roundRate((lo.offered + hi.offered) / 2);
  return mid <= lo.offered || mid >= hi.offered ? null : mid;
}

const perSecond = (rate: number) => `${rate}/s`;

/**
 * The answer, with how sure it is. A bracket whose upper end the client broke is reported as the
 * client's limit, never as the server's capacity.
 */
export function answer(steps: readonly Judged[], plan: SearchPlan, objectives: string, stoppedBy: string | null): CapacityAnswer {
  const { lastPassing: lo, firstFailing: hi } = bracket(steps);
  const settled = !!lo && !!hi && nextRate(steps, plan) === null;
  const base = { rate: lo?.offered ?? null, lastPassing: lo?.offered ?? null, firstFailing: hi?.offered ?? null, settled };
  const unsettled = lo && hi && !settled ? ` The bracket is wider than --precision: the search was ${stoppedBy ?? 'stopped'} before it narrowed.` : '';
  if (hi?.verdict === 'client-limit') {
    const held = lo ? `The server sustained at least ${perSecond(lo.offered)} within ${objectives}` : 'No step passed, so nothing is known of the server';
    return { ...base, limitedBy: 'client', text: `The client is the limit, not the server: at ${perSecond(hi.offered)} ${hi.reason}. ${held}; its capacity is above what this client offered.${unsettled}` };
  }
  if (hi) {
    if (!lo) return { ...base, limitedBy: 'server', text: `No step met ${objectives}: even at ${perSecond(hi.offered)} (the lowest rate tried) ${hi.reason}.` };
    return { ...base, limitedBy: 'server', text: `The server sustains ${perSecond(lo.offered)} within ${objectives}: ${perSecond(lo.offered)} passed, ${perSecond(hi.offered)} failed (${hi.reason}).${unsettled}` };
  }
  if (lo && lo.offered >= plan.maxRate) {
    return { ...base, limitedBy: 'max-rate', text: `Every step up to --max-rate ${perSecond(plan.maxRate)} met ${objectives}: the server sustains at least ${perSecond(lo.offered)}.` };
  }
  const why = stoppedBy ? `the search was ${stoppedBy}` : 'the search ended';
  return { ...base, limitedBy: 'unknown', text: lo ? `${why[0]!.toUpperCase()}${why.slice(1)} before any step failed: the server sustained at least ${perSecond(lo.offered)} within ${objectives}.` : `No step was judged: ${why} first.` };
}
