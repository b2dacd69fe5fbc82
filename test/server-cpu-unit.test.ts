import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { parseThreshold } from '../src/compare/fail-if.js';
import { ProcessTreeSource } from '../src/server-cpu/cpu-source.js';
import { parseProcStat } from '../src/server-cpu/proc-stat.js';
import { cpuBetween, measureWindow, type CpuReading, type ServerCpuOrigin } from '../src/metrics/server-cpu.js';
import { classMixLabel, serverCost, serverCpuRatio } from '../src/metrics/server-cost.js';
import type { PhaseSummary } from '../src/metrics/summary.js';

const origin: ServerCpuOrigin = { source: 'test', host: 'h', cores: 4, sharedWithClient: false };

function reading(at: number, cpu: number): CpuReading {
  return { at, userSeconds: cpu, systemSeconds: 0, processes: 1 };
}

function summary(windowSeconds: number, full: number, resumed = 0): PhaseSummary {
  const cls = (handshakes: number) => ({ handshakes, rate: handshakes / windowSeconds, requests: 0, bytesRead: 0, bytesPerSecond: 0, latency: {}, negotiated: [] });
  return {
    windowSeconds, attempts: full + resumed, successes: full + resumed, errorCount: 0, rate: (full + resumed) / windowSeconds,
    offered: resumed, hitRate: resumed ? 1 : null, dropped: 0, unfinished: 0, started: full + resumed, carriedIn: 0, arrivals: 0,
    mechanisms: resumed ? { 'tls13-psk': resumed } : {}, warmup: { attempts: 0, successes: 0, errors: 0 },
    classes: { ...(full ? { full: cls(full) } : {}), ...(resumed ? { resumed: cls(resumed) } : {}) }, errors: {}, ocsp: {},
  };
}

describe('server CPU: parsing, windows, derived figures', () => {
  it('parses /proc/PID/stat even when the command name holds spaces and parentheses', () => {
    const fields = ['S', '77', ...Array(9).fill('0'), '1234', '567', ...Array(6).fill('0'), '99999'];
    const stat = parseProcStat(`4242 (nginx: worker (x) ) ${fields.join(' ')} 0 0`);
    assert.deepEqual(stat, { pid: 4242, ppid: 77, startTicks: 99999, userTicks: 1234, systemTicks: 567 });
  });

  it('takes the CPU of a window by interpolating the readings at its edges', () => {
    // 1 CPU-second per second, read at 0, 1000 and 2000 ms.
    const readings = [reading(0, 0), reading(1000, 1), reading(2000, 2)];
    assert.equal(cpuBetween(readings, 250, 1750).userSeconds, 1.5);
    const w = measureWindow(origin, readings, 500, 1000);
    assert.equal(w.userSeconds, 1);
    assert.equal(w.coverage, 1);
    // An observation that ends halfway through the window covers half of it.
    const late = measureWindow(origin, readings, 1500, 1000);
    assert.equal(late.userSeconds, 0.5);
    assert.equal(late.coverage, 0.5);
  });

  it('derives CPU-µs per handshake, handshakes per core-second, cores busy and share of the machine', () => {
    const server = measureWindow(origin, [reading(0, 0), reading(2000, 1)], 0, 2000);
    const cost = serverCost(server, summary(2, 2000));
    assert.equal(cost.perHandshakeUs, 500);
    assert.equal(cost.handshakesPerCoreSecond, 2000);
    assert.equal(cost.coresBusy, 0.5);
    assert.equal(cost.machineShare, 0.125);
    assert.deepEqual(cost.classShares, { full: 1 });
  });

  it('charges a resumed phase\'s full handshakes at the full phase\'s cost in the resumption saving', () => {
    const server = (cpu: number) => measureWindow(origin, [reading(0, 0), reading(1000, cpu)], 0, 1000);
    // Full: 1000 µs each. Resumed phase: 100 full (0.1 s) + 900 resumed at 200 µs (0.18 s).
    const full = { resume: 'none', summary: summary(1, 1000), serverCost: serverCost(server(1), summary(1, 1000)) };
    const resumed = { resume: 'ticket', summary: summary(1, 100, 900), serverCost: serverCost(server(0.28), summary(1, 100, 900)) };
    assert.equal(classMixLabel(resumed.serverCost.classShares), '90 % resumed, 10 % full');
    assert.ok(Math.abs(serverCpuRatio(full, resumed)! - 5) < 1e-9);
  });

  it('accepts server-cpu in --fail-if as a signed change', () => {
    assert.deepEqual(parseThreshold('server-cpu>+5%'), { text: 'server-cpu>+5%', metric: 'server-cpu', op: '>', value: 0.05 });
    assert.throws(() => parseThreshold('server-cpu>5%'), /needs its sign/);
  });

  it('counts the CPU of children born after the first reading (nginx workers, cluster workers)', async () => {
    // A shell that starts a child which burns 400 ms of its own CPU time (0.3 s asserted: it may have begun before the first reading), then idles.
    const burn = `const t = process.cpuUsage(); while ((process.cpuUsage(t).user + process.cpuUsage(t).system) < 400_000); setTimeout(() => {}, 60_000)`;
    const parent = spawn('sh', ['-c', `sleep 0.2; "${process.execPath}" -e '${burn}' & wait`], { stdio: 'ignore', detached: true });
    try {
      const source = new ProcessTreeSource([parent.pid!]);
      assert.equal(source.read().userSeconds, 0);
      // Bounded: 20 s of wall-clock at most, however loaded the machine is.
      let totals = source.read();
      for (let i = 0; i < 200 && totals.userSeconds + totals.systemSeconds < 0.3; i++) {
        await new Promise((r) => setTimeout(r, 100));
        totals = source.read();
      }
      assert.equal(totals.processes, 2);
      assert.ok(totals.userSeconds + totals.systemSeconds >= 0.3, `child CPU counted: ${JSON.stringify(totals)}`);
    } finally {
      // Its own process group: the shell and the child it started, nothing else.
      process.kill(-parent.pid!, 'SIGKILL');
    }
  });
});
