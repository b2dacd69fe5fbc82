/**
 * The built-in target in this process, on the engine server-engine.ts chooses for the options.
 */
import { mtlsModeOf } from './client-certificates.js';
import { startNativeTargetServer } from './native-target.js';
import { chooseServerEngine } from './server-engine.js';
import { startTargetServer, type ServeOptions, type TargetServer } from './target-server.js';

/** Resolves once it listens; `threads` serve it on the native engine (Node's server has one). */
export function startBuiltInServer(opts: ServeOptions, threads = 1): Promise<TargetServer> {
  const engine = chooseServerEngine(opts.engine, mtlsModeOf(opts.mtls) !== null);
  return engine.name === 'native' ? startNativeTargetServer(opts, threads) : startTargetServer(opts);
}
