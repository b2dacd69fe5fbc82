/**
 * A client's side of OCSP stapling, for both engines: which issuer a staple is checked against, and
 * what one handshake saw (OcspObservation) and earns (a `tls.ocsp.*` class) from the engine-neutral
 * check (trust/ocsp-staple.ts). The Node engine asks for a staple (requestOCSP, 'OCSPResponse') and
 * calls judge(); the native engine hands over each distinct staple once (native-staples.ts).
 */
import { X509Certificate } from 'node:crypto';
import type { OcspObservation } from '../metrics/ocsp-tally.js';
import { StapleChecker, type StapleFacts } from '../trust/ocsp-staple.js';

export interface StapleOutcome {
  observation: OcspObservation;
  /** The `tls.ocsp.*` class that fails the attempt, or null. */
  errorClass: string | null;
}

/** A full handshake that carried no staple. */
export const NOT_STAPLED: OcspObservation = { stapled: false, bytes: 0, status: null, signature: null, secondsToNextUpdate: null, ageSeconds: null };

/** What one handshake at `now` saw of a staple whose facts are known. */
export function stapleObservation(facts: StapleFacts, now: number): OcspObservation {
  return {
    stapled: true,
    bytes: facts.bytes,
    status: facts.status,
    signature: facts.signature,
    secondsToNextUpdate: facts.nextUpdate === null ? null : Math.round((facts.nextUpdate - now) / 1000),
    ageSeconds: facts.thisUpdate === null ? null : Math.round((now - facts.thisUpdate) / 1000),
  };
}

export class OcspClient {
  private readonly checker = new StapleChecker();
  private readonly trusted: X509Certificate[];
  private lastLeaf: Buffer | null = null;
  private lastIssuer: Buffer | null = null;

  /**
   * `caPem`: the CAs the run trusts; `requireStaple`: a handshake without a staple fails;
   * `enforce` false: look and report, never fail an attempt (the probe of a run without --ocsp).
   */
  constructor(caPem: string | undefined, readonly requireStaple: boolean, private readonly enforce = true) {
    const blocks = caPem?.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    this.trusted = blocks.map((b) => new X509Certificate(b));
  }

  /**
   * The issuer to check a staple against: the one the handshake's chain gives (`fromChain`, the
   * native engine's verified chain; Node's issuerCertificate when it exposes it), else a trusted CA
   * that issued the leaf.
   */
  issuerOf(leaf: X509Certificate, fromChain: Buffer | null = null): Buffer | null {
    if (fromChain) return fromChain;
    const raw = leaf.raw;
    if (this.lastLeaf?.equals(raw)) return this.lastIssuer;
    const issuer = leaf.issuerCertificate ?? this.trusted.find((ca) => leaf.checkIssued(ca) && leaf.verify(ca.publicKey));
    this.lastLeaf = raw;
    this.lastIssuer = issuer?.raw ?? null;
    return this.lastIssuer;
  }

  /** The class a full handshake without a staple earns (--require-staple), or null. */
  missingClass(): string | null {
    return this.enforce && this.requireStaple ? 'tls.ocsp.missing' : null;
  }

  /** A class the check gave, as this client applies it (the probe only looks). */
  enforced(errorClass: string | null): string | null {
    return this.enforce ? errorClass : null;
  }

  /** `response`: what the 'OCSPResponse' event gave (null or undefined: nothing stapled). */
  judge(response: Buffer | null | undefined, leaf: X509Certificate | undefined, now: number = Date.now()): StapleOutcome {
    if (!response || response.length === 0 || !leaf) return { observation: NOT_STAPLED, errorClass: this.missingClass() };
    const check = this.checker.check(response, leaf.raw, this.issuerOf(leaf), now);
    return { observation: stapleObservation(check, now), errorClass: this.enforced(check.errorClass) };
  }
}
