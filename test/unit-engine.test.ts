import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyError } from '../src/engine/errors.js';
import { arrivalTime } from '../src/engine/pacing/arrivals.js';
import { ResponseReader } from '../src/engine/response-reader.js';
import { SessionStore } from '../src/engine/sessions.js';
import { SnapshotSeconds } from '../src/engine/snapshot-seconds.js';

test('error classes: one per failure, by phase', () => {
  assert.equal(classifyError({ code: 'ECONNREFUSED' }, 'tcp'), 'tcp.refused');
  assert.equal(classifyError({ code: 'EADDRNOTAVAIL' }, 'tcp'), 'tcp.client-resources');
  assert.equal(classifyError({ code: 'PHASE_TIMEOUT' }, 'tls'), 'tls.timeout');
  assert.equal(classifyError({ code: 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE' }, 'tls'), 'tls.alert.handshake_failure');
  assert.equal(classifyError({ code: 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION' }, 'tls'), 'tls.version');
  assert.equal(classifyError({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }, 'tls'), 'tls.verify.UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  assert.equal(classifyError({ code: 'ERR_SSL_WRONG_VERSION_NUMBER' }, 'tls'), 'tls.not-tls');
  assert.equal(classifyError({ code: 'ECONNRESET', syscall: 'read' }, 'tls'), 'tls.reset');
  assert.equal(classifyError({ code: 'ECONNRESET' }, 'tls'), 'tls.closed');
  assert.equal(classifyError({ code: 'ECONNRESET', syscall: 'read' }, 'app'), 'app.reset');
  // OpenSSL 3.5 spellings (Node 24) land in the same classes as OpenSSL 3.0's.
  assert.equal(classifyError({ code: 'ERR_SSL_DATA_LENGTH_TOO_LONG' }, 'tls'), 'tls.not-tls');
  assert.equal(classifyError({ code: 'ERR_SSL_SSL/TLS_ALERT_HANDSHAKE_FAILURE' }, 'tls'), 'tls.alert.handshake_failure');
  assert.equal(classifyError({ code: 'ERR_SSL_TLSV1_UNRECOGNIZED_NAME' }, 'tls'), 'tls.alert.unrecognized_name');
});

test('resume ratio is exact by construction', () => {
  const store = new SessionStore('ticket', 'slot', 0.3);
  store.store(0, Buffer.from('session'));
  let offered = 0;
  for (let i = 0; i < 1000; i++) if (store.sessionToOffer(0)) offered++;
  assert.equal(offered, 300);
});

test('session scope worker shares the newest session across slots', () => {
  const store = new SessionStore('ticket', 'worker', 1);
  store.store(3, Buffer.from('a'));
  assert.equal(store.sessionToOffer(0)?.der.toString(), 'a');
  const slotScoped = new SessionStore('ticket', 'slot', 1);
  slotScoped.store(3, Buffer.from('a'));
  assert.equal(slotScoped.sessionToOffer(0), undefined);
});

test('open-loop arrivals: evenly spaced after the ramp, quadratic during it', () => {
  assert.equal(arrivalTime(0, 1000, 0), 0);
  assert.equal(arrivalTime(10, 1000, 0), 10);
  // 1000/s ramped over 1 s: 500 arrivals during the ramp, the 500th exactly at its end.
  assert.ok(Math.abs(arrivalTime(500, 1000, 1000) - 1000) < 1e-9);
  assert.ok(Math.abs(arrivalTime(125, 1000, 1000) - 500) < 1e-9);
  assert.ok(Math.abs(arrivalTime(1500, 1000, 1000) - 2000) < 1e-9);
});

test('the status class and Connection: close are read from the response, whatever the framing and chunking', () => {
  const r = new ResponseReader({ kind: 'http' });
  r.consume(Buffer.from('HTTP/1.1 4'));
  assert.equal(r.statusClass, null);
  r.consume(Buffer.from('04 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n'));
  assert.deepEqual([r.statusClass, r.serverCloses], [4, true]);
  r.reset();
  assert.deepEqual([r.statusClass, r.serverCloses], [null, false]);
  // A raw --request read to its first byte still gets its status from an HTTP answer.
  const raw = new ResponseReader({ kind: 'first-byte' });
  raw.consume(Buffer.from('HTTP/1.0 503\r\n'));
  assert.equal(raw.statusClass, 5);
  // Not HTTP: no status, however long the line.
  const other = new ResponseReader({ kind: 'bytes', count: 1000 });
  other.consume(Buffer.alloc(300, 'x'));
  assert.equal(other.statusClass, null);
  other.consume(Buffer.from('HTTP/1.1 200 OK\r\n'));
  assert.equal(other.statusClass, null);
});

test('HTTP responses end by Content-Length, chunked encoding, or close', () => {
  const r = new ResponseReader({ kind: 'http' });
  assert.equal(r.consume(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab')), false);
  assert.equal(r.consume(Buffer.from('cde')), true);
  r.reset();
  assert.equal(r.consume(Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n')), false);
  assert.equal(r.consume(Buffer.from('0\r\n\r\n')), true);
  r.reset();
  r.consume(Buffer.from('HTTP/1.0 200 OK\r\n\r\nbody'));
  assert.equal(r.completeAtEnd(), true);
  const bytes = new ResponseReader({ kind: 'bytes', count: 4 });
  assert.equal(bytes.consume(Buffer.from('ab')), false);
  assert.equal(bytes.consume(Buffer.from('cd')), true);
});

test('snapshot seconds: an outcome counts in the second it was decided in, whenever the timer sends that second', () => {
  // The window opens at 1000 ms; the lead-in second (-1) is still open: its timer is late.
  const seconds = new SnapshotSeconds(-1, 1000);
  // Decided 5 ms into the window, recorded before the late timer sent second -1: it is second 0's.
  assert.equal(seconds.secondOf(1005), 0);
  seconds.at(seconds.secondOf(1005)).handshake('full', 100);
  seconds.at(seconds.secondOf(990)).handshake('full', 100);
  const lead = seconds.take();
  assert.deepEqual([lead.second, lead.counts.counts.full], [-1, 1]);
  // Decided late in second 0 while it is still open.
  seconds.at(seconds.secondOf(1999)).handshake('resumed', 50);
  const first = seconds.take();
  assert.deepEqual([first.second, first.counts.counts.full, first.counts.counts.resumed], [0, 1, 1]);
  // Second 0 is sent: what was decided in it and recorded only now goes into the open second, never lost.
  assert.equal(seconds.secondOf(1500), 1);
  seconds.at(seconds.secondOf(3500)).error('tls.timeout');
  // The last second holding anything, for the final snapshots.
  assert.equal(seconds.last, 2);
});
