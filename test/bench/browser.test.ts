/**
 * The real-browser check of report.html: a short bench run rendered in headless Chromium (Debian
 * package `chromium`, driven by playwright-core): no console errors, no network request, and the
 * charts draw the bars and series the report holds. Skips where Chromium is absent, unless
 * MODELSEAL_REQUIRE_BROWSER=1 (CI).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { renderHtml } from '../../src/bench/report-html.js';
import { runBench } from '../../src/bench/runner.js';
import { tempDir } from '../helpers.js';
// @ts-expect-error: a plain ES module of the bench scripts
import { CHROMIUM, renderReport } from '../../bench/browser.mjs';

const have = existsSync(CHROMIUM as string);
const required = process.env.MODELSEAL_REQUIRE_BROWSER === '1';
const tmp = tempDir('modelseal-bench-browser-');
afterAll(() => tmp.cleanup());

describe.skipIf(!have && !required)('report.html in headless Chromium', () => {
  it('loads with no console errors or requests and draws every bar and series', { timeout: 600_000 }, async () => {
    const report = await runBench({ quick: true, backends: ['native', 'node-crypto', 'js'], algorithms: ['sha256'], methods: ['files'], workers: [1, 2], micro: false, runs: 2 });
    expect(report.failures.filter((f) => f.kind === 'digest')).toEqual([]);
    const html = join(tmp.path, 'report.html');
    writeFileSync(html, renderHtml(report));
    const png = join(process.env.MODELSEAL_SCREENSHOT_DIR ?? tmp.path, 'report-browser-check.png');
    const r = (await renderReport(html, { screenshot: png })) as {
      consoleErrors: string[];
      requests: string[];
      charts: Array<{ id: string; bars: number; segments: number; series: number; drawn: number }>;
    };
    expect(r.consoleErrors).toEqual([]);
    expect(r.requests).toEqual([]);
    const chart = (id: string) => r.charts.find((c) => c.id === id)!;
    const g = 'sha256/files';
    const expectedBars =
      report.runs.filter((x) => x.group === g && x.bytesPerSecond !== null).length +
      report.peers.runs.filter((x) => x.group === g && x.bytesPerSecond !== null).length +
      report.ceilings.filter((c) => c.bytesPerSecond !== null && c.id !== 'gpu-resident-blake3').length;
    expect(chart(`throughput:${g}`).bars).toBe(expectedBars);
    expect(chart(`throughput:${g}`).drawn).toBe(expectedBars);
    // one line per CPU backend measured at both worker counts
    expect(chart(`scaling:${g}`).series).toBe(new Set(report.runs.filter((x) => x.workers === 2 && x.bytesPerSecond !== null).map((x) => x.backend)).size);
    expect(chart('time').segments).toBeGreaterThan(0);
    expect(readFileSync(png).subarray(1, 4).toString('latin1')).toBe('PNG');
  });
});
