/**
 * The built-in target in this process, on the engine server-engine.ts chooses for the options.
 */
import { mtlsModeOf } from './client-certificates.js';
import { startNativeTargetServer } from './native-target.js';
import { chooseServerEngine, type ServerEngineChoice } from './server-engine.js';
import { startTargetServer, type ServeOptions, type TargetServer } from './target-server.js';

/**
 * Resolves once it listens; `threads` serve it on the native engine (Node's server has one).
 * `engine`: a choice already made (serve's start message says why), else made here.
 */
export function startBuiltInServer(opts: ServeOptions, threads = 1, engine: ServerEngineChoice = chooseBuiltInEngine(opts)): Promise<TargetServer> {
  return engine.name === 'native' ? startNativeTargetServer(opts, threads) : startTargetServer(opts);
}

/** The engine for these options (auto: see server-engine.ts). */
export function chooseBuiltInEngine(opts: Pick<ServeOptions, 'engine' | 'mtls'>): ServerEngineChoice {
  return chooseServerEngine(opts.engine, mtlsModeOf(opts.mtls) !== null);
}
