/**
 * How hashModel groups SHA-256 leaves into pool tasks for the multi-buffer native kernels: single
 * streams while there are no more leaves than workers, pairs beyond (issue 13 target 1).
 */
import { describe, expect, it } from 'vitest';
import { minLeavesPerTask } from '../../src/engine/hash-model.js';
import { makePlan } from '../../src/plan/plan.js';

const GIB = 2 ** 30;
const files = (n: number) => Array.from({ length: n }, (_, i) => ({ rel: `f${i}`, abs: `/m/f${i}`, size: 2 * GIB }));
const tasksFor = (n: number, workers: number) =>
  makePlan(files(n), { hash: 'sha256', method: 'files', minLeavesPerTask: minLeavesPerTask('native', 'sha256', n, workers) }).tasks;

describe('files/sha256 task grouping on the native backend', () => {
  it('gives each of up to `workers` big files its own task (one stream per worker)', () => {
    expect(tasksFor(1, 2)).toEqual([[0]]);
    expect(tasksFor(2, 2)).toEqual([[0], [1]]);
    expect(tasksFor(4, 4)).toEqual([[0], [1], [2], [3]]);
  });

  it('pairs big files as soon as there are more files than workers', () => {
    expect(tasksFor(3, 2)).toEqual([[0, 1], [2]]);
    expect(tasksFor(4, 2)).toEqual([[0, 1], [2, 3]]);
    expect(tasksFor(5, 4)).toEqual([[0, 1], [2, 3], [4]]);
    expect(tasksFor(16, 2)).toHaveLength(8);
  });

  it('keeps one leaf per task for the other backends and algorithms', () => {
    expect(minLeavesPerTask('node-crypto', 'sha256', 16, 2)).toBe(1);
    expect(minLeavesPerTask('native', 'blake3', 16, 2)).toBe(1);
    expect(minLeavesPerTask('native', 'sha256', 16, 2)).toBe(2);
  });
});
