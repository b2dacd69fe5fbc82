import tls from 'node:tls';
import type { ClientTlsConfig, Credentials, ResumeMode, RunConfig, TlsVersion } from '../config/run-config.js';
import type { NegotiatedSample } from '../metrics/tally.js';
import type { OcspObservation } from '../metrics/ocsp-tally.js';
import { Attempt } from './attempt.js';
import { OcspClient } from './ocsp-client.js';
import { alpnWireFormat, buildClientContext } from './secure-context.js';
import { diagnoseRefusal, refusesVersion, type ProbeRefusal } from './probe-refusal.js';
import { resumptionMechanism } from './session-der.js';

/** Whether a resumption mechanism works: null when its TLS version was not accepted at all. */
export type Support = boolean | null;

/**
 * What one look at the target, before any load, found out: what the run's own settings
 * negotiate, which versions the server accepts, and which resumption mechanisms it honours.
 */
export interface TargetProbe {
  /** The handshake with the run's settings; null when it failed (see `error`). */
  negotiated: Omit<NegotiatedSample, 'count'> | null;
  /** Error class of that handshake, or null. */
  error: string | null;
  /** Each version tried on its own, with the run's other settings. */
  versions: { 'TLSv1.3': boolean; 'TLSv1.2': boolean };
  resumption: { tls12Id: Support; tls12Ticket: Support; tls13Ticket: Support };
  /**
   * Per version, why the server refused its handshake although it speaks the version (a client
   * certificate, a group, the run's cipher settings); null when it completed or no cause was found.
   * Absent in results made before the probe named causes.
   */
  refusals?: { 'TLSv1.3': ProbeRefusal | null; 'TLSv1.2': ProbeRefusal | null };
  /** The staple on the handshake with the run's settings (the probe always asks); null when it failed. */
  ocsp: OcspObservation | null;
}

interface ProbeHandshake {
  errorClass: string | null;
  /** The server answered the hello: its handshake keys were derived (see handshake()). */
  serverHello: boolean;
  reused: boolean;
  /** The server issued a ticket (TLS 1.3 always; TLS 1.2 as opposed to only a session ID). */
  ticket: boolean;
  session: Buffer | undefined;
  negotiated: Omit<NegotiatedSample, 'count'> | null;
  ocsp: OcspObservation | null;
}

interface ProbeDial {
  host: string;
  port: number;
  servername: string | undefined;
  rejectUnauthorized: boolean;
  alpn: Buffer | undefined;
  clientCertificate: boolean;
  /** Every probe handshake asks for a staple (the probe reports it whether or not the run asks). */
  ocsp: OcspClient;
  config: RunConfig;
}

/**
 * One connection, as the engine makes it (close_notify, then read to the server's close, so a
 * TLS 1.3 server's rejection of the client certificate and every ticket are seen), one at a time.
 */
async function handshake(dial: ProbeDial, context: tls.SecureContext, session?: Buffer): Promise<ProbeHandshake> {
  const { config } = dial;
  // The key log says how far a failed handshake got: OpenSSL logs the TLS 1.3 handshake secrets
  // once the ServerHello is read, and TLS 1.2's CLIENT_RANDOM once the server's hello flight is
  // done. Either way the server accepted the version and the key exchange.
  let serverHello = false;
  const keylog = (line: Buffer) => {
    if (line.includes('SERVER_HANDSHAKE_TRAFFIC_SECRET ') || line.includes('CLIENT_RANDOM ')) serverHello = true;
  };
  const attempt = new Attempt(
    {
      host: dial.host, port: dial.port, servername: dial.servername, secureContext: context,
      rejectUnauthorized: dial.rejectUnauthorized, alpn: dial.alpn, timeouts: config.timeouts, request: null,
      closeWaitMs: config.closeWaitMs, keylog, clientCertificate: dial.clientCertificate, ocsp: dial.ocsp,
    },
    { session, captureSession: true, awaitServerClose: true, sample: true },
  );
  const outcome = await attempt.run();
  return {
    errorClass: outcome.errorClass,
    serverHello,
    reused: outcome.reused === true,
    ticket: outcome.session !== undefined && resumptionMechanism(outcome.session) !== 'tls12-session-id',
    session: outcome.session,
    negotiated: outcome.negotiated,
    ocsp: outcome.ocsp,
  };
}

/** The run's TLS settings pinned to one version, keeping only the cipher list that version uses. */
function pinnedTo(tlsConfig: ClientTlsConfig, version: TlsVersion): ClientTlsConfig {
  const v13 = version === 'TLSv1.3';
  return { ...tlsConfig, minVersion: version, maxVersion: version, ciphers: v13 ? null : tlsConfig.ciphers, ciphersuites: v13 ? tlsConfig.ciphersuites : null };
}

interface VersionVerdict {
  accepted: boolean;
  resumed: Support;
  refusal: ProbeRefusal | null;
}

/** A full handshake and one attempt to resume its session: does the mechanism work? */
async function resumes(dial: ProbeDial, context: tls.SecureContext, mechanism: 'id' | 'ticket', diagnose: (failed: ProbeHandshake) => Promise<ProbeRefusal | null>): Promise<VersionVerdict> {
  const first = await handshake(dial, context);
  if (first.errorClass !== null) {
    // Refused for another cause (a client certificate, a group the certificate needs): the version
    // itself was accepted, the cause is named, and whether it resumes is unknown.
    const refusal = await diagnose(first);
    return { accepted: first.serverHello || refusal !== null || !refusesVersion(first.errorClass), resumed: null, refusal };
  }
  // A TLS 1.2 session without a ticket would resume by ID and say nothing about tickets.
  const offerable = mechanism === 'ticket' ? first.ticket && first.session : first.session;
  if (!offerable) return { accepted: true, resumed: false, refusal: null };
  const second = await handshake(dial, context, first.session);
  return { accepted: true, resumed: second.errorClass === null && second.reused, refusal: null };
}

/**
 * One handshake with the run's settings, then per version a full handshake and one resumption
 * attempt per mechanism (TLS 1.2 session ID, TLS 1.2 ticket, TLS 1.3 ticket): a few handshakes,
 * one at a time, so even a serial server (openssl s_server -www) answers them.
 */
export async function probeTarget(host: string, port: number, config: RunConfig, credentials: Credentials): Promise<TargetProbe> {
  const dial: ProbeDial = {
    host,
    port,
    servername: config.tls.servername ?? undefined,
    rejectUnauthorized: !config.tls.insecure,
    alpn: alpnWireFormat(config.tls.alpn),
    clientCertificate: !!credentials.cert,
    ocsp: new OcspClient(credentials.ca, config.tls.requireStaple, config.tls.ocsp),
    config,
  };
  const main = await handshake(dial, buildClientContext(config.tls, credentials, 'none'));
  // The run's settings may not fit the other version (e.g. post-quantum groups only): that version is then not accepted.
  const tryMechanism = async (version: TlsVersion, mechanism: 'id' | 'ticket'): Promise<VersionVerdict> => {
    let context: tls.SecureContext;
    try {
      context = buildClientContext(pinnedTo(config.tls, version), credentials, mechanism satisfies ResumeMode);
    } catch {
      return { accepted: false, resumed: false, refusal: null };
    }
    // The same version with some of the run's settings back at their defaults: what it negotiates then.
    const retry = async (settings: ClientTlsConfig) => {
      let relaxedContext: tls.SecureContext;
      try {
        relaxedContext = buildClientContext(pinnedTo(settings, version), credentials, 'none');
      } catch {
        return null;
      }
      const again = await handshake(dial, relaxedContext);
      return again.errorClass === null ? again.negotiated : null;
    };
    return resumes(dial, context, mechanism, (failed) => diagnoseRefusal({ errorClass: failed.errorClass!, serverHello: failed.serverHello }, config.tls, dial.clientCertificate, retry));
  };
  const tls13 = await tryMechanism('TLSv1.3', 'ticket');
  const tls12Ticket = await tryMechanism('TLSv1.2', 'ticket');
  const tls12Id = await tryMechanism('TLSv1.2', 'id');
  const tls12Accepted = tls12Ticket.accepted || tls12Id.accepted;
  return {
    negotiated: main.negotiated,
    error: main.errorClass,
    versions: { 'TLSv1.3': tls13.accepted, 'TLSv1.2': tls12Accepted },
    resumption: {
      tls12Id: tls12Accepted ? tls12Id.resumed : null,
      tls12Ticket: tls12Accepted ? tls12Ticket.resumed : null,
      tls13Ticket: tls13.accepted ? tls13.resumed : null,
    },
    refusals: { 'TLSv1.3': tls13.refusal, 'TLSv1.2': tls12Ticket.refusal ?? tls12Id.refusal },
    ocsp: main.ocsp,
  };
}
