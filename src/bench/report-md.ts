/** report.md: the numbers of a bench run as Markdown tables (for a README or a pull request). */
import { machineLine } from './machine.js';
import { gbps, groupsOf, mib, ratio, runLabel } from './format.js';
import type { BenchReport } from './types.js';

const row = (cells: Array<string | number>) => `| ${cells.join(' | ')} |`;

/** Renders a report as Markdown. */
export function renderMarkdown(report: BenchReport): string {
  const L: string[] = [];
  const m = report.machine;
  L.push(`# modelseal bench${report.partial ? ' (PARTIAL: interrupted)' : ''}`, '');
  L.push(`- Machine: ${machineLine(m)}`);
  L.push(`- Load average at start / end: ${m.loadStart.join(' ')} / ${(m.loadEnd ?? []).join(' ')}`);
  L.push(`- GPU: ${m.gpu ? `${m.gpu.adapter}${m.gpu.software ? ' — a software adapter: GPU figures are the CPU emulating a GPU (correctness only)' : ''}` : `none${m.gpuReason ? ` (${m.gpuReason})` : ''}`}`);
  L.push(`- Model: ${report.model.generated ? 'generated safetensors shards' : report.model.path}, ${report.model.files} files, ${mib(report.model.bytes)} (page cache)`);
  L.push(`- modelseal ${report.modelsealVersion}, ${report.date}, ${report.durationSeconds.toFixed(0)} s; ${report.settings.runs} rounds${report.settings.quick ? ' (--quick)' : ''}; medians of the rounds; GB/s = 1e9 bytes/s`);
  L.push(`- Whole-model runs are in-process timings (\`hashModel\`, engine start-up included) unless marked whole process; peers run in the same rounds and their ratios are medians of per-round ratios.`);
  L.push('');
  if (report.failures.length) {
    L.push('## Failures', '');
    for (const f of report.failures) L.push(`- **${f.what}**: ${f.message}`);
    L.push('');
  }
  L.push('## Ceilings (same run)', '', row(['ceiling', 'GB/s', 'rounds']), row(['---', '---:', '---:']));
  for (const c of report.ceilings) L.push(row([`${c.label}${c.software ? ' (software adapter)' : ''}`, gbps(c.bytesPerSecond), c.samples.length]));
  L.push('');
  const peerRatio = (id: string) => report.ratios.filter((x) => x.run === id && x.kind === 'peer');
  const ceilRatio = (id: string) => report.ratios.find((x) => x.run === id && x.kind === 'ceiling' && x.to === 'page-cache-read')?.ratio;
  for (const g of groupsOf(report)) {
    L.push(`## ${g.label}`, '');
    L.push(row(['backend', 'workers', 'kernel', 'bytes', 'GB/s', 'spread', 'digests', 'vs page-cache read', 'vs peers (paired)']), row(['---', '---:', '---', '---:', '---:', '---:', '---', '---:', '---']));
    for (const r of g.runs) {
      const peers = peerRatio(r.id).map((x) => `${x.to.split(':peer:')[1]} ${ratio(x.ratio)}`).join(', ');
      const status = r.status === 'ok' ? r.digestCheck : `${r.status}${r.error ? `: ${r.error}` : ''}`;
      L.push(row([runLabel(r), r.backend === 'webgpu' ? '—' : r.workers, r.kernel ?? '', `${mib(r.bytes)}${r.subset ? ' (subset)' : ''}`, gbps(r.bytesPerSecond), r.spread === null ? '—' : `${Math.round(r.spread * 100)} %`, status, ratio(ceilRatio(r.id)), peers || '—']));
    }
    const peers = report.peers.runs.filter((p) => p.group === g.id);
    if (peers.length) {
      L.push('', row(['peer', 'command', 'threads', 'source', 'GB/s', 'digests']), row(['---', '---', '---:', '---', '---:', '---']));
      for (const p of peers) L.push(row([p.peer, `\`${p.command}\``, p.threads || '—', p.source === 'memory' ? 'memory (no I/O)' : 'page cache', gbps(p.bytesPerSecond), p.status === 'ok' ? p.digestCheck : `${p.status}: ${p.error ?? ''}`]));
    }
    L.push('');
  }
  const scaling = report.ratios.filter((x) => x.kind === 'workers');
  if (scaling.length) {
    L.push('## Scaling with workers (paired ratio to 1 worker)', '', row(['run', 'ratio']), row(['---', '---:']));
    for (const s of scaling) L.push(row([s.run, ratio(s.ratio)]));
    L.push('');
  }
  if (report.breakdown.length) {
    L.push('## Where the time goes (seconds, estimated)', '', 'Start-up is measured (the same configuration on a 1-byte model); the rest is split by kernel vs user CPU time (CPU backends) or by the page-cache and upload ceilings (GPU).', '');
    L.push(row(['run', 'start-up', 'I/O', 'upload', 'hashing', 'total']), row(['---', '---:', '---:', '---:', '---:', '---:']));
    for (const b of report.breakdown) L.push(row([b.run, b.startupSeconds.toFixed(3), b.ioSeconds.toFixed(3), b.uploadSeconds.toFixed(3), b.hashSeconds.toFixed(3), b.totalSeconds.toFixed(3)]));
    L.push('');
  }
  if (report.micro.length) {
    L.push('## Kernels in memory (tinybench, one thread, median latency)', '', row(['backend', 'algorithm', 'kernel', 'size', 'GB/s', 'rme']), row(['---', '---', '---', '---:', '---:', '---:']));
    for (const k of report.micro) L.push(row([k.backend, k.algorithm, k.kernel, k.bytes >= 2 ** 20 ? mib(k.bytes) : `${k.bytes / 1024} KiB`, gbps(k.bytesPerSecond), k.rme === null ? '—' : `±${k.rme.toFixed(1)} %`]));
    L.push('');
  }
  L.push('## Peers and notes', '');
  L.push(`- Peers found: ${report.peers.found.map((p) => `${p.name} (${p.version})`).join('; ') || 'none'}`);
  L.push(`- Peers missing (not on PATH): ${report.peers.missing.join(', ') || 'none'}`);
  for (const n of report.notes) L.push(`- ${n}`);
  return `${L.join('\n')}\n`;
}
