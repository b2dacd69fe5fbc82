/**
 * The native engine's side of OCSP stapling. The loop (native/src/trust.c) hands each distinct
 * staple it meets to JS once, with the server's certificate and the issuer from the verified chain;
 * the verdict is the Node engine's (trust/ocsp-staple.ts through OcspClient), given back with the
 * wall-clock span it holds for, so the loop decides each later handshake with the same bytes itself,
 * before it sends a request or counts the attempt. Outcomes then carry the staple's number, and the
 * observation of each handshake (size, status, freshness at its time) is built here from the facts.
 */
import { X509Certificate } from 'node:crypto';
import type { OcspObservation } from '../metrics/ocsp-tally.js';
import { inspectStaple, judgeStaple, OCSP_ERROR_CLASSES, verdictSpan, type StapleFacts } from '../trust/ocsp-staple.js';
import type { HandshakeLoop } from './native-addon.js';
import { NOT_STAPLED, OcspClient, stapleObservation } from './ocsp-client.js';

/**
 * Staples remembered here by the loop's number. The loop keeps 8 judged ones (and those awaiting a
 * verdict); this keeps far more, so an outcome in a batch always finds the staple it names.
 */
const FACTS_KEPT = 64;

/** A `tls.ocsp.*` class as the loop carries it: 0 none, else its place in OCSP_ERROR_CLASSES + 1. */
function verdictNumber(errorClass: string | null): number {
  return errorClass === null ? 0 : (OCSP_ERROR_CLASSES as readonly string[]).indexOf(errorClass) + 1;
}

export class NativeStaples {
  private readonly client: OcspClient;
  private readonly facts = new Map<number, StapleFacts>();

  constructor(caPem: string | undefined, requireStaple: boolean) {
    this.client = new OcspClient(caPem, requireStaple);
  }

  /** The loop's verdict for a full handshake without a staple. */
  get missingVerdict(): number {
    return verdictNumber(this.client.missingClass());
  }

  /** Judges every staple the loop awaits a verdict on (called after each slice). */
  answer(loop: HandshakeLoop, now: number = Date.now()): void {
    for (const r of loop.staples()) {
      let facts = this.facts.get(r.id);
      if (!facts) {
        facts = inspectStaple(r.staple, r.leaf, this.client.issuerOf(new X509Certificate(r.leaf), r.issuer));
        this.facts.set(r.id, facts);
        if (this.facts.size > FACTS_KEPT) this.facts.delete(this.facts.keys().next().value!);
      }
      const span = verdictSpan(facts, now);
      loop.verdict(r.id, verdictNumber(this.client.enforced(judgeStaple(facts, now).errorClass)), span.from, span.until);
    }
  }

  /**
   * An outcome's staple fields (OUTCOME.staple, OUTCOME.ocspVerdict) as the Node engine's: what the
   * handshake saw at `wallAt`, and the class the loop acted on. Null: no staple was looked at.
   */
  outcome(staple: number, verdict: number, wallAt: number): { observation: OcspObservation; errorClass: string | null } | null {
    if (staple === 0) return null;
    const facts = staple > 0 ? this.facts.get(staple) : undefined;
    return {
      observation: facts ? stapleObservation(facts, wallAt) : NOT_STAPLED,
      errorClass: verdict > 0 ? OCSP_ERROR_CLASSES[verdict - 1] ?? null : null,
    };
  }
}
