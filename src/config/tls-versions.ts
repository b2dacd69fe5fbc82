import { TLS_VERSIONS, type TlsVersion } from './run-config.js';
import { UsageError } from './usage-error.js';

const NAMES: Record<string, TlsVersion> = {
  '1.0': 'TLSv1', '1': 'TLSv1', '1.1': 'TLSv1.1', '1.2': 'TLSv1.2', '1.3': 'TLSv1.3',
};

export interface TlsRange {
  min: TlsVersion;
  max: TlsVersion;
  /** The user chose the versions (so cipher lists must not narrow them silently). */
  explicit: boolean;
}

/** `1.2`, `1.3`, `1.2-1.3`, `1.0-1.3`, `both` (1.2 and 1.3); default: 1.2 and 1.3. */
export function parseTlsRange(text: string | undefined): TlsRange {
  if (text === undefined || text === 'both') return { min: 'TLSv1.2', max: 'TLSv1.3', explicit: text !== undefined };
  const [lo, hi = lo] = text.split('-').map((s) => s.trim().replace(/^(tls)?v?/i, ''));
  const min = NAMES[lo!];
  const max = NAMES[hi!];
  if (!min || !max || TLS_VERSIONS.indexOf(min) > TLS_VERSIONS.indexOf(max)) {
    throw new UsageError(`--tls: '${text}' is not a version or range; use 1.2, 1.3, both, or a range such as 1.0-1.3`);
  }
  return { min, max, explicit: true };
}

export function shortVersion(v: TlsVersion): string {
  return v === 'TLSv1' ? '1.0' : v.slice(4);
}
