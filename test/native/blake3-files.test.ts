/**
 * Native BLAKE3 file leaves (blake3Leaves): pread blocks carrying the CV stack across block
 * boundaries, mmap, many leaves per call, a sparse file over 4 GiB, counters past 2^32 through the
 * file offset, and the error codes. Every leaf is compared with blake3Bytes on the same bytes
 * (itself tested against the official vectors and the reference in blake3-kernels.test.ts).
 */
import { closeSync, ftruncateSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { blake3 as nobleBlake3 } from '@noble/hashes/blake3.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fill251, hex, tempDir } from '../helpers.js';
import { ALL_BLAKE3_KERNELS, addon, kernelSkip, mergeInTreeOrder, refSubtreeCv, skipReason } from './blake3-helpers.js';

const MiB = 2 ** 20;

interface Leaf {
  offset: number;
  length: number;
  cv: boolean;
}

function hashLeaves(path: string, leaves: Leaf[], kernel?: string): Uint8Array[] {
  const out = new Uint8Array(32 * leaves.length);
  addon!.blake3Leaves(
    leaves.map(() => path),
    leaves.map((l) => l.offset),
    leaves.map((l) => l.length),
    Uint8Array.from(leaves, (l) => (l.cv ? 1 : 0)),
    out,
    kernel,
  );
  return leaves.map((_, i) => out.subarray(32 * i, 32 * i + 32));
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
}

describe.skipIf(!addon)(`native BLAKE3 file leaves${addon ? '' : ` (skipped: ${skipReason})`}`, () => {
  let dir: ReturnType<typeof tempDir>;
  let file: string;
  const SIZE = 5 * MiB + 3 * 1024 + 77;  // several read blocks, a partial chunk at the end
  let data: Uint8Array;
  const defaults = addon?.blake3IoOptions();  // the built-in read strategy, restored after each change
  const restoreIo = () => {
    addon?.blake3IoOptions('pread', defaults!.preadBlockBytes);
    addon?.blake3IoOptions('mmap', defaults!.mmapWindowBytes);
    addon?.blake3IoOptions(defaults!.mode);
  };

  beforeAll(() => {
    dir = tempDir('modelseal-blake3-');
    file = join(dir.path, 'weights.bin');
    data = fill251(SIZE);
    writeFileSync(file, data);
  });
  afterAll(() => {
    restoreIo();
    dir?.cleanup();
  });

  const ioModes: Array<[mode: 'pread' | 'mmap', block: number]> = [['pread', MiB], ['pread', 4096], ['pread', 64 * 1024], ['mmap', MiB], ['mmap', 4096], ['mmap', 4 * MiB]];

  for (const k of ALL_BLAKE3_KERNELS) {
    const why = kernelSkip(k);
    it.skipIf(why !== '')(`kernel ${k}: leaves equal blake3Bytes on the same bytes, in every I/O mode${why ? ` (skipped: ${why})` : ''}`, () => {
      const leaves: Leaf[] = [
        { offset: 0, length: SIZE, cv: false },                 // the whole file, many blocks
        { offset: 0, length: 0, cv: false },                    // empty range: the empty digest
        { offset: 12345, length: 3 * MiB + 5, cv: false },      // a digest range at an odd offset
        { offset: 0, length: 4 * MiB, cv: true },               // a subtree bigger than a read block
        { offset: 4 * MiB, length: SIZE - 4 * MiB, cv: true },  // the tail subtree
        { offset: MiB, length: MiB, cv: true },
        { offset: 3 * 1024, length: 1024, cv: true },           // one chunk
        { offset: 5 * MiB, length: 3 * 1024 + 77, cv: true },   // a short tail, partial chunk
      ];
      for (const [mode, block] of ioModes) {
        addon!.blake3IoOptions(mode, block);
        const got = hashLeaves(file, leaves, k);
        leaves.forEach((l, i) => {
          const bytes = data.subarray(l.offset, l.offset + l.length);
          const want = addon!.blake3Bytes(bytes, l.cv ? l.offset / 1024 : 0, l.cv ? 'cv' : 'digest', 'portable');
          expect(hex(got[i]!), `${mode} ${block}: offset ${l.offset} length ${l.length} ${l.cv ? 'cv' : 'digest'}`).toBe(hex(want));
        });
      }
      restoreIo();
    });
  }

  it('the whole-file digest equals @noble/hashes, and 1 MiB subtree CVs merge to it', () => {
    const whole = hex(nobleBlake3(data));
    const [digest] = hashLeaves(file, [{ offset: 0, length: SIZE, cv: false }]);
    expect(hex(digest!)).toBe(whole);
    const leaves: Leaf[] = [];
    for (let off = 0; off < SIZE; off += MiB) leaves.push({ offset: off, length: Math.min(MiB, SIZE - off), cv: true });
    expect(hex(mergeInTreeOrder(hashLeaves(file, leaves), addon!.blake3Parent))).toBe(whole);
  });

  it('hashes leaves of several files in one call, in order', () => {
    const other = join(dir.path, 'other.bin');
    writeFileSync(other, fill251(70_000, 5));
    const paths = [file, other, file, other];
    const out = new Uint8Array(32 * 4);
    addon!.blake3Leaves(paths, [0, 0, 2048, 1024], [100, 70_000, 4096, 2048], Uint8Array.from([0, 0, 1, 1]), out);
    const want = [
      nobleBlake3(data.subarray(0, 100)),
      nobleBlake3(fill251(70_000, 5)),
      refSubtreeCv(data.subarray(2048, 2048 + 4096), 2n),
      refSubtreeCv(fill251(70_000, 5).subarray(1024, 3072), 1n),
    ];
    want.forEach((w, i) => expect(hex(out.subarray(32 * i, 32 * i + 32)), `leaf ${i}`).toBe(hex(w)));
  });

  it('reports missing, short and non-regular files with the codes of native/io.h', () => {
    const one = (path: string, offset: number, length: number, cv = 0) =>
      codeOf(() => addon!.blake3Leaves([path], [offset], [length], Uint8Array.from([cv]), new Uint8Array(32)));
    expect(one(join(dir.path, 'nope.bin'), 0, 10)).toBe('FILE_NOT_FOUND');
    expect(one(file, SIZE - 10, 11)).toBe('FILE_CHANGED');  // planned longer than the file is
    expect(one(file, 0, SIZE + 1024, 1)).toBe('FILE_CHANGED');
    const sub = join(dir.path, 'a-directory');
    mkdirSync(sub);
    expect(one(sub, 0, 10)).toBe('UNSUPPORTED_FILE_TYPE');  // native/io.h refuses anything but regular files
    addon!.blake3IoOptions('mmap', 4096);  // ranges of >= 4 KiB are mapped
    expect(one(file, SIZE - 5000, 5001)).toBe('FILE_CHANGED');
    restoreIo();
    let err: Error | undefined;
    try {
      addon!.blake3Leaves([join(dir.path, 'nope.bin')], [0], [1], Uint8Array.from([0]), new Uint8Array(32));
    } catch (e) {
      err = e as Error;
    }
    expect(err?.message).toMatch(/nope\.bin/);
  });

  it('refuses bad arguments with TypeError / RangeError naming the argument', () => {
    const a = addon!;
    const out = new Uint8Array(32);
    const f = Uint8Array.from([1]);
    expect(() => a.blake3Leaves('x' as unknown as string[], [0], [1], f, out)).toThrow(/paths/);
    expect(() => a.blake3Leaves([1 as unknown as string], [0], [1], f, out)).toThrow(TypeError);
    expect(() => a.blake3Leaves([file], [1000], [1024], f, out)).toThrow(/offsets\[0\].*multiple of 1024/);
    expect(() => a.blake3Leaves([file], [1024], [0], f, out)).toThrow(RangeError);
    expect(() => a.blake3Leaves([file], [-1024], [10], f, out)).toThrow(/offsets\[0\]/);
    expect(() => a.blake3Leaves([file], [0.5], [10], Uint8Array.from([0]), out)).toThrow(RangeError);
    expect(() => a.blake3Leaves([file], [0], [10, 20], f, out)).toThrow(/lengths/);
    expect(() => a.blake3Leaves([file], [0], [10], Uint8Array.from([2]), out)).toThrow(/cvFlags\[0\]/);
    expect(() => a.blake3Leaves([file], [0], [10], [1] as unknown as Uint8Array, out)).toThrow(TypeError);
    expect(() => a.blake3Leaves([file], [0], [10], f, new Uint8Array(31))).toThrow(/out/);
    expect(() => a.blake3Leaves([file], [0], [1024], f, out, 'nope')).toThrow(RangeError);
    expect(codeOf(() => a.blake3Leaves([file], [1000], [1024], f, out))).toBe('BAD_ARGUMENT');
  });
});

describe.skipIf(!addon)(`native BLAKE3 over 4 GiB and past 2^32 chunks${addon ? '' : ` (skipped: ${skipReason})`}`, () => {
  let dir: ReturnType<typeof tempDir>;
  beforeAll(() => {
    dir = tempDir('modelseal-blake3-big-');
  });
  afterAll(() => dir?.cleanup());

  /** A sparse file of `size` bytes with fill251 data written at [at, at + len) (holes read as 0). */
  function sparse(name: string, size: number, at: number, len: number): { path: string; bytes: (o: number, n: number) => Uint8Array } {
    const path = join(dir.path, name);
    const fd = openSync(path, 'w');
    try {
      ftruncateSync(fd, size);
      writeSync(fd, fill251(len, at), 0, len, at);
    } finally {
      closeSync(fd);
    }
    const bytes = (o: number, n: number): Uint8Array => {
      const b = new Uint8Array(n);
      const lo = Math.max(o, at);
      const hi = Math.min(o + n, at + len);
      if (hi > lo) b.set(fill251(hi - lo, lo), lo - o);
      return b;
    };
    return { path, bytes };
  }

  it('hashes ranges of a sparse file over 4 GiB, around the 4 GiB mark', () => {
    const G4 = 2 ** 32;
    const f = sparse('over-4g.bin', G4 + 5 * MiB, G4 - MiB, 3 * MiB);
    const leaves: Leaf[] = [
      { offset: G4 - 2 * MiB, length: 2 * MiB, cv: true },  // ends at 4 GiB, half data, half hole
      { offset: G4, length: 4 * MiB, cv: true },            // starts at 4 GiB
      { offset: G4 - MiB, length: 2 * MiB, cv: true },      // straddles it
      { offset: G4 + 4 * MiB, length: MiB, cv: true },      // the tail, all hole
      { offset: G4 - 100, length: 300, cv: false },         // a digest range across it
    ];
    const got = hashLeaves(f.path, leaves);
    leaves.forEach((l, i) => {
      const want = addon!.blake3Bytes(f.bytes(l.offset, l.length), l.cv ? l.offset / 1024 : 0, l.cv ? 'cv' : 'digest', 'portable');
      expect(hex(got[i]!), `offset ${l.offset} length ${l.length}`).toBe(hex(want));
    });
  });

  it('subtree CVs at file offsets 2^32*1024 - k*1024 (chunk counters crossing 2^32) equal the reference', (ctx) => {
    // A 4 TiB sparse file: only the last few MiB hold data. Skipped only if the file system
    // refuses a file that large.
    const END = 2 ** 32 * 1024;
    let f: ReturnType<typeof sparse>;
    try {
      f = sparse('past-2p32-chunks.bin', END + 2 * MiB, END - 2 * MiB, 3 * MiB);
    } catch (e) {
      ctx.skip(`this file system refuses a 4 TiB sparse file: ${(e as Error).message}`);
      return;
    }
    for (const [k, chunks] of [[1, 1], [2, 2], [16, 16], [16, 32], [1024, 1024], [512, 2048]] as const) {
      const offset = END - k * 1024;
      const length = chunks * 1024;
      const bytes = f.bytes(offset, length);
      const counter = BigInt(offset / 1024);
      const want = hex(refSubtreeCv(bytes, counter));
      for (const kernel of ALL_BLAKE3_KERNELS.filter((x) => kernelSkip(x) === '')) {
        const [got] = hashLeaves(f.path, [{ offset, length, cv: true }], kernel);
        expect(hex(got!), `${kernel}: ${chunks} chunks at 2^32 - ${k}`).toBe(want);
      }
    }
  });
});
