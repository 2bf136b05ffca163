/**
 * The webgpu backend against node:crypto SHA-256 and @noble/hashes BLAKE3 (digests) and the JS
 * subtree-CV reference (src/backends/js/blake3.ts), bit for bit, at the boundaries the kernels care
 * about: SHA-256 block/padding edges, BLAKE3 block/chunk/group (64 KiB) edges, leaves cut across
 * upload batches, chunk counters crossing 2^32, and a 256 MiB file streamed in 64 MiB batches.
 */
import { createHash } from 'node:crypto';
import { closeSync, ftruncateSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { blake3 } from '@noble/hashes/blake3.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blake3SubtreeCv } from '../../src/backends/js/blake3.js';
import type { Leaf } from '../../src/backends/types.js';
import { createWebGpuBackend, type WebGpuBackend } from '../../src/backends/webgpu/index.js';
import { fill251, hex, tempDir } from '../helpers.js';
import { skipReason } from './gpu-env.js';

const KiB = 1024;
const MiB = 1024 * KiB;

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const b3 = (b: Uint8Array): string => hex(blake3(b));

describe.skipIf(skipReason !== null)('webgpu backend', () => {
  let gpu: WebGpuBackend;
  let small: WebGpuBackend; // 64 KiB batches: forces leaves across batches with small files
  const dir = tempDir('modelseal-gpu-');
  const data = fill251(3 * MiB + 777);
  const file = join(dir.path, 'w.bin');
  writeFileSync(file, data);

  beforeAll(async () => {
    gpu = await createWebGpuBackend();
    small = await createWebGpuBackend({ batchBytes: 64 * KiB, slots: 2 });
    for (const b of [gpu, small]) {
      b.device.pushErrorScope('validation');
      b.device.pushErrorScope('out-of-memory');
    }
  });

  afterAll(async () => {
    for (const b of [gpu, small]) {
      // No validation or OOM error may have happened in any test.
      expect(await b.device.popErrorScope()).toBeNull();
      expect(await b.device.popErrorScope()).toBeNull();
      await b.close();
    }
    dir.cleanup();
  });

  const leaf = (offset: number, length: number, output: 'digest' | 'cv' = 'digest'): Leaf => ({ path: file, offset, length, output });
  const slice = (o: number, n: number): Uint8Array => data.subarray(o, o + n);

  const SHA_LENGTHS = [0, 1, 3, 4, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000, 4096, 65535, 65536, 65537];
  const B3_LENGTHS = [0, 1, 63, 64, 65, 1023, 1024, 1025, 2047, 2048, 2049, 3072, 64 * KiB - 1, 64 * KiB, 64 * KiB + 1, 128 * KiB + 1024, 1 * MiB + 1, 3 * MiB + 777];

  it('sha256 digests at block and padding edges, many lengths in one batch, unaligned file offsets', async () => {
    const leaves = SHA_LENGTHS.flatMap((n) => [leaf(0, n), leaf(13, n)]);
    const got = await gpu.hashLeaves({ algorithm: 'sha256', leaves });
    expect(got.map(hex)).toEqual(leaves.map((l) => sha(slice(l.offset, l.length))));
  });

  it('blake3 digests at block, chunk and 64-chunk group edges', async () => {
    const leaves = B3_LENGTHS.map((n) => leaf(0, n));
    const got = await gpu.hashLeaves({ algorithm: 'blake3', leaves });
    expect(got.map(hex)).toEqual(leaves.map((l) => b3(slice(l.offset, l.length))));
  });

  it('blake3 subtree CVs of aligned leaves (powers of two and the tail) match the JS reference', async () => {
    const leaves = [leaf(0, 1024, 'cv'), leaf(1024, 1024, 'cv'), leaf(2048, 2048, 'cv'), leaf(64 * KiB, 64 * KiB, 'cv'), leaf(1 * MiB, 1 * MiB, 'cv'), leaf(2 * MiB, data.length - 2 * MiB, 'cv'), leaf(3 * MiB, 777, 'cv')];
    const got = await gpu.hashLeaves({ algorithm: 'blake3', leaves });
    expect(got.map(hex)).toEqual(leaves.map((l) => hex(blake3SubtreeCv(slice(l.offset, l.length), l.offset / 1024))));
  });

  it('leaves longer than a batch: blake3 subtrees merged, sha256 state carried across batches (64 KiB batches)', async () => {
    const lens = [64 * KiB - 1, 64 * KiB, 64 * KiB + 1, 200 * KiB + 3, 1 * MiB, 3 * MiB + 777];
    const b3Got = await small.hashLeaves({ algorithm: 'blake3', leaves: lens.map((n) => leaf(0, n)) });
    expect(b3Got.map(hex)).toEqual(lens.map((n) => b3(slice(0, n))));
    const cvGot = await small.hashLeaves({ algorithm: 'blake3', leaves: [leaf(1 * MiB, 1 * MiB, 'cv'), leaf(2 * MiB, data.length - 2 * MiB, 'cv')] });
    expect(cvGot.map(hex)).toEqual([hex(blake3SubtreeCv(slice(1 * MiB, 1 * MiB), 1024)), hex(blake3SubtreeCv(slice(2 * MiB, data.length - 2 * MiB), 2048))]);
    const shaLens = lens.map((n) => Math.min(n, data.length - 5));
    const shaGot = await small.hashLeaves({ algorithm: 'sha256', leaves: shaLens.map((n) => leaf(5, n)) });
    expect(shaGot.map(hex)).toEqual(shaLens.map((n) => sha(slice(5, n))));
  });

  it('many shards of different lengths in one call (sha256 shards of a file, 64 KiB batches pack several)', async () => {
    const shard = 48 * KiB + 4;
    const leaves: Leaf[] = [];
    for (let o = 0; o < data.length; o += shard) leaves.push(leaf(o, Math.min(shard, data.length - o)));
    const got = await small.hashLeaves({ algorithm: 'sha256', leaves });
    expect(got.map(hex)).toEqual(leaves.map((l) => sha(slice(l.offset, l.length))));
  });

  it('chunk counters crossing 2^32: cv leaves near offset 2^32 KiB of a sparse file', async () => {
    const sparse = join(dir.path, 'sparse.bin');
    const base = 2 ** 32 * 1024 - 4 * 1024; // chunk counter 2^32 - 4
    const tail = fill251(12 * 1024 + 5, 7);
    const fd = openSync(sparse, 'w');
    try {
      ftruncateSync(fd, base);
      writeSync(fd, tail, 0, tail.length, base);
    } finally {
      closeSync(fd);
    }
    const leaves: Leaf[] = [
      { path: sparse, offset: base, length: 8 * 1024, output: 'cv' }, // counters 2^32-4 .. 2^32+3
      { path: sparse, offset: base + 4096, length: 4096, output: 'cv' }, // counters 2^32 .. 2^32+3
      { path: sparse, offset: base + 8192, length: tail.length - 8192, output: 'cv' }, // the tail past 2^32
    ];
    const got = await gpu.hashLeaves({ algorithm: 'blake3', leaves });
    expect(got.map(hex)).toEqual(leaves.map((l) => hex(blake3SubtreeCv(tail.subarray(l.offset - base, l.offset - base + l.length), l.offset / 1024))));
  });

  it('a file that shrank is reported as FILE_CHANGED, and the backend keeps working after it', async () => {
    await expect(gpu.hashLeaves({ algorithm: 'sha256', leaves: [leaf(0, data.length + 10)] })).rejects.toMatchObject({ code: 'FILE_CHANGED' });
    const ok = await gpu.hashLeaves({ algorithm: 'sha256', leaves: [leaf(0, 100)] });
    expect(hex(ok[0]!)).toBe(sha(slice(0, 100)));
  });

  it('rejects blake2b with a clear code, and cv leaves that are not chunk-aligned', async () => {
    await expect(gpu.hashLeaves({ algorithm: 'blake2b', leaves: [leaf(0, 1)] })).rejects.toMatchObject({ code: 'ALGORITHM_UNSUPPORTED' });
    await expect(gpu.hashLeaves({ algorithm: 'blake3', leaves: [leaf(5, 1024, 'cv')] })).rejects.toThrow(/multiple of 1024/);
  });
});

describe.skipIf(skipReason !== null)('webgpu backend: streaming a 256 MiB file in 64 MiB batches', () => {
  it('blake3 digest and cv leaves, sha256 shards: equal to the CPU references', async () => {
    const dir = tempDir('modelseal-gpu-big-');
    const gpu = await createWebGpuBackend({ batchBytes: 64 * MiB });
    try {
      const size = 256 * MiB + 4099;
      const file = join(dir.path, 'big.bin');
      // Generated in 16 MiB blocks (prime-period fill continued across blocks), hashed on the CPU as it is written.
      const fd = openSync(file, 'w');
      const whole = createHash('sha256');
      const b3whole = blake3.create();
      const shardSize = 8 * MiB;
      const shardHashes: string[] = [];
      const block = 16 * MiB;
      try {
        for (let o = 0; o < size; o += block) {
          const b = fill251(Math.min(block, size - o), o);
          writeSync(fd, b, 0, b.length, o);
          whole.update(b);
          b3whole.update(b);
          for (let s = 0; s < b.length; s += shardSize) shardHashes.push(sha(b.subarray(s, s + shardSize)));
        }
      } finally {
        closeSync(fd);
      }
      gpu.device.pushErrorScope('validation');
      const [b3d] = await gpu.hashLeaves({ algorithm: 'blake3', leaves: [{ path: file, offset: 0, length: size, output: 'digest' }] });
      expect(hex(b3d!)).toBe(hex(b3whole.digest()));
      const shards: Leaf[] = shardHashes.map((_, i) => ({ path: file, offset: i * shardSize, length: Math.min(shardSize, size - i * shardSize), output: 'digest' }));
      const got = await gpu.hashLeaves({ algorithm: 'sha256', leaves: shards });
      expect(got.map(hex)).toEqual(shardHashes);
      const [shaWhole] = await gpu.hashLeaves({ algorithm: 'sha256', leaves: [{ path: file, offset: 0, length: size, output: 'digest' }] });
      expect(hex(shaWhole!)).toBe(whole.digest('hex'));
      expect(await gpu.device.popErrorScope()).toBeNull();
    } finally {
      await gpu.close();
      dir.cleanup();
    }
  });
});
