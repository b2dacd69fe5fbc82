import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { RuntimeInfo } from '../metrics/run-result.js';

export function runtimeInfo(clientCpus: number[] | null): RuntimeInfo {
  return {
    node: process.version,
    openssl: process.versions.openssl ?? 'unknown',
    platform: process.platform,
    arch: process.arch,
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism(),
    hostname: os.hostname(),
    clientCpus,
  };
}

let cachedVersion: string | undefined;
export function toolVersion(): string {
  if (!cachedVersion) {
    // dist/src/coordinator → package root
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
    cachedVersion = pkg.version;
  }
  return cachedVersion;
}
