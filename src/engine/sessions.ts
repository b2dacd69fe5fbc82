import type { ResumeMode, SessionScope } from '../config/run-config.js';

/**
 * Which session each attempt offers. With scope `slot` every slot resumes its own last session;
 * with `worker` all slots of a worker share the newest one. The resume ratio is applied
 * deterministically (error diffusion), so a ratio of 0.3 offers on exactly 3 in 10 attempts.
 */
export class SessionStore {
  private readonly bySlot: (Buffer | undefined)[] = [];
  private shared: Buffer | undefined;
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
  sessionToOffer(slot: number): Buffer | undefined {
    if (this.mode === 'none') return undefined;
    const session = this.scope === 'worker' ? this.shared : this.bySlot[slot];
    if (!session) return undefined;
    this.offerCredit += this.ratio;
    if (this.offerCredit < 1 - 1e-9) return undefined;
    this.offerCredit -= 1;
    return session;
  }

  store(slot: number, session: Buffer): void {
    if (this.scope === 'worker') this.shared = session;
    else this.bySlot[slot] = session;
  }
}
