// Summarises V8 .cpuprofile files (from `node --cpu-prof`): self time per function, and the
// split between JavaScript, native code (OpenSSL, libuv, syscalls: V8 shows them as the JS
// frame that called into C++, or as "(program)"), GC and idle.
//
//   node dist/bench/profile-summary.js FILE.cpuprofile [--top 25]
//
// One file per thread: with tlsbench the worker thread's profile is the one that handshakes.
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  name: string;
  where: string;
  ms: number;
  share: number;
}

export interface ProfileSummary {
  totalMs: number;
  /** Share of sampled time per category: idle, gc, program (native outside any JS frame), js. */
  categories: Record<string, number>;
  top: SelfTime[];
}

function shortUrl(url: string): string {
  if (url === '') return '(native)';
  const i = url.lastIndexOf('/dist/');
  if (i >= 0) return url.slice(i + 1);
  return url.replace(/^file:\/\//, '').replace(/^.*node_modules\//, '');
}

export function summarizeProfile(profile: CpuProfile, topN = 25): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  // Time per sample: each sample stands for the delta that follows it (V8's own convention).
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i + 1] ?? 0;
    selfUs.set(profile.samples[i]!, (selfUs.get(profile.samples[i]!) ?? 0) + dt);
  }
  const totalUs = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const categories: Record<string, number> = { idle: 0, gc: 0, program: 0, js: 0 };
  const perFunction = new Map<string, { name: string; where: string; us: number }>();
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)!.callFrame;
    const name = frame.functionName || '(anonymous)';
    const category = name === '(idle)' ? 'idle' : name === '(garbage collector)' ? 'gc' : name === '(program)' ? 'program' : 'js';
    categories[category]! += us;
    const where = `${shortUrl(frame.url)}${frame.url ? `:${frame.lineNumber + 1}` : ''}`;
    const key = `${name} ${where}`;
    const entry = perFunction.get(key) ?? { name, where, us: 0 };
    entry.us += us;
    perFunction.set(key, entry);
  }
  for (const k of Object.keys(categories)) categories[k] = totalUs ? categories[k]! / totalUs : 0;
  const top = [...perFunction.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, topN)
    .map((e) => ({ name: e.name, where: e.where, ms: e.us / 1000, share: totalUs ? e.us / totalUs : 0 }));
  return { totalMs: totalUs / 1000, categories, top };
}

export function renderProfileSummary(file: string, s: ProfileSummary): string {
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  const lines = [
    `${file}: ${s.totalMs.toFixed(0)} ms sampled`,
    `  ${Object.entries(s.categories).map(([k, v]) => `${k} ${pct(v)}`).join(' · ')}`,
    '  self time   share  function (where)',
  ];
  for (const t of s.top) lines.push(`  ${t.ms.toFixed(1).padStart(8)} ms ${pct(t.share).padStart(7)}  ${t.name} (${t.where})`);
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const topAt = args.indexOf('--top');
  const topN = topAt >= 0 ? Number(args.splice(topAt, 2)[1]) : 25;
  if (args.length === 0) {
    process.stderr.write('usage: node dist/bench/profile-summary.js FILE.cpuprofile... [--top N]\n');
    process.exit(2);
  }
  for (const file of args) {
    const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
    process.stdout.write(`${renderProfileSummary(file, summarizeProfile(profile, topN))}\n\n`);
  }
}
