/**
 * The Node engine's side of OCSP stapling: it asks for a staple (requestOCSP, 'OCSPResponse'), and
 * hands the bytes, the server's certificate and its issuer to the engine-neutral check
 * (trust/ocsp-staple.ts). The issuer comes from the chain the server sent when Node exposes it, else
 * from the CAs the run trusts (--ca, or the built-in server's CA).
 */
import { X509Certificate } from 'node:crypto';
import type { OcspObservation } from '../metrics/ocsp-tally.js';
import { StapleChecker } from '../trust/ocsp-staple.js';

export interface StapleOutcome {
  observation: OcspObservation;
  /** The `tls.ocsp.*` class that fails the attempt, or null. */
  errorClass: string | null;
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

  private issuerOf(leaf: X509Certificate): Buffer | null {
    const raw = leaf.raw;
    if (this.lastLeaf?.equals(raw)) return this.lastIssuer;
    const issuer = leaf.issuerCertificate ?? this.trusted.find((ca) => leaf.checkIssued(ca) && leaf.verify(ca.publicKey));
    this.lastLeaf = raw;
    this.lastIssuer = issuer?.raw ?? null;
    return this.lastIssuer;
  }

  /** `response`: what the 'OCSPResponse' event gave (null or undefined: nothing stapled). */
  judge(response: Buffer | null | undefined, leaf: X509Certificate | undefined, now: number = Date.now()): StapleOutcome {
    if (!response || response.length === 0 || !leaf) {
      return {
        observation: { stapled: false, bytes: 0, status: null, signature: null, secondsToNextUpdate: null, ageSeconds: null },
        errorClass: this.enforce && this.requireStaple ? 'tls.ocsp.missing' : null,
      };
    }
    const check = this.checker.check(response, leaf.raw, this.issuerOf(leaf), now);
    return {
      observation: {
        stapled: true,
        bytes: check.bytes,
        status: check.status,
        signature: check.signature,
        secondsToNextUpdate: check.nextUpdate === null ? null : Math.round((check.nextUpdate - now) / 1000),
        ageSeconds: check.thisUpdate === null ? null : Math.round((now - check.thisUpdate) / 1000),
      },
      errorClass: this.enforce ? check.errorClass : null,
    };
  }
}
