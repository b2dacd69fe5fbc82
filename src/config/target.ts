import { isIP } from 'node:net';
import { UsageError } from './usage-error.js';

/** A DNS name: labels of letters, digits and hyphens (and a leading `*.` in certificates). */
export const DNS_NAME = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i;

/** A host name (not an IP address): `999.1.1.1` looks like neither, and is neither. */
export function isHostName(text: string): boolean {
  return DNS_NAME.test(text) && !/^[\d.]+$/.test(text);
}

export interface Target {
  host: string;
  port: number;
  /** SNI name sent in the ClientHello; null when the host is an IP address and none was given. */
  servername: string | null;
}

/** Accepts `host:port`, `[ipv6]:port`, a bare IPv6 address with a port in brackets, or an https:// URL. */
export function parseTarget(text: string): Target {
  const problem = (why: string) =>
    new UsageError(`target '${text}': ${why}. Use host:port, [ipv6]:port or https://host[:port]`);
  let host: string;
  let portText: string | undefined;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw problem('not a valid URL');
    }
    if (url.protocol !== 'https:') throw problem(`scheme '${url.protocol.slice(0, -1)}' is not supported, only https`);
    host = url.hostname.replace(/^\[|\]$/g, '');
    portText = url.port || '443';
  } else {
    const bracketed = /^\[([^\]]+)\]:(\d*)$/.exec(text);
    if (bracketed) {
      host = bracketed[1]!;
      portText = bracketed[2];
    } else {
      const colon = text.lastIndexOf(':');
      if (colon === 0) throw problem('the host is missing');
      if (colon < 0 || text.indexOf(':') !== colon) {
        throw problem(text.includes(':') ? 'an IPv6 address needs brackets, e.g. [::1]:8443' : 'the port is missing');
      }
      host = text.slice(0, colon);
      portText = text.slice(colon + 1);
    }
  }
  const port = Number(portText);
  if (!portText || !Number.isInteger(port) || port < 1 || port > 65535) throw problem('the port must be 1-65535');
  if (!host) throw problem('the host is missing');
  return { host, port, servername: isIP(host) ? null : host };
}

export function formatTarget(target: { host: string; port: number }): string {
  return isIP(target.host) === 6 ? `[${target.host}]:${target.port}` : `${target.host}:${target.port}`;
}
