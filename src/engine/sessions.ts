import type { ResumeMode, SessionScope } from '../config/run-config.js';
import type { ResumptionMechanism } from '../metrics/tally.js';
import { resumptionMechanism } from './session-der.js';

/** A session the server issued, with the mechanism it resumes by (read once, when stored). */
export interface StoredSession {
  der: Buffer;
  mechanism: ResumptionMechanism;
}

/**
 * Which session each attempt offers. With scope `slot` every slot resumes its own last session;
 * with `worker` all slots of a worker share the newest one. The resume ratio is applied
 * deterministically (error diffusion), so a ratio of 0.3 offers on exactly 3 in 10 attempts.
 */
export class SessionStore {
  private readonly bySlot: (StoredSession | undefined)[] = [];
  private shared: StoredSession | undefined;
  private offerCredit = 0;

  constructor(
    readonly mode: ResumeMode,
    private readonly scope: SessionScope,
    private readonly ratio: number,
  ) {}

  /** True when attempts must capture the sessions the server issues. */
  get capturing(): boolean {
    return this.mode !== 'none';
  }

  /** The session the next attempt of this slot offers, or undefined for a full handshake. */
  sessionToOffer(slot: number): StoredSession | undefined {
    if (this.mode === 'none') return undefined;
    const session = this.scope === 'worker' ? this.shared : this.bySlot[slot];
    if (!session) return undefined;
    this.offerCredit += this.ratio;
    if (this.offerCredit < 1 - 1e-9) return undefined;
    this.offerCredit -= 1;
    return session;
  }

  store(slot: number, der: Buffer): void {
    const session = { der, mechanism: resumptionMechanism(der) };
    if (this.scope === 'worker') this.shared = session;
    else this.bySlot[slot] = session;
  }
}
