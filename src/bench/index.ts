/** The benchmark: `runBench` and the report generators behind `modelseal bench`. */
export { runBench, benchSettings, type RunBenchOptions } from './runner.js';
export { writeBenchReports, readBenchReport, MAX_BENCH_JSON_BYTES, type WrittenReports } from './files.js';
export { renderMarkdown } from './report-md.js';
export { renderHtml } from './report-html.js';
export { compareBenchReports, renderCompareMarkdown, renderCompareHtml, type BenchComparison, type ComparedRow } from './compare.js';
export { validateBenchReport, BENCH_JSON_SCHEMA } from './schema.js';
export { median, pairedRatio, medianRatio, summarise } from './stats.js';
export { machineLine } from './machine.js';
export { findPeers, PEER_NAMES } from './peers.js';
export * from './types.js';
