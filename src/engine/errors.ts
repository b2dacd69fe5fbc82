/**
 * Every failed attempt lands in exactly one class, named `<phase>.<class>[.<detail>]`:
 * the phase it failed in (tcp, tls, app) and what happened, in words a user can act on.
 */
export type AttemptPhase = 'tcp' | 'tls' | 'app';

/** Raised by the engine's own phase timers. */
export class PhaseTimeout extends Error {
  override name = 'PhaseTimeout';
  readonly code = 'PHASE_TIMEOUT';
}

const X509_VERIFY_CODES = new Set([
  'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_CRL', 'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECRYPT_CRL_SIGNATURE', 'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY', 'CERT_SIGNATURE_FAILURE',
  'CRL_SIGNATURE_FAILURE', 'CERT_NOT_YET_VALID', 'CERT_HAS_EXPIRED', 'CRL_NOT_YET_VALID',
  'CRL_HAS_EXPIRED', 'ERROR_IN_CERT_NOT_BEFORE_FIELD', 'ERROR_IN_CERT_NOT_AFTER_FIELD',
  'ERROR_IN_CRL_LAST_UPDATE_FIELD', 'ERROR_IN_CRL_NEXT_UPDATE_FIELD', 'OUT_OF_MEM',
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'CERT_CHAIN_TOO_LONG', 'CERT_REVOKED', 'INVALID_CA',
  'PATH_LENGTH_EXCEEDED', 'INVALID_PURPOSE', 'CERT_UNTRUSTED', 'CERT_REJECTED', 'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID', 'ERR_TLS_CERT_ALTNAME_FORMAT',
]);

const VERSION_CODES = new Set([
  'ERR_SSL_UNSUPPORTED_PROTOCOL', 'ERR_SSL_NO_PROTOCOLS_AVAILABLE', 'ERR_SSL_WRONG_SSL_VERSION',
  'ERR_SSL_VERSION_TOO_LOW', 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION', 'ERR_SSL_UNKNOWN_PROTOCOL',
]);

const CIPHER_CODES = new Set([
  'ERR_SSL_NO_SHARED_CIPHER', 'ERR_SSL_NO_CIPHERS_AVAILABLE', 'ERR_SSL_NO_SUITABLE_KEY_SHARE',
  'ERR_SSL_NO_SHARED_GROUPS', 'ERR_SSL_NO_SUITABLE_SIGNATURE_ALGORITHM', 'ERR_SSL_WRONG_CIPHER_RETURNED',
]);

/**
 * The peer did not speak TLS at all (an HTTP server, garbage, another protocol): the first bytes
 * back were no TLS record header. Checked on Node 20 and 24 (OpenSSL 3.0 and 3.5).
 */
const NOT_TLS_CODES = new Set([
  'ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_HTTP_REQUEST', 'ERR_SSL_PACKET_LENGTH_TOO_LONG',
  // OpenSSL 3.5 (Node 24) says this where 3.0 said PACKET_LENGTH_TOO_LONG: a record header
  // announcing more than a TLS record can hold.
  'ERR_SSL_DATA_LENGTH_TOO_LONG',
]);

/** A handshake message longer than OpenSSL accepts (a certificate chain of 100 KB and more). */
const MESSAGE_TOO_LARGE_CODES = new Set(['ERR_SSL_EXCESSIVE_MESSAGE_SIZE']);

/**
 * Any other OpenSSL reason (`ERR_SSL_<REASON>`) in the handshake: the peer speaks TLS but broke
 * the protocol (a message of the wrong length or in the wrong place, a bad MAC, a ticket that
 * does not decode). Filed as `tls.protocol.<REASON>`, so the raw reason stays in the result.
 */
const OPENSSL_REASON = /^ERR_SSL_(.+)$/;

// OpenSSL 3.2+ (Node 24) names the former SSLv3 alerts `ssl/tls alert …`: ERR_SSL_SSL/TLS_ALERT_….
const ALERT_PREFIX = /^ERR_SSL_(?:SSLV3|SSL\/TLS|TLSV1|TLSV13)_ALERT_(.+)$/;
/**
 * Alerts whose OpenSSL reason lacks the word ALERT ("tlsv1 unrecognized name", …). The first is
 * what a server with strict SNI sends for a name it hosts no site for: worth its own class.
 */
const UNPREFIXED_ALERT = /^ERR_SSL_TLSV1_(UNRECOGNIZED_NAME|UNSUPPORTED_EXTENSION|CERTIFICATE_UNOBTAINABLE|BAD_CERTIFICATE_STATUS_RESPONSE|BAD_CERTIFICATE_HASH_VALUE)$/;

/** The alert's name (`handshake_failure`) when `code` reports an alert from the peer. */
function alertName(code: string): string | null {
  const match = ALERT_PREFIX.exec(code) ?? UNPREFIXED_ALERT.exec(code);
  return match ? match[1]!.toLowerCase() : null;
}

interface ErrorLike {
  code?: string;
  syscall?: string;
  message?: string;
}

/** A TLS alert from the peer (as opposed to a reset, a timeout or a local error). */
export function isTlsAlert(err: unknown): boolean {
  return alertName((err as ErrorLike | null)?.code ?? '') !== null;
}

/**
 * The client itself ran out of file descriptors or ephemeral ports. Such a socket fails before
 * any I/O, so pacing must back off rather than retry at once (see closed-loop.ts).
 */
export const CLIENT_RESOURCES = 'tcp.client-resources';

/**
 * The request phase got an HTTP response whose status is not 2xx: `app.http-4xx` and so on.
 * The handshake completed (it counts in its handshake class); the attempt did not succeed.
 */
export function httpStatusError(statusClass: number): string {
  return `app.http-${statusClass}xx`;
}

/** The server closed the connection after a complete response, before the last of --requests-per-connection. */
export const NO_KEEP_ALIVE = 'app.no-keep-alive';

/**
 * A failure after a complete response, before the next response's first byte: a close or a reset
 * there is the server not keeping the connection alive (both engines, one rule).
 */
export function betweenExchanges(errorClass: string): string {
  return errorClass === 'app.reset' || errorClass === 'app.closed' ? NO_KEEP_ALIVE : errorClass;
}

export function classifyError(err: unknown, phase: AttemptPhase): string {
  const e = (err ?? {}) as ErrorLike;
  const code = e.code ?? '';
  if (code === 'PHASE_TIMEOUT' || code === 'ETIMEDOUT') return `${phase}.timeout`;
  if (phase === 'tcp') {
    switch (code) {
      case 'ECONNREFUSED': return 'tcp.refused';
      case 'ECONNRESET': case 'EPIPE': case 'EARLY_CLOSE': return 'tcp.reset';
      case 'EHOSTUNREACH': case 'ENETUNREACH': case 'ENETDOWN': return 'tcp.unreachable';
      case 'ENOTFOUND': case 'EAI_AGAIN': return 'tcp.dns';
      // EADDRNOTAVAIL on connect: the client ran out of ephemeral ports (TIME_WAIT piles up at
      // thousands of connections per second), a limit of the client, not of the server.
      case 'EMFILE': case 'ENFILE': case 'ENOBUFS': case 'EADDRNOTAVAIL': return CLIENT_RESOURCES;
      default: return `tcp.other.${code || 'unknown'}`;
    }
  }
  // An alert after the client's handshake finished is still the server rejecting the handshake
  // (TLS 1.3 servers check the client certificate then): a tls class, whatever the phase.
  const alert = alertName(code);
  if (phase === 'tls') {
    if (X509_VERIFY_CODES.has(code)) return `tls.verify.${code}`;
    if (VERSION_CODES.has(code)) return 'tls.version';
    if (CIPHER_CODES.has(code)) return 'tls.cipher';
    if (NOT_TLS_CODES.has(code)) return 'tls.not-tls';
    if (MESSAGE_TOO_LARGE_CODES.has(code)) return 'tls.message-too-large';
    if (alert) return `tls.alert.${alert}`;
    if (code === 'EARLY_CLOSE') return 'tls.closed';
    if (code === 'ECONNRESET' || code === 'EPIPE') {
      // Node reports an orderly close (FIN) during the handshake as ECONNRESET without a syscall.
      return e.syscall ? 'tls.reset' : 'tls.closed';
    }
    const reason = OPENSSL_REASON.exec(code);
    if (reason) return `tls.protocol.${reason[1]}`;
    return `tls.other.${code || 'unknown'}`;
  }
  if (alert) return `tls.alert.${alert}`;
  if (code === 'ECONNRESET' || code === 'EPIPE') return 'app.reset';
  if (code === 'EARLY_CLOSE') return 'app.closed';
  return `app.other.${code || 'unknown'}`;
}

/** What is wrong with a certificate that did not verify, by OpenSSL's or Node's code. */
const VERIFY_HINTS: ReadonlyArray<readonly [RegExp, string]> = [
  [/^(CERT_HAS_EXPIRED|ERROR_IN_CERT_NOT_AFTER_FIELD)$/, 'the server certificate has expired (or this machine\'s clock is wrong): renew the certificate on the server; --insecure skips verification'],
  [/^(CERT_NOT_YET_VALID|ERROR_IN_CERT_NOT_BEFORE_FIELD)$/, 'the server certificate is not valid yet: check the clocks of this machine and of the server\'s CA'],
  [/^(ERR_TLS_CERT_ALTNAME_INVALID|HOSTNAME_MISMATCH|ERR_TLS_CERT_ALTNAME_FORMAT)$/, 'the server certificate is for another name than the one checked (--sni, else the target host): connect by a name the certificate lists, or pass --sni NAME'],
  [/^(DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT|UNABLE_TO_GET_ISSUER_CERT_LOCALLY|UNABLE_TO_VERIFY_LEAF_SIGNATURE|CERT_UNTRUSTED)$/, 'the server certificate was not issued by a CA this run trusts: pass --ca FILE with the CA that issued it (a --ca given is not that CA), or --insecure to skip verification'],
  [/^CERT_REVOKED$/, 'the server certificate was revoked (--crl lists it): the server needs a new one'],
  [/^(UNABLE_TO_GET_CRL|CRL_HAS_EXPIRED|CRL_NOT_YET_VALID|CRL_SIGNATURE_FAILURE|UNABLE_TO_DECRYPT_CRL_SIGNATURE)$/, 'the CRL given (--crl) cannot vouch for a certificate of the server\'s chain: with a CRL OpenSSL checks every certificate below the trust anchor, so each issuing CA\'s CRL is needed, current and signed by it'],
  [/^(INVALID_CA|INVALID_PURPOSE|PATH_LENGTH_EXCEEDED|CERT_CHAIN_TOO_LONG|CERT_REJECTED)$/, 'the server\'s chain is malformed (a CA without CA rights, a certificate for another purpose, a chain too long): fix the chain the server sends'],
  [/^(CERT_SIGNATURE_FAILURE|UNABLE_TO_DECRYPT_CERT_SIGNATURE|UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY)$/, 'a signature in the server\'s chain does not verify: the chain is broken or does not belong together'],
];

/** A stapled OCSP response the client rejected (--ocsp), or none stapled (--require-staple). */
const OCSP_HINTS: Readonly<Record<string, string>> = {
  'tls.ocsp.revoked': 'the server staples an OCSP response saying its certificate is revoked: the server needs a new certificate',
  'tls.ocsp.unknown': 'the OCSP responder does not know the server certificate: the staple comes from another CA\'s responder, or the responder lacks the certificate',
  'tls.ocsp.bad-signature': 'the stapled OCSP response is not signed by the certificate\'s issuer nor by a responder it authorised (id-kp-OCSPSigning): the server staples a response from the wrong responder, or it was altered',
  'tls.ocsp.stale': 'the stapled OCSP response is out of date (past its nextUpdate, or not yet valid): the server does not refresh its staple (nginx ssl_stapling_file is never refreshed), or a clock is wrong',
  'tls.ocsp.wrong-certificate': 'the stapled OCSP response is about another certificate: the server staples a response for an old or other certificate',
  'tls.ocsp.malformed': 'the stapled OCSP response does not parse or carries no status (e.g. tryLater): check the response file or the responder',
  'tls.ocsp.missing': 'the server stapled no OCSP response (--require-staple): turn stapling on (nginx: ssl_stapling on), or drop --require-staple',
};

/** What to do about an error class, for the summary table; every documented class has one. */
export function errorHint(errorClass: string): string | null {
  if (errorClass.startsWith('tls.verify.')) {
    const code = errorClass.slice('tls.verify.'.length);
    return VERIFY_HINTS.find(([pattern]) => pattern.test(code))?.[1]
      ?? 'the server certificate did not verify: check the chain the server sends and --ca FILE, or pass --insecure to skip verification';
  }
  if (errorClass === 'tls.version') return 'no TLS version in common: check --tls against the server';
  const noCommon = 'no cipher, group or signature algorithm in common: check --ciphers/--ciphersuites/--groups/--sigalgs';
  if (errorClass === 'tls.cipher') return noCommon;
  // OpenSSL servers also answer a missing TLS 1.2 client certificate with handshake_failure.
  if (errorClass === 'tls.alert.handshake_failure') return `${noCommon}; or the server requires a client certificate: pass --cert and --key`;
  if (errorClass === 'tls.alert.unrecognized_name') return 'the server hosts no site by that name: check --sni (an IP target sends none)';
  if (errorClass === 'tls.alert.certificate_required') return 'the server requires a client certificate: pass --cert and --key';
  if (errorClass.startsWith('tls.alert.')) return 'the server refused the handshake with this alert: its log says why';
  const ocsp = OCSP_HINTS[errorClass];
  if (ocsp) return ocsp;
  if (errorClass === 'tls.not-tls') return 'the server did not answer with TLS: is this the TLS port?';
  if (errorClass === 'tls.message-too-large') return 'the server sent a handshake message larger than OpenSSL accepts, usually a very long certificate chain: send fewer or smaller certificates';
  if (errorClass.startsWith('tls.protocol.')) return 'the server speaks TLS but broke the protocol (the OpenSSL reason is in the class name): a server bug or something in between altering the bytes';
  if (errorClass === 'tls.reset' || errorClass === 'tls.closed') return 'the server dropped the connection during the handshake: overloaded (accept queue), a limit, or it rejected the ClientHello; its log says which';
  if (errorClass.endsWith('.timeout')) return 'no answer in time: the server is overloaded or the path drops packets; raise --timeout to wait longer';
  if (errorClass === 'tcp.refused') return 'nothing listens there: check host and port';
  if (errorClass === 'tcp.reset') return 'the connection was reset before it was set up: a full accept queue or a firewall';
  if (errorClass === 'tcp.unreachable') return 'no route to the target: check the address and the network';
  if (errorClass === 'tcp.dns') return 'the target name did not resolve: check it, or give an IP address';
  if (errorClass === CLIENT_RESOURCES) {
    return 'the client ran out of file descriptors or ephemeral ports: raise `ulimit -n` or net.ipv4.ip_local_port_range, enable net.ipv4.tcp_tw_reuse, lower --connections, or add load machines';
  }
  if (errorClass === 'app.http-4xx') {
    return 'the server answered the request with a 4xx status: check --http PATH (and the Host, from --sni or the target). ' +
      'A 400 after a good handshake is also how nginx (ssl_verify_client on) rejects a missing or untrusted client certificate: pass --cert and --key';
  }
  if (errorClass === 'app.http-5xx') return 'the server failed to answer the request (5xx): its error log says why (an upstream down or overloaded, a limit)';
  if (errorClass === 'app.http-3xx') return 'the server redirected the request (tlsbench follows no redirects): point --http at the final path';
  if (errorClass === 'app.http-1xx') return 'the server answered with an informational status only: check --http/--request';
  if (errorClass === NO_KEEP_ALIVE) {
    return 'the server closes the connection after each response (Connection: close, keep-alive off, or a per-connection request limit such as nginx keepalive_requests), ' +
      'so --requests-per-connection cannot be honoured: enable keep-alive on the server, or lower --requests-per-connection to what it allows';
  }
  if (errorClass === 'app.reset' || errorClass === 'app.closed') return 'the server dropped the connection after the handshake, before the response was complete: check --http/--request and the server\'s log';
  if (/^(tcp|tls|app)\.other\./.test(errorClass)) return 'an error tlsbench has no class for (the raw code is in the class name): please report it';
  return null;
}
