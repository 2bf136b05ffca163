/**
 * The GPU work planner without a GPU: plans are executed by a CPU twin of the kernels (the JS BLAKE3
 * reference stands in for blake3_chunks.wgsl and blake3_parents.wgsl), and the packing and dispatch
 * shapes are checked against their invariants. Runs on every machine.
 */
import { describe, expect, it } from 'vitest';
import { blake3Digest, blake3MergeCvs, blake3Parent, blake3SubtreeCv } from '../../src/backends/js/blake3.js';
import {
  b3PieceBytes,
  cutLeaves,
  DESC_WORDS,
  descriptorLayout,
  dispatchGrid,
  MAX_WORKGROUPS_PER_DIM,
  mergeSubtreeCvs,
  PLACE_ALIGN,
  planBlake3,
  planSha256,
  shaDispatch,
  type B3Piece,
  type B3Plan,
} from '../../src/backends/webgpu/planner.js';
import { SHA_SMALL_BELOW, SHA_WORKGROUP, SHA_WORKGROUP_SMALL } from '../../src/backends/webgpu/tuning.js';

const ROOT_FLAG = 8;

function fill(n: number, seed = 0): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i + seed) % 251;
  return b;
}

/** BLAKE3 tree merge of consecutive aligned subtree CVs (left side: the largest power of two below n). */
function treeMerge(cvs: Uint8Array[], root: boolean): Uint8Array {
  if (cvs.length === 1) return cvs[0]!;
  let left = 1;
  while (left * 2 < cvs.length) left *= 2;
  return blake3Parent(treeMerge(cvs.slice(0, left), false), treeMerge(cvs.slice(left), false), root);
}

/** Runs a plan on the CPU the way the kernels run it on the GPU; returns the node buffer. */
function runPlan(plan: B3Plan, window: Uint8Array): Uint8Array[] {
  const nodes = new Array<Uint8Array>(plan.nodeCount);
  for (const pass of plan.passes) {
    expect(pass.groups.length).toBe(pass.count * DESC_WORDS);
    for (let g = 0; g < pass.count; g++) {
      const [a, b, lo, hi, out, flags] = pass.groups.subarray(g * DESC_WORDS, g * DESC_WORDS + 6);
      const root = (flags! & ROOT_FLAG) !== 0;
      expect(nodes[out!], `node ${out} written twice`).toBeUndefined();
      if (pass.kind === 'chunks') {
        const bytes = window.subarray(a!, a! + b!);
        const counter = hi! * 0x1_0000_0000 + lo!;
        nodes[out!] = root ? (expect(counter).toBe(0), blake3Digest(bytes)) : blake3SubtreeCv(bytes, counter);
      } else {
        const inputs = nodes.slice(a!, a! + b!);
        expect(inputs.every((x) => x !== undefined), 'a parent pass reads a node no earlier pass wrote').toBe(true);
        nodes[out!] = treeMerge(inputs, root);
      }
    }
  }
  return nodes;
}

describe('planBlake3', () => {
  it('a piece within one group is one chunk-kernel group writing node i, with ROOT only for digests', () => {
    const plan = planBlake3([
      { byteOffset: 0, byteLength: 1500, counter: 0, root: true },
      { byteOffset: 2048, byteLength: 4096, counter: 8, root: false },
    ], 64);
    expect(plan.passes.map((p) => p.kind)).toEqual(['chunks']);
    expect(plan.nodeCount).toBe(2);
    expect([...plan.passes[0]!.groups.subarray(0, 6)]).toEqual([0, 1500, 0, 0, 0, ROOT_FLAG]);
    expect([...plan.passes[0]!.groups.subarray(8, 14)]).toEqual([2048, 4096, 8, 0, 1, 0]);
  });

  it('splits a counter above 2^32 into its low and high words', () => {
    const counter = 2 ** 32 + 5 * 64;
    const plan = planBlake3([{ byteOffset: 0, byteLength: 64 * 1024, counter, root: false }], 64);
    expect([...plan.passes[0]!.groups.subarray(2, 4)]).toEqual([5 * 64, 1]);
  });

  // group sizes of the kernels, pieces at and around group and level boundaries
  for (const group of [32, 64, 128]) {
    it(`reduces every piece to its BLAKE3 digest or subtree CV in node i (group ${group})`, () => {
      const G = group * 1024;
      const lengths = [0, 1, 1024, 1025, G - 1, G, G + 1, 2 * G, 3 * G + 7, group * G + 1, 5 * G];
      const pieces: B3Piece[] = [];
      let at = 0;
      lengths.forEach((len, i) => {
        // whole inputs (digests) and, for the powers of two, aligned subtrees deeper in a file
        const asCv = i % 2 === 1 && len > 0 && (len & (len - 1)) === 0 && len % 1024 === 0;
        pieces.push({ byteOffset: at, byteLength: len, counter: asCv ? (len / 1024) * 3 : 0, root: !asCv });
        at += Math.ceil((len + 13) / 4) * 4;
      });
      const window = fill(at, group);
      const plan = planBlake3(pieces, group);
      expect(plan.pieceCount).toBe(pieces.length);
      const nodes = runPlan(plan, window);
      pieces.forEach((p, i) => {
        const bytes = window.subarray(p.byteOffset, p.byteOffset + p.byteLength);
        const want = p.root ? blake3Digest(bytes) : blake3SubtreeCv(bytes, p.counter);
        expect(Buffer.from(nodes[i]!).toString('hex'), `piece ${i} (${p.byteLength} bytes)`).toBe(Buffer.from(want).toString('hex'));
      });
    });
  }

  it('needs one parent pass per level above the chunk groups', () => {
    const G = 32 * 1024;
    expect(planBlake3([{ byteOffset: 0, byteLength: 32 * G, counter: 0, root: true }], 32).passes.length).toBe(2);
    expect(planBlake3([{ byteOffset: 0, byteLength: 32 * G + 1, counter: 0, root: true }], 32).passes.length).toBe(3);
  });
});

describe('descriptorLayout', () => {
  it('starts every pass at a multiple of the offset alignment, in order, without overlap', () => {
    const plan = planBlake3([{ byteOffset: 0, byteLength: 40 * 32 * 1024, counter: 0, root: true }], 32);
    const { offsets, totalBytes } = descriptorLayout(plan, 256);
    expect(offsets[0]).toBe(0);
    plan.passes.forEach((p, i) => {
      expect(offsets[i]! % 256).toBe(0);
      const end = offsets[i]! + p.count * DESC_WORDS * 4;
      expect(end).toBeLessThanOrEqual(i + 1 < offsets.length ? offsets[i + 1]! : totalBytes);
    });
  });
});

describe('planSha256', () => {
  it('writes offset, length, the 64-bit total, flags, state index and binding per segment', () => {
    const init = Uint32Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
    const { segments, initStates } = planSha256([
      { byteOffset: 0, byteLength: 128, totalLength: 2 ** 32 + 3, first: true, final: false },
      { byteOffset: 256, byteLength: 3, totalLength: 2 ** 32 + 3, first: false, final: true, initState: init, binding: 2 },
    ]);
    expect([...segments.subarray(0, 8)]).toEqual([0, 128, 3, 1, 1, 0, 0, 0]);
    expect([...segments.subarray(8, 16)]).toEqual([256, 3, 3, 1, 2, 1, 2, 0]);
    expect([...initStates!.subarray(8, 16)]).toEqual([...init]);
  });

  it('needs no resume states when every segment is first', () => {
    expect(planSha256([{ byteOffset: 0, byteLength: 5, totalLength: 5, first: true, final: true }]).initStates).toBeNull();
  });

  it('refuses a non-final segment off the 64-byte block grid, and a resumed segment without its state', () => {
    expect(() => planSha256([{ byteOffset: 0, byteLength: 100, totalLength: 200, first: true, final: false }])).toThrow(RangeError);
    expect(() => planSha256([{ byteOffset: 0, byteLength: 64, totalLength: 128, first: false, final: true }])).toThrow(RangeError);
  });
});

describe('dispatch shapes', () => {
  it('keeps every grid dimension within the WebGPU limit and covers every workgroup', () => {
    for (const n of [1, 2, MAX_WORKGROUPS_PER_DIM - 1, MAX_WORKGROUPS_PER_DIM, MAX_WORKGROUPS_PER_DIM + 1, 5_000_000]) {
      const [x, y] = dispatchGrid(n);
      expect(x).toBeLessThanOrEqual(MAX_WORKGROUPS_PER_DIM);
      expect(y).toBeLessThanOrEqual(MAX_WORKGROUPS_PER_DIM);
      expect(x * y).toBeGreaterThanOrEqual(n);
      expect(x * (y - 1)).toBeLessThan(n);
    }
  });

  it('uses small workgroups below SHA_SMALL_BELOW segments unless the tuning fixes the size', () => {
    expect(shaDispatch(SHA_SMALL_BELOW - 1, { shaWorkgroup: 0 })).toEqual({ small: true, workgroupSize: SHA_WORKGROUP_SMALL, workgroups: Math.ceil((SHA_SMALL_BELOW - 1) / SHA_WORKGROUP_SMALL) });
    expect(shaDispatch(SHA_SMALL_BELOW, { shaWorkgroup: 0 })).toEqual({ small: false, workgroupSize: SHA_WORKGROUP, workgroups: SHA_SMALL_BELOW / SHA_WORKGROUP });
    expect(shaDispatch(10, { shaWorkgroup: 128 })).toEqual({ small: true, workgroupSize: 128, workgroups: 1 });
  });
});

describe('cutLeaves', () => {
  const leaf = (length: number, offset = 0, output: 'digest' | 'cv' = 'digest') => ({ path: `/m/f${length}`, offset, length, output });

  it('packs pieces in order at PLACE_ALIGN offsets, never past the batch, covering every leaf exactly', () => {
    const B = 64 * 1024;
    for (const algorithm of ['sha256', 'blake3'] as const) {
      const leaves = [leaf(0), leaf(1), leaf(B - 1), leaf(B), leaf(B + 1), leaf(3 * B + 100, 4096), leaf(300)];
      const { batches, perLeaf } = cutLeaves({ algorithm, leaves }, B);
      const seen = leaves.map(() => [] as { piece: number; fileOffset: number; length: number }[]);
      for (const batch of batches) {
        let end = 0;
        for (const p of batch) {
          expect(p.batchOffset % PLACE_ALIGN).toBe(0);
          expect(p.batchOffset).toBeGreaterThanOrEqual(end);
          end = p.batchOffset + p.length;
          expect(end).toBeLessThanOrEqual(B);
          seen[p.leaf]!.push(p);
        }
      }
      leaves.forEach((l, i) => {
        const parts = seen[i]!;
        expect(parts.length).toBe(perLeaf[i]);
        expect(parts.map((p) => p.piece)).toEqual(parts.map((_, k) => k));
        let at = l.offset;
        for (const p of parts) {
          expect(p.fileOffset).toBe(at);
          at += p.length;
        }
        expect(at).toBe(l.offset + l.length);
      });
    }
  });

  it('cuts BLAKE3 leaves into power-of-two subtrees with their chunk counters; ROOT only on a one-piece digest', () => {
    const B = 64 * 1024 + 4096; // pieces are b3PieceBytes(B) = 64 KiB
    expect(b3PieceBytes(B)).toBe(64 * 1024);
    const { batches, perLeaf } = cutLeaves({ algorithm: 'blake3', leaves: [leaf(200 * 1024), leaf(128 * 1024, 1024 * 1024, 'cv'), leaf(10)] }, B);
    const all = batches.flat();
    expect(perLeaf).toEqual([4, 2, 1]);
    expect(all.filter((p) => p.leaf === 0).map((p) => p.b3!.counter)).toEqual([0, 64, 128, 192]);
    expect(all.filter((p) => p.leaf === 1).map((p) => p.b3!.counter)).toEqual([1024, 1088]);
    expect(all.map((p) => p.b3!.root)).toEqual([false, false, false, false, false, false, true]);
  });

  it('gives SHA-256 segments first/final flags and the whole leaf length', () => {
    const B = 64 * 1024;
    const { batches } = cutLeaves({ algorithm: 'sha256', leaves: [leaf(2 * B + 5)] }, B);
    const segs = batches.flat().map((p) => p.sha!);
    expect(segs.map((s) => [s.first, s.final, s.byteLength, s.totalLength])).toEqual([
      [true, false, B, 2 * B + 5],
      [false, false, B, 2 * B + 5],
      [false, true, 5, 2 * B + 5],
    ]);
  });

  it('refuses leaves the kernels cannot take', () => {
    expect(() => cutLeaves({ algorithm: 'sha256', leaves: [leaf(10, -1)] }, 65536)).toThrow(RangeError);
    expect(() => cutLeaves({ algorithm: 'sha256', leaves: [leaf(1024, 0, 'cv')] }, 65536)).toThrow(RangeError);
    expect(() => cutLeaves({ algorithm: 'blake3', leaves: [leaf(1024, 512, 'cv')] }, 65536)).toThrow(RangeError);
  });
});

describe('mergeSubtreeCvs', () => {
  it('merges the CVs of a cut leaf into its BLAKE3 digest, as the reference tree does', () => {
    const data = fill(5 * 64 * 1024 + 300);
    const P = 64 * 1024;
    const cvs: Uint8Array[] = [];
    for (let o = 0; o < data.length; o += P) cvs.push(blake3SubtreeCv(data.subarray(o, o + P), o / 1024));
    expect(Buffer.from(mergeSubtreeCvs(cvs, true))).toEqual(Buffer.from(blake3Digest(data)));
    expect(Buffer.from(mergeSubtreeCvs(cvs, true))).toEqual(Buffer.from(blake3MergeCvs(cvs)));
    expect(Buffer.from(mergeSubtreeCvs(cvs.slice(0, 4), false))).toEqual(Buffer.from(blake3SubtreeCv(data.subarray(0, 4 * P), 0)));
  });
});
