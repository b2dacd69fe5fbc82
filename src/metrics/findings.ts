import { errorHint } from '../engine/errors.js';
import type { ResumeMode } from '../config/run-config.js';
import type { PhaseSummary } from './summary.js';
import type { Tally } from './tally.js';

/** Above this event-loop utilisation a worker has no idle time left: the client may be the limit. */
export const SATURATION_ELU = 0.9;

/** Over a window shorter than a second, utilisation is start-up noise, not saturation. */
export function clientSaturated(elu: readonly number[], windowSeconds: number): boolean {
  return windowSeconds >= 1 && elu.some((u) => u >= SATURATION_ELU);
}

function protocolSeen(tally: Tally): string | null {
  for (const samples of Object.values(tally.negotiated)) {
    if (samples?.length) return samples[0]!.protocol;
  }
  return null;
}

/**
 * Why nothing (or not everything) resumed, or resumed otherwise than asked, in words a server
 * operator can act on: only causes consistent with what the phase saw.
 */
export function resumptionFindings(resume: ResumeMode, tally: Tally, summary: PhaseSummary, closeWaitMs: number): string[] {
  if (resume === 'none' || summary.successes === 0) return [];
  const resumed = summary.classes.resumed?.handshakes ?? 0;
  const protocol = protocolSeen(tally);
  const findings: string[] = [];
  if (tally.offered === 0) {
    if (tally.sessionsReceived > 0) {
      return ['nothing was offered: the server issued sessions, but no slot had one yet when its attempts started ' +
        '(each slot\'s first handshake is a full one); add --warmup, or run more handshakes than --connections'];
    }
    if (protocol === 'TLSv1.3') {
      return [`never resumed: the server issued no TLS 1.3 session tickets before closing (or within --close-wait, ${closeWaitMs} ms). ` +
        'Tickets are probably off; a Node.js server with tickets off cannot resume TLS 1.3 at all (nodejs/node#60847)'];
    }
    if (resume === 'id') return ['never resumed: the server issued no resumable TLS 1.2 session ID: it has no session cache'];
    return ['never resumed: the server issued neither a session ticket nor a session ID the client could keep: tickets are off and there is no session cache'];
  }
  const offeredIds = tally.offeredMechanisms['tls12-session-id'] ?? 0;
  if (resumed === 0) {
    let why: string;
    if (resume === 'id' || offeredIds === tally.offered) {
      why = resume === 'id'
        ? 'it keeps no TLS 1.2 session cache, or the cache is per process and connections land on other processes'
        : 'it issues no tickets (only session IDs) and keeps no session cache to resume them from';
    } else if (protocol === 'TLSv1.3' && tally.offeredMechanisms['tls13-psk-stateful'] === tally.offered) {
      why = 'its TLS 1.3 tickets are stateful (session-ID-sized references into a session cache, what servers issue with tickets off) ' +
        'and it keeps no session cache to look them up in, or a per-process one with connections landing on other processes';
    } else if (protocol === 'TLSv1.3' && tally.offeredMechanisms['tls13-psk-stateless'] === tally.offered) {
      why = 'it cannot decrypt its own stateless tickets (ticket keys differ between processes or rotate), or refuses PSK resumption';
    } else if (protocol === 'TLSv1.3') {
      why = 'it cannot decrypt its own tickets (ticket keys differ between processes or rotate), refuses PSK resumption, ' +
        'or issues stateful tickets (tickets off) with no session cache to look them up in';
    } else {
      why = 'it cannot decrypt its own tickets (ticket keys differ between processes or rotate)';
    }
    findings.push(`never resumed (hit rate 0 %): the server refused all ${tally.offered} offered sessions: ${why}`);
  } else if (summary.hitRate !== null && summary.hitRate < 0.99) {
    const misses = tally.offered - resumed;
    findings.push(`${misses} of ${tally.offered} offered sessions were refused (hit rate ${(summary.hitRate * 100).toFixed(1)} %): ` +
      'a bounded session cache evicting entries, sessions outliving their lifetime, ticket key rotation, or several server processes without shared state');
  }
  const byId = tally.mechanisms['tls12-session-id'] ?? 0;
  if (resume === 'ticket' && byId > 0) {
    findings.push(`asked to resume by ticket, but ${byId} of ${resumed} resumptions were by TLS 1.2 session ID: the server issued no ticket (tickets are off) and resumed from its session cache`);
  }
  return findings;
}

export function loadFindings(summary: PhaseSummary, elu: readonly number[]): string[] {
  const findings: string[] = [];
  const busiest = Math.max(0, ...elu);
  if (clientSaturated(elu, summary.windowSeconds)) {
    findings.push(`client saturated: a worker's event loop was ${(busiest * 100).toFixed(0)} % busy, so the client rather than the server may be the limit; add --workers or cores, or run the client on another machine`);
  }
  if (summary.dropped > 0) {
    findings.push(`${summary.dropped} arrivals found no free slot and were dropped: the server (or client) could not keep up with the rate; raise --max-connections or lower --rate`);
  }
  for (const [errorClass, count] of Object.entries(summary.errors)) {
    const hint = errorHint(errorClass);
    if (hint) findings.push(`${count} × ${errorClass}: ${hint}`);
  }
  return findings;
}
