/**
 * The statistics of the benchmark: medians, spreads and ratios. Pure functions over numbers, so the
 * report's figures can be recomputed from the raw samples stored beside them.
 */

/** The median (mean of the two middle values for an even count); NaN for no values. */
export function median(values: readonly number[]): number {
  const xs = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (xs.length === 0) return Number.NaN;
  const m = Math.floor(xs.length / 2);
  return xs.length % 2 ? xs[m]! : (xs[m - 1]! + xs[m]!) / 2;
}

/** Summary of one sample set: median, min, max and the relative spread (max - min) / median. */
export interface SampleSummary {
  n: number;
  median: number;
  min: number;
  max: number;
  spread: number;
}

export function summarise(values: readonly number[]): SampleSummary {
  const xs = values.filter((v) => Number.isFinite(v));
  const med = median(xs);
  const min = xs.length ? Math.min(...xs) : Number.NaN;
  const max = xs.length ? Math.max(...xs) : Number.NaN;
  return { n: xs.length, median: med, min, max, spread: med > 0 ? (max - min) / med : Number.NaN };
}

/** Bytes per second of each timed sample (seconds). */
export function ratesOf(bytes: number, seconds: readonly number[]): number[] {
  return seconds.map((s) => (s > 0 ? bytes / s : Number.NaN));
}

/**
 * The ratio of two rates measured in the same rounds: the median of the per-round ratios a[i] / b[i].
 * Pairing cancels what a round shares (another tenant's load on a shared machine) instead of dividing
 * two medians taken at different moments. Rounds missing on either side are dropped; NaN when no round
 * has both.
 */
export function pairedRatio(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  const r: number[] = [];
  for (let i = 0; i < n; i++) if (a[i]! > 0 && b[i]! > 0) r.push(a[i]! / b[i]!);
  return median(r);
}

/** The ratio of two medians (for figures not measured in the same rounds, e.g. against a ceiling). */
export function medianRatio(a: readonly number[], b: readonly number[]): number {
  const ma = median(a);
  const mb = median(b);
  return ma > 0 && mb > 0 ? ma / mb : Number.NaN;
}

/** Rounds to `digits` significant decimals for the JSON (NaN and infinities become null). */
export function round(x: number, digits = 4): number | null {
  if (!Number.isFinite(x)) return null;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
