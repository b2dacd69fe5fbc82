import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDuration } from '../src/config/duration.js';
import { resolveRunOptions } from '../src/config/run-options.js';
import { parseTarget } from '../src/config/target.js';
import { parseTlsRange } from '../src/config/tls-versions.js';
import { UsageError } from '../src/config/usage-error.js';
import { splitEvenly, splitWork } from '../src/coordinator/work-split.js';

test('targets: host:port, [ipv6]:port, https URLs, SNI only for names', () => {
  assert.deepEqual(parseTarget('example.com:8443'), { host: 'example.com', port: 8443, servername: 'example.com' });
  assert.deepEqual(parseTarget('127.0.0.1:443'), { host: '127.0.0.1', port: 443, servername: null });
  assert.deepEqual(parseTarget('[::1]:8443'), { host: '::1', port: 8443, servername: null });
  assert.deepEqual(parseTarget('https://example.org'), { host: 'example.org', port: 443, servername: 'example.org' });
  assert.deepEqual(parseTarget('https://[::1]:9443/path'), { host: '::1', port: 9443, servername: null });
  assert.throws(() => parseTarget('example.com'), /port is missing/);
  assert.throws(() => parseTarget('::1:443'), /an IPv6 address needs brackets/);
  assert.throws(() => parseTarget('http://example.com'), /only https/);
  assert.throws(() => parseTarget('host:99999'), /1-65535/);
});

test('durations: units, bare seconds, and a clear error', () => {
  assert.equal(parseDuration('10s', '-d'), 10_000);
  assert.equal(parseDuration('1m', '-d'), 60_000);
  assert.equal(parseDuration('250ms', '-d'), 250);
  assert.equal(parseDuration('2', '-d'), 2000);
  assert.throws(() => parseDuration('ten', '--duration'), (e: Error) => e instanceof UsageError && /--duration: 'ten'/.test(e.message));
});

test('TLS version ranges', () => {
  assert.deepEqual(parseTlsRange('1.2'), { min: 'TLSv1.2', max: 'TLSv1.2', explicit: true });
  assert.deepEqual(parseTlsRange('1.0-1.3'), { min: 'TLSv1', max: 'TLSv1.3', explicit: true });
  assert.deepEqual(parseTlsRange(undefined), { min: 'TLSv1.2', max: 'TLSv1.3', explicit: false });
  assert.throws(() => parseTlsRange('1.3-1.2'), UsageError);
});

test('work split adds up to the totals asked for', () => {
  assert.deepEqual(splitEvenly(10, 3), [4, 3, 3]);
  const { config } = resolveRunOptions({ target: '127.0.0.1:1', connections: 7, handshakes: 101, workers: 3 });
  const shares = splitWork(config);
  assert.equal(shares.reduce((a, s) => a + s.slots, 0), 7);
  assert.equal(shares.reduce((a, s) => a + (s.handshakes ?? 0), 0), 101);
});

test('workers never exceed connection slots', () => {
  const { config } = resolveRunOptions({ target: '127.0.0.1:1', connections: 2, workers: 8 });
  assert.equal(config.workers, 2);
});

test('every problem is listed at once', () => {
  assert.throws(
    () => resolveRunOptions({ target: 'nope', duration: 'x', resume: 'sometimes', connections: 0 }),
    (e: Error) => e instanceof UsageError && /4 problems/.test(e.message) && /--resume: 'sometimes'/.test(e.message) && /--duration/.test(e.message),
  );
});

test('--resume id means TLS 1.2: caps the default range, rejects --tls 1.3', () => {
  assert.equal(resolveRunOptions({ target: '127.0.0.1:1', resume: 'id' }).config.tls.maxVersion, 'TLSv1.2');
  assert.throws(() => resolveRunOptions({ target: '127.0.0.1:1', resume: 'id', tls: '1.3' }), /TLS 1.3 has no session IDs/);
});

test('cipher lists resolve the versions they imply, visibly', () => {
  const onlyTls12 = resolveRunOptions({ target: '127.0.0.1:1', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' }).config.tls;
  assert.equal(onlyTls12.maxVersion, 'TLSv1.2');
  const onlyTls13 = resolveRunOptions({ target: '127.0.0.1:1', ciphersuites: 'TLS_AES_128_GCM_SHA256' }).config.tls;
  assert.equal(onlyTls13.minVersion, 'TLSv1.3');
  assert.throws(() => resolveRunOptions({ target: '127.0.0.1:1', ciphers: 'TLS_AES_128_GCM_SHA256' }), /--ciphersuites/);
  assert.throws(() => resolveRunOptions({ target: '127.0.0.1:1', ciphers: 'NOT-A-CIPHER' }), /--ciphers 'NOT-A-CIPHER'/);
});
