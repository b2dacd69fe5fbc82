// The two handshake engines, for tests that run the same case on both.
import { loadNativeAddon } from '../../src/engine/native-addon.js';
import type { EngineName } from '../../src/config/run-config.js';

export const ENGINES: readonly EngineName[] = ['node', 'native'];

/**
 * Whether the native addon is built and loads here. In CI it must be (npm ci builds it): a missing
 * build there is a failure, never a quiet skip.
 */
export function nativeBuilt(): boolean {
  const { addon, error } = loadNativeAddon();
  if (!addon && process.env.CI === 'true') throw new Error(`CI: the native engine ${error}`);
  return addon !== null;
}
