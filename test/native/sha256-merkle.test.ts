/**
 * sha256LeavesMerkle / sha256BytesMerkle: a range's SHA-256 and the RFC 9162 leaf hashes
 * SHA-256(0x00 ‖ leaf) of the Merkle leaves inside it, in one read (two SHA lanes), on every runnable
 * kernel, against node:crypto; leaf and block edges ±1; leaves cut by a range edge; bad arguments.
 * sha256LeavesMerkleAsync (the same on native threads, hashModel's path with merkleLeafBytes): the
 * same bytes as sha256LeavesMerkle for 1-3 threads and many ranges, its errors, progress and abort.
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadNative } from '../../src/native/addon.js';
import { fill251, tempDir } from '../helpers.js';

interface MerkleAddon {
  sha256LeavesMerkle(paths: string[], offsets: number[], lengths: number[], leafFirst: number[], leafCount: number[], leafBytes: number, out: Uint8Array, leavesOut: Uint8Array, kernel?: string, options?: object): void;
  sha256BytesMerkle(data: Uint8Array, leafBytes: number, kernel?: string): Uint8Array;
  sha256LeavesMerkleAsync?(paths: string[], offsets: number[], lengths: number[], leafFirst: number[], leafCount: number[], leafBytes: number, out: Uint8Array, leavesOut: Uint8Array, kernel?: string, options?: object, threads?: number): Promise<void>;
  sha256Kernels(): string[];
}
const load = loadNative();
const addon = load.ok && typeof load.addon.sha256LeavesMerkle === 'function' ? (load.addon as unknown as MerkleAddon) : undefined;
const why = load.ok ? 'this addon build has no sha256LeavesMerkle; run `npm run build:native`' : load.reason;

const sha = (d: Uint8Array) => createHash('sha256').update(d).digest('hex');
const leafHash = (d: Uint8Array) => createHash('sha256').update(Buffer.from([0])).update(d).digest('hex');
const hexAt = (b: Uint8Array, k: number) => Buffer.from(b.subarray(32 * k, 32 * k + 32)).toString('hex');

describe.skipIf(!addon)(`native SHA-256 with RFC 9162 leaves${addon ? '' : ` (skipped: ${why})`}`, () => {
  const a = addon!;
  let dir: { path: string; cleanup: () => void };
  let file: string;
  const data = fill251(3 * 4096 + 1000);
  beforeAll(() => {
    dir = tempDir();
    file = join(dir.path, 'f.bin');
    writeFileSync(file, data);
  });
  afterAll(() => dir.cleanup());

  it('bytes in memory: digest and every leaf, each kernel, lengths at block and leaf edges ±1', () => {
    for (const kernel of a.sha256Kernels()) {
      for (const leaf of [64, 1024]) {
        for (const n of [0, 1, 55, 56, 63, 64, 65, 127, 128, 129, leaf - 1, leaf, leaf + 1, 2 * leaf - 1, 2 * leaf, 2 * leaf + 1, 5 * leaf + 63]) {
          const d = fill251(n, 7);
          const out = a.sha256BytesMerkle(d, leaf, kernel);
          const count = Math.ceil(n / leaf);
          expect(out.length, `${kernel} ${leaf} ${n}`).toBe(32 * (1 + count));
          expect(hexAt(out, 0), `${kernel} ${leaf} ${n}`).toBe(sha(d));
          for (let i = 0; i < count; i++) expect(hexAt(out, 1 + i), `${kernel} ${leaf} ${n} leaf ${i}`).toBe(leafHash(d.subarray(i * leaf, (i + 1) * leaf)));
        }
      }
    }
  });

  it('file ranges: unaligned range starts, leaves inside each range, the tail leaf cut by the file end', () => {
    const L = 4096;
    // [offset, length, first, count]: a whole file; a shard starting mid-leaf; one ending at the file end
    const cases: Array<[number, number, number, number]> = [
      [0, data.length, 0, 4],
      [1000, 3 * 4096, 1, 2],
      [4096 + 5, data.length - 4096 - 5, 2, 2],
      [10, 100, 0, 0],
    ];
    for (const kernel of a.sha256Kernels()) {
      const out = new Uint8Array(32 * cases.length);
      const leaves = new Uint8Array(32 * cases.reduce((s, c) => s + c[3], 0));
      a.sha256LeavesMerkle(cases.map(() => file), cases.map((c) => c[0]), cases.map((c) => c[1]), cases.map((c) => c[2]), cases.map((c) => c[3]), L, out, leaves, kernel);
      let k = 0;
      cases.forEach(([o, len, first, count], r) => {
        expect(hexAt(out, r), `${kernel} range ${r}`).toBe(sha(data.subarray(o, o + len)));
        for (let i = first; i < first + count; i++) expect(hexAt(leaves, k++), `${kernel} range ${r} leaf ${i}`).toBe(leafHash(data.subarray(i * L, Math.min((i + 1) * L, o + len))));
      });
    }
  });

  it('refuses leaves outside their range and a leaf size that is not a power of two', () => {
    const out = new Uint8Array(32);
    expect(() => a.sha256LeavesMerkle([file], [1000], [4096], [0], [1], 4096, out, new Uint8Array(32))).toThrow(/inside/);
    expect(() => a.sha256LeavesMerkle([file], [0], [4096], [1], [1], 4096, out, new Uint8Array(32))).toThrow(/inside/);
    expect(() => a.sha256LeavesMerkle([file], [0], [4096], [0], [1], 3000, out, new Uint8Array(32))).toThrow(/power of two/);
    expect(() => a.sha256LeavesMerkle([file], [0], [4096], [0], [1], 4096, out, new Uint8Array(64))).toThrow(/leavesOut/);
    expect(() => a.sha256LeavesMerkle([join(dir.path, 'missing')], [0], [1], [0], [1], 4096, out, new Uint8Array(32))).toThrow(expect.objectContaining({ code: 'FILE_NOT_FOUND' }));
    expect(() => a.sha256LeavesMerkle([file], [0], [data.length + 1], [0], [0], 4096, out, new Uint8Array(0))).toThrow(expect.objectContaining({ code: 'FILE_CHANGED' }));
  });

  describe.skipIf(!addon?.sha256LeavesMerkleAsync)('sha256LeavesMerkleAsync (native threads)', () => {
    const L = 1024;
    // files shorter than one leaf, exactly k leaves, k leaves ± 1 byte, and an empty file
    const SIZES = [0, 1, L - 1, L, L + 1, 3 * L - 1, 3 * L, 3 * L + 1, 40 * L + 7, 300 * L];
    let files: string[];
    let bytes: Uint8Array[];
    beforeAll(() => {
      bytes = SIZES.map((n, i) => fill251(n, i + 3));
      files = SIZES.map((_, i) => join(dir.path, `m${i}.bin`));
      files.forEach((f, i) => writeFileSync(f, bytes[i]!));
    });
    const leavesOf = (n: number) => Math.ceil(n / L);
    const args = (kernel?: string) => {
      const out = new Uint8Array(32 * files.length);
      const leaves = new Uint8Array(32 * SIZES.reduce((s, n) => s + leavesOf(n), 0));
      const call = [files, SIZES.map(() => 0), SIZES, SIZES.map(() => 0), SIZES.map(leavesOf), L, out, leaves, kernel] as const;
      return { out, leaves, call };
    };

    it('gives the bytes of sha256LeavesMerkle (and node:crypto) for 1, 2 and 3 threads, every kernel', async () => {
      for (const kernel of a.sha256Kernels()) {
        const sync = args(kernel);
        a.sha256LeavesMerkle(...sync.call);
        let k = 0;
        bytes.forEach((d, r) => {
          expect(hexAt(sync.out, r), `${kernel} file ${r}`).toBe(sha(d));
          for (let i = 0; i < leavesOf(d.length); i++) expect(hexAt(sync.leaves, k++), `${kernel} file ${r} leaf ${i}`).toBe(leafHash(d.subarray(i * L, (i + 1) * L)));
        });
        for (const threads of [1, 2, 3]) {
          const th = args(kernel);
          await a.sha256LeavesMerkleAsync!(...th.call, undefined, threads);
          expect(Buffer.compare(th.out, sync.out), `${kernel} ${threads} threads: digests`).toBe(0);
          expect(Buffer.compare(th.leaves, sync.leaves), `${kernel} ${threads} threads: leaves`).toBe(0);
        }
      }
    });

    it('rejects with the coded errors of the sync call; refuses bad thread counts and leaves outside their range at the call', async () => {
      const out = new Uint8Array(32);
      await expect(a.sha256LeavesMerkleAsync!([join(dir.path, 'missing')], [0], [1], [0], [1], L, out, new Uint8Array(32), undefined, undefined, 2)).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' });
      await expect(a.sha256LeavesMerkleAsync!([file], [0], [data.length + 1], [0], [0], L, out, new Uint8Array(0), undefined, undefined, 2)).rejects.toMatchObject({ code: 'FILE_CHANGED' });
      expect(() => a.sha256LeavesMerkleAsync!([file], [1000], [4096], [0], [1], L, out, new Uint8Array(32))).toThrow(/inside/);
      expect(() => a.sha256LeavesMerkleAsync!([file], [0], [4096], [0], [4], L, out, new Uint8Array(128), undefined, undefined, 0)).toThrow(/threads/);
    });

    it('adds every byte to the control slot, and stops with ABORTED once slot 0 is set', async () => {
      const counters = new BigInt64Array(new SharedArrayBuffer(16));
      const th = args();
      await a.sha256LeavesMerkleAsync!(...th.call, { control: { counters, slot: 1 } }, 2);
      expect(Number(counters[1])).toBe(SIZES.reduce((s, n) => s + n, 0));
      Atomics.store(counters, 0, 1n);
      await expect(a.sha256LeavesMerkleAsync!(...args().call, { control: { counters, slot: 1 } }, 2)).rejects.toMatchObject({ code: 'ABORTED' });
    });
  });
});
