/**
 * Forward secrecy of a negotiated key exchange. TLS 1.3 always has it (every handshake, resumed
 * ones included, runs (EC)DHE: OpenSSL clients offer only psk_dhe_ke). TLS 1.2 and below have it
 * with (EC)DHE suites, and lack it with RSA key transport (`TLS_RSA_WITH_*`): the client encrypts
 * the premaster secret to the server's certificate key, so whoever gets that key later can decrypt
 * every recorded session. A resumed session keeps the key exchange it was made with.
 */
const KEY_TRANSPORT = /^TLS_RSA_WITH_|^TLS_RSA_PSK_|^(AES|DES|RC4|CAMELLIA|SEED|ARIA|IDEA)/;

/** False for RSA key transport (standard or OpenSSL cipher names), true otherwise; null when unknown. */
export function hasForwardSecrecy(protocol: string, cipher: string): boolean | null {
  if (protocol === 'TLSv1.3') return true;
  if (!cipher || cipher === 'unknown') return null;
  return !KEY_TRANSPORT.test(cipher);
}

/** A negotiated sample without forward secrecy (the flag, or for older files the cipher's name). */
export function lacksForwardSecrecy(s: { protocol: string; cipher: string; forwardSecrecy?: boolean | null }): boolean {
  return (s.forwardSecrecy ?? hasForwardSecrecy(s.protocol, s.cipher)) === false;
}

export const NO_FORWARD_SECRECY =
  'NO forward secrecy: RSA key transport (the client encrypts the session secret to the server\'s certificate key, so anyone who later gets that key can decrypt recorded traffic); use an ECDHE suite or TLS 1.3';
