import { TLS_VERSIONS, type TlsVersion } from './run-config.js';
import { UsageError } from './usage-error.js';

/** The versions as the user names them, oldest first (`--tls 1.2`, `tls: '1.0-1.3'`). */
export const TLS_VERSION_NUMBERS = ['1.0', '1.1', '1.2', '1.3'] as const;
export type TlsVersionNumber = (typeof TLS_VERSION_NUMBERS)[number];

/** The named choices of `--tls`, for `run` and `serve` alike: one version, or `both` (1.2 and 1.3). */
export const TLS_CHOICES = ['1.2', '1.3', 'both'] as const;
export type TlsChoice = (typeof TLS_CHOICES)[number];

/**
 * What `run` takes as `tls`: a choice or a range such as `1.0-1.3`. `serve` takes a TlsChoice
 * (the built-in server speaks TLS 1.2 and 1.3 only): the same shape, a narrower set.
 */
export type TlsVersions = TlsChoice | TlsVersionNumber | OrderedRanges<typeof TLS_VERSION_NUMBERS>;

/** `1.0-1.0`, `1.0-1.1`, … `1.3-1.3`: oldest first, as parseTlsRange accepts them. */
type OrderedRanges<V extends readonly string[]> =
  V extends readonly [infer First extends string, ...infer Rest extends string[]] ? `${First}-${First | Rest[number]}` | OrderedRanges<Rest> : never;

const NAMES: Record<string, TlsVersion> = {
  ...Object.fromEntries(TLS_VERSION_NUMBERS.map((n, i) => [n, TLS_VERSIONS[i]!])),
  // `--tls 1` as OpenSSL's `-tls1` names TLS 1.0.
  '1': 'TLSv1',
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
    throw new UsageError(`--tls: '${text}' is not a version or range; use ${TLS_CHOICES.join(', ')}, or a range such as 1.0-1.3`);
  }
  return { min, max, explicit: true };
}

export function shortVersion(v: TlsVersion): string {
  return v === 'TLSv1' ? '1.0' : v.slice(4);
}
