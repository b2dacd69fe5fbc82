import { formatTarget } from '../config/target.js';
import type { ResumeMode } from '../config/run-config.js';
import type { RunResult } from '../metrics/run-result.js';
import { builtInDetails } from './built-in-server-label.js';
import type { PhaseSummary } from '../metrics/summary.js';
import type { NegotiatedSample, ResumptionMechanism } from '../metrics/tally.js';
import { EARLY_DATA_SKIP_LABELS, EARLY_DATA_SKIPS } from '../metrics/early-data.js';
import { percent, rate } from './table.js';

/** Where the handshakes went, in the words the table uses: shared by Markdown and HTML. */
export function targetLabel(result: RunResult): string {
  const t = result.target;
  if (t.builtIn) return `built-in server at ${formatTarget(t)} (${builtInDetails(t.builtIn)})`;
  return formatTarget(t) + (t.servername ? ` (SNI ${t.servername})` : '');
}

/**
 * The client certificate in a negotiated sample, in words, or null when there is nothing to say.
 * The native engine sees the server's CertificateRequest and what the client answered; the Node
 * engine sees neither, so it says only what it knows: a certificate was configured, for a full
 * handshake (README: "What Node lets a client see").
 */
export function clientCertificateLabel(s: Pick<NegotiatedSample, 'clientCertificate' | 'clientCertificateRequested'>): string | null {
  if (s.clientCertificateRequested === undefined) return s.clientCertificate ? 'client cert configured (sent if asked; the Node engine cannot see a request)' : null;
  if (!s.clientCertificateRequested) return null;
  return s.clientCertificate ? 'client cert requested and sent' : 'client cert requested, none sent';
}

/** The client's runtime: resumption cost differs a lot between OpenSSL versions, so always shown. */
export function runtimeLabel(result: RunResult): string {
  const r = result.runtime;
  return `Node ${r.node}, OpenSSL ${r.openssl}, ${r.platform}/${r.arch}, ${r.cores} cores (${r.cpuModel}), ` +
    `${result.config.workers} worker${result.config.workers === 1 ? '' : 's'}${r.clientCpus ? ` pinned to CPU ${r.clientCpus.join(',')}` : ''}`;
}

/**
 * The resumption speedup in words: "throughput 1.68× higher · p50 handshake latency 2.10× lower".
 * A ratio under 1 is said the other way round, and a missing one says there is nothing to compare.
 */
export function speedupLabel(gain: { throughputRatio: number | null; p50LatencyRatio: number | null }): string {
  const say = (ratio: number | null, better: string, worse: string) =>
    ratio === null ? 'nothing to compare' : ratio >= 1 ? `${ratio.toFixed(2)}× ${better}` : `${(1 / ratio).toFixed(2)}× ${worse}`;
  // p50LatencyRatio is full ÷ resumed: above 1 the resumed handshake is faster.
  return `throughput ${say(gain.throughputRatio, 'higher', 'LOWER')} · p50 handshake latency ${say(gain.p50LatencyRatio, 'lower', 'HIGHER')}`;
}

/** How each mechanism is named in reports. */
export const MECHANISM_LABELS: Record<ResumptionMechanism, string> = {
  'tls12-ticket': 'TLS 1.2 ticket',
  'tls12-session-id': 'TLS 1.2 session ID',
  'tls13-psk-stateless': 'TLS 1.3 PSK (stateless ticket)',
  'tls13-psk-stateful': 'TLS 1.3 PSK (stateful ticket, server cache)',
  'tls13-psk': 'TLS 1.3 PSK',
};

/** "TLS 1.2 session ID 100 %", or null when nothing resumed. */
export function mechanismsLabel(summary: PhaseSummary): string | null {
  const resumed = Object.values(summary.mechanisms).reduce((a, b) => a + b, 0);
  if (!resumed) return null;
  return (Object.entries(summary.mechanisms) as [ResumptionMechanism, number][])
    .sort((a, b) => b[1] - a[1])
    .map(([m, n]) => (n === resumed ? MECHANISM_LABELS[m] : `${MECHANISM_LABELS[m]} ${n}`))
    .join(', ');
}

/** One fact of a phase's headline; `strong` ones (the rate, anything alarming) are emphasised where a format can. */
export interface PhaseFact {
  text: string;
  strong?: boolean;
}

/**
 * A phase's headline counts, one list for every format: throughput and its window accounting
 * (what was carried in, left unfinished, done before the window), resumption and how it happened.
 */
export function phaseFacts(summary: PhaseSummary, resume: ResumeMode): PhaseFact[] {
  const s = summary;
  const facts: PhaseFact[] = [
    { text: `attempts ${s.attempts}` }, { text: `ok ${s.successes}` }, { text: `errors ${s.errorCount}`, strong: s.errorCount > 0 },
    { text: `${rate(s.rate)} handshakes/s`, strong: true },
  ];
  if (resume !== 'none') {
    // One phrase for "nothing to rate": never "hit rate —" beside a 0 % elsewhere.
    if (s.hitRate === null) facts.push({ text: 'nothing offered', strong: true });
    else facts.push({ text: `offered ${s.offered}` }, { text: `hit rate ${percent(s.hitRate)}`, strong: true });
    const by = mechanismsLabel(s);
    if (by) facts.push({ text: `resumed by ${by}` });
  }
  facts.push(...earlyDataFacts(s));
  if (s.arrivals) facts.push({ text: `arrivals ${s.arrivals}` });
  if (s.dropped) facts.push({ text: `DROPPED ${s.dropped}`, strong: true });
  if (s.carriedIn) facts.push({ text: `carried in ${s.carriedIn}` });
  if (s.unfinished) facts.push({ text: `unfinished at end ${s.unfinished}` });
  if (s.warmup.attempts) facts.push({ text: `before the window ${s.warmup.attempts} (${s.warmup.errors} errors)`, strong: s.warmup.errors > 0 });
  return facts;
}

/**
 * --early-data: "0-RTT offered 40 · accepted 40 (100.0 %) · rejected 0", and the offered sessions
 * that carried none with why ("no early data on 12: the ticket allows no early data").
 */
export function earlyDataFacts(summary: PhaseSummary): PhaseFact[] {
  const e = summary.earlyData;
  if (!e) return [];
  const facts: PhaseFact[] = [
    { text: `0-RTT offered ${e.offered}`, strong: e.offered === 0 },
    { text: `accepted ${e.accepted}${e.acceptRate === null ? '' : ` (${percent(e.acceptRate)})`}`, strong: e.offered > 0 },
    { text: `rejected ${e.rejected}` },
  ];
  for (const skip of EARLY_DATA_SKIPS) {
    const n = e.notOffered[skip];
    if (n) facts.push({ text: `no early data on ${n}: ${EARLY_DATA_SKIP_LABELS[skip]}`, strong: e.offered === 0 });
  }
  return facts;
}
