import { lookup } from 'node:dns/promises';
import { UsageError } from '../config/usage-error.js';
import { isIP } from 'node:net';
import { Piscina } from 'piscina';
import { phasePlans, type Credentials, type RunConfig } from '../config/run-config.js';
import type { PhaseResult, RunResult, TargetInfo } from '../metrics/run-result.js';
import { resumptionGain, SCHEMA_VERSION } from '../metrics/run-result.js';
import { probeTarget, type TargetProbe } from '../engine/probe.js';
import { spawnTargetServer } from '../server/target-process.js';
import { neverResumesReason } from '../server/target-server.js';
import { ensureChain, loadChain, type CertificateChain, type KeyType } from '../server/pki.js';
import { readCrl } from '../config/run-options.js';

/** The chain in --server-cert-dir, or exit 2 saying what is wrong with it (never regenerated over the user's files). */
async function userChain(dir: string): Promise<CertificateChain> {
  try {
    return await loadChain(dir, { requireOcspResponder: false });
  } catch (err) {
    throw new UsageError(`--server-cert-dir ${dir} holds no usable chain (${(err as Error).message}): write one with tlsbench certs --out ${dir}`);
  }
}
import { allowedCpus, pinProcess, splitCores } from './cores.js';
import { PhaseRunner } from './phase-runner.js';
import type { PhaseObserver } from './phase-observer.js';
import { ServerCpuSampler } from './server-cpu-sampler.js';
import { ProcessTreeSource } from '../server-cpu/cpu-source.js';
import { sourceFor, type MeasuredServer } from '../server-cpu/measured-server.js';
import { runtimeInfo, toolVersion } from './runtime-info.js';
import { ensureFdLimit } from './fd-limit.js';
import { clientCertificateFinding, serverCountsBetween } from '../metrics/built-in-server-counts.js';
import { onInterrupt } from './signals.js';

export interface RunHooks extends PhaseObserver {
  /** Said once the target is known, before load starts (which cores the built-in server got, …). */
  onStart?(target: TargetInfo, config: RunConfig): void;
  /** Handle Ctrl-C / SIGTERM (the CLI does; a script embedding tlsbench may not want it). */
  handleSignals?: boolean;
  /** Stops the run gracefully, like Ctrl-C. */
  signal?: AbortSignal;
  /** Probe the target (versions, negotiated parameters, resumption support) before the load. */
  probe?: boolean;
  onProbe?(probe: TargetProbe): void;
  /** Said at once as well as kept in the result's warnings: what the user may want to stop for. */
  onWarning?(text: string): void;
}

/**
 * A whole run: the built-in target when none was given, the pool, each phase in turn, and the
 * result. The built-in server and the pool are stopped on every path out, errors included.
 */
export async function runBenchmark(config: RunConfig, credentials: Credentials, hooks: RunHooks = {}, measuredServer: MeasuredServer | null = null): Promise<RunResult> {
  const startedAt = new Date().toISOString();
  const warnings: string[] = [];
  let server: Awaited<ReturnType<typeof spawnTargetServer>> | null = null;
  let pool: Piscina | null = null;
  let current: PhaseRunner | null = null;
  let interrupted = false;
  /** Why the run could not finish (the built-in server died): the run fails with it. */
  let failure: string | null = null;
  const interrupt = () => {
    interrupted = true;
    current?.stop();
  };
  const warn = (text: string) => {
    warnings.push(text);
    hooks.onWarning?.(text);
  };
  const releaseSignals = hooks.handleSignals ? onInterrupt(interrupt) : () => {};
  hooks.signal?.addEventListener('abort', interrupt, { once: true });
  let clientCpus: number[] | null = null;
  /** The cores this process had before the run pinned it: restored when the run ends. */
  let unpinnedCpus: number[] = [];
  try {
    let target: TargetInfo;
    // Read before pinning: afterwards this process sees only its own cores.
    const runtime = runtimeInfo(null);
    let runCredentials = credentials;
    // Before the built-in server starts, so that it inherits a raised limit too.
    const fdWarning = ensureFdLimit(config);
    if (fdWarning) warn(fdWarning);
    if (config.target) {
      target = { ...config.target, builtIn: null };
    } else {
      unpinnedCpus = allowedCpus();
      const split = splitCores(unpinnedCpus);
      // A chain the user wrote (certs --out DIR): its key type is the one served, and it is never regenerated.
      const chain = config.server.certDir ? await userChain(config.server.certDir) : null;
      const keyType = chain?.keyType ?? config.server.keyType as KeyType;
      if (config.server.crlFile) {
        // Before the server starts: a CRL of another CA would make it refuse every client (UNABLE_TO_GET_CRL).
        const problems: string[] = [];
        readCrl(config.server.crlFile, '--server-crl', (chain ?? await ensureChain({ keyType })).caCert, problems);
        if (problems.length) throw new UsageError(problems.join('\n'));
      }
      server = await spawnTargetServer({
        host: '127.0.0.1',
        port: 0,
        tls: { min: 'TLSv1.2', max: 'TLSv1.3' },
        engine: config.server.engine,
        tickets: config.server.tickets,
        sessionCache: config.server.sessionCache,
        keyType,
        ...(config.server.certDir ? { certDir: config.server.certDir } : {}),
        mtls: config.server.mtls,
        ocspStaple: config.server.ocspStaple,
        ...(config.server.crlFile ? { crlFile: config.server.crlFile } : {}),
        responseBytes: config.server.responseBytes,
        cpus: split.server,
      });
      server.onUnexpectedExit((why) => {
        failure = `the built-in server ${why} during the run: the phase was stopped there and its figures cover what was measured until then`;
        warn(failure);
        interrupt();
      });
      if (!split.shared && pinProcess(split.client)) {
        clientCpus = split.client;
        unpinnedCpus = split.client.concat(split.server);
      }
      // Say why this built-in server cannot resume, so a 0 % hit rate is explained, not silent.
      const neverResumes = neverResumesReason({ tls: { min: 'TLSv1.2', max: 'TLSv1.3' }, tickets: config.server.tickets, sessionCache: config.server.sessionCache }, server.engine);
      if (neverResumes && config.resume !== 'none') warnings.push(`built-in server: ${neverResumes}`);
      // Trust the generated CA for this run only; present the generated client certificate under mTLS.
      runCredentials = { ...credentials, ca: credentials.ca ?? server.chain.caCert };
      if (config.server.mtls && !credentials.cert) {
        runCredentials.cert = server.chain.clientCert;
        runCredentials.key = server.chain.clientKey;
      }
      target = {
        host: server.host,
        port: server.port,
        servername: config.tls.servername,
        builtIn: {
          engine: server.engine,
          keyType,
          cpus: server.cpus,
          coreSplit: server.cpus ? split.description : `${split.description} (taskset unavailable: not pinned)`,
          tickets: config.server.tickets,
          sessionCache: config.server.sessionCache,
          mtls: config.server.mtls,
          ocspStaple: config.server.ocspStaple,
        },
      };
    }
    const clientCores = clientCpus?.length ?? (config.target ? allowedCpus().length : splitCores(allowedCpus()).client.length);
    if (config.workers > clientCores) {
      warn(`${config.workers} workers on ${clientCores} client core${clientCores === 1 ? '' : 's'}: threads beyond the cores take turns on them, which adds latency rather than throughput; use --workers ${clientCores} or fewer`);
    }
    // The built-in server is always measured: its primary and every process it forks.
    const serverCpu = server
      ? new ServerCpuSampler(new ProcessTreeSource([server.pid]), true, `built-in server: pid ${server.pid} and its children`)
      : measuredServer ? new ServerCpuSampler(sourceFor(measuredServer), true) : null;
    target.address = await resolveAddress(target.host);
    hooks.onStart?.(target, config);
    const probe = hooks.probe ? await probeTarget(target.address, target.port, config, runCredentials) : null;
    if (probe) hooks.onProbe?.(probe);

    pool = new Piscina({
      filename: new URL('../engine/worker.js', import.meta.url).href,
      minThreads: config.workers,
      maxThreads: config.workers,
      // minThreads = maxThreads keeps every thread; Infinity also spares piscina an idle timer.
      idleTimeout: Infinity,
      concurrentTasksPerWorker: 1,
      atomics: 'disabled',
    });
    const phases: PhaseResult[] = [];
    for (const plan of phasePlans(config)) {
      if (interrupted) break;
      current = new PhaseRunner(pool, config, plan, { host: target.address, port: target.port, credentials: runCredentials }, hooks, serverCpu);
      if (interrupted) current.stop();
      const before = server ? await server.stats() : null;
      const phase = await current.run();
      const after = server && before ? await server.stats() : null;
      if (before && after) {
        phase.builtInServer = serverCountsBetween(before, after);
        const finding = clientCertificateFinding(phase.builtInServer, phase.summary.errorCount);
        if (finding) phase.findings.push(finding);
      }
      phases.push(phase);
    }
    return {
      schemaVersion: SCHEMA_VERSION,
      tool: { name: 'tlsbench', version: toolVersion() },
      startedAt,
      finishedAt: new Date().toISOString(),
      interrupted,
      config,
      target,
      runtime: { ...runtime, clientCpus },
      phases,
      resumptionGain: resumptionGain(phases),
      warnings,
      ...(failure ? { failure } : {}),
      ...(probe ? { probe } : {}),
    };
  } finally {
    releaseSignals();
    await pool?.destroy();
    await server?.stop();
    // `taskset -a` pinned every thread for good: without this, the next repeat or matrix cell in
    // this process would see only the client's cores and run client and server on one of them.
    if (clientCpus) pinProcess(unpinnedCpus);
  }
}

/**
 * Resolves the target once for the whole run: a lookup per attempt would load the resolver,
 * put DNS time into the tcp figure, and spread load over addresses the user did not choose.
 */
async function resolveAddress(host: string): Promise<string> {
  if (isIP(host)) return host;
  try {
    return (await lookup(host)).address;
  } catch (err) {
    throw new UsageError(`cannot resolve the target host '${host}' (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): check the name, or give an IP address with --sni NAME`);
  }
}
