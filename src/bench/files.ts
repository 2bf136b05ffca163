/** Writing a run's reports (bench.json, report.md, report.html) and reading reports back for --compare. */
import { mkdirSync, renameSync, rmSync, writeFileSync, constants } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { readCappedFile } from '../io/input-file.js';
import { renderHtml } from './report-html.js';
import { renderMarkdown } from './report-md.js';
import { validateBenchReport } from './schema.js';
import type { BenchReport } from './types.js';

/** A bench.json larger than this is not one (a full run is a few hundred KiB). */
export const MAX_BENCH_JSON_BYTES = 64 * 2 ** 20;

function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, text, { flag: 'wx' });
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** The paths written by {@link writeBenchReports}. */
export interface WrittenReports {
  json: string;
  markdown: string;
  html: string;
}

/**
 * Writes bench.json, report.md and report.html into `dir` (created if needed), each complete or not
 * at all (written aside, then renamed).
 */
export function writeBenchReports(report: BenchReport, dir: string): WrittenReports {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new InputError('OUTPUT_UNWRITABLE', `cannot create the output directory ${dir}: ${(e as Error).message}; choose another with --out.`, { cause: e });
  }
  const out = { json: join(dir, 'bench.json'), markdown: join(dir, 'report.md'), html: join(dir, 'report.html') };
  writeAtomic(out.json, `${JSON.stringify(report, null, 2)}\n`);
  writeAtomic(out.markdown, renderMarkdown(report));
  writeAtomic(out.html, renderHtml(report));
  return out;
}

/** Reads and validates a bench.json (a regular file, bounded size, schema-checked). */
export function readBenchReport(path: string): BenchReport {
  const bytes = readCappedFile(
    path,
    MAX_BENCH_JSON_BYTES,
    {
      open: (e) => new InputError('BENCH_REPORT_UNREADABLE', `cannot open ${path}: ${e.code ?? e.message}; give the path of a bench.json written by \`modelseal bench\`.`, { cause: e }),
      notRegular: () => new InputError('BENCH_REPORT_UNREADABLE', `${path} is not a regular file; give a bench.json.`),
      tooLarge: (size) => new InputError('BENCH_REPORT_INVALID', `${path} is ${size} bytes, more than a bench report can be (${MAX_BENCH_JSON_BYTES}).`),
    },
    constants.O_NOFOLLOW,
  );
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw new InputError('BENCH_REPORT_INVALID', `${path} is not JSON (${(e as Error).message}); give a bench.json written by \`modelseal bench\`.`, { cause: e });
  }
  return validateBenchReport(value, path);
}
