// §1: handshakes counted in the window by completion time, checked against nginx's own count of
// the requests it began in the same window (`$msec` − `$request_time` in its log, the same wall
// clock) at -c 1000. The client writes its request as its handshake completes, so nginx's start
// of the request is that completion, seen from the server; the request's end (`$msec` alone) would
// add the response's time in nginx's queue, which at -c 1000 on a loaded machine is seconds.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loggingNginxSuite } from './support/logging-nginx-suite.js';
import { tlsRun } from './support/tls-run.js';

const suite = loggingNginxSuite();

test('-c 1000 against nginx: handshakes completed in the window within 2 % of nginx\'s own count', async (t) => {
  const server = await suite.start(t);
  if (!server) return;
  const run = await tlsRun([...suite.target(server), '-w', '1', '-c', '1000', '--ramp', '2s', '--warmup', '2s', '-d', '4s', '--resume', 'none', '--http', '/']);
  const p = run.phase;
  const a = p.windowStartedAt;
  const b = a + p.windowMs;
  const log = await server.accessLog();
  const inWindow = log.filter((l) => l.requestStartMs >= a && l.requestStartMs < b).length;
  const mine = p.summary.classes.full?.handshakes ?? 0;
  const s = p.summary;
  const figures = `tlsbench ${mine}, nginx ${inWindow} (attempts ${s.attempts}, unfinished ${s.unfinished}, carried in ${s.carriedIn}, client ELU ${p.client.elu.join(',')})`;
  t.diagnostic(figures);
  assert.ok(inWindow > 100, figures);
  assert.ok(Math.abs(mine - inWindow) <= 0.02 * inWindow, figures);
  // Nothing silently dropped: every attempt is decided in the window, or reported as in flight at one of its edges.
  assert.equal(s.attempts + s.unfinished, s.started + s.carriedIn);
  // At -c 1000 the slots are still busy when the window closes: reported as such.
  assert.ok(s.unfinished > 0, figures);
  // Every success was a 200 that nginx logged.
  assert.ok(log.length >= s.warmup.successes + s.successes, figures);
});
