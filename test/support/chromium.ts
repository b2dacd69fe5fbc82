import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { killOnExit } from './process.js';

export const CHROMIUM = process.env.TLSBENCH_CHROMIUM ?? '/usr/bin/chromium';

export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM);
}

interface Pending { resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void; method: string }
type Listener = (method: string, params: Record<string, unknown>, sessionId: string | undefined) => void;

/**
 * Headless Chromium driven over the DevTools protocol on `--remote-debugging-pipe` (fd 3 in,
 * fd 4 out, messages separated by NUL): no port, no WebSocket, nothing downloaded.
 */
export class Chromium {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners: Listener[] = [];
  private buffer = '';
  private stderr = '';

  private constructor(
    private readonly child: ChildProcess,
    private readonly profile: string,
  ) {
    const out = child.stdio[4] as Readable;
    out.setEncoding('utf8');
    out.on('data', (chunk: string) => this.onData(chunk));
    child.stderr!.setEncoding('utf8').on('data', (t: string) => (this.stderr = (this.stderr + t).slice(-4000)));
    child.on('exit', (code, signal) => {
      for (const p of this.pending.values()) p.reject(new Error(`chromium exited (${code ?? signal}) during ${p.method}: ${this.stderr}`));
      this.pending.clear();
    });
  }

  static launch(): Chromium {
    const profile = mkdtempSync(join(tmpdir(), 'tlsbench-chromium-'));
    const child = spawn(CHROMIUM, [
      '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage', `--user-data-dir=${profile}`,
      '--remote-debugging-pipe', 'about:blank',
    ], { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
    // A test file that ends, times out or is interrupted takes its browser (and profile) with it.
    killOnExit(child, 'SIGKILL', profile);
    return new Chromium(child, profile);
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    let end: number;
    while ((end = this.buffer.indexOf('\0')) >= 0) {
      const message = JSON.parse(this.buffer.slice(0, end)) as { id?: number; method?: string; sessionId?: string; params?: Record<string, unknown>; result?: Record<string, unknown>; error?: { message: string } };
      this.buffer = this.buffer.slice(end + 1);
      if (message.id !== undefined) {
        const p = this.pending.get(message.id);
        this.pending.delete(message.id);
        if (message.error) p?.reject(new Error(`${p.method}: ${message.error.message}`));
        else p?.resolve(message.result ?? {});
      } else if (message.method) {
        for (const l of this.listeners) l(message.method, message.params ?? {}, message.sessionId);
      }
    }
  }

  send(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, method });
      (this.child.stdio[3] as Writable).write(`${JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) })}\0`);
    });
  }

  on(listener: Listener): void {
    this.listeners.push(listener);
  }

  /** A fresh page target, attached in flat mode: its commands carry the session id. */
  async newPage(width: number, height: number): Promise<Page> {
    const { targetId } = await this.send('Target.createTarget', { url: 'about:blank' }) as { targetId: string };
    const { sessionId } = await this.send('Target.attachToTarget', { targetId, flatten: true }) as { sessionId: string };
    const page = new Page(this, sessionId);
    await page.send('Emulation.setDeviceMetricsOverride', { width, height, deviceScaleFactor: 1, mobile: false });
    return page;
  }

  async close(): Promise<void> {
    const exited = new Promise<void>((resolve) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) resolve();
      else this.child.once('exit', () => resolve());
    });
    try {
      await Promise.race([this.send('Browser.close'), exited]);
    } catch {
      // already gone
    }
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
    rmSync(this.profile, { recursive: true, force: true });
  }
}

export class Page {
  /** Console errors, uncaught exceptions and error log entries, as text. */
  readonly errors: string[] = [];
  /** Every URL the page requested, the document included. */
  readonly requests: string[] = [];

  constructor(private readonly browser: Chromium, private readonly sessionId: string) {
    browser.on((method, params, session) => {
      if (session !== sessionId) return;
      if (method === 'Runtime.consoleAPICalled' && (params.type === 'error' || params.type === 'assert')) {
        this.errors.push(`console.${String(params.type)}: ${JSON.stringify(params.args)}`);
      } else if (method === 'Runtime.exceptionThrown') {
        this.errors.push(`exception: ${JSON.stringify(params.exceptionDetails)}`);
      } else if (method === 'Log.entryAdded' && (params.entry as { level?: string }).level === 'error') {
        this.errors.push(`log: ${JSON.stringify(params.entry)}`);
      } else if (method === 'Network.requestWillBeSent') {
        this.requests.push((params.request as { url: string }).url);
      }
    });
  }

  send(method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    return this.browser.send(method, params, this.sessionId);
  }

  async open(url: string): Promise<void> {
    await this.send('Runtime.enable');
    await this.send('Log.enable');
    await this.send('Page.enable');
    await this.send('Network.enable');
    const loaded = new Promise<void>((resolve) => this.browser.on((method, _params, session) => session === this.sessionId && method === 'Page.loadEventFired' && resolve()));
    await this.send('Page.navigate', { url });
    await loaded;
  }

  async evaluate<T>(expression: string): Promise<T> {
    const { result, exceptionDetails } = await this.send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true }) as
      { result: { value: T }; exceptionDetails?: unknown };
    if (exceptionDetails) throw new Error(`evaluate ${expression}: ${JSON.stringify(exceptionDetails)}`);
    return result.value;
  }

  /** Polls until `expression` is truthy; the bound only catches a page that never gets there. */
  async waitFor(expression: string, boundMs = 20_000): Promise<void> {
    const until = Date.now() + boundMs;
    while (!(await this.evaluate<boolean>(`!!(${expression})`))) {
      if (Date.now() > until) throw new Error(`page never satisfied ${expression}; errors: ${this.errors.join('\n')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** The whole page (not only the viewport), as PNG bytes. */
  async screenshot(): Promise<Buffer> {
    const { data } = await this.send('Page.captureScreenshot', { format: 'png', captureBeyondViewport: true }) as { data: string };
    return Buffer.from(data, 'base64');
  }
}
