/**
 * LeafBatch.control on every CPU backend: the bytes a batch has read are counted while it runs (so
 * progress moves inside one large file), and a raised abort flag stops it with ABORTED instead of
 * hashing to the end of the file. Unavailable backends are skipped with their probe's reason.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CPU_BACKENDS, loadCpuBackend } from '../../src/backends/registry.js';
import type { HashAlgorithm, Leaf } from '../../src/backends/types.js';
import { hashModel } from '../../src/engine/hash-model.js';
import { tempDir } from '../helpers.js';

// larger than any backend's read window (native maps up to 16 MiB at a time); the pure-JS reference is
// slow, and its blocks are 1 MiB, so it gets a smaller file
const SIZES = { large: 40 * 2 ** 20 + 12345, small: 5 * 2 ** 20 + 12345 };
let t: ReturnType<typeof tempDir>;
const files: Record<keyof typeof SIZES, string> = { large: '', small: '' };

beforeAll(() => {
  t = tempDir('modelseal-control-');
  for (const k of ['large', 'small'] as const) {
    files[k] = join(t.path, `${k}.bin`);
    const b = Buffer.alloc(SIZES[k]);
    for (let i = 0; i < b.length; i += 4096) b[i] = i & 255;
    writeFileSync(files[k], b);
  }
});
afterAll(() => t?.cleanup());

const counters = () => new BigInt64Array(new SharedArrayBuffer(8 * 3));

describe('LeafBatch.control (progress inside a file, abort mid-file)', () => {
  for (const name of CPU_BACKENDS) {
    for (const algorithm of ['sha256', 'blake3'] as HashAlgorithm[]) {
      it(`${name} ${algorithm}`, async (ctx) => {
        const mod = await loadCpuBackend(name);
        const p = mod.probe();
        if (!p.ok) return ctx.skip(`${name}: ${p.reason}`);
        if (!p.capabilities.algorithms.includes(algorithm)) return ctx.skip(`${name} does not compute ${algorithm}`);
        const h = mod.createLeafHasher();
        const size = name === 'js' ? SIZES.small : SIZES.large;
        const leaf: Leaf = { path: name === 'js' ? files.small : files.large, offset: 0, length: size, output: 'digest' };

        const c = counters();
        const [withControl] = h.hashLeaves({ algorithm, leaves: [leaf], control: { counters: c, slot: 2 } });
        const [without] = h.hashLeaves({ algorithm, leaves: [leaf] });
        expect(Buffer.from(withControl!).toString('hex')).toBe(Buffer.from(without!).toString('hex'));
        // every byte counted once, in the batch's own slot
        expect(c[2]).toBe(BigInt(size));
        expect(c[1]).toBe(0n);

        const aborted = counters();
        Atomics.store(aborted, 0, 1n);
        expect(() => h.hashLeaves({ algorithm, leaves: [leaf], control: { counters: aborted, slot: 1 } })).toThrow(expect.objectContaining({ code: 'ABORTED' }));
        // stopped at its first block: far less than the file was read
        expect(aborted[1]!).toBeLessThan(BigInt(size));
      });
    }
  }

  it('hashModel: progress events never go backwards and end at the total', async () => {
    const seen: number[] = [];
    const r = await hashModel(t.path, { workers: 1, onProgress: (e) => seen.push(e.bytesDone) });
    expect(seen.at(-1)).toBe(r.bytes);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!).toBeGreaterThanOrEqual(seen[i - 1]!);
  });
});
