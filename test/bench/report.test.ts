import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareBenchReports, renderCompareHtml, renderCompareMarkdown } from '../../src/bench/compare.js';
import { renderHtml } from '../../src/bench/report-html.js';
import { renderMarkdown } from '../../src/bench/report-md.js';
import type { BenchReport } from '../../src/bench/types.js';
import { REPO_ROOT } from '../helpers.js';

const fixture = (): BenchReport => JSON.parse(readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'bench-quick.json'), 'utf8')) as BenchReport;

/** The structure of the charts: per chart, its id and how many bars, segments and series it draws. */
function structure(html: string): Array<{ chart: string; bars: number; segments: number; series: number; nofig: number }> {
  const out = [];
  for (const m of html.matchAll(/<figure class="chart" data-chart="([^"]+)">(.*?)<\/figure>/gs)) {
    const body = m[2]!;
    out.push({
      chart: m[1]!,
      bars: (body.match(/<rect class="bar /g) ?? []).length,
      segments: (body.match(/<rect class="seg /g) ?? []).length,
      series: (body.match(/<polyline class="series /g) ?? []).length,
      nofig: (body.match(/class="nofig"/g) ?? []).length,
    });
  }
  return out;
}

describe('report generators on fixed JSON', () => {
  it('report.html is self-contained: no script, no external URL, no font or stylesheet link', () => {
    const html = renderHtml(fixture());
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<link/i);
    expect(html).not.toMatch(/@import|@font-face|url\(/i);
    const urls = [...html.matchAll(/https?:\/\/[^\s"'<)]+/g)].map((m) => m[0]);
    expect(urls.every((u) => u === 'http://www.w3.org/2000/svg')).toBe(true);
  });

  it('chart structure (snapshot of ids and element counts, not pixels)', () => {
    const r = fixture();
    const s = structure(renderHtml(r));
    expect(s).toMatchSnapshot();
    // One bar per run, peer and relevant ceiling in each throughput chart.
    const g = s.find((c) => c.chart === 'throughput:sha256/files')!;
    const runs = r.runs.filter((x) => x.group === 'sha256/files').length;
    const peers = r.peers.runs.filter((x) => x.group === 'sha256/files').length;
    const ceilings = r.ceilings.filter((c) => c.id !== 'gpu-resident-blake3').length;
    expect(g.bars).toBe(runs + peers + ceilings);
    expect(s.find((c) => c.chart === 'time')!.segments).toBeGreaterThan(0);
  });

  it('a run whose digests disagree is drawn as a failure, never as a bar', () => {
    const r = fixture();
    const bad = r.runs.find((x) => x.id === 'sha256/files:node-crypto:w1')!;
    bad.status = 'failed';
    bad.digestCheck = 'mismatch';
    bad.bytesPerSecond = null;
    r.failures.push({ kind: 'digest', what: bad.id, message: 'differs' });
    const html = renderHtml(r);
    const before = structure(renderHtml(fixture())).find((c) => c.chart === 'throughput:sha256/files')!;
    const after = structure(html).find((c) => c.chart === 'throughput:sha256/files')!;
    expect(after.bars).toBe(before.bars - 1);
    expect(after.nofig).toBe(before.nofig + 1);
    expect(html).toContain('FAILED: digests disagree (no figure)');
    expect(renderMarkdown(r)).toMatch(/## Failures[\s\S]*node-crypto:w1/);
  });

  it('report.md names the machine and the software adapter, one table per group', () => {
    const md = renderMarkdown(fixture());
    expect(md).toContain('AMD EPYC');
    expect(md).toContain('software adapter');
    expect(md.match(/^## (sha256|blake3) \/.*$/gm)).toEqual(['## sha256 / files', '## sha256 / shards of 16 MiB', '## blake3 / files']);
  });

  it('a partial report says so in both formats', () => {
    const r = { ...fixture(), partial: true };
    expect(renderMarkdown(r)).toContain('PARTIAL');
    expect(renderHtml(r)).toContain('PARTIAL (interrupted)');
  });

  it('--compare pairs runs by group and backend, with ratios to the first report', () => {
    const a = fixture();
    const b = fixture();
    for (const r of b.runs) if (r.bytesPerSecond !== null) r.bytesPerSecond *= 2;
    const c = compareBenchReports([a, b], ['A', 'B']);
    const row = c.rows.find((x) => x.key === 'sha256/files:native')!;
    expect(row.ratios[1]).toBeCloseTo(2, 6);
    expect(renderCompareMarkdown(c)).toContain('2.00x');
    const html = renderCompareHtml(c);
    expect(html).not.toMatch(/<script/i);
    expect(structure(html).length).toBe(new Set(c.rows.map((x) => x.group)).size);
  });
});
