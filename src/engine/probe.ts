import tls from 'node:tls';
import type { ClientTlsConfig, Credentials, ResumeMode, RunConfig, TlsVersion } from '../config/run-config.js';
import type { NegotiatedSample } from '../metrics/tally.js';
import type { OcspObservation } from '../metrics/ocsp-tally.js';
import { Attempt } from './attempt.js';
import { OcspClient } from './ocsp-client.js';
import { alpnWireFormat, buildClientContext } from './secure-context.js';
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
  /** The staple on the handshake with the run's settings (the probe always asks); null when it failed. */
  ocsp: OcspObservation | null;
}

interface ProbeHandshake {
  errorClass: string | null;
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
  const attempt = new Attempt(
    {
      host: dial.host, port: dial.port, servername: dial.servername, secureContext: context,
      rejectUnauthorized: dial.rejectUnauthorized, alpn: dial.alpn, timeouts: config.timeouts, request: null,
      closeWaitMs: config.closeWaitMs, keylog: null, clientCertificate: dial.clientCertificate, ocsp: dial.ocsp,
    },
    { session, captureSession: true, awaitServerClose: true, sample: true },
  );
  const outcome = await attempt.run();
  return {
    errorClass: outcome.errorClass,
    reused: outcome.reused === true,
    ticket: outcome.session !== undefined && resumptionMechanism(outcome.session) !== 'tls12-session-id',
    session: outcome.session,
    negotiated: outcome.negotiated,
    ocsp: outcome.ocsp,
  };
}

/** The failure says the server does not speak this version (rather than refusing something else). */
function refusesVersion(errorClass: string): boolean {
  return errorClass === 'tls.version' || errorClass === 'tls.alert.protocol_version' || errorClass === 'tls.closed' || errorClass === 'tls.reset';
}

/** The run's TLS settings pinned to one version, keeping only the cipher list that version uses. */
function pinnedTo(tlsConfig: ClientTlsConfig, version: TlsVersion): ClientTlsConfig {
  const v13 = version === 'TLSv1.3';
  return { ...tlsConfig, minVersion: version, maxVersion: version, ciphers: v13 ? null : tlsConfig.ciphers, ciphersuites: v13 ? tlsConfig.ciphersuites : null };
}

/** A full handshake and one attempt to resume its session: does the mechanism work? */
async function resumes(dial: ProbeDial, context: tls.SecureContext, mechanism: 'id' | 'ticket'): Promise<{ accepted: boolean; resumed: Support }> {
  const first = await handshake(dial, context);
  // Refused for another cause (a client certificate, a group the certificate needs): the version
  // itself was accepted, and whether it resumes is unknown.
  if (first.errorClass !== null) return { accepted: !refusesVersion(first.errorClass), resumed: null };
  // A TLS 1.2 session without a ticket would resume by ID and say nothing about tickets.
  const offerable = mechanism === 'ticket' ? first.ticket && first.session : first.session;
  if (!offerable) return { accepted: true, resumed: false };
  const second = await handshake(dial, context, first.session);
  return { accepted: true, resumed: second.errorClass === null && second.reused };
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
  const tryMechanism = async (version: TlsVersion, mechanism: 'id' | 'ticket') => {
    let context: tls.SecureContext;
    try {
      context = buildClientContext(pinnedTo(config.tls, version), credentials, mechanism satisfies ResumeMode);
    } catch {
      return { accepted: false, resumed: false };
    }
    return resumes(dial, context, mechanism);
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
    ocsp: main.ocsp,
  };
}
