/**
 * report.html: one self-contained file (inline SVG and CSS, no script, no network, system fonts) with
 * the charts a reader takes in at a glance: throughput per backend beside the peers and the ceilings,
 * scaling with workers, CPU vs GPU vs hybrid, where the time goes, and the kernels in memory.
 */
import { machineLine } from './machine.js';
import { CPU_BACKEND_SET, gbps, groupsOf, mib, ratio, runLabel } from './format.js';
import { barChart, CHART_CSS, esc, lineChart, stackedChart, type Bar, type Series } from './svg.js';
import type { BenchReport, RunResult } from './types.js';

const CEILING_SHORT: Record<string, string> = {
  'page-cache-read': 'page-cache read',
  'memcpy': 'memory copy',
  'gpu-upload': 'GPU upload',
  'gpu-resident-sha256': 'GPU-resident sha256',
  'gpu-resident-blake3': 'GPU-resident blake3',
};

const G = (bps: number | null) => (bps === null ? null : bps / 1e9);

function kindOf(r: RunResult): string {
  if (r.timing === 'process') return 'process';
  if (r.backend === 'webgpu') return 'gpu';
  if (r.backend === 'hybrid') return 'hybrid';
  return r.subset ? 'subset' : 'cpu';
}

function failedNote(r: { status: string; digestCheck: string; error?: string }): string {
  if (r.digestCheck === 'mismatch') return 'FAILED: digests disagree (no figure)';
  return r.status === 'interrupted' ? 'interrupted' : `FAILED${r.error ? `: ${r.error.slice(0, 60)}` : ''}`;
}

/** The throughput chart of each group: runs, peers and ceilings as bars. */
export function throughputCharts(report: BenchReport): string[] {
  const out: string[] = [];
  for (const g of groupsOf(report)) {
    const rows: Bar[] = g.runs.map((r) => ({ label: runLabel(r), value: G(r.bytesPerSecond), kind: kindOf(r), ...(r.bytesPerSecond === null ? { note: failedNote(r) } : {}) }));
    for (const p of report.peers.runs.filter((x) => x.group === g.id)) {
      rows.push({ label: `${p.peer}${p.threads > 1 ? ` ${p.threads} threads` : ''}${p.source === 'memory' ? ' (memory)' : ''}`, value: G(p.bytesPerSecond), kind: 'peer', ...(p.bytesPerSecond === null ? { note: failedNote(p) } : {}) });
    }
    for (const c of report.ceilings) {
      if (c.id === 'gpu-resident-sha256' && g.runs[0]?.algorithm !== 'sha256') continue;
      if (c.id === 'gpu-resident-blake3' && g.runs[0]?.algorithm !== 'blake3') continue;
      rows.push({ label: `ceiling: ${CEILING_SHORT[c.id]}${c.software ? ' (software)' : ''}`, value: G(c.bytesPerSecond), kind: 'ceiling' });
    }
    out.push(barChart(`throughput:${g.id}`, `Throughput — ${g.label} (GB/s, median of rounds)`, rows));
  }
  return out;
}

/** Scaling with workers: one line per CPU backend with more than one worker count, per group. */
export function scalingCharts(report: BenchReport): string[] {
  const out: string[] = [];
  for (const g of groupsOf(report)) {
    const by = new Map<string, Array<[number, number]>>();
    for (const r of g.runs) {
      if (r.timing !== 'in-process' || !CPU_BACKEND_SET.has(r.backend) || r.bytesPerSecond === null) continue;
      const k = `${r.backend}${r.subset ? ' (subset)' : ''}`;
      by.set(k, [...(by.get(k) ?? []), [r.workers, r.bytesPerSecond / 1e9]]);
    }
    const series: Series[] = [...by].filter(([, p]) => p.length > 1).map(([name, points]) => ({ name, points: points.sort((a, b) => a[0] - b[0]) }));
    if (series.length) out.push(lineChart(`scaling:${g.id}`, `Scaling with workers — ${g.label}`, series, 'worker threads'));
  }
  return out;
}

/** CPU vs GPU vs hybrid on the same model: the best CPU run, the GPU alone and both, per group. */
export function cpuGpuChart(report: BenchReport): string | null {
  const rows: Bar[] = [];
  for (const g of groupsOf(report)) {
    const ok = g.runs.filter((r) => r.timing === 'in-process' && r.bytesPerSecond !== null);
    const cpu = ok.filter((r) => CPU_BACKEND_SET.has(r.backend) && !r.subset).sort((a, b) => b.bytesPerSecond! - a.bytesPerSecond!)[0];
    const gpu = g.runs.find((r) => r.backend === 'webgpu');
    const hyb = g.runs.find((r) => r.backend === 'hybrid');
    if (!gpu && !hyb) continue;
    if (cpu) rows.push({ label: `${g.label}: CPU (${runLabel(cpu)})`, value: G(cpu.bytesPerSecond), kind: 'cpu' });
    if (gpu) rows.push({ label: `${g.label}: GPU alone${gpu.subset ? ' (subset)' : ''}`, value: G(gpu.bytesPerSecond), kind: 'gpu', ...(gpu.bytesPerSecond === null ? { note: failedNote(gpu) } : {}) });
    if (hyb) rows.push({ label: `${g.label}: hybrid w${hyb.workers}${hyb.subset ? ' (subset)' : ''}`, value: G(hyb.bytesPerSecond), kind: 'hybrid', ...(hyb.bytesPerSecond === null ? { note: failedNote(hyb) } : {}) });
  }
  if (!rows.length) return null;
  const sw = report.machine.gpu?.software ? ' — software adapter: the GPU figures are a CPU' : '';
  return barChart('cpu-gpu', `CPU vs GPU vs hybrid on the same model (GB/s)${sw}`, rows);
}

export function breakdownChart(report: BenchReport): string | null {
  if (!report.breakdown.length) return null;
  return stackedChart(
    'time',
    'Where the time goes (seconds per run; start-up measured, the rest estimated)',
    report.breakdown.map((b) => ({
      label: b.run.replace(/-\d+(?=:)/, ''),
      parts: [
        { name: 'start-up', value: b.startupSeconds },
        { name: 'io', value: b.ioSeconds },
        { name: 'upload', value: b.uploadSeconds },
        { name: 'hashing', value: b.hashSeconds },
      ],
    })),
  );
}

export function microChart(report: BenchReport): string | null {
  if (!report.micro.length) return null;
  const rows: Bar[] = report.micro.map((k) => ({
    label: `${k.backend} ${k.algorithm} ${k.kernel} ${k.bytes >= 2 ** 20 ? mib(k.bytes) : `${k.bytes / 1024} KiB`}`,
    value: G(k.bytesPerSecond),
    kind: 'cpu',
    ...(k.bytesPerSecond === null ? { note: 'FAILED: wrong digest' } : {}),
  }));
  return barChart('kernels', 'Kernels in memory, one thread (tinybench, GB/s)', rows);
}

function table(head: string[], rows: string[][]): string {
  return `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

export const PAGE_CSS = `body{font:14px/1.45 system-ui,sans-serif;color:#222;max-width:980px;margin:2em auto;padding:0 1em}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.8em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.6em 0;font-size:12px}td,th{border:1px solid #ddd;padding:2px 6px;text-align:left}
.warn{background:#fff4e0;border-left:4px solid #e08a1e;padding:.5em 1em}.fail{background:#fde8e8;border-left:4px solid #b00;padding:.5em 1em}
${CHART_CSS}`;

/** The page around charts and tables. */
export function page(title: string, body: string): string {
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${esc(title)}</title><style>${PAGE_CSS}</style></head><body>\n${body}\n</body></html>\n`;
}

/** Renders a report as one self-contained HTML page. */
export function renderHtml(report: BenchReport): string {
  const m = report.machine;
  const parts: string[] = [];
  parts.push(`<h1>modelseal bench${report.partial ? ' — PARTIAL (interrupted)' : ''}</h1>`);
  parts.push(`<p>${esc(machineLine(m))}<br>load average ${esc(m.loadStart.join(' '))} → ${esc((m.loadEnd ?? []).join(' '))}; model: ${esc(report.model.generated ? 'generated safetensors shards' : report.model.path)}, ${report.model.files} files, ${esc(mib(report.model.bytes))} from the page cache; modelseal ${esc(report.modelsealVersion)}, ${esc(report.date)}, ${report.settings.runs} rounds${report.settings.quick ? ' (--quick)' : ''}.</p>`);
  if (report.partial) parts.push('<p class="warn">This run was interrupted: the figures shown are real, the configurations that had not run are missing.</p>');
  if (m.gpu?.software) parts.push(`<p class="warn">GPU adapter: ${esc(m.gpu.adapter)}. A software adapter is the CPU emulating a GPU: its runs check correctness; their speed says nothing about GPUs.</p>`);
  if (!m.gpu) parts.push(`<p>No GPU adapter${m.gpuReason ? `: ${esc(m.gpuReason)}` : ''}.</p>`);
  if (report.failures.length) parts.push(`<div class="fail"><b>Failures</b><ul>${report.failures.map((f) => `<li>${esc(f.what)}: ${esc(f.message)}</li>`).join('')}</ul></div>`);
  parts.push('<h2>Throughput beside peers and ceilings</h2>');
  parts.push(...throughputCharts(report));
  const cg = cpuGpuChart(report);
  parts.push('<h2>CPU vs GPU vs hybrid</h2>', cg ?? '<p>No GPU runs in this report.</p>');
  parts.push('<h2>Scaling with workers</h2>', ...(scalingCharts(report).length ? scalingCharts(report) : ['<p>One worker count only.</p>']));
  const bd = breakdownChart(report);
  if (bd) parts.push('<h2>Where the time goes</h2>', bd);
  const mc = microChart(report);
  if (mc) parts.push('<h2>Kernels</h2>', mc);
  parts.push('<h2>Runs</h2>');
  for (const g of groupsOf(report)) {
    parts.push(`<h3>${esc(g.label)}</h3>`);
    parts.push(table(['run', 'bytes', 'GB/s', 'rounds (GB/s)', 'digests', 'vs page-cache read', 'vs peers (paired)'], g.runs.map((r) => [
      runLabel(r),
      `${mib(r.bytes)}${r.subset ? ' subset' : ''}`,
      gbps(r.bytesPerSecond),
      r.samples.map((s) => gbps(s)).join(' '),
      r.status === 'ok' ? r.digestCheck : r.status,
      ratio(report.ratios.find((x) => x.run === r.id && x.to === 'page-cache-read')?.ratio),
      report.ratios.filter((x) => x.run === r.id && x.kind === 'peer').map((x) => `${x.to.split(':peer:')[1]} ${ratio(x.ratio)}`).join(', ') || '—',
    ])));
  }
  parts.push('<h2>Peers and notes</h2><ul>');
  parts.push(`<li>found: ${esc(report.peers.found.map((p) => `${p.name} (${p.version})`).join('; ') || 'none')}</li><li>missing (not on PATH): ${esc(report.peers.missing.join(', ') || 'none')}</li>`);
  for (const n of report.notes) parts.push(`<li>${esc(n)}</li>`);
  parts.push('</ul>');
  return page(`modelseal bench — ${m.cpuModel}`, parts.join('\n'));
}
