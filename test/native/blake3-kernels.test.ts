/**
 * Native BLAKE3 kernels, each forced by name: official vectors, lengths at block / chunk / SIMD
 * group edges, subtree CVs at chunk counters that cross 2^32, and subtree CVs merged in tree order.
 * Oracles: the official vectors, @noble/hashes (whole inputs), and the independent reference in
 * blake3-helpers.ts (subtrees at any counter).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { blake3 as nobleBlake3 } from '@noble/hashes/blake3.js';
import { describe, expect, it } from 'vitest';
import { fill251, hex, itVectors, VECTORS_DIR, whenVectors } from '../helpers.js';
import { ALL_BLAKE3_KERNELS, addon, kernelSkip, kernels, mergeInTreeOrder, refDigest, refParent, refSubtreeCv, skipReason } from './blake3-helpers.js';

interface VectorCase {
  input_len: number;
  hash: string;
}
const vectors = whenVectors(() => (JSON.parse(readFileSync(join(VECTORS_DIR, 'blake3', 'test_vectors.json'), 'utf8')) as { cases: VectorCase[] }).cases, []);

/** Lengths around every boundary the code cares about: blocks, chunks, SIMD groups (4/8/16 chunks). */
const EDGE_LENGTHS = (() => {
  const s = new Set<number>();
  for (let n = 0; n <= 200; n++) s.add(n);
  for (const b of [4, 8, 15, 16, 17]) for (const d of [-1, 0, 1]) s.add(64 * b + d);
  for (const chunks of [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 63, 64, 65, 255, 256, 257, 300, 512, 513])
    for (const d of [-1, 0, 1, 64]) s.add(1024 * chunks + d);
  return [...s].sort((a, b) => a - b);
})();

const MAX_EDGE = EDGE_LENGTHS[EDGE_LENGTHS.length - 1]!;
const DATA = fill251(MAX_EDGE);
const expectedDigest = new Map<number, string>();  // noble is slow: compute each length once
const nobleHex = (n: number): string => {
  let h = expectedDigest.get(n);
  if (h === undefined) {
    h = hex(nobleBlake3(DATA.subarray(0, n)));
    expectedDigest.set(n, h);
  }
  return h;
};

describe.skipIf(!addon)(`native BLAKE3 dispatch${addon ? '' : ` (skipped: ${skipReason})`}`, () => {
  it('lists runnable kernels best first, portable last, and defaults to the best', () => {
    expect(kernels.at(-1)).toBe('portable');
    expect(addon!.blake3DefaultKernel()).toBe(kernels[0]);
    const f = addon!.cpuFeatures();
    // The kernel list follows the CPU: AVX-512 only with both F and VL, and never on arm64.
    expect(kernels.includes('avx512')).toBe(f.arch === 'x86_64' && f.avx512f && f.avx512vl);
    expect(kernels.includes('avx2')).toBe(f.arch === 'x86_64' && f.avx2);
    expect(kernels.includes('sse41')).toBe(f.arch === 'x86_64' && f.sse41);
  });
});

for (const k of ALL_BLAKE3_KERNELS) {
  const why = kernelSkip(k);
  describe.skipIf(why !== '')(`native BLAKE3 kernel ${k}${why ? ` (skipped: ${why})` : ''}`, () => {
    itVectors('matches the official test vectors (32-byte prefix, input i % 251)', () => {
      for (const c of vectors) {
        const out = addon!.blake3Bytes(fill251(c.input_len), 0, 'digest', k);
        expect(hex(out), `input_len ${c.input_len}`).toBe(c.hash.slice(0, 64));
      }
    });

    it('matches @noble/hashes at lengths 0-200 and block / chunk / SIMD-group edges', () => {
      for (const n of EDGE_LENGTHS) {
        expect(hex(addon!.blake3Bytes(DATA.subarray(0, n), 0, 'digest', k)), `length ${n}`).toBe(nobleHex(n));
      }
    });

    it('hashes unaligned input buffers the same', () => {
      const backing = new Uint8Array(70_000 + 3);
      for (const shift of [1, 2, 3]) {
        const view = backing.subarray(shift, shift + 70_000);
        view.set(DATA.subarray(0, 70_000));
        expect(hex(addon!.blake3Bytes(view, 0, 'digest', k))).toBe(nobleHex(70_000));
      }
    });

    it('equals the independent reference for subtree CVs at small counters', () => {
      for (const [chunks, extra, counter] of [[1, 0, 0], [1, -1000, 5], [2, 0, 2], [3, 1, 0], [8, 0, 8], [16, 0, 16], [17, 7, 32], [64, 0, 64]] as const) {
        const data = fill251(chunks * 1024 + extra, counter * 1024);
        expect(hex(addon!.blake3Bytes(data, counter, 'cv', k)), `${chunks} chunks${extra ? ` ${extra}` : ''} at ${counter}`).toBe(
          hex(refSubtreeCv(data, BigInt(counter))),
        );
      }
    });

    it('computes subtree CVs whose chunk counters cross 2^32, equal to the reference and to portable', () => {
      // Subtrees at offset 2^32*1024 - k*1024: the SIMD lanes of one group straddle the carry into
      // the high counter word, and the parents above them mix both sides.
      const cases: Array<[chunksBefore: number, chunks: number, extraBytes: number]> = [
        [1, 1, 0], [1, 2, 0], [3, 8, 0], [4, 8, 0], [8, 16, 0], [7, 16, 100], [16, 32, 0], [32, 64, 0], [12, 33, 17], [1, 300, 0],
      ];
      for (const [before, chunks, extra] of cases) {
        const counter = 2 ** 32 - before;
        const data = fill251(chunks * 1024 + extra, 7 * before);
        const got = hex(addon!.blake3Bytes(data, counter, 'cv', k));
        const label = `${chunks} chunks + ${extra} at 2^32 - ${before}`;
        expect(got, label).toBe(hex(refSubtreeCv(data, BigInt(counter))));
        expect(got, `${label} vs portable`).toBe(hex(addon!.blake3Bytes(data, counter, 'cv', 'portable')));
      }
      // Far beyond 2^32 too (counters up to 2^53 / 1024 are reachable through JS offsets).
      const big = 2 ** 43 + 2 ** 32 - 8;
      const data = fill251(16 * 1024);
      expect(hex(addon!.blake3Bytes(data, big, 'cv', k))).toBe(hex(refSubtreeCv(data, BigInt(big))));
    });

    it('subtree CVs of many split sizes, merged in tree order, give the whole digest', () => {
      const total = 200 * 1024 + 333;  // not a multiple of any split: the last subtree is a tail
      const data = DATA.subarray(0, total);
      const whole = nobleHex(total);
      expect(hex(addon!.blake3Bytes(data, 0, 'digest', k))).toBe(whole);
      for (const split of [1024, 2048, 4096, 8192, 16384, 65536, 131072]) {
        const cvs: Uint8Array[] = [];
        for (let off = 0; off < total; off += split) {
          cvs.push(addon!.blake3Bytes(data.subarray(off, Math.min(total, off + split)), off / 1024, 'cv', k));
        }
        expect(hex(mergeInTreeOrder(cvs, addon!.blake3Parent)), `split ${split}`).toBe(whole);
      }
    });
  });
}

describe.skipIf(!addon)(`native BLAKE3 parent and reference cross-checks${addon ? '' : ` (skipped: ${skipReason})`}`, () => {
  it('blake3Parent equals the reference parent, with and without ROOT', () => {
    const l = fill251(32, 3);
    const r = fill251(32, 99);
    for (const root of [false, true]) expect(hex(addon!.blake3Parent(l, r, root))).toBe(hex(refParent(l, r, root)));
    expect(addon!.blake3Parent(l, r, true)).toBeInstanceOf(Uint8Array);
  });

  it('the test reference itself agrees with @noble/hashes (so that it can be trusted at other counters)', () => {
    for (const n of [0, 1, 64, 65, 1024, 1025, 2048, 3073, 9000]) expect(hex(refDigest(DATA.subarray(0, n))), `length ${n}`).toBe(nobleHex(n));
  });

  it('refuses bad arguments with TypeError / RangeError naming the argument', () => {
    const a = addon!;
    const d = new Uint8Array(10);
    expect(() => a.blake3Bytes('x' as unknown as Uint8Array, 0, 'digest')).toThrow(TypeError);
    expect(() => a.blake3Bytes(d, 0, 'digest')).not.toThrow();
    expect(() => a.blake3Bytes(d, -1, 'cv')).toThrow(/chunkCounter/);
    expect(() => a.blake3Bytes(d, 1.5, 'cv')).toThrow(RangeError);
    expect(() => a.blake3Bytes(d, 2 ** 53, 'cv')).toThrow(RangeError);
    expect(() => a.blake3Bytes(d, 3, 'digest')).toThrow(/chunkCounter must be 0/);
    expect(() => a.blake3Bytes(d, 0, 'root' as 'cv')).toThrow(RangeError);
    expect(() => a.blake3Bytes(new Uint8Array(0), 0, 'cv')).toThrow(RangeError);
    expect(() => a.blake3Parent(new Uint8Array(31), new Uint8Array(32), false)).toThrow(/left/);
    expect(() => a.blake3Parent(new Uint8Array(32), new Uint8Array(32), 1 as unknown as boolean)).toThrow(TypeError);
    try {
      a.blake3Bytes(d, 0, 'digest', 'avx9000');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(RangeError);
      expect((e as { code?: string }).code).toBe('BAD_ARGUMENT');
    }
  });

  it('refuses a kernel this CPU cannot run with KERNEL_UNAVAILABLE', () => {
    const missing = ALL_BLAKE3_KERNELS.filter((k) => !kernels.includes(k));
    if (missing.length === 0) return;  // every kernel runs here: nothing to refuse
    for (const k of missing) {
      try {
        addon!.blake3Bytes(new Uint8Array(1), 0, 'digest', k);
        expect.unreachable();
      } catch (e) {
        expect((e as { code?: string }).code, k).toBe('KERNEL_UNAVAILABLE');
      }
    }
  });
});
