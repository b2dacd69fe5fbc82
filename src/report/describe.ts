import { formatDuration } from '../config/duration.js';
import { phasePlans, type RunConfig } from '../config/run-config.js';
import { shortVersion } from '../config/tls-versions.js';

/**
 * One line saying exactly what will be (or was) measured, and from when. With --repeat the
 * per-phase figure is said per repeat, and the total beside it, so it adds up to the attempts.
 */
export function describeRun(c: RunConfig, repeats = 1): string {
  const parts: string[] = [];
  parts.push(c.rate !== null
    ? `open loop at ${c.rate}/s (at most ${c.maxConnections} in flight)`
    : `closed loop, ${c.connections} connections`);
  parts.push(`${c.workers} worker${c.workers === 1 ? '' : 's'}`);
  const versions = c.tls.minVersion === c.tls.maxVersion ? `TLS ${shortVersion(c.tls.minVersion)}` : `TLS ${shortVersion(c.tls.minVersion)}–${shortVersion(c.tls.maxVersion)}`;
  parts.push(versions);
  const plans = phasePlans(c);
  parts.push(plans.length > 1 ? 'full handshakes, then resumed (tickets)' : `resume ${plans[0]!.resume}${c.resumeRatio < 1 ? ` on ${(c.resumeRatio * 100).toFixed(0)} % of attempts` : ''}`);
  const window = c.handshakes !== null
    ? `${c.handshakes} handshakes${c.durationMs !== null ? ` or ${formatDuration(c.durationMs)}, whichever first` : ` (bounded by ${formatDuration(c.maxDurationMs)})`}`
    : formatDuration(c.durationMs!);
  const lead = [c.rampMs ? `${formatDuration(c.rampMs)} ramp` : '', c.warmupMs ? `${formatDuration(c.warmupMs)} warm-up` : ''].filter(Boolean).join(' + ');
  const perPhase = plans.length > 1 ? ' per phase' : '';
  const each = repeats > 1 ? ` in each of ${repeats} repeats${c.handshakes !== null ? ` (${c.handshakes * repeats} handshakes${perPhase} in all)` : ''}` : '';
  parts.push(`${window}${perPhase}${each}${lead ? ` after ${lead} (not measured${repeats > 1 ? ', in each repeat' : ''})` : ''}`);
  if (c.tls.ciphers) parts.push(`ciphers ${c.tls.ciphers}`);
  if (c.tls.ciphersuites) parts.push(`suites ${c.tls.ciphersuites}`);
  if (c.tls.groups) parts.push(`groups ${c.tls.groups}`);
  if (c.request) parts.push(`${c.request.description} ×${c.request.perConnection} per connection`);
  if (c.earlyData) parts.push(`its first ${c.earlyData} bytes as TLS 1.3 early data (0-RTT) on resumed handshakes`);
  if (c.tls.ocsp) parts.push(`OCSP staple asked${c.tls.requireStaple ? ' and required' : ''}${c.target === null ? ` (built-in server staples ${c.server.ocspStaple ?? 'good'})` : ''}`);
  if (c.tls.insecure) parts.push('certificates NOT verified (--insecure)');
  // Results written before engines existed ran on the Node engine.
  const engine = c.engine ?? { name: 'node', reason: null };
  parts.push(`${engine.name} engine${engine.reason ? ` (${engine.reason})` : ''}`);
  return parts.join(', ');
}
