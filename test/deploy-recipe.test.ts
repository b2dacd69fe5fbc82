// The many-machines recipe (deploy/k8s, Dockerfile): the manifests hold what it depends on, the
// pods' command lines work (run here, two "pods" against one built-in server, then the merge
// step), and run.sh computes the start and merges only after every load pod has completed.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { runConfigFromFile, runOptionTypes } from '../src/config/option-sources.js';
import type { RunResult } from '../src/metrics/run-result.js';
import { MAIN_JS } from './support/cli.js';

const exec = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const K8S = join(ROOT, 'deploy/k8s');

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Doc = any;
const load = (file: string): Doc[] => parseAllDocuments(readFileSync(join(K8S, file), 'utf8')).map((d) => d.toJS() as Doc);
/** Kubernetes' $(VAR) expansion in command and args. */
const expand = (arg: string, env: Record<string, string>) => arg.replace(/\$\((\w+)\)/g, (_, name: string) => env[name] ?? `$(${name})`);

describe('the Kubernetes recipe and the Dockerfile', () => {
  const [pvc] = load('pvc.yaml');
  const [loadJob] = load('load-job.yaml');
  const [mergeJob] = load('merge-job.yaml');
  const loadPod = loadJob.spec.template.spec;
  const loadContainer = loadPod.containers[0];

  it('load Job: indexed, every pod at once, never retried, one shared ReadWriteMany volume, START_AT from the ConfigMap', () => {
    assert.equal(pvc.kind, 'PersistentVolumeClaim');
    assert.deepEqual(pvc.spec.accessModes, ['ReadWriteMany']);
    assert.equal(loadJob.apiVersion, 'batch/v1');
    assert.equal(loadJob.kind, 'Job');
    assert.equal(loadJob.spec.completionMode, 'Indexed');
    assert.equal(loadJob.spec.parallelism, loadJob.spec.completions, 'every pod must run at once to meet START_AT');
    assert.equal(loadJob.spec.backoffLimit, 0, 'a retried pod would start after START_AT');
    assert.equal(loadPod.restartPolicy, 'Never');
    assert.equal(loadPod.securityContext.runAsNonRoot, true);
    const args: string[] = loadContainer.args;
    assert.equal(args[args.indexOf('--start-at') + 1], '$(START_AT)');
    // START_AT is not written in the manifest: it comes from the ConfigMap run.sh makes.
    assert.ok(!(loadContainer.env ?? []).some((e: Doc) => e.name === 'START_AT'));
    assert.ok(loadContainer.envFrom.some((e: Doc) => e.configMapRef?.name === 'tlsbench-run'));
    assert.match(args[args.indexOf('--out') + 1]!, /^\/results\/\$\(RUN_ID\)\/part-\$\(INDEX\)\.json$/);
    const index = loadContainer.env.find((e: Doc) => e.name === 'INDEX');
    assert.equal(index.valueFrom.fieldRef.fieldPath, "metadata.annotations['batch.kubernetes.io/job-completion-index']");
    for (const job of [loadJob, mergeJob]) {
      const volume = job.spec.template.spec.volumes.find((v: Doc) => v.persistentVolumeClaim);
      assert.equal(volume.persistentVolumeClaim.claimName, pvc.metadata.name);
      const mount = job.spec.template.spec.containers[0].volumeMounts.find((m: Doc) => m.name === volume.name);
      assert.equal(mount.mountPath, '/results');
    }
    // Every option the pods pass is one tlsbench knows; the options file is a valid run --config.
    const known = new Set([...runOptionTypes().keys()].map((k) => k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)).concat(['config', 'quiet', 'out']));
    for (const flag of args.filter((a) => a.startsWith('--'))) assert.ok(known.has(flag.slice(2)), `${flag} is not a tlsbench run option`);
    assert.equal(runConfigFromFile(join(K8S, 'run.yaml')).options.connections, 200);
  });

  it('merge Job: a second Job, never retried, merging every part of the run', () => {
    assert.equal(mergeJob.kind, 'Job');
    assert.equal(mergeJob.spec.backoffLimit, 0);
    assert.equal(mergeJob.spec.template.spec.restartPolicy, 'Never');
    assert.match(mergeJob.spec.template.spec.containers[0].args.join(' '), /^tlsbench merge \/results\/\$RUN_ID\/part-\*\.json --out \/results\/\$RUN_ID\/merged\.json/);
  });

  it('Dockerfile: a build stage, then Node 24 slim as a non-root user with ENTRYPOINT tlsbench', () => {
    const lines = readFileSync(join(ROOT, 'Dockerfile'), 'utf8').split('\n').filter((l) => l.trim() && !l.trim().startsWith('#'));
    const froms = lines.map((l, i) => [l, i] as const).filter(([l]) => /^FROM /i.test(l));
    assert.equal(froms.length, 2);
    assert.match(froms[0]![0], /^FROM node:24\S* AS build$/);
    assert.match(froms[1]![0], /^FROM node:24-\S*slim$/);
    const runtime = lines.slice(froms[1]![1]);
    assert.ok(runtime.some((l) => /^COPY --from=build /.test(l)), 'the runtime takes the built package from the build stage');
    assert.ok(!runtime.some((l) => /^RUN .*(tsc|npm (ci|install|pack))/.test(l)), 'nothing is built in the runtime stage');
    const user = runtime.find((l) => /^USER /.test(l));
    assert.ok(user && !/^USER (root|0)\b/.test(user), `runtime user: ${user}`);
    assert.ok(runtime.indexOf(user!) < runtime.findIndex((l) => /^ENTRYPOINT /.test(l)));
    assert.deepEqual(JSON.parse(runtime.find((l) => /^ENTRYPOINT /.test(l))!.slice('ENTRYPOINT '.length)), ['tlsbench']);
    // The images' tag is the one the manifests run.
    const tag = /docker build -t (\S+) \./.exec(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'))![1];
    assert.equal(loadContainer.image, tag);
    assert.equal(mergeJob.spec.template.spec.containers[0].image, tag);
  });

  describe('run here: the pods\' command lines against a built-in server, then the merge step', () => {
    let dir: string;
    let bin: string;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'tlsbench-k8s-'));
      // `tlsbench` on PATH, as the image's ENTRYPOINT has it.
      bin = join(dir, 'bin');
      mkdirSync(bin);
      writeFileSync(join(bin, 'tlsbench'), `#!/bin/sh\nexec "${process.execPath}" "${MAIN_JS}" "$@"\n`);
      chmodSync(join(bin, 'tlsbench'), 0o755);
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('two parts start at one computed time; the merge holds both machines and every handshake the server made', async () => {
      const cache = join(dir, 'cache');
      const server = spawn(process.execPath, [MAIN_JS, 'serve', '--port', '0'], { env: { ...process.env, TLSBENCH_CACHE_DIR: cache }, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      const closed = new Promise<number | null>((resolve) => server.on('close', resolve));
      const bound = setTimeout(() => server.kill('SIGKILL'), 120_000);
      try {
        const { port, ca } = await new Promise<{ port: number; ca: string }>((resolve, reject) => {
          const onText = (chunk: Buffer) => {
            output += chunk.toString();
            const port = /listening on 127\.0\.0\.1:(\d+)/.exec(output);
            const ca = /CA to trust \(--ca\): (\S+)/.exec(output);
            if (port && ca) resolve({ port: Number(port[1]), ca: ca[1]! });
          };
          server.stdout.on('data', onText);
          server.stderr.on('data', onText);
          void closed.then((code) => reject(new Error(`serve exited (${code}):\n${output}`)));
        });
        const runId = 'run-test';
        const volume = join(dir, 'results');
        mkdirSync(join(volume, runId), { recursive: true });
        // As run.sh computes it: a few seconds ahead, whole seconds, UTC.
        const startAt = new Date(Math.ceil(Date.now() / 1000) * 1000 + 4000).toISOString().replace(/\.\d{3}Z$/, 'Z');
        const configMap = { TARGET: `127.0.0.1:${port}`, START_AT: startAt, RUN_ID: runId };
        const pods = [0, 1].map((index) => {
          const args = (loadContainer.args as string[]).map((a) => expand(a, { ...configMap, INDEX: String(index) }))
            .map((a) => a.replace(/^\/results\//, `${volume}/`).replace('/etc/tlsbench/run.yaml', join(K8S, 'run.yaml')));
          // Shorter than the recipe's minute, through the variables that win over its file.
          const env = { ...process.env, TLSBENCH_DURATION: '2s', TLSBENCH_WARMUP: '0s', TLSBENCH_CONNECTIONS: '2', TLSBENCH_WORKERS: '1', TLSBENCH_RESUME: 'none', TLSBENCH_CA: ca };
          return exec(join(bin, 'tlsbench'), args, { env, timeout: 90_000 });
        });
        await Promise.all(pods);
        const merge = (mergeJob.spec.template.spec.containers[0].args as string[]).join(' ').replace(/\/results\//g, `${volume}/`);
        const merged = await exec('sh', ['-c', merge], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, RUN_ID: runId }, timeout: 60_000 });
        assert.match(merged.stdout, /\|/, 'the Markdown report');
        const result = JSON.parse(readFileSync(join(volume, runId, 'merged.json'), 'utf8')) as RunResult;
        assert.equal(result.machines?.length, 2);
        server.kill('SIGINT');
        assert.equal(await closed, 0, output);
        const served = /stopped after (\d+) handshakes/.exec(output);
        assert.ok(served, output);
        const client = result.phases[0]!.tally;
        assert.equal(client.successes, client.attempts);
        // The windows lined up: both parts' handshakes are in the one merged phase. The server
        // also served warm-up-free, window-only load, plus what ran past the window's end.
        assert.ok(client.successes > 0 && client.successes <= Number(served[1]), `client ${client.successes}, server ${served[1]}`);
      } finally {
        clearTimeout(bound);
        if (server.exitCode === null) server.kill('SIGKILL');
      }
    });

    it('run.sh computes START_AT, starts the merge only after the load Job completed, stops when it failed', async () => {
      // A kubectl that records what it is asked and says each Job is in FAKE_<JOB> state.
      const log = join(dir, 'kubectl.log');
      writeFileSync(join(bin, 'kubectl'), `#!/bin/bash
echo "$*" >> "${log}"
if [[ "$1" == apply && "$3" == - ]]; then cat >> "${log}"; fi
if [[ "$1" == create ]]; then printf '%s\\n' "$@"; fi
if [[ "$1" == get && "$2" == job ]]; then v="FAKE_\${3//-/_}"; echo "\${!v:-Complete}"; fi
exit 0
`);
      chmodSync(join(bin, 'kubectl'), 0o755);
      const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
      const before = Date.now();
      await exec('bash', [join(K8S, 'run.sh'), 'svc:443', '90'], { env, timeout: 60_000 });
      const calls = readFileSync(log, 'utf8');
      const startAt = /START_AT=(\S+)/.exec(calls)![1]!;
      const ahead = Date.parse(startAt) - before;
      assert.ok(ahead > 85_000 && ahead < 95_000, `START_AT ${startAt} is ${ahead} ms ahead`);
      assert.match(calls, /TARGET=svc:443/);
      const order = ['apply -f .*pvc\\.yaml', 'create configmap tlsbench-run', 'apply -f .*load-job\\.yaml', 'get job tlsbench-load', 'apply -f .*merge-job\\.yaml', 'get job tlsbench-merge', 'logs job/tlsbench-merge']
        .map((step) => calls.search(new RegExp(step)));
      assert.ok(order.every((at, i) => at >= 0 && (i === 0 || at > order[i - 1]!)), `steps out of order: ${order}`);

      rmSync(log);
      const failed = await exec('bash', [join(K8S, 'run.sh'), 'svc:443'], { env: { ...env, FAKE_tlsbench_load: 'Failed' }, timeout: 60_000 }).then(() => 0, (e: { code: number }) => e.code);
      assert.equal(failed, 1);
      assert.doesNotMatch(readFileSync(log, 'utf8'), /merge-job/, 'merged after a failed load');
    });
  });
});
