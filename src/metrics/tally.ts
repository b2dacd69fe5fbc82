import { createHistogram, encodeHistogram, mergeEncoded, type Histogram } from './histogram.js';
import { mergeOcspTallies, emptyOcspTally, type OcspTally } from './ocsp-tally.js';
import { emptyEarlyDataTally, type EarlyDataTally } from './early-data.js';

/**
 * `miss`: a session was offered and the server did a full handshake anyway. It is its own
 * class so a refused resumption is never filed as a plain full handshake.
 */
export const HANDSHAKE_CLASSES = ['full', 'resumed', 'miss'] as const;
export type HandshakeClass = (typeof HANDSHAKE_CLASSES)[number];

export function isHandshakeClass(name: string): name is HandshakeClass {
  return (HANDSHAKE_CLASSES as readonly string[]).includes(name);
}

/**
 * How a resumed handshake resumed. `tls12-*` covers TLS 1.0–1.2. TLS 1.3 resumes by PSK from a
 * ticket: stateless (the session travels encrypted in it) or stateful (a session-ID-sized
 * reference into the server's cache); `tls13-psk` when the session did not say (files from
 * before the two were told apart).
 */
export const RESUMPTION_MECHANISMS = ['tls12-ticket', 'tls12-session-id', 'tls13-psk-stateless', 'tls13-psk-stateful', 'tls13-psk'] as const;
export type ResumptionMechanism = (typeof RESUMPTION_MECHANISMS)[number];

/**
 * tcp: socket created → TCP connected. tls: TCP connected → secureConnect.
 * connect: attempt start → secureConnect (tcp + tls, uncorrected).
 * scheduled: open loop only, intended start → secureConnect (coordinated omission corrected).
 * ttfb: request written → first response byte (with 0-RTT the request is written with the ClientHello).
 * first-byte: with --early-data, TCP connected → the connection's first response byte (the
 * handshake and the first exchange: what 0-RTT shortens), the same span for every class.
 */
export const LATENCY_METRICS = ['tcp', 'tls', 'connect', 'scheduled', 'ttfb', 'first-byte'] as const;
export type LatencyMetric = (typeof LATENCY_METRICS)[number];

/** Responses by HTTP status class, for responses that began with an HTTP/1.x status line. */
export const HTTP_STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;
export type HttpStatusClass = (typeof HTTP_STATUS_CLASSES)[number];
export type StatusCounts = Partial<Record<HttpStatusClass, number>>;

/** What one handshake class accumulated, in the mergeable (encoded) form. */
export interface ClassTally {
  handshakes: number;
  requests: number;
  bytesRead: number;
  histograms: Partial<Record<LatencyMetric, string>>;
  /** Responses by status class; absent when no response was HTTP (no request, or not HTTP). */
  statuses?: StatusCounts;
}

/** What was negotiated, as seen on sampled handshakes of one class. */
export interface NegotiatedSample {
  protocol: string;
  cipher: string;
  group: string;
  alpn: string;
  certificate: string;
  /**
   * A client certificate went out. Native engine: seen on the wire (the server sent a
   * CertificateRequest and the client's Certificate carried one). Node engine, which cannot see the
   * request: a certificate was configured and the handshake was a full one.
   */
  clientCertificate: boolean;
  /** Native engine: the server sent a CertificateRequest. Absent where the engine cannot tell (node). */
  clientCertificateRequested?: boolean;
  /** False for TLS 1.2 RSA key transport; see forward-secrecy.ts. Absent in files before schema 5. */
  forwardSecrecy?: boolean | null;
  count: number;
}

/** Attempts decided before the measured window opened (ramp and warm-up): they load the server too. */
export interface WarmupTally {
  attempts: number;
  successes: number;
  errors: number;
}

/**
 * Everything a phase counted. Plain data: it crosses threads, files and machines, and merges exactly.
 *
 * A timed window counts an attempt when it is decided inside the window (a handshake when it
 * completes, a failure when it fails), whenever it started, as wrk and h2load do. With
 * --handshakes, the N attempts that started after warm-up are counted, whenever they finish.
 * Either way: attempts + unfinished = started + carriedIn.
 */
export interface Tally {
  /** Attempts decided inside the measured window: successes + Σ errors. */
  attempts: number;
  successes: number;
  /** Attempts started inside the window (open loop: due inside it; with --handshakes: the N counted ones). */
  started: number;
  /** Attempts started before the window (open loop: due before it) that were still undecided when it opened. */
  carriedIn: number;
  /** Attempts still undecided when the window closed; aborted, and in no other count. */
  unfinished: number;
  /** Open loop: arrivals scheduled inside the window (= started + dropped). */
  arrivals: number;
  /** Open loop: arrivals that found no free slot. */
  dropped: number;
  /** Attempts that offered a session. */
  offered: number;
  /** Sessions (tickets or IDs) the server issued that the client stored. */
  sessionsReceived: number;
  /** Connections whose server did not close within --close-wait after the client's close_notify. */
  closeWaitsExpired: number;
  /** Resumed handshakes by how they resumed. */
  mechanisms: Partial<Record<ResumptionMechanism, number>>;
  /** Offered sessions by the mechanism they would resume by. */
  offeredMechanisms: Partial<Record<ResumptionMechanism, number>>;
  warmup: WarmupTally;
  errors: Record<string, number>;
  classes: Partial<Record<HandshakeClass, ClassTally>>;
  negotiated: Partial<Record<HandshakeClass, NegotiatedSample[]>>;
  /** With --ocsp: stapling per class (full, miss), failed attempts included. Empty without --ocsp. */
  ocsp: Partial<Record<HandshakeClass, OcspTally>>;
  /** With --early-data: what became of the early data (absent otherwise). */
  earlyData?: EarlyDataTally;
}

export function emptyTally(): Tally {
  return {
    attempts: 0, successes: 0, started: 0, carriedIn: 0, unfinished: 0, arrivals: 0, dropped: 0, offered: 0,
    sessionsReceived: 0, closeWaitsExpired: 0, mechanisms: {}, offeredMechanisms: {}, warmup: { attempts: 0, successes: 0, errors: 0 },
    errors: {}, classes: {}, negotiated: {}, ocsp: {},
  };
}

const COUNTERS = [
  'attempts', 'successes', 'started', 'carriedIn', 'unfinished', 'arrivals', 'dropped', 'offered', 'sessionsReceived', 'closeWaitsExpired',
] as const;

const WARMUP_COUNTERS = ['attempts', 'successes', 'errors'] as const;

function addCounts<K extends string>(into: Partial<Record<K, number>>, from: Partial<Record<K, number>>): void {
  for (const [key, n] of Object.entries(from) as [K, number][]) into[key] = (into[key] ?? 0) + n;
}

/** Exact merge: counters summed, histograms added, negotiated samples pooled by identity. */
export function mergeTallies(tallies: readonly Tally[]): Tally {
  const out = emptyTally();
  for (const t of tallies) {
    for (const key of COUNTERS) out[key] += t[key];
    addCounts(out.errors, t.errors);
    addCounts(out.mechanisms, t.mechanisms);
    addCounts(out.offeredMechanisms, t.offeredMechanisms);
    for (const key of WARMUP_COUNTERS) out.warmup[key] += t.warmup[key];
    for (const cls of HANDSHAKE_CLASSES) {
      const samples = t.negotiated[cls];
      if (samples) out.negotiated[cls] = mergeNegotiated(out.negotiated[cls] ?? [], samples);
      const ocsp = t.ocsp?.[cls];
      if (ocsp) out.ocsp[cls] = mergeOcspTallies(out.ocsp[cls] ?? emptyOcspTally(), ocsp);
    }
  }
  for (const cls of HANDSHAKE_CLASSES) {
    const merged = mergeClassTallies(tallies.map((t) => t.classes[cls]));
    if (merged) out.classes[cls] = merged;
  }
  const early = tallies.map((t) => t.earlyData).filter((e): e is EarlyDataTally => !!e);
  if (early.length) {
    const merged = (out.earlyData = emptyEarlyDataTally());
    for (const e of early) {
      merged.offered += e.offered;
      merged.accepted += e.accepted;
      merged.rejected += e.rejected;
      addCounts(merged.notOffered, e.notOffered);
    }
    const zeroRtt = mergeClassTallies(early.map((e) => e.zeroRtt));
    if (zeroRtt) merged.zeroRtt = zeroRtt;
  }
  return out;
}

/** One class's tallies added (counters summed, histograms added); null when there are none. */
function mergeClassTallies(tallies: readonly (ClassTally | undefined)[]): ClassTally | null {
  const parts = tallies.filter((c): c is ClassTally => !!c);
  if (parts.length === 0) return null;
  const merged: ClassTally = { handshakes: 0, requests: 0, bytesRead: 0, histograms: {} };
  for (const p of parts) {
    merged.handshakes += p.handshakes;
    merged.requests += p.requests;
    merged.bytesRead += p.bytesRead;
    if (p.statuses) addCounts((merged.statuses ??= {}), p.statuses);
  }
  for (const metric of LATENCY_METRICS) {
    const encoded = mergeEncoded(parts.map((p) => p.histograms[metric]));
    if (encoded) merged.histograms[metric] = encoded;
  }
  return merged;
}

function negotiatedKey(s: Omit<NegotiatedSample, 'count'>): string {
  return [s.protocol, s.cipher, s.group, s.alpn, s.certificate, s.clientCertificate, s.clientCertificateRequested].join('|');
}

function mergeNegotiated(into: NegotiatedSample[], from: readonly NegotiatedSample[]): NegotiatedSample[] {
  const byKey = new Map(into.map((s) => [negotiatedKey(s), { ...s }]));
  for (const s of from) {
    const existing = byKey.get(negotiatedKey(s));
    if (existing) existing.count += s.count;
    else byKey.set(negotiatedKey(s), { ...s });
  }
  return [...byKey.values()].sort((a, b) => b.count - a.count);
}

/**
 * The live, recording side of a ClassTally inside a worker: real histograms, encoded only
 * when a snapshot or the result leaves the thread.
 */
export class ClassRecorder {
  handshakes = 0;
  requests = 0;
  bytesRead = 0;
  statuses: StatusCounts | undefined;
  readonly histograms = new Map<LatencyMetric, Histogram>();

  /** Counts the responses of one attempt by status class (digits 1–5 from ResponseReader). */
  countStatuses(digits: readonly number[]): void {
    for (const digit of digits) {
      const key = `${digit}xx` as HttpStatusClass;
      const counts = (this.statuses ??= {});
      counts[key] = (counts[key] ?? 0) + 1;
    }
  }

  record(metric: LatencyMetric, micros: number): void {
    let h = this.histograms.get(metric);
    if (!h) this.histograms.set(metric, (h = createHistogram()));
    h.recordValue(micros);
  }

  toTally(): ClassTally {
    const histograms: Partial<Record<LatencyMetric, string>> = {};
    for (const [metric, h] of this.histograms) histograms[metric] = encodeHistogram(h);
    const tally: ClassTally = { handshakes: this.handshakes, requests: this.requests, bytesRead: this.bytesRead, histograms };
    if (this.statuses) tally.statuses = this.statuses;
    return tally;
  }
}

export function addNegotiated(list: NegotiatedSample[], sample: Omit<NegotiatedSample, 'count'>): void {
  const key = negotiatedKey(sample);
  const existing = list.find((s) => negotiatedKey(s) === key);
  if (existing) existing.count++;
  else list.push({ ...sample, count: 1 });
}
