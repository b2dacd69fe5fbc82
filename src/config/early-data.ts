import { checkNumber, LIMITS } from './limits.js';
import type { EngineChoice, RequestConfig, ResumePlan, TlsVersion } from './run-config.js';
import { UsageError } from './usage-error.js';

/** What --early-data depends on, resolved from the other options first. */
export interface EarlyDataContext {
  resume: ResumePlan;
  maxVersion: TlsVersion;
  request: RequestConfig | null;
  /** The engine the run would use (null when --engine itself was wrong). */
  engine: EngineChoice | null;
}

/**
 * --early-data N: the request's first N bytes go as TLS 1.3 early data (0-RTT) on resumed attempts.
 * Every combination that cannot work is refused here, before any work: early data needs TLS 1.3
 * resumption by ticket, a request to send, and the native engine (Node's TLS cannot send early
 * data). Returns N, or null without the option; problems go to `problems`.
 */
export function resolveEarlyData(value: number | undefined, c: EarlyDataContext, problems: string[]): number | null {
  if (value === undefined) return null;
  const before = problems.length;
  let bytes: number | null = null;
  try {
    bytes = checkNumber(value, LIMITS.earlyData);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    problems.push(err.message);
  }
  if (c.resume === 'none') problems.push('--early-data rides on TLS 1.3 resumption, which --resume none turns off: drop --resume none (the default measures full, then resumed handshakes) or give --resume ticket');
  if (c.resume === 'id') problems.push('--early-data needs TLS 1.3 tickets, and --resume id is TLS 1.2 session-ID resumption: give --resume ticket');
  if (c.maxVersion !== 'TLSv1.3') problems.push('--early-data is TLS 1.3 0-RTT, which --tls excludes: give --tls 1.3 or leave --tls out');
  if (c.request === null) {
    problems.push('--early-data sends the first N bytes of the request as early data: add --http PATH or --request STRING');
  } else if (bytes !== null) {
    const length = Buffer.from(c.request.payloadBase64, 'base64').length;
    if (bytes > length) problems.push(`--early-data ${bytes}: the request (${c.request.description}) is ${length} bytes; give 1 to ${length}`);
  }
  if (c.engine && c.engine.name !== 'native') {
    problems.push(`--early-data needs the native engine (Node's TLS cannot send early data), but this run would use the Node engine: ${c.engine.reason ?? 'asked for'}`);
  }
  return problems.length === before ? bytes : null;
}
