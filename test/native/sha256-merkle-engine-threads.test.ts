/**
 * hashModel with merkleLeafBytes (sign --merkle, verify with a SHA-256 companion) on the native
 * backend runs SHA-256 and the companion's RFC 9162 leaves on native threads
 * (hashLeavesMerkleThreaded), not on the worker pool: the manifest must be the reference one, and the
 * `merkle` leaves byte-identical to the worker pool's (native sha256LeavesMerkle on piscina workers, and
 * the node-crypto backend's pool path), for 1, 2 and 3 threads, files and shards.
 */
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadCpuBackend } from '../../src/backends/registry.js';
import { hashModel } from '../../src/engine/hash-model.js';
import { HashPool } from '../../src/engine/pool.js';
import type { MerkleLeaves } from '../../src/engine/types.js';
import { fill251, tempDir } from '../helpers.js';

const L = 4096;
const native = await loadCpuBackend('native').then(
  (m) => {
    const p = m.probe();
    if (!p.ok) return p.reason;
    return m.createLeafHasher().hashLeavesMerkleThreaded ? '' : 'this addon build has no sha256LeavesMerkleAsync (run `npm run build:native`)';
  },
  (e: Error) => e.message,
);

// shorter than one leaf, exactly k leaves, k leaves ± 1 byte, empty; 2 MiB + 5 keeps the model over
// the in-thread limit (1 MiB), so the plan goes to threads or the pool
const SIZES = [0, 1, L - 1, L, L + 1, 5 * L - 1, 5 * L, 5 * L + 1, 2 * 2 ** 20 + 5];

const hexes = (m: MerkleLeaves) => m.files.map((f) => ({ rel: f.rel, size: f.size, entries: f.entries.map((e) => (e ? Buffer.from(e).toString('hex') : null)) }));

describe.skipIf(native !== '')(`hashModel sha256 + Merkle leaves on native threads${native ? ` (skipped: ${native})` : ''}`, () => {
  let t: ReturnType<typeof tempDir>;
  let model: string;
  beforeAll(() => {
    t = tempDir('modelseal-merkle-threads-');
    model = join(t.path, 'model');
    mkdirSync(join(model, 'sub'), { recursive: true });
    SIZES.forEach((n, i) => writeFileSync(join(model, i % 2 ? 'sub' : '', `f${i}.bin`), fill251(n, i + 1)));
  });
  afterAll(() => t?.cleanup());
  afterEach(() => vi.restoreAllMocks());

  it('files: the reference manifest, and the leaves of the native worker pool, for 1, 2 and 3 threads; no pool started', async () => {
    const want = await hashModel(model, { hash: 'sha256', backend: 'js', workers: 1, allowEmpty: true });
    // the pool path's call, per file: native sha256LeavesMerkle in a piscina worker
    const pool = new HashPool(2);
    const poolLeaves = new Map<string, string[]>();
    try {
      for (const f of SIZES.map((size, i) => ({ rel: `${i % 2 ? 'sub/' : ''}f${i}.bin`, size }))) {
        const path = join(model, f.rel);
        const count = Math.ceil(f.size / L);
        const reply = await pool.runWithLeaves({ backend: 'native', algorithm: 'sha256', leaves: [{ path, offset: 0, length: f.size, output: 'digest' }], merkle: { leafBytes: L, first: [0], count: [count] } });
        const h = Buffer.from(reply.leafHashes!).toString('hex');
        poolLeaves.set(f.rel, Array.from({ length: count }, (_, i) => h.slice(64 * i, 64 * i + 64)));
      }
    } finally {
      await pool.close();
    }
    expect(poolLeaves.size).toBe(SIZES.length);
    const runs = vi.spyOn(HashPool.prototype, 'runWithLeaves');
    for (const workers of [1, 2, 3]) {
      const seen: number[] = [];
      const r = await hashModel(model, { hash: 'sha256', backend: 'native', workers, merkleLeafBytes: L, allowEmpty: true, onProgress: (e) => seen.push(e.bytesDone) });
      expect(r.manifest.resources, `${workers} threads`).toEqual(want.manifest.resources);
      expect(r.workers).toBe(workers);
      expect(seen.at(-1)).toBe(r.bytes);
      expect(r.merkle!.tree).toBe('rfc9162-sha256');
      for (const f of r.merkle!.files) {
        expect(f.size).toBe(statSync(join(model, f.rel)).size);
        expect(f.entries.map((e) => Buffer.from(e!).toString('hex')), `${workers} threads ${f.rel}`).toEqual(poolLeaves.get(f.rel));
      }
    }
    expect(runs).not.toHaveBeenCalled();
  });

  it('files and shards (shard edges cutting leaves): the leaves equal the node-crypto backend pool path, cut leaves left undefined alike', async () => {
    for (const opts of [{ method: 'files' as const }, { method: 'shards' as const, shardSize: 3000 }, { method: 'shards' as const, shardSize: 2 * L }]) {
      const ref = await hashModel(model, { hash: 'sha256', backend: 'node-crypto', workers: 2, merkleLeafBytes: L, allowEmpty: true, ...opts });
      for (const workers of [1, 3]) {
        const r = await hashModel(model, { hash: 'sha256', backend: 'native', workers, merkleLeafBytes: L, allowEmpty: true, ...opts });
        expect(r.manifest, `${opts.method} ${workers}`).toEqual(ref.manifest);
        expect(hexes(r.merkle!), `${opts.method} ${workers}`).toEqual(hexes(ref.merkle!));
      }
    }
  });

  it('refuses to start once the signal has fired, as the pool path does', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(hashModel(model, { hash: 'sha256', backend: 'native', workers: 2, merkleLeafBytes: L, signal: ac.signal, allowEmpty: true })).rejects.toMatchObject({ name: 'AbortError' });
  });
});
