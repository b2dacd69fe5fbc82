/**
 * What the built-in server itself counted during a phase (warm-up included): the truth a client
 * cannot always see. Node's server rejects a client certificate that does not verify (revoked,
 * untrusted) by dropping the connection without an alert; in TLS 1.3 that comes after the client's
 * Finished and looks to the client like any close. These counts, read from the server before and
 * after the phase, say so.
 */
import type { TargetServerStats } from '../server/target-server.js';

export interface BuiltInServerCounts {
  handshakes: number;
  resumed: number;
  /** Handshakes the server failed or dropped (tlsClientError), rejected client certificates included. */
  failed: number;
  ocspStaples: number;
  /** With --mtls: full handshakes in which it asked for a client certificate, and what came of it. */
  clientCertificates: { requested: number; sent: number; accepted: number; rejected: Record<string, number> } | null;
}

export function serverCountsBetween(before: TargetServerStats, after: TargetServerStats): BuiltInServerCounts {
  const a = after.clientCertificates;
  const b = before.clientCertificates;
  let clientCertificates: BuiltInServerCounts['clientCertificates'] = null;
  if (a) {
    const rejected: Record<string, number> = {};
    for (const [why, n] of Object.entries(a.rejected)) {
      const d = n - (b?.rejected[why] ?? 0);
      if (d > 0) rejected[why] = d;
    }
    clientCertificates = { requested: a.requested - (b?.requested ?? 0), sent: a.sent - (b?.sent ?? 0), accepted: a.accepted - (b?.accepted ?? 0), rejected };
  }
  return {
    handshakes: after.handshakes - before.handshakes,
    resumed: after.resumed - before.resumed,
    failed: after.tlsClientErrors - before.tlsClientErrors,
    ocspStaples: (after.ocsp?.staples ?? 0) - (before.ocsp?.staples ?? 0),
    clientCertificates,
  };
}

/**
 * The client certificates the server rejected, in words, when the client counted none of it as an
 * error class of its own (a TLS 1.3 drop after Finished): a finding, never silence.
 */
export function clientCertificateFinding(counts: BuiltInServerCounts, clientErrors: number): string | null {
  const c = counts.clientCertificates;
  if (!c) return null;
  const rejected = Object.values(c.rejected).reduce((x, y) => x + y, 0);
  if (rejected === 0 || rejected <= clientErrors) return null;
  const why = Object.entries(c.rejected).map(([reason, n]) => `${n} ${reason}`).join(', ');
  return `the built-in server rejected ${rejected} client certificates during this phase (${why}, warm-up included) but the client counted only ${clientErrors} errors: `
    + 'Node\'s server drops a connection whose client certificate does not verify without sending an alert, and in TLS 1.3 that comes after the client\'s Finished, '
    + 'so the client cannot tell it from a normal close and counts a success. Trust the server\'s count, or serve with --server-engine native (the default with --mtls where the native addon is built), which rejects with an alert inside the handshake';
}
