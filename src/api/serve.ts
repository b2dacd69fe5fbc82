import { startTargetServer, type ServeOptions, type TargetServer } from '../server/target-server.js';

/** The built-in target's defaults, as `tlsbench serve` has them (but on any free port). */
export const SERVE_DEFAULTS: ServeOptions = {
  host: '127.0.0.1',
  port: 0,
  tls: { min: 'TLSv1.2', max: 'TLSv1.3' },
  tickets: true,
  sessionCache: true,
  keyType: 'ecdsa-p256',
  mtls: false,
  ocspStaple: 'good',
};

/** Starts the built-in target in this process; `stop()` it when done. */
export function serve(options: Partial<ServeOptions> = {}): Promise<TargetServer> {
  return startTargetServer({ ...SERVE_DEFAULTS, ...options });
}
