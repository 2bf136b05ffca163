/**
 * hashModel with --hash blake3 on the native backend runs the leaves on native threads
 * (hashLeavesThreaded) instead of a worker pool: the manifest must be the one the pure-JS reference
 * backend gives, for 1, 2 and 3 threads, with files split into several subtree leaves and files of
 * one leaf; progress ends at the total. (ABORTED from the threads mid-file: test/native/blake3-threads.test.ts.)
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCpuBackend } from '../../src/backends/registry.js';
import { hashModel } from '../../src/engine/hash-model.js';
import { fill251, tempDir } from '../helpers.js';

const MiB = 2 ** 20;
const native = await loadCpuBackend('native').then(
  (m) => {
    const p = m.probe();
    if (!p.ok) return p.reason;
    return m.createLeafHasher().threadedAlgorithm?.('blake3') ? '' : 'this addon build has no threaded BLAKE3 (run `npm run build:native`)';
  },
  (e: Error) => e.message,
);

describe.skipIf(native !== '')(`hashModel blake3 on native threads${native ? ` (skipped: ${native})` : ''}`, () => {
  let t: ReturnType<typeof tempDir>;
  beforeAll(() => {
    t = tempDir('modelseal-b3-threads-');
    // 8 MiB subtree leaves: the first file has three, the second one, plus a tiny and an empty file
    writeFileSync(join(t.path, 'a.bin'), fill251(17 * MiB + 12345, 1));
    writeFileSync(join(t.path, 'b.bin'), fill251(3 * MiB + 7, 2));
    writeFileSync(join(t.path, 'c.json'), '{"x":1}');
    writeFileSync(join(t.path, 'empty'), '');
  });
  afterAll(() => t?.cleanup());

  it('gives the reference manifest with 1, 2 and 3 threads', async () => {
    const want = await hashModel(t.path, { hash: 'blake3', backend: 'js', workers: 1 });
    for (const workers of [1, 2, 3]) {
      const seen: number[] = [];
      const r = await hashModel(t.path, { hash: 'blake3', backend: 'native', workers, onProgress: (e) => seen.push(e.bytesDone) });
      expect(r.manifest.resources, `${workers} threads`).toEqual(want.manifest.resources);
      expect(r.manifest.rootDigest).toBe(want.manifest.rootDigest);
      expect(r.workers).toBe(workers);
      expect(r.backendBytes.native).toBe(r.bytes);
      expect(seen.at(-1)).toBe(r.bytes);
    }
  });

  it('refuses to start once the signal has fired (the pool path does the same)', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(hashModel(t.path, { hash: 'blake3', backend: 'native', workers: 2, signal: ac.signal })).rejects.toMatchObject({ name: 'AbortError' });
  });
});
