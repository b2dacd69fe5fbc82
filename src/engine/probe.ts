import tls from 'node:tls';
import type { ClientTlsConfig, Credentials, ResumeMode, RunConfig, TlsVersion } from '../config/run-config.js';
import type { NegotiatedSample } from '../metrics/tally.js';
import { describeNegotiated } from './attempt.js';
import { classifyError, PhaseTimeout } from './errors.js';
import { alpnWireFormat, buildClientContext } from './secure-context.js';

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
}

interface ProbeHandshake {
  errorClass: string | null;
  protocol: string | null;
  reused: boolean;
  /** The server issued a session ticket (as opposed to only a session ID). */
  ticket: boolean;
  session: Buffer | undefined;
  negotiated: Omit<NegotiatedSample, 'count'> | null;
}

interface ProbeDial {
  host: string;
  port: number;
  servername: string | undefined;
  rejectUnauthorized: boolean;
  alpn: Buffer | undefined;
  clientCertificate: boolean;
  config: RunConfig;
}

/**
 * One connection, kept apart from the engine's Attempt because it asks other questions (was a
 * ticket issued, as opposed to a session ID?) and needs the socket before it closes. TLS 1.3
 * sessions arrive after the handshake: wait (bounded by --ticket-wait) for one, which also
 * surfaces a TLS 1.3 server rejecting the client certificate after the client has finished.
 */
function handshake(dial: ProbeDial, context: tls.SecureContext, session?: Buffer): Promise<ProbeHandshake> {
  const { timeouts, ticketWaitMs } = dial.config;
  return new Promise((resolve) => {
    const result: ProbeHandshake = { errorClass: null, protocol: null, reused: false, ticket: false, session: undefined, negotiated: null };
    let phase: 'tcp' | 'tls' | 'ticket' | 'done' = 'tcp';
    let timer: NodeJS.Timeout | undefined;
    const socket = tls.connect({
      host: dial.host,
      port: dial.port,
      servername: dial.servername,
      secureContext: context,
      rejectUnauthorized: dial.rejectUnauthorized,
      ALPNProtocols: dial.alpn,
      session,
    });
    const arm = (ms: number, onExpiry: () => void) => {
      clearTimeout(timer);
      timer = setTimeout(onExpiry, ms);
    };
    const finish = (errorClass: string | null) => {
      if (phase === 'done') return;
      phase = 'done';
      clearTimeout(timer);
      result.errorClass = errorClass;
      if (errorClass !== null) result.negotiated = null;
      // close_notify, so servers keep the session for the resumption attempt that follows.
      if (errorClass === null && !socket.destroyed) socket.end();
      socket.destroy();
      resolve(result);
    };
    const fail = (err: unknown) => {
      if (phase === 'done') return;
      finish(classifyError(err, phase === 'tcp' ? 'tcp' : 'tls'));
    };
    arm(timeouts.connectMs, () => fail(new PhaseTimeout()));
    socket.once('connect', () => {
      phase = 'tls';
      arm(timeouts.handshakeMs, () => fail(new PhaseTimeout()));
    });
    // getTLSTicket() is undefined without a ticket, and null once the socket is gone.
    const hasTicket = () => (socket.getTLSTicket()?.length ?? 0) > 0;
    socket.on('session', (s: Buffer) => {
      if (phase === 'done') return;
      result.session ??= s;
      result.ticket ||= hasTicket();
      if (phase === 'ticket') finish(null);
    });
    socket.once('secureConnect', () => {
      result.protocol = socket.getProtocol();
      result.reused = socket.isSessionReused();
      result.ticket ||= hasTicket();
      result.negotiated = describeNegotiated(socket, dial.clientCertificate);
      if (result.protocol !== 'TLSv1.3') {
        result.session ??= socket.getSession();
        return finish(null);
      }
      if (result.session !== undefined) return finish(null);
      phase = 'ticket';
      arm(ticketWaitMs, () => finish(null));
    });
    // While waiting for a ticket a plain close costs nothing; an alert is a rejected handshake.
    socket.on('error', (err) => (phase === 'ticket' && !classifyError(err, 'tls').startsWith('tls.alert.') ? finish(null) : fail(err)));
    socket.once('close', () => (phase === 'ticket' ? finish(null) : fail(Object.assign(new Error('connection closed'), { code: 'EARLY_CLOSE' }))));
  });
}

/** The run's TLS settings pinned to one version, keeping only the cipher list that version uses. */
function pinnedTo(tlsConfig: ClientTlsConfig, version: TlsVersion): ClientTlsConfig {
  const v13 = version === 'TLSv1.3';
  return { ...tlsConfig, minVersion: version, maxVersion: version, ciphers: v13 ? null : tlsConfig.ciphers, ciphersuites: v13 ? tlsConfig.ciphersuites : null };
}

/** A full handshake and one attempt to resume its session: does the mechanism work? */
async function resumes(dial: ProbeDial, context: tls.SecureContext, mechanism: 'id' | 'ticket'): Promise<{ accepted: boolean; resumed: boolean }> {
  const first = await handshake(dial, context);
  if (first.errorClass !== null) return { accepted: false, resumed: false };
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
  };
}
