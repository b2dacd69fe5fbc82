import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../config/usage-error.js';
import { LATENCY_METRICS, type LatencyMetric } from '../metrics/tally.js';
import { checkOutputDir, checkOutputFile, reportWrite, writeOrFallback } from '../config/output-path.js';
import { OUTPUT_FORMATS, parseFormat, readReportInput, renderReport } from '../report/format.js';
import { fileNamePart, hgrmFiles, writeHgrmFiles } from '../report/hgrm.js';
import { renderHtml } from '../report/html.js';
import { joinObservation, toServerObservation } from '../merge/join-observation.js';
import { readJsonFile } from '../merge/result-file.js';

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

export const reportCommand: CommandModule<object, ReportArgs> = {
  command: 'report <result>',
  describe: 'Re-render a saved result (or matrix): table, JSON, Markdown, CSV, .hgrm files, an HTML page',
  builder: (y) => (y as Argv)
    .positional('result', { type: 'string', demandOption: true, describe: "JSON written by 'tlsbench --out FILE' (or by tlsbench matrix)" })
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
      input = input.kind === 'run'
        ? { kind: 'run', result: join(input.result) }
        : { kind: 'matrix', matrix: { ...input.matrix, cells: input.matrix.cells.map((c) => (c.result ? { ...c, result: join(c.result) } : c)) } };
    }
    if (argv.hgrm !== undefined) {
      const files = input.kind === 'run'
        ? hgrmFiles(input.result, metrics)
        : input.matrix.cells.flatMap((cell) => (cell.result ? hgrmFiles(cell.result, metrics, fileNamePart(cell.name)) : []));
      if (!files.length) throw new UsageError(`${argv.result} holds no ${metrics.join('/')} histogram to write`);
      const written = writeHgrmFiles(files, argv.hgrm);
      process.stderr.write(`${written.length} .hgrm file${written.length === 1 ? '' : 's'} written to ${argv.hgrm}\n`);
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
