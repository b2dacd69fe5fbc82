import type { ClassTally } from './tally.js';

/**
 * TLS 1.3 early data (0-RTT, --early-data N): on a resumed attempt the request's first N bytes go
 * with the ClientHello, and the server accepts them (it answers before the handshake is over) or
 * rejects them (the client writes the request again after the handshake). Counted over the
 * attempts that offered a session and completed their handshake inside the window; a failed attempt
 * is in its error class only.
 */

/**
 * Why an offered session carried no early data (read from the session before anything is sent):
 * its ticket allows none (the server's max_early_data is 0: early data off), or fewer bytes than N.
 */
export const EARLY_DATA_SKIPS = ['ticket-allows-none', 'ticket-allows-fewer-bytes'] as const;
export type EarlyDataSkip = (typeof EARLY_DATA_SKIPS)[number];

/** One attempt's early data, as an engine reports it. */
export type EarlyDataOutcome = 'accepted' | 'rejected' | EarlyDataSkip;

export interface EarlyDataTally {
  /** Attempts that sent early data: accepted + rejected. */
  offered: number;
  accepted: number;
  rejected: number;
  /** Offered sessions that carried none, by why. */
  notOffered: Partial<Record<EarlyDataSkip, number>>;
  /**
   * The 0-RTT handshakes (early data accepted) recorded as a handshake class is (latency, ttfb,
   * first-byte): a subset of the `resumed` class, kept beside it so the two compare.
   */
  zeroRtt?: ClassTally;
}

export function emptyEarlyDataTally(): EarlyDataTally {
  return { offered: 0, accepted: 0, rejected: 0, notOffered: {} };
}

/** Counts one attempt's early data. */
export function countEarlyData(into: EarlyDataTally, outcome: EarlyDataOutcome): void {
  if (outcome === 'accepted' || outcome === 'rejected') {
    into.offered++;
    into[outcome]++;
  } else {
    into.notOffered[outcome] = (into.notOffered[outcome] ?? 0) + 1;
  }
}

/** `ticket-allows-none` → the words reports use. */
export const EARLY_DATA_SKIP_LABELS: Record<EarlyDataSkip, string> = {
  'ticket-allows-none': 'the ticket allows no early data',
  'ticket-allows-fewer-bytes': 'the ticket allows fewer bytes',
};

/** How the 0-RTT handshakes are named where classes are listed (table, Markdown, CSV). */
export const ZERO_RTT_ROW = '0-rtt';
