import type { BuiltInTarget, PhaseResult } from '../metrics/run-result.js';

/**
 * What the built-in server counted itself, when it bears on the client's figures (client
 * certificates, OCSP staples): "built-in server counted: 60 handshakes, 0 failed · 60 OCSP staples ·
 * client certificates requested 60, sent 60, accepted 0, rejected 60 (CERT_REVOKED)". Null otherwise.
 */
export function builtInServerLine(phase: PhaseResult): string | null {
  const b = phase.builtInServer;
  if (!b || (!b.clientCertificates && b.ocspStaples === 0)) return null;
  const parts = [`${b.handshakes} handshakes (${b.resumed} resumed), ${b.failed} failed`];
  if (b.ocspStaples) parts.push(`${b.ocspStaples} OCSP staples`);
  const c = b.clientCertificates;
  if (c) {
    const rejected = Object.values(c.rejected).reduce((x, y) => x + y, 0);
    const why = Object.entries(c.rejected).map(([reason, n]) => `${n} ${reason}`).join(', ');
    parts.push(`client certificates requested ${c.requested}, sent ${c.sent}, accepted ${c.accepted}, rejected ${rejected}${why ? ` (${why})` : ''}`);
  }
  return `built-in server counted (phase, warm-up included): ${parts.join(' · ')}`;
}

/** The built-in server in a few words: key type, cores, and the native server when it ran. */
export function builtInDetails(b: BuiltInTarget): string {
  return `${b.keyType}; ${b.coreSplit}${b.engine === 'native' ? '; native server' : ''}`;
}
