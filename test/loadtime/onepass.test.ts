/**
 * `sign --merkle` in one pass: the companion built from the leaves the hashing workers emit
 * (buildCompanionFromLeaves) is bit-identical to the two-pass reference (buildCompanion, which reads
 * every file again), for SHA-256 files and shards (shard edges that cut leaves), the native-thread,
 * worker-pool (node-crypto) and in-thread paths, the JS-side backends, BLAKE2b and BLAKE3 outboards; and signModel writes it.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCompanion, buildCompanionFromLeaves } from '../../src/sign/companion.js';
import { createKeySigner, hashModel, signModel } from '../../src/index.js';
import type { HashModelOptions } from '../../src/engine/types.js';
import { fill251, tempDir } from '../helpers.js';
import { writeKeys } from './fixtures.js';
import { skipReason } from '../gpu/gpu-env.js';

let t: { path: string; cleanup: () => void };
let keys: { priv: string; pub: string };
let small: string;
let big: string;

// sizes at leaf edges ±1 (leaves of 1 KiB and 4 KiB), an empty file, and one over the in-thread limit
const SMALL_SIZES = [0, 1, 1023, 1024, 1025, 4095, 4096, 4097, 9000];
beforeAll(() => {
  t = tempDir();
  keys = writeKeys(t.path);
  small = join(t.path, 'small');
  big = join(t.path, 'big');
  for (const [d, sizes] of [[small, SMALL_SIZES], [big, [...SMALL_SIZES, 3 * 2 ** 20 + 777, 2 ** 20 + 1]]] as const) {
    mkdirSync(join(d, 'sub'), { recursive: true });
    sizes.forEach((n, i) => writeFileSync(join(d, i % 2 ? 'sub' : '', `f${i}.bin`), fill251(n, i)));
  }
});
afterAll(() => t.cleanup());

async function compare(dir: string, leaf: number, opts: HashModelOptions): Promise<void> {
  const signer = createKeySigner(keys.priv);
  const h = await hashModel(dir, { ...opts, merkleLeafBytes: leaf, allowEmpty: true });
  expect(h.merkle?.leafBytes).toBe(leaf);
  // in files mode the pass emits every leaf (the builder reads none); shards leave only the cut ones
  const missing = h.merkle!.files.reduce((n, f) => n + f.entries.filter((e) => e === undefined).length, 0);
  if (opts.method !== 'shards' && opts.backend !== 'webgpu' && !opts.hybrid) expect(missing).toBe(0);
  const one = await buildCompanionFromLeaves(dir, h.manifest, h.merkle!, signer);
  const two = await buildCompanion(dir, h.manifest, signer, leaf);
  if (opts.method !== 'shards' && opts.backend !== 'webgpu' && !opts.hybrid) expect(one.bytes).toBe(0);
  expect(one.companion).toEqual(two.companion);
  expect(Buffer.compare(one.sidecar, two.sidecar)).toBe(0);
  // the manifest is the one a plain hash gives (the leaf output changes nothing in OMS)
  const plain = await hashModel(dir, { ...opts, allowEmpty: true });
  expect(h.manifest).toEqual(plain.manifest);
}

describe('sign --merkle in one pass: companion equal to the two-pass reference', () => {
  it('sha256 files, native threads (two-lane leaves, hashLeavesMerkleThreaded) with 1, 2 and 3 threads', async () => {
    await compare(big, 1024, { hash: 'sha256', workers: 2 });
    await compare(big, 4096, { hash: 'sha256', workers: 1 });
    await compare(big, 1024, { hash: 'sha256', workers: 3 });
  });
  it('sha256 files, in-thread path (model ≤ 1 MiB)', async () => {
    await compare(small, 1024, { hash: 'sha256' });
  });
  it('sha256 files on a kernel without a two-lane form (scalar)', async () => {
    await compare(small, 1024, { hash: 'sha256', backend: 'native', kernels: { sha256: 'scalar' } });
  });
  it('sha256 shards cutting leaves (shard 3000 B, leaf 1 KiB) and aligned shards', async () => {
    await compare(big, 1024, { hash: 'sha256', method: 'shards', shardSize: 3000, workers: 2 });
    await compare(big, 4096, { hash: 'sha256', method: 'shards', shardSize: 8192, workers: 2 });
  });
  it('JS-side backends and BLAKE2b (leaves read again in the worker)', async () => {
    await compare(big, 1024, { hash: 'sha256', backend: 'node-crypto', workers: 2 });
    await compare(small, 1024, { hash: 'sha256', backend: 'js' });
    await compare(big, 4096, { hash: 'blake2b', workers: 2 });
  });
  it('blake3 files: the plan at the leaf size, subtree CVs are the outboard', async () => {
    await compare(big, 1024, { hash: 'blake3', workers: 2 });
    await compare(big, 2 ** 20, { hash: 'blake3', workers: 2 });
    await compare(small, 4096, { hash: 'blake3' });
  });
  it.skipIf(skipReason !== null)('GPU lanes emit no leaves: the builder reads the leaves they hashed (webgpu alone, and hybrid)', async () => {
    await compare(small, 1024, { hash: 'sha256', backend: 'webgpu' });
    await compare(small, 1024, { hash: 'blake3', backend: 'webgpu' });
    await compare(big, 4096, { hash: 'sha256', hybrid: true, workers: 1 });
  });
  it('refuses a leaf size that is not a power of two', async () => {
    await expect(hashModel(small, { merkleLeafBytes: 3000 })).rejects.toMatchObject({ code: 'LEAF_SIZE_INVALID' });
  });
  it('signModel --merkle writes the one-pass companion; its sidecar equals the two-pass one', async () => {
    for (const hash of ['sha256', 'blake3'] as const) {
      const sig = join(t.path, `big-${hash}.sig`);
      const r = await signModel(big, { privateKey: keys.priv, output: sig, hash, merkle: { leafSize: 4096 } });
      const ref = await buildCompanion(big, r.manifest, createKeySigner(keys.priv), 4096);
      expect(Buffer.compare(readFileSync(`${sig}.merkle.tree`), ref.sidecar)).toBe(0);
      // nothing was read again by the companion builder
      expect(r.companion?.bytes).toBe(0);
    }
  });
});
