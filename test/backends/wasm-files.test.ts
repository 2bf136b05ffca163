/**
 * wasm backend, file leaves: ranges read straight into the module's memory, SHA-256 leaves of
 * different lengths sharing the 4 lanes, BLAKE3 'digest' and 'cv' leaves, offsets beyond 4 GiB
 * and chunk counters beyond 2^32 (sparse files: only a few MiB are real), and the error codes.
 */
import { createHash } from 'node:crypto';
import { closeSync, ftruncateSync, mkdirSync, openSync, readdirSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { blake3 as nobleBlake3 } from '@noble/hashes/blake3.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blake3ParentWasm, wasmBackend } from '../../src/backends/wasm.js';
import type { Leaf, LeafHasher } from '../../src/backends/types.js';
import { fill251, hex, tempDir } from '../helpers.js';
import { blake3SubtreeCv as refBlake3Cv } from '../../src/backends/js/blake3.js';

const MiB = 1 << 20;
const GiB4 = 2 ** 32;
const TiB4 = 2 ** 42; // byte offset of chunk counter 2^32
const probe = wasmBackend.probe();
if (!probe.ok && process.env.MODELSEAL_REQUIRE_WASM === '1') throw new Error(`wasm backend required but unavailable: ${probe.ok ? '' : probe.reason}`);
const suite = probe.ok ? describe : describe.skip;

const DATA_BYTES = 9 * MiB + 4321;
const data = fill251(DATA_BYTES);
let dir: { path: string; cleanup: () => void };
let dataPath: string;
let sparsePath: string;
/** Real bytes of the sparse file: SPARSE_REAL bytes at SPARSE_AT, zeros elsewhere. */
const SPARSE_AT = GiB4 - 2 * MiB;
const SPARSE_REAL = fill251(4 * MiB, 3);
let hugeSparsePath: string | undefined;
let hugeSparseWhy = '';
const HUGE_AT = TiB4 - 2 * MiB;
const HUGE_REAL = fill251(4 * MiB, 11);

beforeAll(() => {
  dir = tempDir('modelseal-wasm-');
  dataPath = join(dir.path, 'data.bin');
  writeFileSync(dataPath, data);
  sparsePath = join(dir.path, 'sparse.bin');
  let fd = openSync(sparsePath, 'w');
  ftruncateSync(fd, GiB4 + 8 * MiB);
  writeSync(fd, SPARSE_REAL, 0, SPARSE_REAL.length, SPARSE_AT);
  closeSync(fd);
  try {
    const p = join(dir.path, 'huge-sparse.bin');
    fd = openSync(p, 'w');
    try {
      ftruncateSync(fd, TiB4 + 4 * MiB);
      writeSync(fd, HUGE_REAL, 0, HUGE_REAL.length, HUGE_AT);
    } finally {
      closeSync(fd);
    }
    hugeSparsePath = p;
  } catch (e) {
    hugeSparseWhy = `this filesystem cannot hold a 4 TiB sparse file (${(e as Error).message})`;
  }
});
afterAll(() => dir?.cleanup());

/** The bytes of [offset, offset+length) of the sparse file, built in memory. */
function sparseBytes(at: number, real: Uint8Array, offset: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  const from = Math.max(offset, at), to = Math.min(offset + length, at + real.length);
  if (to > from) out.set(real.subarray(from - at, to - at), from - offset);
  return out;
}

function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

const KERNELS = [
  { label: 'x4/simd128', kernels: {} },
  { label: 'scalar', kernels: { sha256: 'scalar', blake3: 'scalar' } },
];

for (const { label, kernels } of KERNELS) {
  suite(`wasm backend (${label}): SHA-256 file leaves`, () => {
    const h: LeafHasher = probe.ok ? wasmBackend.createLeafHasher({ kernels }) : (undefined as never);

    it('every length 0..200 and the block edges, at odd offsets, in one batch (lanes mixed)', () => {
      const leaves: Leaf[] = [];
      for (let len = 0; len <= 200; len++) leaves.push({ path: dataPath, offset: (len * 37) % 4099, length: len, output: 'digest' });
      for (const len of [255, 256, 257, 1023, 1024, 1025, 65535, 65536, 65537])
        for (const offset of [0, 1, 63]) leaves.push({ path: dataPath, offset, length: len, output: 'digest' });
      const got = h.hashLeaves({ algorithm: 'sha256', leaves });
      expect(got.length).toBe(leaves.length);
      leaves.forEach((l, i) => expect(hex(got[i]!), `offset ${l.offset} length ${l.length}`).toBe(sha256(data.subarray(l.offset, l.offset + l.length))));
    });

    it('leaves of very different lengths share the lanes (lane buffer edges, finish at different times)', () => {
      const lengths = [MiB + 1, 3, 3 * MiB - 1, 0, 64, MiB, 2 * MiB + 65, 55, 56, 4 * MiB + 7, 63, 5 * MiB - 64, 129, MiB - 1];
      const leaves: Leaf[] = lengths.map((length, i) => ({ path: dataPath, offset: (i * 4097) % 8192, length, output: 'digest' }));
      const got = h.hashLeaves({ algorithm: 'sha256', leaves });
      leaves.forEach((l, i) => expect(hex(got[i]!), `length ${l.length}`).toBe(sha256(data.subarray(l.offset, l.offset + l.length))));
    });

    it('a lone leaf and the whole file', () => {
      const [whole] = h.hashLeaves({ algorithm: 'sha256', leaves: [{ path: dataPath, offset: 0, length: DATA_BYTES, output: 'digest' }] });
      expect(hex(whole!)).toBe(sha256(data));
    });

    it('ranges across the 4 GiB mark of a sparse file', () => {
      const ranges: [number, number][] = [
        [GiB4 - MiB - 5, 2 * MiB + 10],
        [GiB4, MiB + 3],
        [GiB4 - 1, 2],
        [GiB4 + 2 * MiB - 100, 3 * MiB], // runs from the real bytes into the hole
      ];
      const leaves: Leaf[] = ranges.map(([offset, length]) => ({ path: sparsePath, offset, length, output: 'digest' }));
      const got = h.hashLeaves({ algorithm: 'sha256', leaves });
      ranges.forEach(([o, n], i) => expect(hex(got[i]!), `offset ${o}`).toBe(sha256(sparseBytes(SPARSE_AT, SPARSE_REAL, o, n))));
    });
  });

  suite(`wasm backend (${label}): BLAKE3 file leaves`, () => {
    const h: LeafHasher = probe.ok ? wasmBackend.createLeafHasher({ kernels }) : (undefined as never);

    it("'digest' leaves equal @noble/hashes", () => {
      const ranges: [number, number][] = [[0, 0], [5, 1025], [0, 4 * MiB + 1], [1, DATA_BYTES - 1]];
      const leaves: Leaf[] = ranges.map(([offset, length]) => ({ path: dataPath, offset, length, output: 'digest' }));
      const got = h.hashLeaves({ algorithm: 'blake3', leaves });
      ranges.forEach(([o, n], i) => expect(hex(got[i]!), `offset ${o} length ${n}`).toBe(hex(nobleBlake3(data.subarray(o, o + n)))));
    });

    it("'cv' leaves of 1 MiB and the tail, merged in tree order, equal the file digest", () => {
      const leaves: Leaf[] = [];
      for (let o = 0; o < DATA_BYTES; o += MiB) leaves.push({ path: dataPath, offset: o, length: Math.min(MiB, DATA_BYTES - o), output: 'cv' });
      const cvs = h.hashLeaves({ algorithm: 'blake3', leaves });
      const merge = (xs: Uint8Array[], root: boolean): Uint8Array => {
        if (xs.length === 1) return xs[0]!;
        let k = 1;
        while (k * 2 < xs.length) k *= 2; // left-full tree: the left part is the largest power of two
        return blake3ParentWasm(merge(xs.slice(0, k), false), merge(xs.slice(k), false), root);
      };
      expect(hex(merge(cvs, true))).toBe(hex(nobleBlake3(data)));
      expect(hex(cvs[3]!)).toBe(hex(h.hashBytes('blake3', data.subarray(3 * MiB, 4 * MiB), 'cv', 3 * 1024)));
    });

    it("'cv' leaves beyond 4 GiB (chunk counter 2^22) in a sparse file", () => {
      const ranges: [number, number][] = [[GiB4 - MiB, MiB], [GiB4, MiB], [GiB4 + MiB, 4096 + 5], [GiB4 - 4096, 8192]];
      const leaves: Leaf[] = ranges.map(([offset, length]) => ({ path: sparsePath, offset, length, output: 'cv' }));
      const got = h.hashLeaves({ algorithm: 'blake3', leaves });
      ranges.forEach(([o, n], i) => {
        const bytes = sparseBytes(SPARSE_AT, SPARSE_REAL, o, n);
        expect(hex(got[i]!), `offset ${o}`).toBe(hex(h.hashBytes('blake3', bytes, 'cv', o / 1024)));
        if (n <= 8192) expect(hex(got[i]!)).toBe(hex(refBlake3Cv(bytes, o / 1024)));
      });
    });

    it("'cv' leaves whose chunk counter crosses 2^32 (4 TiB sparse file)", (ctx) => {
      if (!hugeSparsePath) {
        ctx.skip(hugeSparseWhy);
        return;
      }
      const ranges: [number, number][] = [
        [TiB4 - MiB, MiB], // counters 2^32-1024 .. 2^32-1
        [TiB4, MiB], // counter 2^32
        [TiB4 - 2048, 4096], // one 4-lane group: two lanes below 2^32, two above
        [TiB4 - 8192, 16 * 1024 + 9],
      ];
      const leaves: Leaf[] = ranges.map(([offset, length]) => ({ path: hugeSparsePath!, offset, length, output: 'cv' }));
      const got = h.hashLeaves({ algorithm: 'blake3', leaves });
      ranges.forEach(([o, n], i) => {
        const bytes = sparseBytes(HUGE_AT, HUGE_REAL, o, n);
        expect(hex(got[i]!), `offset ${o}`).toBe(hex(h.hashBytes('blake3', bytes, 'cv', o / 1024)));
        if (n <= 32 * 1024) expect(hex(got[i]!)).toBe(hex(refBlake3Cv(bytes, o / 1024)));
      });
      // the two 1 MiB halves merge to the CV of the 2 MiB subtree at counter 2^32 - 1024
      const both = sparseBytes(HUGE_AT, HUGE_REAL, TiB4 - MiB, 2 * MiB);
      expect(hex(blake3ParentWasm(got[0]!, got[1]!, false))).toBe(hex(h.hashBytes('blake3', both, 'cv', 2 ** 32 - 1024)));
    });
  });
}

suite('wasm backend: many files in one batch', () => {
  it('shares lanes across files, closes each file after its last leaf (also out of order), leaks no descriptor', () => {
    const h = wasmBackend.createLeafHasher();
    const small: string[] = [];
    for (let i = 0; i < 40; i++) {
      const p = join(dir.path, `small-${i}.bin`);
      writeFileSync(p, fill251(i * 37 + 1, i));
      small.push(p);
    }
    const fdsBefore = readdirSync('/proc/self/fd').length;
    // The long first leaf of data.bin is still in a lane when its short last leaf finishes.
    const leaves: Leaf[] = [
      { path: dataPath, offset: 0, length: 3 * MiB + 5, output: 'digest' },
      ...small.map((path, i) => ({ path, offset: 0, length: i * 37 + 1, output: 'digest' as const })),
      { path: dataPath, offset: 7, length: 10, output: 'digest' },
    ];
    for (const algorithm of ['sha256', 'blake3'] as const) {
      const got = h.hashLeaves({ algorithm, leaves });
      leaves.forEach((l, i) => {
        const bytes = l.path === dataPath ? data.subarray(l.offset, l.offset + l.length) : fill251(l.length, small.indexOf(l.path));
        const want = algorithm === 'sha256' ? sha256(bytes) : hex(nobleBlake3(bytes));
        expect(hex(got[i]!), `${algorithm} leaf ${i}`).toBe(want);
      });
    }
    expect(readdirSync('/proc/self/fd').length).toBe(fdsBefore);
  });
});

suite('wasm backend: file errors', () => {
  const h: LeafHasher = probe.ok ? wasmBackend.createLeafHasher() : (undefined as never);

  it('FILE_NOT_FOUND for a missing file', () => {
    for (const algorithm of ['sha256', 'blake3'] as const) {
      expect(() => h.hashLeaves({ algorithm, leaves: [{ path: join(dir.path, 'missing.bin'), offset: 0, length: 10, output: 'digest' }] }))
        .toThrow(expect.objectContaining({ code: 'FILE_NOT_FOUND' }));
    }
  });

  it('FILE_CHANGED when a file is shorter than planned', () => {
    const leaves = (output: 'digest' | 'cv'): Leaf[] => [
      { path: dataPath, offset: 0, length: 100, output },
      { path: dataPath, offset: DATA_BYTES - 10, length: 11, output },
    ];
    expect(() => h.hashLeaves({ algorithm: 'sha256', leaves: leaves('digest') })).toThrow(expect.objectContaining({ code: 'FILE_CHANGED' }));
    expect(() => h.hashLeaves({ algorithm: 'blake3', leaves: leaves('digest') })).toThrow(expect.objectContaining({ code: 'FILE_CHANGED' }));
    expect(() => h.hashLeaves({ algorithm: 'blake3', leaves: [{ path: dataPath, offset: 9 * MiB, length: MiB, output: 'cv' }] }))
      .toThrow(expect.objectContaining({ code: 'FILE_CHANGED' }));
    // the hasher is still usable afterwards (lane states are reset per leaf)
    const [d] = h.hashLeaves({ algorithm: 'sha256', leaves: [{ path: dataPath, offset: 0, length: 100, output: 'digest' }] });
    expect(hex(d!)).toBe(sha256(data.subarray(0, 100)));
  });

  it('a directory is not a file; blake2b and sha256 cv leaves are refused', () => {
    const sub = join(dir.path, 'subdir');
    mkdirSync(sub, { recursive: true });
    expect(() => h.hashLeaves({ algorithm: 'sha256', leaves: [{ path: sub, offset: 0, length: 1, output: 'digest' }] })).toThrow(
      expect.objectContaining({ code: expect.stringMatching(/UNSUPPORTED_FILE_TYPE|FILE_UNREADABLE/) }),
    );
    expect(() => h.hashLeaves({ algorithm: 'blake2b', leaves: [{ path: dataPath, offset: 0, length: 1, output: 'digest' }] })).toThrow(
      expect.objectContaining({ code: 'BACKEND_ALGORITHM' }),
    );
    expect(() => h.hashLeaves({ algorithm: 'sha256', leaves: [{ path: dataPath, offset: 0, length: 1, output: 'cv' }] })).toThrow(RangeError);
    expect(() => h.hashLeaves({ algorithm: 'blake3', leaves: [{ path: dataPath, offset: 100, length: 1, output: 'cv' }] })).toThrow(RangeError);
  });
});
