/**
 * Which implementation serves the built-in target: Node's tls.Server (target-server.ts) or OpenSSL
 * driven directly by the addon (native-target.ts, native/src/target_server.c).
 *
 * They differ in one thing a client can see: Node verifies a client certificate after the handshake
 * and drops a connection whose certificate does not verify without an alert, after the TLS 1.3
 * tickets have gone out, so a TLS 1.3 client counts the rejection as a success. The native server
 * rejects inside the handshake with OpenSSL's alert (certificate_revoked, unknown_ca, …). So `auto`
 * serves client-certificate runs (--mtls) natively when the addon is built, and everything else on
 * Node, whose behaviour the rest of the suite and the bench are measured against.
 */
import { UsageError } from '../config/usage-error.js';
import { loadNativeAddon } from '../engine/native-addon.js';

export const SERVER_ENGINES = ['auto', 'node', 'native'] as const;
export type ServerEngineRequest = (typeof SERVER_ENGINES)[number];
export type ServerEngineName = Exclude<ServerEngineRequest, 'auto'>;

export interface ServerEngineChoice {
  name: ServerEngineName;
  /** Why, in the start message's words. */
  reason: string;
}

export function chooseServerEngine(requested: ServerEngineRequest | undefined, mtls: boolean): ServerEngineChoice {
  if (requested === 'node') return { name: 'node', reason: '--engine node' };
  if (requested !== 'native' && !mtls) return { name: 'node', reason: 'auto: Node\'s server' };
  const { error } = loadNativeAddon();
  if (requested === 'native') {
    if (error) throw new UsageError(`--engine native: the native server is part of the native engine, which ${error}; leave the option out to serve on Node`);
    return { name: 'native', reason: '--engine native' };
  }
  if (error) {
    return { name: 'node', reason: `auto: Node's server, as the native engine ${error} (a TLS 1.3 client cannot see its client-certificate rejections)` };
  }
  return { name: 'native', reason: 'auto: client certificates are checked inside the handshake, rejected with an alert' };
}
