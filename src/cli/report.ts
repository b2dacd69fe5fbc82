import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../config/usage-error.js';
import { LATENCY_METRICS, type LatencyMetric } from '../metrics/tally.js';
import { checkOutputDir, checkOutputFile, reportWrite, writeOrFallback } from '../config/output-path.js';
import { OUTPUT_FORMATS, parseFormat, readReportInput, renderReport, type ReportInput } from '../report/format.js';
import { fileNamePart, hgrmFiles, writeHgrmFiles } from '../report/hgrm.js';
import { renderHtml } from '../report/html.js';
import { joinObservation, toServerObservation } from '../merge/join-observation.js';
import { readJsonFile } from '../merge/result-file.js';
import type { RunResult } from '../metrics/run-result.js';

interface ReportArgs {
  result: string;
  format?: string;
  hgrm?: string;
  metric?: string[];
  html?: string;
  server?: string;
}

function parseMetrics(names: readonly string[] | undefined): LatencyMetric[] {
  if (!names?.length) return [...LATENCY_METRICS];
  const list = names.flatMap((n) => n.split(',')).map((n) => n.trim()).filter(Boolean);
  const unknown = list.filter((n) => !(LATENCY_METRICS as readonly string[]).includes(n));
  if (unknown.length) throw new UsageError(`--metric ${unknown.join(', ')}: not a metric; use one of ${LATENCY_METRICS.join(', ')}`);
  return list as LatencyMetric[];
}

/** Every run in the input with the name its files take (null: a single run). */
function namedRuns(input: ReportInput): [string | null, RunResult][] {
  if (input.kind === 'run') return [[null, input.result]];
  if (input.kind === 'matrix') return input.matrix.cells.flatMap((c) => (c.result ? [[c.name, c.result] as [string, RunResult]] : []));
  return input.capacity.searches.flatMap((s) => s.steps.map((step) => [`${s.phase}-${step.offered}per-s`, step.result] as [string, RunResult]));
}

/** The input with `join` applied to each of its runs. */
function joinEach(input: ReportInput, join: (result: RunResult) => RunResult): ReportInput {
  if (input.kind === 'run') return { kind: 'run', result: join(input.result) };
  if (input.kind === 'matrix') return { kind: 'matrix', matrix: { ...input.matrix, cells: input.matrix.cells.map((c) => (c.result ? { ...c, result: join(c.result) } : c)) } };
  return { kind: 'capacity', capacity: { ...input.capacity, searches: input.capacity.searches.map((s) => ({ ...s, steps: s.steps.map((step) => ({ ...step, result: join(step.result) })) })) } };
}

export const reportCommand: CommandModule<object, ReportArgs> = {
  command: 'report <result>',
  describe: 'Re-render a saved result (matrix, capacity): table, JSON, Markdown, CSV, .hgrm files, an HTML page',
  builder: (y) => (y as Argv)
    .positional('result', { type: 'string', demandOption: true, describe: "JSON written by 'tlsbench --out FILE' (or by tlsbench matrix or capacity)" })
    .option('format', { alias: 'f', type: 'string', describe: `print as ${OUTPUT_FORMATS.join(' | ')} (default table, unless --hgrm or --html is given)` })
    .option('hgrm', { type: 'string', describe: 'write HdrHistogram percentile distributions (ms) into DIR, one per phase × class × metric' })
    .option('metric', { type: 'string', array: true, describe: `with --hgrm: only these metrics (${LATENCY_METRICS.join(', ')})` })
    .option('html', { type: 'string', describe: 'write a self-contained HTML page with charts to FILE' })
    .option('server', { type: 'string', describe: "join the server's CPU read on its host (tlsbench observe --out FILE) by wall clock" })
    .example('tlsbench report result.json --format markdown >> "$GITHUB_STEP_SUMMARY"', '')
    .example('tlsbench report result.json --hgrm hgrm/ --metric tls', '') as unknown as Argv<ReportArgs>,
  handler: (argv) => {
    const format = argv.format !== undefined ? parseFormat(argv.format) : null;
    if (argv.metric && argv.hgrm === undefined) throw new UsageError('--metric only selects what --hgrm writes; add --hgrm DIR');
    const metrics = parseMetrics(argv.metric);
    if (argv.hgrm !== undefined) checkOutputDir(argv.hgrm, '--hgrm');
    if (argv.html !== undefined) checkOutputFile(argv.html, '--html');
    let input = readReportInput(argv.result);
    if (argv.server !== undefined) {
      const observation = toServerObservation(readJsonFile(argv.server), argv.server);
      const join = (result: Parameters<typeof joinObservation>[0]) => joinObservation(result, observation, argv.server!);
      input = joinEach(input, join);
    }
    if (argv.hgrm !== undefined) {
      const files = namedRuns(input).flatMap(([name, result]) => hgrmFiles(result, metrics, name === null ? undefined : fileNamePart(name)));
      if (!files.length) throw new UsageError(`${argv.result} holds no ${metrics.join('/')} histogram to write`);
      const { written, failed } = writeHgrmFiles(files, argv.hgrm);
      process.stderr.write(`${written.length} .hgrm file${written.length === 1 ? '' : 's'} written to ${argv.hgrm}\n`);
      if (failed.length) {
        for (const { path, error } of failed) process.stderr.write(`tlsbench: could not write ${path} (${error})\n`);
        // Nothing is lost: the histograms stay in the result file, and report writes them again.
        process.stderr.write(`tlsbench: ${failed.length} of ${files.length} .hgrm files not written; ${argv.result} is unchanged: fix the cause and run this report again\n`);
        process.exitCode = 1;
      }
    }
    if (argv.html !== undefined) {
      const log = (line: string) => process.stderr.write(`${line}\n`);
      if (reportWrite(writeOrFallback(argv.html, renderHtml(input)), argv.html, 'the HTML report', log)) log(`HTML report written to ${argv.html}`);
      else process.exitCode = 1;
    }
    if (format || (argv.hgrm === undefined && argv.html === undefined)) {
      process.stdout.write(`${renderReport(input, format ?? 'table')}\n`);
    }
  },
};
