/**
 * sha256Leaves: file ranges read by the addon itself (mmap windows by default, pread on request),
 * several leaves interleaved per call, on every runnable kernel; a sparse file over 4 GiB; errors.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, ftruncateSync, mkdirSync, openSync, readSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fill251, hex, tempDir } from '../helpers.js';
import { addon, kernels, skipReason } from './native-sha256-helpers.js';

type Io = 'mmap' | 'pread';
const IO_MODES: Io[] = ['mmap', 'pread'];

/** SHA-256 of bytes [offset, offset + length) of a file, read by Node (holes read as zeros). */
function refRange(path: string, offset: number, length: number): string {
  const h = createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(1 << 20);
    let done = 0;
    while (done < length) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, length - done), offset + done);
      if (n === 0) throw new Error('short read in reference');
      h.update(buf.subarray(0, n));
      done += n;
    }
  } finally {
    closeSync(fd);
  }
  return h.digest('hex');
}

describe.skipIf(!addon)(`native sha256Leaves${addon ? '' : ` (skipped: ${skipReason})`}`, () => {
  const a = addon!;
  let dir: { path: string; cleanup: () => void };
  let file: string;
  const FILE_BYTES = 3 * 1024 * 1024 + 17;

  beforeAll(() => {
    dir = tempDir('modelseal-native-sha256-');
    file = join(dir.path, 'w.bin');
    writeFileSync(file, fill251(FILE_BYTES));
  });
  afterAll(() => dir?.cleanup());

  function leaves(list: Array<[number, number]>) {
    return { paths: list.map(() => file), offsets: list.map((l) => l[0]), lengths: list.map((l) => l[1]) };
  }

  // Leaves of different lengths at unaligned offsets (lanes run dry at different times), with
  // small read windows so that every leaf crosses many window boundaries.
  const MIXED: Array<[number, number]> = [
    [0, 0], [1, 1], [3, 55], [4096, 56], [4095, 64], [12_345, 1_000_000], [7, 65], [1 << 20, 1 << 20],
    [999, 4096 * 3 + 1], [FILE_BYTES - 1, 1], [0, FILE_BYTES], [FILE_BYTES, 0], [33, 200_000], [2_000_001, 64 * 100 - 1],
    [5, 2 * 1024 * 1024 + 3], [4097, FILE_BYTES - 4097],
  ];

  describe.each(kernels)('kernel %s', (k) => {
    it.each(IO_MODES)('hashes leaves of different lengths in one call (%s)', (io) => {
      const { paths, offsets, lengths } = leaves(MIXED);
      // mmap maps pieces of 1 MiB or more and copies smaller ones, so 1 MiB windows over these
      // leaves exercise both, at page-unaligned offsets, within one leaf.
      for (const chunkBytes of [4096, 64 * 1024, 1024 * 1024, undefined]) {
        const out = new Uint8Array(32 * paths.length);
        a.sha256Leaves(paths, offsets, lengths, out, k, chunkBytes === undefined ? { io } : { io, chunkBytes });
        MIXED.forEach(([o, n], i) => expect(hex(out.subarray(32 * i, 32 * i + 32)), `leaf ${i} [${o}, +${n}) chunk ${chunkBytes}`).toBe(refRange(file, o, n)));
      }
    });

    it('hashes equal shards of one file and one whole-file stream', () => {
      const shard = 256 * 1024;
      const list: Array<[number, number]> = [];
      for (let o = 0; o < FILE_BYTES; o += shard) list.push([o, Math.min(shard, FILE_BYTES - o)]);
      const { paths, offsets, lengths } = leaves(list);
      const out = new Uint8Array(32 * paths.length);
      a.sha256Leaves(paths, offsets, lengths, out, k);
      list.forEach(([o, n], i) => expect(hex(out.subarray(32 * i, 32 * i + 32))).toBe(refRange(file, o, n)));
      const one = new Uint8Array(32);
      a.sha256Leaves([file], [0], [FILE_BYTES], one, k);
      expect(hex(one)).toBe(refRange(file, 0, FILE_BYTES));
    });
  });

  // The page cache of a file written in 4 KiB writes is in small folios, that of one written in
  // 2 MiB writes in large folios where the file system keeps them (ext4 on Linux >= 6.16): mapped
  // windows then fault every 64 KiB or once per 2 MiB (PMD), in one call's lanes side by side.
  // Both read paths must give the reference digests and the same codes either way.
  it.each(IO_MODES)("a file in small and one in large folios read as '%s': reference digests, sync and on threads, and FILE_CHANGED past the end", async (io) => {
    const MiB = 1024 * 1024;
    const files: Array<[string, number]> = [];
    for (const [name, write] of [['w4k.bin', 4096], ['w2m.bin', 2 * MiB]] as const) {
      const p = join(dir.path, name);
      const bytes = fill251(13 * MiB + 777, write);
      const fd = openSync(p, 'w');
      for (let o = 0; o < bytes.length; o += write) writeSync(fd, bytes, o, Math.min(write, bytes.length - o));
      closeSync(fd);
      files.push([p, bytes.length]);
    }
    // whole files, 4 MiB shards, and ranges at page-unaligned offsets, alternating between the files
    const list: Array<[string, number, number]> = [];
    for (const [p, size] of files) list.push([p, 0, size]);
    for (let o = 0; o < files[0]![1]; o += 4 * MiB) for (const [p, size] of files) list.push([p, o, Math.min(4 * MiB, size - o)]);
    for (const [p, size] of files) list.push([p, 12_345, 9 * MiB + 3], [p, 3 * MiB - 5, size - (3 * MiB - 5)], [p, 7, MiB + 64]);
    const paths = list.map((l) => l[0]);
    const offsets = list.map((l) => l[1]);
    const lengths = list.map((l) => l[2]);
    const want = list.map(([p, o, n]) => refRange(p, o, n));
    const digests = (out: Uint8Array) => list.map((_, i) => hex(out.subarray(32 * i, 32 * i + 32)));
    for (const k of kernels) {
      // the default window, and 4 MiB windows that start off the 2 MiB grid within unaligned ranges
      for (const chunk of [{}, { chunkBytes: 4 * MiB }]) {
        const out = new Uint8Array(32 * list.length);
        a.sha256Leaves(paths, offsets, lengths, out, k, { io, ...chunk });
        expect(digests(out), `${k} ${JSON.stringify(chunk)}`).toEqual(want);
      }
      for (const threads of [1, 2, 3]) {
        const out = new Uint8Array(32 * list.length);
        await a.sha256LeavesAsync(paths, offsets, lengths, out, k, { io }, threads);
        expect(digests(out), `${k} ${threads} threads`).toEqual(want);
      }
    }
    for (const [p, size] of files) {
      const past = () => a.sha256Leaves([p, p], [0, size - MiB], [2 * MiB, 2 * MiB], new Uint8Array(64), undefined, { io });
      expect(past).toThrow(expect.objectContaining({ code: 'FILE_CHANGED', message: expect.stringContaining(p) }));
      await expect(a.sha256LeavesAsync([p, p, p], [0, 4 * MiB, size - MiB], [4 * MiB, 4 * MiB, 2 * MiB], new Uint8Array(96), undefined, { io }, 2)).rejects.toMatchObject({ code: 'FILE_CHANGED' });
    }
  });

  it('hashes leaves across several files in one call (descriptor reuse per lane)', () => {
    const files: string[] = [];
    for (let i = 0; i < 11; i++) {
      const p = join(dir.path, `f${i}.bin`);
      writeFileSync(p, fill251(1000 * i * i + i, i));
      files.push(p);
    }
    // Interleave files and repeat some, so lanes switch files and sometimes keep one.
    const order = [0, 5, 5, 3, 10, 1, 10, 2, 9, 4, 8, 6, 7, 7];
    const offsets = order.map((i) => (i % 3) * 5);
    const lengths = order.map((i, j) => Math.max(0, 1000 * i * i + i - offsets[j]!));
    for (const k of kernels) {
      const out = new Uint8Array(32 * order.length);
      a.sha256Leaves(order.map((i) => files[i]!), offsets, lengths, out, k);
      order.forEach((fi, j) => expect(hex(out.subarray(32 * j, 32 * j + 32)), `${k} leaf ${j}`).toBe(refRange(files[fi]!, offsets[j]!, lengths[j]!)));
    }
  });

  it('hashes ranges near and beyond 4 GiB of a sparse file (offsets are never 32-bit)', () => {
    const big = join(dir.path, 'sparse.bin');
    const FOUR_GIB = 2 ** 32;
    const size = FOUR_GIB + 8 * 1024 * 1024;
    const fd = openSync(big, 'w');
    try {
      ftruncateSync(fd, size);
      // Real data in [4 GiB - 1 MiB, 4 GiB + 1 MiB) and at the very end; the rest are holes (zeros).
      const around = fill251(2 * 1024 * 1024, FOUR_GIB - 1024 * 1024);
      writeSync(fd, around, 0, around.length, FOUR_GIB - 1024 * 1024);
      const tail = fill251(4096, 7);
      writeSync(fd, tail, 0, tail.length, size - tail.length);
    } finally {
      closeSync(fd);
    }
    const list: Array<[number, number]> = [
      [FOUR_GIB - 1024 * 1024 - 7, 3 * 1024 * 1024], // straddles 2^32
      [FOUR_GIB, 1024 * 1024 + 3],
      [FOUR_GIB - 64, 128],
      [FOUR_GIB + 5, 64],
      [size - 5000, 5000], // ends exactly at EOF, 8 MiB past 4 GiB
      [FOUR_GIB + 2 * 1024 * 1024, 2 * 1024 * 1024], // a hole beyond 4 GiB
    ];
    for (const k of kernels) {
      for (const [io, chunkBytes] of [['mmap', 1024 * 1024], ['mmap', 4 * 1024 * 1024], ['pread', 1024 * 1024]] as const) {
        const out = new Uint8Array(32 * list.length);
        a.sha256Leaves(list.map(() => big), list.map((l) => l[0]), list.map((l) => l[1]), out, k, { io, chunkBytes });
        list.forEach(([o, n], i) => expect(hex(out.subarray(32 * i, 32 * i + 32)), `${k} ${io} leaf ${i}`).toBe(refRange(big, o, n)));
      }
    }
  });

  describe('errors carry codes', () => {
    it.each(IO_MODES)('missing file → FILE_NOT_FOUND, range past EOF → FILE_CHANGED, directory → UNSUPPORTED_FILE_TYPE (%s)', (io) => {
      const out = new Uint8Array(32);
      expect(() => a.sha256Leaves([join(dir.path, 'nope.bin')], [0], [1], out, undefined, { io })).toThrow(
        expect.objectContaining({ code: 'FILE_NOT_FOUND', message: expect.stringContaining('nope.bin') }),
      );
      expect(() => a.sha256Leaves([file], [FILE_BYTES - 10], [11], out, undefined, { io })).toThrow(
        expect.objectContaining({ code: 'FILE_CHANGED', message: expect.stringContaining('w.bin') }),
      );
      const sub = join(dir.path, 'sub');
      mkdirSync(sub, { recursive: true });
      expect(() => a.sha256Leaves([sub], [0], [1], out, undefined, { io })).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_FILE_TYPE' }));
    });

    it.each(IO_MODES)('a file truncated while it is being hashed → FILE_CHANGED, not a crash (%s)', async (io) => {
      // 512 MiB sparse leaf on the scalar kernel takes seconds; another process truncates the file
      // 100 ms in. With mmap the next touch of a dropped page raises SIGBUS, which the addon turns
      // into FILE_CHANGED; with pread the short read does.
      const victim = join(dir.path, `victim-${io}.bin`);
      const fd = openSync(victim, 'w');
      ftruncateSync(fd, 512 * 1024 * 1024);
      closeSync(fd);
      const child = spawn(process.execPath, ['-e', `setTimeout(() => require('fs').truncateSync(${JSON.stringify(victim)}, 8192), 100)`], { stdio: 'ignore' });
      const exited = new Promise((r) => child.on('exit', r));
      await new Promise((r) => child.on('spawn', r));
      let error: unknown;
      try {
        a.sha256Leaves([victim], [0], [512 * 1024 * 1024], new Uint8Array(32), 'scalar', { io });
      } catch (e) {
        error = e;
      }
      await exited;
      expect(error).toMatchObject({ code: 'FILE_CHANGED', message: expect.stringMatching(/while it was being hashed/) });
      truncateSync(victim, 0);
    });

    it('validates arguments (TypeError / RangeError, code BAD_ARGUMENT, the argument named)', () => {
      const out = new Uint8Array(32);
      const bad = (fn: () => void, type: typeof TypeError | typeof RangeError, msg: RegExp) => {
        expect(fn).toThrow(type);
        expect(fn).toThrow(msg);
        expect(fn).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT' }));
      };
      bad(() => a.sha256Leaves('x' as unknown as string[], [0], [1], out), TypeError, /paths must be an array/);
      bad(() => a.sha256Leaves([file], [0, 1], [1], out), RangeError, /same length/);
      bad(() => a.sha256Leaves([file], [0], [1], new Uint8Array(31)), RangeError, /out must be 32/);
      bad(() => a.sha256Leaves([file], [0], [1], [] as unknown as Uint8Array), TypeError, /out must be a Uint8Array/);
      bad(() => a.sha256Leaves([file], [-1], [1], out), RangeError, /offsets\[0\]/);
      bad(() => a.sha256Leaves([file], [0.5], [1], out), RangeError, /offsets\[0\]/);
      bad(() => a.sha256Leaves([file], [0], [2 ** 53], out), RangeError, /lengths\[0\]/);
      bad(() => a.sha256Leaves([file], [0], [Number.NaN], out), RangeError, /lengths\[0\]/);
      bad(() => a.sha256Leaves([file], ['0' as unknown as number], [1], out), TypeError, /offsets\[0\] must be a number/);
      bad(() => a.sha256Leaves([7 as unknown as string], [0], [1], out), TypeError, /paths\[0\] must be a string/);
      bad(() => a.sha256Leaves([''], [0], [1], out), RangeError, /paths\[0\]/);
      bad(() => a.sha256Leaves([`${file}\0x`], [0], [1], out), RangeError, /NUL/);
      bad(() => a.sha256Leaves([file], [0], [1], out, 'avx9'), RangeError, /not a SHA-256 kernel/);
      bad(() => a.sha256Leaves([file], [0], [1], out, undefined, { io: 'aio' as Io }), RangeError, /options.io/);
      bad(() => a.sha256Leaves([file], [0], [1], out, undefined, { chunkBytes: 1 }), RangeError, /chunkBytes/);
      // An empty batch is fine.
      expect(() => a.sha256Leaves([], [], [], new Uint8Array(0))).not.toThrow();
    });
  });
});
