/**
 * OCSP stapling in words, one source for every format (table, Markdown, HTML, the probe line):
 * "full: stapled 2754 of 2754 · 816 B · good 2754 · signature valid · next update in 7.0 d".
 */
import type { OcspObservation, OcspTally } from '../metrics/ocsp-tally.js';
import type { PhaseSummary } from '../metrics/summary.js';
import { HANDSHAKE_CLASSES } from '../metrics/tally.js';
import type { StapleVerdict } from '../trust/ocsp-staple.js';

export function sizeLabel(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} KB`;
}

/** "7.0 d", "5 h", "40 min", "12 s", for a span of seconds. */
export function spanLabel(seconds: number): string {
  const s = Math.abs(seconds);
  if (s >= 86400) return `${(s / 86400).toFixed(1)} d`;
  if (s >= 3600) return `${(s / 3600).toFixed(1)} h`;
  if (s >= 60) return `${Math.round(s / 60)} min`;
  return `${Math.round(s)} s`;
}

/** "next update in 7.0 d", or "STALE: next update was 2.0 h ago". */
function freshnessLabel(secondsToNextUpdate: number | null): string | null {
  if (secondsToNextUpdate === null) return null;
  return secondsToNextUpdate >= 0 ? `next update in ${spanLabel(secondsToNextUpdate)}` : `STALE: next update was ${spanLabel(secondsToNextUpdate)} ago`;
}

const STATUS_ORDER: readonly StapleVerdict[] = ['good', 'revoked', 'unknown', 'malformed', 'wrong-certificate'];

/** One class's stapling: what share got a staple, its size, what it said, whether it verified, how fresh. */
export function ocspTallyLabel(t: OcspTally): string {
  if (t.stapled === 0) return `not stapled (0 of ${t.handshakes} handshakes)`;
  const parts = [`stapled ${t.stapled} of ${t.handshakes}`];
  const mean = Math.round(t.bytes / t.stapled);
  parts.push(mean === t.maxBytes ? sizeLabel(mean) : `${sizeLabel(mean)} mean, ${sizeLabel(t.maxBytes)} max`);
  parts.push(STATUS_ORDER.filter((k) => t.status[k]).map((k) => `${k === 'good' ? k : k.toUpperCase()} ${t.status[k]}`).join(', '));
  const sig = t.signature;
  if (sig.invalid) parts.push(`signature INVALID ${sig.invalid}`);
  if (sig.valid) parts.push(sig.valid === t.stapled ? 'signature valid' : `signature valid ${sig.valid}`);
  if (sig.unchecked) parts.push(`signature not checked ${sig.unchecked} (no issuer at hand)`);
  const fresh = freshnessLabel(t.minSecondsToNextUpdate);
  if (fresh) parts.push(fresh);
  return parts.join(' · ');
}

/** "full: …" per class that asked; empty when the run did not ask for staples. */
export function ocspLines(summary: PhaseSummary): string[] {
  const lines: string[] = [];
  for (const cls of HANDSHAKE_CLASSES) {
    const t = summary.ocsp?.[cls];
    if (t && t.handshakes) lines.push(`${cls}: ${ocspTallyLabel(t)}`);
  }
  return lines;
}

/** The probe's "OCSP: stapled (1.3 KB, good, next update in 7.0 d)" or "OCSP: not stapled". */
export function ocspProbeLabel(o: OcspObservation | null): string | null {
  if (!o) return null;
  if (!o.stapled) return 'OCSP: not stapled';
  const parts = [sizeLabel(o.bytes), o.status === 'good' ? 'good' : (o.status ?? 'unknown').toUpperCase()];
  if (o.signature === false) parts.push('signature INVALID');
  if (o.signature === null) parts.push('signature not checked');
  const fresh = freshnessLabel(o.secondsToNextUpdate);
  if (fresh) parts.push(fresh);
  return `OCSP: stapled (${parts.join(', ')})`;
}
