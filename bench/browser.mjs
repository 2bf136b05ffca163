/**
 * Renders a report.html in headless Chromium (the Debian package) with playwright-core: collects
 * console errors, page errors and failed requests (the report must need no network), counts the chart
 * elements per chart, and optionally saves a full-page screenshot.
 *
 *   node bench/browser.mjs REPORT.html [SCREENSHOT.png]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

export const CHROMIUM = process.env.MODELSEAL_CHROMIUM ?? '/usr/bin/chromium';

/** Flags for a quiet, offline, throw-away browser. */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export async function renderReport(htmlPath, { screenshot } = {}) {
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(join(tmpdir(), 'modelseal-chromium-'));
  const ctx = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1024, height: 800 } });
  try {
    const page = await ctx.newPage();
    const consoleErrors = [];
    const requests = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') consoleErrors.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
    page.on('request', (r) => {
      if (!r.url().startsWith('file:')) requests.push(r.url());
    });
    await page.goto(pathToFileURL(resolve(htmlPath)).href, { waitUntil: 'load' });
    const charts = await page.$$eval('figure.chart', (figs) =>
      figs.map((f) => ({
        id: f.getAttribute('data-chart'),
        bars: f.querySelectorAll('rect.bar').length,
        segments: f.querySelectorAll('rect.seg').length,
        series: f.querySelectorAll('polyline.series').length,
        // every drawn bar has a real size on the page (rendered, not just present)
        drawn: [...f.querySelectorAll('rect.bar, rect.seg')].filter((r) => r.getBoundingClientRect().width > 0).length,
      })),
    );
    if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
    return { consoleErrors, requests, charts, title: await page.title() };
  } finally {
    await ctx.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [html, png] = process.argv.slice(2);
  if (!html) {
    console.error('usage: node bench/browser.mjs REPORT.html [SCREENSHOT.png]');
    process.exit(2);
  }
  const r = await renderReport(html, { screenshot: png });
  console.log(JSON.stringify(r, null, 2));
  if (r.consoleErrors.length || r.requests.length) process.exit(1);
}
