/**
 * Hand-written SVG charts for report.html. Chosen over a charting package because the report must be
 * one self-contained file that renders with no script at all (chart libraries draw with JavaScript at
 * view time, or pull a renderer and fonts in), the output must be deterministic for snapshot tests, and
 * three chart kinds (horizontal bars, stacked bars, lines) fit in about two hundred lines.
 */

/** Escapes text for SVG/HTML content and attribute values. */
export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const fmt = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x >= 0.1 || x === 0 ? x.toFixed(2) : x.toFixed(3));
const W = 760;
const LABEL_W = 300;
const BAR_H = 18;
const GAP = 6;

/** One bar: a value in GB/s (or seconds), its kind (colour and legend) and an optional note after the value. */
export interface Bar {
  label: string;
  value: number | null;
  kind: string;
  note?: string;
}

function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function legend(kinds: string[], y: number): string {
  let x = LABEL_W;
  return kinds
    .map((k) => {
      const s = `<rect class="swatch k-${esc(k)}" x="${x}" y="${y}" width="10" height="10"/><text x="${x + 14}" y="${y + 9}">${esc(k)}</text>`;
      x += 24 + k.length * 7;
      return s;
    })
    .join('');
}

function frame(id: string, title: string, height: number, body: string): string {
  return `<figure class="chart" data-chart="${esc(id)}"><figcaption>${esc(title)}</figcaption><svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="${esc(title)}" viewBox="0 0 ${W} ${height}" width="${W}" height="${height}">${body}</svg></figure>`;
}

function axis(max: number, top: number, bottom: number, unit: string): string {
  const plotW = W - LABEL_W - 70;
  let s = '';
  for (let i = 0; i <= 4; i++) {
    const v = (max * i) / 4;
    const x = LABEL_W + (plotW * i) / 4;
    s += `<line class="grid" x1="${x}" y1="${top}" x2="${x}" y2="${bottom}"/><text class="tick" x="${x}" y="${bottom + 12}" text-anchor="middle">${fmt(v)}</text>`;
  }
  return `${s}<text class="unit" x="${LABEL_W + plotW}" y="${bottom + 26}" text-anchor="end">${esc(unit)}</text>`;
}

/** Horizontal bars, one per row; rows without a value are drawn as a labelled gap ("no figure"). */
export function barChart(id: string, title: string, rows: Bar[], unit = 'GB/s'): string {
  const plotW = W - LABEL_W - 70;
  const max = niceMax(Math.max(0, ...rows.map((r) => r.value ?? 0)));
  const top = 8;
  const bottom = top + rows.length * (BAR_H + GAP);
  let body = axis(max, top, bottom, unit);
  rows.forEach((r, i) => {
    const y = top + i * (BAR_H + GAP);
    body += `<text class="label" x="${LABEL_W - 6}" y="${y + 13}" text-anchor="end">${esc(r.label)}</text>`;
    if (r.value === null || !(r.value >= 0)) {
      body += `<text class="nofig" x="${LABEL_W + 4}" y="${y + 13}">${esc(r.note ?? 'no figure')}</text>`;
      return;
    }
    const w = Math.max(1, (plotW * r.value) / max);
    body += `<rect class="bar k-${esc(r.kind)}" data-label="${esc(r.label)}" data-value="${r.value}" x="${LABEL_W}" y="${y}" width="${w.toFixed(1)}" height="${BAR_H}"><title>${esc(`${r.label}: ${fmt(r.value)} ${unit}`)}</title></rect>`;
    body += `<text class="value" x="${(LABEL_W + w + 4).toFixed(1)}" y="${y + 13}">${fmt(r.value)}${r.note ? ` ${esc(r.note)}` : ''}</text>`;
  });
  const kinds = [...new Set(rows.map((r) => r.kind))];
  body += legend(kinds, bottom + 32);
  return frame(id, title, bottom + 48, body);
}

/** One series of a line chart: points (x, y); x are small integers (worker counts). */
export interface Series {
  name: string;
  points: Array<[number, number]>;
}

/** A line chart with one polyline per series (scaling with workers). */
export function lineChart(id: string, title: string, series: Series[], xLabel: string, unit = 'GB/s'): string {
  const left = 60;
  const plotW = W - left - 180;
  const top = 10;
  const plotH = 200;
  const xs = [...new Set(series.flatMap((s) => s.points.map((p) => p[0])))].sort((a, b) => a - b);
  const xMin = xs[0] ?? 0;
  const xMax = xs.at(-1) ?? 1;
  const yMax = niceMax(Math.max(0, ...series.flatMap((s) => s.points.map((p) => p[1]))));
  const px = (x: number) => left + (xMax === xMin ? plotW / 2 : ((x - xMin) / (xMax - xMin)) * plotW);
  const py = (y: number) => top + plotH - (y / yMax) * plotH;
  let body = '';
  for (let i = 0; i <= 4; i++) {
    const v = (yMax * i) / 4;
    body += `<line class="grid" x1="${left}" y1="${py(v)}" x2="${left + plotW}" y2="${py(v)}"/><text class="tick" x="${left - 4}" y="${py(v) + 4}" text-anchor="end">${fmt(v)}</text>`;
  }
  for (const x of xs) body += `<text class="tick" x="${px(x)}" y="${top + plotH + 14}" text-anchor="middle">${x}</text>`;
  body += `<text class="unit" x="${left + plotW / 2}" y="${top + plotH + 30}" text-anchor="middle">${esc(xLabel)}</text><text class="unit" x="${left - 40}" y="${top - 0}">${esc(unit)}</text>`;
  series.forEach((s, i) => {
    const pts = s.points.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ');
    body += `<polyline class="series s${i % 8}" data-series="${esc(s.name)}" fill="none" points="${pts}"><title>${esc(s.name)}</title></polyline>`;
    for (const [x, y] of s.points) body += `<circle class="pt s${i % 8}" cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="3"><title>${esc(`${s.name}, ${x}: ${fmt(y)} ${unit}`)}</title></circle>`;
    body += `<rect class="swatch s${i % 8}" x="${left + plotW + 16}" y="${top + i * 16}" width="10" height="10"/><text x="${left + plotW + 30}" y="${top + i * 16 + 9}">${esc(s.name)}</text>`;
  });
  return frame(id, title, top + plotH + 40, body);
}

/** One stacked bar: named parts in a fixed order (start-up, I/O, upload, hashing). */
export interface Stack {
  label: string;
  parts: Array<{ name: string; value: number }>;
}

/** Horizontal stacked bars (where the time goes). */
export function stackedChart(id: string, title: string, rows: Stack[], unit = 's'): string {
  const plotW = W - LABEL_W - 70;
  const max = niceMax(Math.max(0, ...rows.map((r) => r.parts.reduce((n, p) => n + p.value, 0))));
  const top = 8;
  const bottom = top + rows.length * (BAR_H + GAP);
  let body = axis(max, top, bottom, unit);
  const names: string[] = [];
  rows.forEach((r, i) => {
    const y = top + i * (BAR_H + GAP);
    body += `<text class="label" x="${LABEL_W - 6}" y="${y + 13}" text-anchor="end">${esc(r.label)}</text>`;
    let x = LABEL_W;
    for (const p of r.parts) {
      if (!names.includes(p.name)) names.push(p.name);
      const w = (plotW * p.value) / max;
      if (w <= 0) continue;
      body += `<rect class="seg k-${esc(p.name)}" data-label="${esc(r.label)}" data-part="${esc(p.name)}" x="${x.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${BAR_H}"><title>${esc(`${r.label}, ${p.name}: ${p.value.toFixed(3)} ${unit}`)}</title></rect>`;
      x += w;
    }
  });
  body += legend(names, bottom + 32);
  return frame(id, title, bottom + 48, body);
}

/** The stylesheet of the charts (inline; system fonts only). */
export const CHART_CSS = `
.chart{margin:1.2em 0}.chart figcaption{font-weight:600;margin-bottom:.3em}
svg text{font:11px system-ui,sans-serif;fill:#222}svg .tick,svg .unit{fill:#666}svg .nofig{fill:#b00;font-style:italic}
svg .grid{stroke:#e4e4e4}
.k-run,.k-cpu{fill:#3b6fb6}.k-peer{fill:#e08a1e}.k-ceiling{fill:#9a9a9a}.k-gpu{fill:#2e9d5b}.k-hybrid{fill:#8e44ad}.k-subset{fill:#9cb6dd}.k-process{fill:#1f3d66}
.k-start-up{fill:#c0392b}.k-io{fill:#e08a1e}.k-upload{fill:#2e9d5b}.k-hashing{fill:#3b6fb6}
.series{stroke-width:2}.s0{stroke:#3b6fb6;fill:#3b6fb6}.s1{stroke:#e08a1e;fill:#e08a1e}.s2{stroke:#2e9d5b;fill:#2e9d5b}.s3{stroke:#8e44ad;fill:#8e44ad}
.s4{stroke:#c0392b;fill:#c0392b}.s5{stroke:#16a085;fill:#16a085}.s6{stroke:#7f8c8d;fill:#7f8c8d}.s7{stroke:#d35400;fill:#d35400}
polyline.series{fill:none}
.k-machine-0{fill:#3b6fb6}.k-machine-1{fill:#2e9d5b}.k-machine-2{fill:#e08a1e}.k-machine-3{fill:#8e44ad}
`;
