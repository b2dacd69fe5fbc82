import { createHistogram, encodeHistogram, mergeEncoded, type Histogram } from './histogram.js';

/**
 * `miss`: a session was offered and the server did a full handshake anyway. It is its own
 * class so a refused resumption is never filed as a plain full handshake.
 */
export const HANDSHAKE_CLASSES = ['full', 'resumed', 'miss'] as const;
export type HandshakeClass = (typeof HANDSHAKE_CLASSES)[number];

/**
 * tcp: socket created → TCP connected. tls: TCP connected → secureConnect.
 * connect: attempt start → secureConnect (tcp + tls, uncorrected).
 * scheduled: open loop only, intended start → secureConnect (coordinated omission corrected).
 * ttfb: request written → first response byte.
 */
export const LATENCY_METRICS = ['tcp', 'tls', 'connect', 'scheduled', 'ttfb'] as const;
export type LatencyMetric = (typeof LATENCY_METRICS)[number];

/** What one handshake class accumulated, in the mergeable (encoded) form. */
export interface ClassTally {
  handshakes: number;
  requests: number;
  bytesRead: number;
  histograms: Partial<Record<LatencyMetric, string>>;
}

/** What was negotiated, as seen on sampled handshakes of one class. */
export interface NegotiatedSample {
  protocol: string;
  cipher: string;
  group: string;
  alpn: string;
  certificate: string;
  clientCertificate: boolean;
  count: number;
}

/** Everything a phase counted. Plain data: it crosses threads, files and machines, and merges exactly. */
export interface Tally {
  /** Attempts whose outcome fell inside the measured window: successes + Σ errors. */
  attempts: number;
  successes: number;
  /** Attempts that offered a session. */
  offered: number;
  /** Open loop: arrivals that found no free slot. */
  dropped: number;
  /** Attempts still running when the window closed; aborted, and in no other count. */
  unfinished: number;
  /** Sessions (tickets or IDs) the server issued that the client stored. */
  sessionsReceived: number;
  /** TLS 1.3 connections that waited for a ticket and got none within the bound. */
  ticketWaitsExpired: number;
  errors: Record<string, number>;
  classes: Partial<Record<HandshakeClass, ClassTally>>;
  negotiated: Partial<Record<HandshakeClass, NegotiatedSample[]>>;
}

export function emptyTally(): Tally {
  return {
    attempts: 0, successes: 0, offered: 0, dropped: 0, unfinished: 0,
    sessionsReceived: 0, ticketWaitsExpired: 0, errors: {}, classes: {}, negotiated: {},
  };
}

const COUNTERS = ['attempts', 'successes', 'offered', 'dropped', 'unfinished', 'sessionsReceived', 'ticketWaitsExpired'] as const;

/** Exact merge: counters summed, histograms added, negotiated samples pooled by identity. */
export function mergeTallies(tallies: readonly Tally[]): Tally {
  const out = emptyTally();
  for (const t of tallies) {
    for (const key of COUNTERS) out[key] += t[key];
    for (const [name, n] of Object.entries(t.errors)) out.errors[name] = (out.errors[name] ?? 0) + n;
    for (const cls of HANDSHAKE_CLASSES) {
      const samples = t.negotiated[cls];
      if (samples) out.negotiated[cls] = mergeNegotiated(out.negotiated[cls] ?? [], samples);
    }
  }
  for (const cls of HANDSHAKE_CLASSES) {
    const parts = tallies.map((t) => t.classes[cls]).filter((c): c is ClassTally => !!c);
    if (parts.length === 0) continue;
    const merged: ClassTally = { handshakes: 0, requests: 0, bytesRead: 0, histograms: {} };
    for (const p of parts) {
      merged.handshakes += p.handshakes;
      merged.requests += p.requests;
      merged.bytesRead += p.bytesRead;
    }
    for (const metric of LATENCY_METRICS) {
      const encoded = mergeEncoded(parts.map((p) => p.histograms[metric]));
      if (encoded) merged.histograms[metric] = encoded;
    }
    out.classes[cls] = merged;
  }
  return out;
}

function negotiatedKey(s: Omit<NegotiatedSample, 'count'>): string {
  return [s.protocol, s.cipher, s.group, s.alpn, s.certificate, s.clientCertificate].join('|');
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
  readonly histograms = new Map<LatencyMetric, Histogram>();

  record(metric: LatencyMetric, micros: number): void {
    let h = this.histograms.get(metric);
    if (!h) this.histograms.set(metric, (h = createHistogram()));
    h.recordValue(micros);
  }

  toTally(): ClassTally {
    const histograms: Partial<Record<LatencyMetric, string>> = {};
    for (const [metric, h] of this.histograms) histograms[metric] = encodeHistogram(h);
    return { handshakes: this.handshakes, requests: this.requests, bytesRead: this.bytesRead, histograms };
  }
}

export function addNegotiated(list: NegotiatedSample[], sample: Omit<NegotiatedSample, 'count'>): void {
  const key = negotiatedKey(sample);
  const existing = list.find((s) => negotiatedKey(s) === key);
  if (existing) existing.count++;
  else list.push({ ...sample, count: 1 });
}
