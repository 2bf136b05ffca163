/** Number formatting shared by the Markdown and HTML reports. */
import type { BenchReport, RunResult } from './types.js';

/** GB/s (1e9 B/s) with two decimals below 10, one below 100; '—' for no figure. */
export function gbps(bytesPerSecond: number | null | undefined): string {
  if (bytesPerSecond === null || bytesPerSecond === undefined || !Number.isFinite(bytesPerSecond)) return '—';
  const g = bytesPerSecond / 1e9;
  return g >= 100 ? g.toFixed(0) : g >= 10 ? g.toFixed(1) : g >= 0.1 || g === 0 ? g.toFixed(2) : g.toFixed(3);
}

export function ratio(x: number | null | undefined): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '—' : `${x.toFixed(2)}x`;
}

export function mib(bytes: number): string {
  return bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(2)} GiB` : `${(bytes / 2 ** 20).toFixed(bytes >= 2 ** 24 ? 0 : 1)} MiB`;
}

/** A run's label in charts and tables: backend, workers, kernel, subset and timing. */
export function runLabel(r: RunResult): string {
  const w = r.backend === 'webgpu' ? '' : ` w${r.workers}`;
  const k = r.kernel && r.backend !== 'webgpu' ? ` ${r.kernel.replace(/^\w+=/, '')}` : '';
  const t = r.timing === 'process' ? ' (whole process)' : '';
  const s = r.subset ? ` (${mib(r.bytes)} subset)` : '';
  return `${r.backend === 'native' && r.timing === 'process' ? 'modelseal hash' : r.backend}${w}${k}${s}${t}`;
}

/** A group's heading: `sha256 / shards of 16 MiB`. */
export function groupLabel(r: { algorithm: string; method: string; shardSize?: number }): string {
  return `${r.algorithm} / ${r.method === 'shards' ? `shards of ${mib(r.shardSize ?? 0)}` : 'files'}`;
}

/** The groups of a report, in run order. */
export function groupsOf(report: BenchReport): Array<{ id: string; label: string; runs: RunResult[] }> {
  const out = new Map<string, { id: string; label: string; runs: RunResult[] }>();
  for (const r of report.runs) {
    let g = out.get(r.group);
    if (!g) out.set(r.group, (g = { id: r.group, label: groupLabel(r), runs: [] }));
    g.runs.push(r);
  }
  return [...out.values()];
}

export const CPU_BACKEND_SET = new Set(['native', 'wasm', 'node-crypto', 'js']);
