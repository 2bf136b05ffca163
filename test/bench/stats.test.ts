import { describe, expect, it } from 'vitest';
import { median, medianRatio, pairedRatio, ratesOf, round, summarise } from '../../src/bench/stats.js';

describe('bench statistics', () => {
  it('median of odd and even counts, ignoring non-finite values, NaN for none', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([5, Number.NaN, 1, Number.POSITIVE_INFINITY, 3])).toBe(3);
    expect(median([])).toBeNaN();
    const xs = [9, 8, 7];
    median(xs);
    expect(xs).toEqual([9, 8, 7]); // the input is not sorted in place
  });

  it('summarise: median, min, max and relative spread', () => {
    expect(summarise([2, 4, 3])).toEqual({ n: 3, median: 3, min: 2, max: 4, spread: 2 / 3 });
    expect(summarise([]).n).toBe(0);
  });

  it('rates from seconds; a zero time is no rate', () => {
    expect(ratesOf(1e9, [0.5, 2, 0])).toEqual([2e9, 5e8, Number.NaN]);
  });

  it('paired ratio is the median of per-round ratios, not the ratio of medians', () => {
    // Round 2 was slow for both (another tenant): pairing cancels it.
    const a = [2, 1, 2.2];
    const b = [1, 0.5, 1.1];
    expect(pairedRatio(a, b)).toBe(2);
    // Unpaired medians of skewed rounds differ from the paired answer.
    const c = [10, 1, 1];
    const d = [5, 0.5, 5];
    expect(pairedRatio(c, d)).toBe(2);
    expect(medianRatio(c, d)).toBe(0.2);
  });

  it('paired ratio drops rounds missing or empty on either side', () => {
    expect(pairedRatio([2, 4, 6], [1, 0])).toBe(2);
    expect(pairedRatio([1], [])).toBeNaN();
    expect(pairedRatio([Number.NaN, 3], [1, 1])).toBe(3);
  });

  it('round: digits, and null for non-finite values (JSON has no NaN)', () => {
    expect(round(1.23456, 2)).toBe(1.23);
    expect(round(Number.NaN)).toBeNull();
  });
});
