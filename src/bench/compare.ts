/**
 * `--compare`: the same report across machines or versions (a CPU host against a GPU host), with
 * ratios to the first report. Runs are matched by group, backend and timing, taking each report's best
 * worker count, since machines differ in cores.
 */
import { machineLine } from './machine.js';
import { gbps, groupLabel, ratio } from './format.js';
import { page } from './report-html.js';
import { barChart, esc, type Bar } from './svg.js';
import type { BenchReport } from './types.js';

export interface ComparedRow {
  key: string;
  group: string;
  groupLabel: string;
  what: string;
  /** Bytes per second per report (null: absent or failed there). */
  values: Array<number | null>;
  /** Workers of the best run per report. */
  workers: Array<number | null>;
  /** values[i] / values[0]. */
  ratios: Array<number | null>;
}

export interface BenchComparison {
  reports: Array<{ label: string; machine: string; date: string; partial: boolean; gpu: string | null }>;
  rows: ComparedRow[];
}

/** Short label of a report: CPU model, and the GPU when it has a hardware one. */
export function reportLabel(r: BenchReport): string {
  const gpu = r.machine.gpu && !r.machine.gpu.software ? ` + ${r.machine.gpu.device || r.machine.gpu.adapter}` : '';
  return `${r.machine.cpuModel} ×${r.machine.cores}${gpu}`;
}

/** Compares reports (at least two); the first is the base of the ratios. */
export function compareBenchReports(reports: readonly BenchReport[], labels?: readonly string[]): BenchComparison {
  const rows = new Map<string, ComparedRow>();
  const n = reports.length;
  const slot = (key: string, group: string, gl: string, what: string) => {
    let row = rows.get(key);
    if (!row) rows.set(key, (row = { key, group, groupLabel: gl, what, values: Array(n).fill(null), workers: Array(n).fill(null), ratios: Array(n).fill(null) }));
    return row;
  };
  reports.forEach((rep, i) => {
    for (const r of rep.runs) {
      const what = `${r.timing === 'process' ? 'modelseal hash (whole process)' : r.backend}${r.subset ? ' (subset)' : ''}`;
      const row = slot(`${r.group}:${what}`, r.group, groupLabel(r), what);
      if (r.bytesPerSecond !== null && (row.values[i] === null || r.bytesPerSecond > row.values[i]!)) {
        row.values[i] = r.bytesPerSecond;
        row.workers[i] = r.workers;
      }
    }
    for (const p of rep.peers.runs) {
      const what = `peer ${p.peer}${p.threads > 1 ? ` ${p.threads} threads` : ''}${p.source === 'memory' ? ' (memory)' : ''}`;
      const row = slot(`${p.group}:${what}`, p.group, groupLabel(p), what);
      if (p.bytesPerSecond !== null) row.values[i] = p.bytesPerSecond;
    }
    for (const c of rep.ceilings) {
      const row = slot(`ceiling:${c.id}`, 'ceilings', 'ceilings', `${c.label}${c.software ? ' (software adapter)' : ''}`);
      if (c.bytesPerSecond !== null) row.values[i] = c.bytesPerSecond;
    }
  });
  for (const row of rows.values()) row.ratios = row.values.map((v) => (v !== null && row.values[0] ? v / row.values[0] : null));
  return {
    reports: reports.map((r, i) => ({ label: labels?.[i] ?? reportLabel(r), machine: machineLine(r.machine), date: r.date, partial: r.partial, gpu: r.machine.gpu ? r.machine.gpu.adapter : null })),
    rows: [...rows.values()],
  };
}

export function renderCompareMarkdown(c: BenchComparison): string {
  const L = ['# modelseal bench — comparison', ''];
  c.reports.forEach((r, i) => L.push(`${i + 1}. **${r.label}**${r.partial ? ' (PARTIAL)' : ''}: ${r.machine}; ${r.date}`));
  L.push('', `GB/s (best worker count per report); ratios to report 1.`, '');
  const head = ['group', 'what', ...c.reports.map((_, i) => `${i + 1}: GB/s`), ...c.reports.slice(1).map((_, i) => `${i + 2} / 1`)];
  L.push(`| ${head.join(' | ')} |`, `| ${head.map((_, i) => (i < 2 ? '---' : '---:')).join(' | ')} |`);
  for (const r of c.rows) {
    const vals = r.values.map((v, i) => `${gbps(v)}${r.workers[i] ? ` (w${r.workers[i]})` : ''}`);
    L.push(`| ${r.groupLabel} | ${r.what} | ${vals.join(' | ')} | ${r.ratios.slice(1).map((x) => ratio(x)).join(' | ')} |`);
  }
  return `${L.join('\n')}\n`;
}

export function renderCompareHtml(c: BenchComparison): string {
  const parts = ['<h1>modelseal bench — comparison</h1><ol>'];
  for (const r of c.reports) parts.push(`<li><b>${esc(r.label)}</b>${r.partial ? ' (PARTIAL)' : ''}: ${esc(r.machine)}; ${esc(r.date)}</li>`);
  parts.push('</ol>');
  const groups = [...new Set(c.rows.map((r) => r.group))];
  for (const g of groups) {
    const rows: Bar[] = [];
    for (const r of c.rows.filter((x) => x.group === g)) {
      r.values.forEach((v, i) => rows.push({ label: `${r.what} — ${i + 1}`, value: v === null ? null : v / 1e9, kind: `machine-${i % 4}`, ...(i > 0 && r.ratios[i] !== null ? { note: `(${ratio(r.ratios[i])})` } : {}), ...(v === null ? { note: 'absent' } : {}) }));
    }
    const gl = c.rows.find((x) => x.group === g)?.groupLabel ?? g;
    parts.push(barChart(`compare:${g}`, `${gl} (GB/s; ratios to report 1)`, rows));
  }
  return page('modelseal bench — comparison', parts.join('\n'));
}
