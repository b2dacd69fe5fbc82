// README: each worker measures its event-loop utilisation over the window; above 90 % the table
// and the JSON (`client.saturated`) warn that the client, not the server, may be the limit.
// nginx (C, one process) does a full handshake for a fraction of what a Node client spends on
// it (verifying the chain, a connection's JS), so 50 slots keep one client worker busy without
// pause; at 20 attempts a second the same worker idles. Both sides of the threshold are shown.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { createTestCerts, type TestCerts } from './support/certs.js';
import { runCli } from './support/cli.js';
import { startNginx } from './support/nginx-server.js';
import type { ExternalServer } from './support/openssl-server.js';
import { skipUnlessCi } from './support/required.js';
import { externalTarget } from './support/tls-run.js';
import type { PhaseResult } from '../src/metrics/run-result.js';

let certs: TestCerts;
let nginx: ExternalServer | null = null;
let scratch: string;
before(async () => {
  certs = await createTestCerts();
  nginx = await startNginx({ certPath: certs.certPath, keyPath: certs.keyPath });
  scratch = await mkdtemp(path.join(tmpdir(), 'tlsbench-saturation-'));
});
after(async () => {
  await nginx?.stop();
  await certs?.cleanup();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

/** One phase of full TLS 1.3 handshakes against nginx: the table it printed and its JSON. */
async function run(load: string[]): Promise<{ table: string; phase: PhaseResult }> {
  const out = path.join(scratch, 'result.json');
  const outcome = await runCli([...externalTarget(nginx!, certs), '--tls', '1.3', '--resume', 'none', '-w', '1', '-d', '2s', '--warmup', '500ms',
    ...load, '--quiet', '--out', out]);
  assert.equal(outcome.code, 0, outcome.stderr);
  const phases = (JSON.parse(await readFile(out, 'utf8')) as { phases: PhaseResult[] }).phases;
  assert.equal(phases.length, 1);
  assert.deepEqual(phases[0]!.summary.errors, {});
  return { table: outcome.stdout, phase: phases[0]! };
}

test('a client worker busy all the time is said to be saturated, in the table and the JSON; an idle one is not', async (t) => {
  if (!nginx) return void skipUnlessCi(t, 'nginx is not installed');
  // The Node engine: 50 slots keep its one worker busy while nginx keeps up. The native engine
  // costs the client less per handshake than nginx's does the server (measured: its worker 52 %
  // busy with nginx the limit), so on it the same load is rightly not a saturated client.
  const busy = await run(['-c', '50', '--engine', 'node']);
  const [elu] = busy.phase.client.elu;
  assert.ok(elu! >= 0.9, `50 slots against nginx left the worker ${elu} busy`);
  assert.equal(busy.phase.client.saturated, true);
  assert.match(busy.table, /client event-loop utilisation: \d+ %  ⚠ SATURATED/);
  assert.ok(busy.phase.findings.some((f) => /client saturated/.test(f)), JSON.stringify(busy.phase.findings));
  assert.match(busy.table, /client saturated: .*add --workers or cores, or run the client on another machine/);

  const idle = await run(['--rate', '20']);
  assert.ok(idle.phase.client.elu[0]! < 0.5, `20 attempts/s left the worker ${idle.phase.client.elu[0]} busy`);
  assert.equal(idle.phase.client.saturated, false);
  assert.doesNotMatch(idle.table, /SATURATED|client saturated/);
});
