import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { EngineChoice, EngineName } from '../config/run-config.js';
import type { EarlyDataOutcome } from '../metrics/early-data.js';

/**
 * The native handshake engine's addon (native/, built by scripts/build-native.mjs at install):
 * where it is, whether it loads here, and which runs it can carry. The loop itself is driven by
 * native-engine.ts.
 */

/** Fields of one outcome in the loop's Float64Array (native/src/handshake_loop.h). */
export const OUTCOME = {
  slot: 0, flags: 1, startedAt: 2, tcpUs: 3, tlsUs: 4, handshakeAt: 5, completedAt: 6, detail: 7, intendedAt: 8,
  bytesRead: 9, ttfbAt: 10, ttfbCount: 11,
  /** 8 × (2xx responses) + the class of the non-2xx response that ended the exchanges (0: none). */
  statuses: 12,
  /** --early-data: handshake_loop.h's enum early_data (EARLY_DATA_CODES). */
  earlyData: 13,
  /** TCP connected → the connection's first response byte, µs; -1: none. */
  firstByteUs: 14,
  /** --ocsp: 0 not looked at (resumed, no completed handshake), -1 nothing stapled, k ≥ 1 the loop's staple k. */
  staple: 15,
  /** --ocsp: the class the loop acted on (native-staples.ts's numbering), 0 none. */
  ocspVerdict: 16,
} as const;
export const OUTCOME_FIELDS = 17;

/** OUTCOME.earlyData's codes of a finished attempt (handshake_loop.h's enum early_data); 0 and others: none. */
export const EARLY_DATA_CODES: Readonly<Record<number, EarlyDataOutcome>> = {
  1: 'ticket-allows-none', 2: 'ticket-allows-fewer-bytes', 3: 'accepted', 4: 'rejected',
};

/** Bits of OUTCOME.flags. */
export const FLAG = {
  measured: 1, offered: 2, handshake: 4, reused: 8, session: 16, closeWaitExpired: 32, aborted: 64, detail: 128,
  noKeepAlive: 256, betweenExchanges: 512, mechanismShift: 11, dropped: 1024,
} as const;

/** What the loop tells about an outcome beyond the numbers: an error, a negotiated sample, or both. */
export interface NativeDetail {
  /** `close`: while waiting for the server's close after a completed handshake. */
  phase?: 'tcp' | 'tls' | 'close' | 'app';
  code?: string;
  syscall?: string;
  protocol?: string;
  cipher?: string;
  group?: string;
  alpn?: string;
  certificate?: string;
  /** The client's Certificate message carried a certificate (and the server had asked). */
  clientCertificate?: boolean;
  /** The server sent a CertificateRequest. */
  clientCertificateRequested?: boolean;
}

/** A staple the loop awaits a verdict on (DER bytes). */
export interface StapleRequest {
  id: number;
  staple: Buffer;
  leaf: Buffer;
  /** The leaf's issuer from the verified chain; null when the chain has none. */
  issuer: Buffer | null;
}

export interface NativeLoopOptions {
  host: string;
  port: number;
  servername: string | null;
  verify: boolean;
  verifyHost: string | null;
  verifyIp: string | null;
  ca: string | null;
  cert: string | null;
  key: string | null;
  passphrase: string | null;
  /** OpenSSL's protocol version numbers (0x0301 … 0x0304). */
  minVersion: number;
  maxVersion: number;
  ciphers: string | null;
  ciphersuites: string | null;
  groups: string | null;
  sigalgs: string | null;
  alpn: Buffer | null;
  /** 0 none, 1 ticket, 2 id (no ticket extension). */
  resume: 0 | 1 | 2;
  resumeRatio: number;
  scopeWorker: boolean;
  connectMs: number;
  handshakeMs: number;
  /** Bound on waiting for the server's close after close_notify (the ticket-wait bound). */
  closeWaitMs: number;
  keylogFile: string | null;
  /** --crl: the CRL (PEM); OpenSSL then checks every certificate below the trust anchor, as Node. */
  crl: string | null;
  /** --ocsp: ask for a staple on every handshake; its verdicts come from staples()/verdict(). */
  ocsp: boolean;
  /** --ocsp: the verdict for a full handshake without a staple (--require-staple), 0: accepted. */
  ocspMissingVerdict: number;
  /** Closed loop: slots; open loop: the cap on attempts in flight. */
  slots: number;
  /** Open loop: attempts start at the arrivals' intended times given to schedule(). */
  openLoop: boolean;
  /** The request phase (absent: none): written after the handshake, perConnection times. */
  request?: Buffer;
  /** How a response ends: 0 first byte, 1 `framingCount` bytes, 2 the server's close, 3 HTTP/1.1. */
  framing?: 0 | 1 | 2 | 3;
  framingCount?: number;
  perConnection?: number;
  responseMs?: number;
  /** --early-data: the request's first this many bytes go as TLS 1.3 early data on resumed attempts. */
  earlyData?: number;
}

export interface HandshakeLoop {
  /** Set by run(): nothing is left to do. */
  readonly finished: boolean;
  /** The phase clock in monotonic ms (native now()); measured < 0: no quota. */
  begin(startAt: number, rampEndAt: number, windowAt: number, endAt: number, measured: number): void;
  /** Drives the loop for up to sliceMs; returns how many outcomes it wrote. */
  run(sliceMs: number): number;
  /** Open loop: queues arrivals' intended starts (monotonic ms, ascending); returns how many it took. */
  schedule(times: Float64Array): number;
  detail(index: number): NativeDetail | null;
  /** The request phase: every ttfb (µs) of the last run()'s outcomes (OUTCOME.ttfbAt/ttfbCount index it). */
  ttfbs(): Float64Array;
  /** --ocsp: the staples awaiting a verdict (each distinct one once). */
  staples(): StapleRequest[];
  /** The verdict on staple `id` (0 accepted), holding from `validFrom` to `validUntil` (epoch ms). */
  verdict(id: number, verdict: number, validFrom: number, validUntil: number): void;
  stop(): void;
  stats(): { inFlight: number; idleMs: number };
  close(): void;
}

/** The native built-in target's options (native/src/target_addon.c); versions as OpenSSL numbers them. */
export interface NativeTargetOptions {
  host: string;
  port: number;
  cert: string;
  key: string;
  minVersion: number;
  maxVersion: number;
  ciphers: string;
  ciphersuites: string;
  groups?: string;
  tickets: boolean;
  sessionCache: boolean;
  sessionCacheEntries: number;
  ticketKeys?: Buffer;
  /** 0 off, 1 required, 2 optional (target_server.h's enum target_mtls). */
  mtls: 0 | 1 | 2;
  ca?: string;
  crl?: string;
  ocsp: boolean;
  threads: number;
  /** A handshake not done by then fails (0: none). */
  handshakeTimeoutMs: number;
  keepAlive: Buffer;
  closeResponse: Buffer;
  raw: Buffer;
}

/** Its counters, flat (src/server/native-target.ts shapes them as TargetServerStats). */
export interface NativeTargetCounts {
  handshakes: number;
  resumed: number;
  tlsClientErrors: number;
  socketErrors: number;
  requests: number;
  cacheHits: number;
  cacheMisses: number;
  cacheStored: number;
  cacheEvicted: number;
  staples: number;
  stapleBytes: number;
  certRequested: number;
  certSent: number;
  certAccepted: number;
  rejected: Record<string, number>;
  lastErrors: string[];
}

export interface NativeTargetServer {
  port(): number;
  stats(): NativeTargetCounts;
  /** The OCSP response (DER) stapled from now on. */
  staple(der: Buffer): void;
  /** Closes every connection and joins the threads before it returns. */
  stop(): void;
}

export interface NativeAddon {
  HandshakeLoop: new (options: NativeLoopOptions, outcomes: Float64Array) => HandshakeLoop;
  /** Listening once constructed; throws with OpenSSL's or the socket's reason. */
  TargetServer: new (options: NativeTargetOptions) => NativeTargetServer;
  /** CLOCK_MONOTONIC in ms: the clock of every time the loop reports. */
  now(): number;
  openssl(): { runtime: string; headers: string };
  OUTCOME_FIELDS: number;
}

/** dist/src/engine → native/build/Release; TLSBENCH_NATIVE_ADDON points elsewhere (the sanitizer build). */
export function addonPath(): string {
  return process.env.TLSBENCH_NATIVE_ADDON || fileURLToPath(new URL('../../../native/build/Release/tlsbench_native.node', import.meta.url));
}

let loaded: { addon: NativeAddon | null; error: string | null } | null = null;

/** The addon, loaded once per thread; null with the reason when it is not built or does not load. */
export function loadNativeAddon(): { addon: NativeAddon | null; error: string | null } {
  if (loaded) return loaded;
  const file = addonPath();
  if (!existsSync(file)) {
    loaded = { addon: null, error: 'not built (no C compiler or headers at install; see native/build-native.log)' };
    return loaded;
  }
  try {
    const addon = createRequire(import.meta.url)(file) as NativeAddon;
    if (addon.OUTCOME_FIELDS !== OUTCOME_FIELDS) throw new Error(`outcome layout ${addon.OUTCOME_FIELDS} ≠ ${OUTCOME_FIELDS}: rebuild it (npm run build:native)`);
    loaded = { addon, error: null };
  } catch (err) {
    loaded = { addon: null, error: `does not load (${(err as Error).message.split('\n')[0]})` };
  }
  return loaded;
}

/**
 * The engine a run uses: native when asked for, or by default when it is built and loads here;
 * otherwise node, with the reason in one line. The native engine carries every mode of a run
 * (closed and open loop, the request phase, --crl, --ocsp). Asking for native where it is not built
 * or does not load is a problem for the user (returned as the error).
 */
export function chooseEngine(requested: EngineName | undefined): { choice: EngineChoice } | { error: string } {
  if (requested === 'node') return { choice: { name: 'node', reason: '--engine node' } };
  const { error } = loadNativeAddon();
  if (requested === 'native') {
    if (error) return { error: `--engine native: the native engine ${error}` };
    return { choice: { name: 'native', reason: null } };
  }
  if (error) return { choice: { name: 'node', reason: `native engine ${error}` } };
  return { choice: { name: 'native', reason: null } };
}

/** OpenSSL's number for a protocol version name. */
export function protocolNumber(version: string): number {
  switch (version) {
    case 'TLSv1': return 0x0301;
    case 'TLSv1.1': return 0x0302;
    case 'TLSv1.2': return 0x0303;
    default: return 0x0304;
  }
}
