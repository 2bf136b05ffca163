import { afterEach, describe, expect, it } from 'vitest';
import { cpus } from 'node:os';
import { LOW_MEMORY_AVAILABLE_BYTES, LOW_MEMORY_BYTES_PER_CPU, LOW_MEMORY_WORKER_BYTES, lowMemoryWorkers, memoryAvailableBytes, memoryPolicy } from '../../src/engine/memory.js';

describe('low-memory policy (src/engine/memory.ts)', () => {
  const saved = process.env.MODELSEAL_MEMORY_POLICY;
  afterEach(() => {
    if (saved === undefined) delete process.env.MODELSEAL_MEMORY_POLICY;
    else process.env.MODELSEAL_MEMORY_POLICY = saved;
  });

  it('gives one worker per LOW_MEMORY_WORKER_BYTES available, at least one, at most the cores', () => {
    expect(lowMemoryWorkers(16, undefined)).toBe(1);
    expect(lowMemoryWorkers(16, 0)).toBe(1);
    expect(lowMemoryWorkers(16, LOW_MEMORY_WORKER_BYTES - 1)).toBe(1);
    expect(lowMemoryWorkers(16, 3 * LOW_MEMORY_WORKER_BYTES)).toBe(3);
    expect(lowMemoryWorkers(2, 100 * LOW_MEMORY_WORKER_BYTES)).toBe(2);
  });

  it('is forced by MODELSEAL_MEMORY_POLICY=low / =normal and otherwise decided from what is available', () => {
    process.env.MODELSEAL_MEMORY_POLICY = 'low';
    expect(memoryPolicy().low).toBe(true);
    process.env.MODELSEAL_MEMORY_POLICY = 'normal';
    expect(memoryPolicy().low).toBe(false);
    delete process.env.MODELSEAL_MEMORY_POLICY;
    const p = memoryPolicy();
    const threshold = Math.max(LOW_MEMORY_AVAILABLE_BYTES, LOW_MEMORY_BYTES_PER_CPU * cpus().length);
    expect(p.low).toBe(p.availableBytes !== undefined && p.availableBytes < threshold);
  });

  it.skipIf(process.platform !== 'linux')('reads a positive figure on Linux (MemAvailable at least)', () => {
    const a = memoryAvailableBytes();
    expect(a).toBeGreaterThan(0);
  });
});
