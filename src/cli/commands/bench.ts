/**
 * `modelseal bench`: every available backend on one model beside the peers and the machine's
 * ceilings; writes bench.json, report.md and report.html. `--compare A.json B.json …` renders reports
 * of several machines side by side. Ctrl-C writes what has run, marked partial, and exits 130.
 */
import type { Command } from 'commander';
import {
  BENCH_BACKENDS,
  compareBenchReports,
  readBenchReport,
  renderCompareHtml,
  renderCompareMarkdown,
  runBench,
  writeBenchReports,
  InputError,
  type BenchBackend,
  type RunBenchOptions,
} from '../../index.js';
import { EXIT_INTERRUPTED } from '../../errors.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseChoice, parseIntArg, parseSize } from '../args.js';
import { setExitCode } from '../exit-code.js';
import { info, reportError, writeEvent, writeJson, type CommandContext } from '../output.js';

interface BenchFlags {
  size?: string;
  algorithms?: string;
  methods?: string;
  backends?: string;
  workers?: string;
  runs?: string;
  shardSize?: string;
  slowBytes?: string;
  out: string;
  json?: boolean;
  quiet?: boolean;
  quick?: boolean;
  peers: boolean;
  micro: boolean;
  process: boolean;
  progress: boolean;
  compare?: boolean;
}

const list = (v: string | undefined) => (v === undefined ? undefined : v.split(',').map((s) => s.trim()).filter(Boolean));

function optionsFrom(model: string | undefined, f: BenchFlags): RunBenchOptions {
  const o: RunBenchOptions = { quick: f.quick === true, peers: f.peers, micro: f.micro };
  if (model !== undefined) o.model = model;
  if (f.size !== undefined) o.size = parseSize(f.size, '--size');
  const a = list(f.algorithms);
  if (a) o.algorithms = a.map((x) => parseChoice(x, '--algorithms', ['sha256', 'blake3', 'blake2b'] as const));
  const m = list(f.methods);
  if (m) o.methods = m.map((x) => parseChoice(x, '--methods', ['files', 'shards'] as const));
  const b = list(f.backends);
  if (b) o.backends = b.map((x) => parseChoice(x, '--backends', BENCH_BACKENDS)) as BenchBackend[];
  const w = list(f.workers);
  if (w) o.workers = w.map((x) => parseIntArg(x, '--workers', 1, 256));
  if (f.runs !== undefined) o.runs = parseIntArg(f.runs, '--runs', 1, 100);
  if (f.shardSize !== undefined) o.shardSize = parseSize(f.shardSize, '--shard-size');
  if (f.slowBytes !== undefined) o.slowBackendBytes = parseSize(f.slowBytes, '--slow-bytes');
  if (!f.process) o.processRuns = false;
  return o;
}

export function register(program: Command): void {
  program
    .command('bench')
    .description('benchmark every available backend on a model (or a generated one) beside peers and the machine ceilings; writes bench.json, report.md, report.html')
    .argument('[model...]', 'model directory or file (default: a generated model of safetensors shards); with --compare: bench.json files')
    .option('--size <bytes>', 'size of the generated model (default 1GiB, 64MiB with --quick)')
    .option('--algorithms <list>', 'comma-separated: sha256,blake3,blake2b (default sha256,blake3)')
    .option('--methods <list>', 'comma-separated: files,shards (default both)')
    .option('--backends <list>', `comma-separated: ${BENCH_BACKENDS.join(',')} (default all available)`)
    .option('--workers <list>', 'comma-separated worker counts for the CPU backends (default 1, powers of two, all cores)')
    .option('--runs <n>', 'timed rounds per configuration (default 3, 2 with --quick)')
    .option('--shard-size <bytes>', 'shard size of --methods shards (default 16MiB)')
    .option('--slow-bytes <bytes>', 'bytes the slow backends (js, wasm, a software GPU) hash, as a subset of whole files (default 64MiB)')
    .option('--out <dir>', 'directory for bench.json, report.md, report.html', 'bench-results')
    .option('--quick', 'a short run (small model, fewer rounds): under a minute on a small machine')
    .option('--no-peers', 'do not run openssl, sha256sum, b3sum, b2sum, model_signing')
    .option('--no-micro', 'no in-memory kernel microbenchmarks')
    .option('--no-process', 'no whole-process `modelseal hash` runs')
    .option('--compare', 'compare the bench.json files given as arguments (first = base) instead of running')
    .option('--json', 'NDJSON progress events on stdout, then one JSON result object')
    .option('-q, --quiet', 'no human output on stderr')
    .option('--no-progress', 'no progress lines')
    .action(async (args: string[], flags: BenchFlags) => {
      const ctx: CommandContext = { json: flags.json === true, quiet: flags.quiet === true };
      setExitCode(await benchCommand(ctx, args, flags));
    });
}

async function benchCommand(ctx: CommandContext, args: string[], flags: BenchFlags): Promise<number> {
  try {
    if (flags.compare) return compare(ctx, args, flags.out);
    if (args.length > 1) throw new InputError('USAGE', `bench takes one model (got ${args.length}); to compare reports, add --compare.`);
    const options = optionsFrom(args[0], flags);
    const controller = new AbortController();
    let interrupted = false;
    const onSigint = () => {
      if (interrupted) process.exit(EXIT_INTERRUPTED); // a second Ctrl-C: no partial report
      interrupted = true;
      process.stderr.write('\nmodelseal: interrupted; writing the partial report (Ctrl-C again to quit at once)\n');
      controller.abort();
    };
    process.on('SIGINT', onSigint);
    options.signal = controller.signal;
    const tty = process.stderr.isTTY === true;
    let lastLine = '';
    options.onProgress = (p) => {
      if (ctx.json) writeEvent({ type: 'progress', ...p });
      else if (!ctx.quiet && flags.progress) {
        const line = `bench: ${p.step}${p.detail ? ` ${p.detail}` : ''}`;
        if (line === lastLine) return;
        lastLine = line;
        process.stderr.write(tty ? `\r\x1b[K${line.slice(0, (process.stderr.columns ?? 100) - 1)}` : `${line}\n`);
      }
    };
    let report;
    try {
      report = await runBench(options);
    } finally {
      process.removeListener('SIGINT', onSigint);
      if (tty && !ctx.json && !ctx.quiet && flags.progress) process.stderr.write('\r\x1b[K');
    }
    const written = writeBenchReports(report, flags.out);
    // a disagreeing digest or a run that threw is a bug (exit 1); a peer tool failing is only reported
    const ok = !report.failures.some((f) => f.kind === 'digest' || f.kind === 'run');
    if (ctx.json) {
      writeJson({ type: 'result', ok, partial: report.partial, failures: report.failures, files: written, report });
    } else {
      for (const g of report.runs) {
        if (g.bytesPerSecond === null && g.status !== 'interrupted') info(ctx, `FAILED ${g.id}: ${g.error ?? g.digestCheck}`);
      }
      const best = [...report.runs].filter((r) => r.bytesPerSecond !== null).sort((a, b) => b.bytesPerSecond! - a.bytesPerSecond!)[0];
      info(ctx, `${report.partial ? 'PARTIAL ' : ''}bench: ${report.runs.length} runs, ${report.peers.runs.length} peer runs, ${report.failures.length} failures in ${report.durationSeconds.toFixed(0)} s${best ? `; fastest ${best.id} at ${(best.bytesPerSecond! / 1e9).toFixed(2)} GB/s` : ''}`);
      if (report.peers.missing.length) info(ctx, `peers not on PATH: ${report.peers.missing.join(', ')}`);
      process.stdout.write(`${written.json}\n${written.markdown}\n${written.html}\n`);
    }
    if (report.partial) return EXIT_INTERRUPTED;
    return ok ? 0 : 1;
  } catch (e) {
    return reportError(ctx, e);
  }
}

function compare(ctx: CommandContext, files: string[], out: string): number {
  if (files.length < 2) throw new InputError('USAGE', `--compare needs at least two bench.json files (got ${files.length}).`);
  const reports = files.map((f) => readBenchReport(f));
  const c = compareBenchReports(reports);
  try {
    mkdirSync(out, { recursive: true });
  } catch (e) {
    throw new InputError('OUTPUT_UNWRITABLE', `cannot create the output directory ${out}: ${(e as Error).message}; choose another with --out.`, { cause: e });
  }
  const md = join(out, 'compare.md');
  const html = join(out, 'compare.html');
  writeFileSync(md, renderCompareMarkdown(c));
  writeFileSync(html, renderCompareHtml(c));
  if (ctx.json) writeJson({ type: 'result', ok: true, files: { markdown: md, html }, comparison: c });
  else process.stdout.write(`${md}\n${html}\n`);
  return 0;
}
