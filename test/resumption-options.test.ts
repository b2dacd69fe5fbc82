// The resumption knobs through the real CLI, against the built-in server: the share of attempts
// that offer a session (--resume-ratio), sessions shared by a worker's slots (--session-scope).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LOAD, tlsRun } from './support/tls-run.js';

test('--resume-ratio 0.5 offers a session on exactly half the attempts (error diffusion), and those resume', async () => {
  for (const mechanism of [['--tls', '1.2', '--resume', 'id'], ['--tls', '1.3', '--resume', 'ticket']]) {
    const run = await tlsRun([...mechanism, '--resume-ratio', '0.5', ...LOAD, '-n', '200']);
    const s = run.phase.summary;
    assert.deepEqual(s.errors, {});
    assert.equal(s.attempts, 200);
    // Every slot holds a session after the warm-up, so the ratio alone decides: 100 of 200.
    assert.equal(s.offered, 100, `${mechanism.join(' ')}: offered ${s.offered}`);
    assert.equal(s.classes.full?.handshakes, 100);
    assert.equal(s.classes.resumed?.handshakes, 100);
    assert.equal(s.hitRate, 1);
    // The built-in server answers every close_notify: no slot sits out --close-wait.
    assert.equal(run.phase.tally.closeWaitsExpired, 0);
  }
});

test('--resume-ratio 0 never offers; 1 (the default) always does', async () => {
  const none = await tlsRun(['--tls', '1.2', '--resume', 'ticket', '--resume-ratio', '0', ...LOAD, '-n', '100']);
  assert.equal(none.phase.summary.offered, 0);
  assert.equal(none.phase.summary.classes.full?.handshakes, 100);
  assert.equal(none.phase.summary.hitRate, null);
  // The default ratio, 1: every measured attempt offers (the warm-up gave each slot a session).
  const all = await tlsRun(['--tls', '1.2', '--resume', 'ticket', ...LOAD, '-n', '100']);
  assert.equal(all.result.config.resumeRatio, 1);
  assert.equal(all.phase.summary.offered, 100);
  assert.equal(all.phase.summary.classes.full, undefined);
});

test('--session-scope worker: slots share the newest session and still resume', async () => {
  for (const mechanism of [['--tls', '1.2', '--resume', 'id'], ['--tls', '1.3', '--resume', 'ticket']]) {
    const run = await tlsRun([...mechanism, '--session-scope', 'worker', ...LOAD, '-n', '150', '--require-resumption']);
    const s = run.phase.summary;
    assert.deepEqual(s.errors, {});
    assert.equal(s.offered, s.attempts);
    assert.ok(s.hitRate !== null && s.hitRate >= 0.99, `${mechanism.join(' ')}: hit rate ${s.hitRate}`);
    assert.equal(run.result.config.sessionScope, 'worker');
  }
});

test('a slot never sits out --ticket-wait after a resumed handshake: the wait for a fresh ticket runs in the background', async () => {
  // Node's server sends no ticket after a TLS 1.3 resumption. If resumed slots waited for one,
  // each of the 50 would hold for the whole 30 s wait and the window could not be shorter.
  const run = await tlsRun(['--tls', '1.3', '--resume', 'ticket', '--ticket-wait', '30s', '-w', '1', '-c', '50', '--warmup', '0', '-n', '300']);
  const s = run.phase.summary;
  assert.deepEqual(s.errors, {});
  assert.equal(s.attempts, 300);
  assert.ok(run.phase.windowMs < 30_000, `window ${run.phase.windowMs} ms`);
  assert.ok(s.hitRate !== null && s.hitRate >= 0.99, `hit rate ${s.hitRate}`);
});
