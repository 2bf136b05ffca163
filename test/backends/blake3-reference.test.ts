import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { blake3 } from '@noble/hashes/blake3.js';
import { blake3Digest, blake3MergeCvs, blake3Parent, blake3SubtreeCv } from '../../src/backends/js/blake3.js';
import { describeVectors, fill251, hex, VECTORS_DIR, whenVectors } from '../helpers.js';

interface Vectors { cases: Array<{ input_len: number; hash: string }> }
const vectors = whenVectors(() => JSON.parse(readFileSync(join(VECTORS_DIR, 'blake3', 'test_vectors.json'), 'utf8')) as Vectors, { cases: [] });

describeVectors('BLAKE3 reference (src/backends/js/blake3.ts) on the official vectors', () => {
  it.each(vectors.cases.map((c) => [c.input_len, c.hash] as const))('official vector, %i bytes', (len, expected) => {
    expect(expected.startsWith(hex(blake3Digest(fill251(len))))).toBe(true);
  });
});

describe('BLAKE3 reference (src/backends/js/blake3.ts)', () => {
  it('agrees with @noble/hashes at chunk and block edges', () => {
    for (const len of [0, 1, 63, 64, 65, 1023, 1024, 1025, 2047, 2048, 2049, 3072, 4097, 8191, 8193]) {
      const d = fill251(len, 7);
      expect(hex(blake3Digest(d)), `len ${len}`).toBe(hex(blake3(d)));
    }
  });

  it('merging aligned subtree CVs in tree order gives the whole-input digest', () => {
    const data = fill251(13 * 4096 + 333);
    for (const subtreeBytes of [1024, 2048, 4096, 16384, 32768]) {
      const cvs: Uint8Array[] = [];
      for (let o = 0; o < data.length; o += subtreeBytes) cvs.push(blake3SubtreeCv(data.subarray(o, o + subtreeBytes), o / 1024));
      expect(hex(blake3MergeCvs(cvs)), `subtree ${subtreeBytes}`).toBe(hex(blake3(data)));
    }
  });

  it('encodes chunk counters beyond 2^32 in both counter words', () => {
    const d = fill251(2048);
    const low = blake3SubtreeCv(d, 5);
    const high = blake3SubtreeCv(d, 2 ** 32 + 5);
    expect(hex(low)).not.toBe(hex(high));
    // A parent of the two single-chunk CVs at counter c equals the 2-chunk subtree CV at counter c.
    const c = 2 ** 32 - 1;
    const left = blake3SubtreeCv(d.subarray(0, 1024), c);
    const right = blake3SubtreeCv(d.subarray(1024), c + 1);
    expect(hex(blake3Parent(left, right, false))).toBe(hex(blake3SubtreeCv(d, c)));
  });

  it('refuses to "merge" a single CV', () => {
    expect(() => blake3MergeCvs([new Uint8Array(32)])).toThrow(RangeError);
  });
});
