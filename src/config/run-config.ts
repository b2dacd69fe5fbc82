import type { Target } from './target.js';
import type { KeyType } from '../server/pki.js';
import type { ServerEngineRequest } from '../server/server-engine.js';
import type { MtlsMode } from '../server/client-certificates.js';
import type { StapleChoice } from '../server/ocsp-stapler.js';

export const RESUME_MODES = ['none', 'ticket', 'id'] as const;
export type ResumeMode = (typeof RESUME_MODES)[number];
/** `compare` (the default) measures a full-handshake phase, then a resumed (ticket) phase. */
export type ResumePlan = ResumeMode | 'compare';

export type TlsVersion = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
export const TLS_VERSIONS: readonly TlsVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

export const SESSION_SCOPES = ['slot', 'worker'] as const;
export type SessionScope = (typeof SESSION_SCOPES)[number];

/** node: tls.connect per attempt (the reference). native: the C addon's epoll loop (native/). */
export const ENGINE_NAMES = ['native', 'node'] as const;
export type EngineName = (typeof ENGINE_NAMES)[number];

export interface EngineChoice {
  name: EngineName;
  /** Why this engine, for the run line: null when it is the default and nothing stood in the way. */
  reason: string | null;
}

/** Client TLS settings: one SecureContext per worker is built from exactly these. */
export interface ClientTlsConfig {
  minVersion: TlsVersion;
  maxVersion: TlsVersion;
  /** TLS 1.2-and-below cipher list (OpenSSL names). */
  ciphers: string | null;
  /** TLS 1.3 suites (TLS_* names). */
  ciphersuites: string | null;
  /** Key-exchange groups, colon-separated as OpenSSL takes them. */
  groups: string | null;
  sigalgs: string | null;
  /** SNI; null sends none (IP targets). */
  servername: string | null;
  alpn: string[];
  insecure: boolean;
  caFile: string | null;
  certFile: string | null;
  keyFile: string | null;
  keylogFile: string | null;
  /** Ask for a stapled OCSP response (status_request) on every handshake and check it. */
  ocsp: boolean;
  /** A handshake without a staple fails (tls.ocsp.missing); implies ocsp. */
  requireStaple: boolean;
  /** --crl: the server's certificate is checked against this CRL (OpenSSL's CRL check). */
  crlFile: string | null;
}

/** PEM material read once by the coordinator and handed to workers, so no worker touches disk. */
export interface Credentials {
  ca?: string;
  cert?: string;
  key?: string;
  passphrase?: string;
  /** A CRL in PEM (--crl, or the built-in server's --server-crl). */
  crl?: string;
}

/**
 * Where one response ends:
 * - `first-byte`: the first chunk completes it (latency only);
 * - `bytes`: after exactly `count` bytes;
 * - `until-close`: when the server closes (the connection carries one exchange);
 * - `http`: an HTTP/1.1 response framed by Content-Length, chunked encoding, or close.
 */
export type ResponseFraming =
  | { kind: 'first-byte' }
  | { kind: 'bytes'; count: number }
  | { kind: 'until-close' }
  | { kind: 'http' };

export interface RequestConfig {
  /** Bytes written after the handshake, base64 so the config stays plain JSON. */
  payloadBase64: string;
  /** Human description: `--http /path`, `--request @file`, … */
  description: string;
  framing: ResponseFraming;
  /** Request/response exchanges per connection before it closes. */
  perConnection: number;
}

export interface Timeouts {
  connectMs: number;
  handshakeMs: number;
  responseMs: number;
}

/** Options of the built-in target (used when no target is given). */
export interface BuiltInServerConfig {
  /** --server-engine: which server (server-engine.ts); auto picks at start. */
  engine: ServerEngineRequest;
  keyType: KeyType;
  tickets: boolean;
  sessionCache: boolean;
  /** Ask for a client certificate: required, optional (accept a client without one), or not at all. */
  mtls: false | MtlsMode;
  /** What the built-in server staples for a client that asks for OCSP status. */
  ocspStaple: StapleChoice;
  /** With mtls: client certificates are checked against this CRL (PEM file). */
  crlFile: string | null;
  /** The chain to serve (e.g. written by `tlsbench certs`), instead of the cache's; its key type wins. */
  certDir: string | null;
  responseBytes: number;
}

/** Validated, resolved, plain data: what a run is. Travels to workers and into the result file. */
export interface RunConfig {
  /** null: the built-in server, started for this run. */
  target: Target | null;
  workers: number;
  /** Closed loop: concurrent slots in total. */
  connections: number;
  /** Open loop: handshakes per second in total; null for closed loop. */
  rate: number | null;
  /** Open loop: cap on attempts in flight in total. */
  maxConnections: number;
  durationMs: number | null;
  handshakes: number | null;
  /** Hard bound on the measured window when only --handshakes is given. */
  maxDurationMs: number;
  warmupMs: number;
  rampMs: number;
  resume: ResumePlan;
  /** Share of attempts that offer a session (0..1). */
  resumeRatio: number;
  sessionScope: SessionScope;
  closeWaitMs: number;
  tls: ClientTlsConfig;
  timeouts: Timeouts;
  request: RequestConfig | null;
  requireResumption: boolean;
  /** Epoch ms at which every load machine starts; null: as soon as the workers are ready. */
  startAt: number | null;
  server: BuiltInServerConfig;
  /** The handshake engine every worker runs (absent in results written before engines existed: node). */
  engine: EngineChoice;
  /**
   * --early-data: bytes of the request sent as TLS 1.3 early data (0-RTT) on resumed attempts;
   * null: none (absent in results written before it existed).
   */
  earlyData: number | null;
}

/** What one phase of a run does: the whole config plus the resumption mode of this phase. */
export interface PhasePlan {
  name: string;
  resume: ResumeMode;
}

export function phasePlans(config: RunConfig): PhasePlan[] {
  if (config.resume === 'compare') {
    return [
      { name: 'full', resume: 'none' },
      { name: 'resumed', resume: 'ticket' },
    ];
  }
  return [{ name: config.resume === 'none' ? 'full' : 'resumed', resume: config.resume }];
}
