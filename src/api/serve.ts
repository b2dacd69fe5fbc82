import { RUN_OPTIONS } from '../config/run-option-table.js';
import { parseTlsRange, type TlsChoice } from '../config/tls-versions.js';
import { startBuiltInServer } from '../server/built-in-server.js';
import type { ServeOptions, TargetServer } from '../server/target-server.js';

/**
 * What `serve()` takes: the built-in server's options. `tls` is named as `run` and `tlsbench serve
 * --tls` name it ('1.2', '1.3' or 'both'), each option with its literal type.
 */
export interface ServeRequest extends Partial<Omit<ServeOptions, 'tls' | 'chain' | 'attachSessionCache'>> {
  /** TLS versions accepted (default 'both': 1.2 and 1.3). */
  tls?: TlsChoice;
}

/** The built-in target's defaults, as `tlsbench serve` has them (but on any free port). */
export const SERVE_DEFAULTS = {
  engine: 'auto',
  host: '127.0.0.1',
  port: 0,
  tls: 'both',
  tickets: true,
  sessionCache: true,
  keyType: RUN_OPTIONS.keyType.default,
  mtls: false,
  ocspStaple: 'good',
} as const satisfies ServeRequest;

/** A request over the defaults, as the target server takes it (versions as OpenSSL names them). */
export function serveOptions(request: ServeRequest = {}): ServeOptions {
  const { tls, ...rest } = { ...SERVE_DEFAULTS, ...request };
  const { min, max } = parseTlsRange(tls);
  return { ...rest, tls: { min, max } };
}

/** Starts the built-in target in this process (engine: see `engine`); `stop()` it when done. */
export function serve(options: ServeRequest = {}): Promise<TargetServer> {
  return startBuiltInServer(serveOptions(options));
}
