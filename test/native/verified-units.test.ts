/**
 * verifiedUnitsAsync (native/verified_units_napi.cc): a run of units of one open file read into a
 * caller buffer and hashed while in L2, for openVerified's native path. Bytes and digests against
 * node:crypto and blake3Bytes on every runnable kernel: RFC 9162 leaves as SHA-256 lane pairs of
 * equal and unequal lengths (block edges ±1, pieces over 128 KiB, a lone last unit), plain digests,
 * BLAKE3 subtree CVs and digests; a file that ends inside a unit; bad arguments. Every case runs on
 * each read path (`io`): pread into the buffer, the mapped file copied by the SHA-NI copy-out kernels
 * as they hash ('map'; families without one memcpy then hash), and mapped with memcpy then hash
 * ('map-memcpy'); and a file truncated and rewritten while it is mapped never yields bytes other
 * than the bytes hashed.
 */
import { createHash } from 'node:crypto';
import { closeSync, ftruncateSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadNative } from '../../src/native/addon.js';
import { fill251, tempDir } from '../helpers.js';

interface UnitsAddon {
  verifiedUnitsAsync(fd: number, offsets: Float64Array, lengths: Float64Array, modes: Uint8Array, algorithm: string, buffer: Uint8Array, out: Uint8Array, threads?: number, kernel?: string, io?: string): Promise<void>;
  alignedBuffer(bytes: number): ArrayBuffer;
  sha256Kernels(): string[];
  blake3Kernels?(): string[];
  blake3Bytes?(data: Uint8Array, chunkCounter: number, output: 'cv' | 'digest', kernel?: string, copyTo?: Uint8Array, piece?: number): Uint8Array;
}
const load = loadNative();
const addon = load.ok && typeof load.addon.verifiedUnitsAsync === 'function' ? (load.addon as unknown as UnitsAddon) : undefined;
const why = load.ok ? 'this addon build has no verifiedUnitsAsync; run `npm run build:native`' : load.reason;

const sha = (prefix: boolean, d: Uint8Array) => {
  const h = createHash('sha256');
  if (prefix) h.update(Buffer.from([0]));
  return h.update(d).digest('hex');
};
const hexAt = (b: Uint8Array, k: number) => Buffer.from(b.subarray(32 * k, 32 * k + 32)).toString('hex');
const IOS = ['pread', 'map', 'map-memcpy'] as const;

describe.skipIf(!addon)(`native verified units${addon ? '' : ` (skipped: ${why})`}`, () => {
  const a = addon!;
  let dir: { path: string; cleanup: () => void };
  let fd: number;
  const data = fill251(3 * 256 * 1024 + 4096 + 77, 5);
  beforeAll(() => {
    dir = tempDir();
    const file = join(dir.path, 'f.bin');
    writeFileSync(file, data);
    fd = openSync(file, 'r');
  });
  afterAll(() => {
    closeSync(fd);
    dir.cleanup();
  });

  async function run(units: Array<[number, number, number]>, algorithm: string, threads: number, kernel?: string, buffer?: Uint8Array, io?: string, file = fd) {
    const total = units.reduce((s, u) => s + u[1], 0);
    const buf = buffer ?? new Uint8Array(a.alignedBuffer(Math.max(1, total)));
    const out = new Uint8Array(32 * units.length);
    await a.verifiedUnitsAsync(file, Float64Array.from(units, (u) => u[0]), Float64Array.from(units, (u) => u[1]), Uint8Array.from(units, (u) => u[2]), algorithm, buf, out, threads, kernel, io);
    return { buf, out };
  }

  it.each(IOS)('SHA-256 (io %s): RFC 9162 leaves and digests in lane pairs of equal and unequal lengths, every kernel, bytes land in order', async (io) => {
    // lengths around the 64-byte block (the leaf's 0x00 shifts it by one) and the 128 KiB piece
    const lengths = [0, 1, 55, 56, 63, 64, 65, 127, 128, 129, 4095, 4096, 131071, 131072, 131073, 300001];
    for (const kernel of a.sha256Kernels()) {
      for (const mode of [2, 0]) {
        for (let i = 0; i + 1 < lengths.length; i++) {
          // a pair (i, i+1) and a lone third unit, at unaligned offsets
          const units: Array<[number, number, number]> = [
            [7 * i, lengths[i]!, mode],
            [200000 + i, lengths[i + 1]!, mode],
            [1000, lengths[lengths.length - 1 - i]!, mode],
          ];
          const { buf, out } = await run(units, 'sha256', 1 + (i % 3), kernel, undefined, io);
          let at = 0;
          units.forEach(([o, l], k) => {
            const want = data.subarray(o, o + l);
            expect(Buffer.from(buf.subarray(at, at + l)).equals(want), `${kernel} bytes ${k}`).toBe(true);
            expect(hexAt(out, k), `${kernel} mode ${mode} lengths ${l}`).toBe(sha(mode === 2, want));
            at += l;
          });
        }
      }
    }
  });

  it('SHA-256 (every io): units ending at the last byte of the file, inside its last partial page, and a pair far apart', async () => {
    const n = data.length;
    for (const io of [undefined, ...IOS])
      for (const kernel of a.sha256Kernels()) {
        const units: Array<[number, number, number]> = [
          [n - 131073, 131073, 2],
          [0, 131072, 2],
          [n - 1, 1, 0],
          [n - 4097, 4097, 2],
        ];
        const { buf, out } = await run(units, 'sha256', 2, kernel, undefined, io);
        let at = 0;
        units.forEach(([o, l, m], k) => {
          const want = data.subarray(o, o + l);
          expect(Buffer.from(buf.subarray(at, at + l)).equals(want), `${io} ${kernel} bytes ${k}`).toBe(true);
          expect(hexAt(out, k), `${io} ${kernel} unit ${k}`).toBe(sha(m === 2, want));
          at += l;
        });
      }
  });

  it.each(IOS)('BLAKE3 (io %s): subtree CVs at the leaf offset and whole-input digests, every kernel, equal to blake3Bytes', async (io) => {
    if (!a.blake3Bytes || !a.blake3Kernels) return; // an addon built without BLAKE3 serves SHA-256 only
    for (const kernel of a.blake3Kernels()) {
      for (const leaf of [1024, 4096, 256 * 1024]) {
        const units: Array<[number, number, number]> = [];
        for (let o = 0; o < data.length; o += leaf) units.push([o, Math.min(leaf, data.length - o), 1]);
        const { buf, out } = await run(units, 'blake3', 2, kernel, undefined, io);
        expect(Buffer.from(buf.subarray(0, data.length)).equals(data)).toBe(true);
        units.forEach(([o, l], k) => expect(hexAt(out, k)).toBe(Buffer.from(a.blake3Bytes!(data.subarray(o, o + l), o / 1024, 'cv', kernel)).toString('hex')));
      }
      const whole = await run([[0, data.length, 0], [3, 0, 0], [5, 600000, 0]], 'blake3', 3, kernel, undefined, io);
      expect(hexAt(whole.out, 0)).toBe(Buffer.from(a.blake3Bytes(data, 0, 'digest', kernel)).toString('hex'));
      expect(hexAt(whole.out, 1)).toBe(Buffer.from(a.blake3Bytes(new Uint8Array(0), 0, 'digest', kernel)).toString('hex'));
      expect(hexAt(whole.out, 2)).toBe(Buffer.from(a.blake3Bytes(data.subarray(5, 600005), 0, 'digest', kernel)).toString('hex'));
    }
  });

  it('BLAKE3 copy-out hashing (Hasher::update_copy) in pieces that cut chunks anywhere: the same CV or digest, and the copy equals the input, every kernel', () => {
    if (!a.blake3Bytes || !a.blake3Kernels) return;
    const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
    for (const kernel of a.blake3Kernels()) {
      // lengths and pieces around the 64-byte block, the 1 KiB chunk and the 256-chunk level batch
      for (const length of [0, 1, 1023, 1024, 1025, 8 * 1024 + 1, 256 * 1024, 256 * 1024 + 1023, data.length]) {
        for (const piece of [1, 63, 1000, 1024, 1025, 4096 * 3 + 17, 300000]) {
          if (length > 70000 && piece < 1000) continue; // a byte at a time over big inputs adds nothing but time
          const input = data.subarray(0, length);
          const copy = new Uint8Array(length + 1).fill(0xaa);
          const want = a.blake3Bytes(input, 0, 'digest', kernel);
          expect(hex(a.blake3Bytes(input, 0, 'digest', kernel, copy, piece)), `${kernel} ${length}/${piece}`).toBe(hex(want));
          expect(Buffer.from(copy.subarray(0, length)).equals(input), `${kernel} copy ${length}/${piece}`).toBe(true);
          expect(copy[length]).toBe(0xaa);
          if (length > 0 && length % 1024 === 0) {
            const cv = a.blake3Bytes(input, 64, 'cv', kernel);
            expect(hex(a.blake3Bytes(input, 64, 'cv', kernel, new Uint8Array(length), piece))).toBe(hex(cv));
          }
        }
      }
    }
  });

  it('reads into an ordinary Uint8Array too (alignment is speed, not correctness), at any offset inside it', async () => {
    const backing = new Uint8Array(70000);
    const view = backing.subarray(3, 3 + 65537);
    const { out } = await run([[11, 65537, 2]], 'sha256', 1, undefined, view);
    expect(Buffer.from(view).equals(data.subarray(11, 11 + 65537))).toBe(true);
    expect(hexAt(out, 0)).toBe(sha(true, data.subarray(11, 11 + 65537)));
  });

  it.each(IOS)('a unit past the end of the file rejects with FILE_CHANGED (io %s: the file ended inside it)', async (io) => {
    await expect(run([[data.length - 10, 11, 2]], 'sha256', 1, undefined, undefined, io)).rejects.toMatchObject({ code: 'FILE_CHANGED' });
    await expect(run([[0, 131072, 2], [data.length - 10, 11, 2]], 'sha256', 1, undefined, undefined, io)).rejects.toMatchObject({ code: 'FILE_CHANGED' });
    await expect(run([[0, 1024, 1], [Math.floor(data.length / 1024) * 1024, 2048, 1]], 'blake3', 2, undefined, undefined, io)).rejects.toMatchObject({ code: 'FILE_CHANGED' });
  });

  it('a file truncated and rewritten while mapped: every call either rejects with FILE_CHANGED or hands out exactly the bytes it hashed', async () => {
    // The writer alternates truncating the file to a page-unaligned length inside the units and
    // writing it back whole, between and during the calls; which outcome each call gets depends on
    // the interleaving, the invariant does not (no SIGBUS, no digest of bytes other than the copy).
    const file = join(dir.path, 'moving.bin');
    writeFileSync(file, data);
    const wfd = openSync(file, 'r+');
    const rfd = openSync(file, 'r');
    const units: Array<[number, number, number]> = [[0, 393216, 2], [393216, 393216, 2], [4096, 300000, 0]];
    let stop = false;
    let flips = 0;
    const writer = (async () => {
      while (!stop) {
        if (flips % 3 === 0) ftruncateSync(wfd, 200001 + (flips % 7) * 70001);
        await new Promise((r) => setImmediate(r));
        writeSync(wfd, data, 0, data.length, 0);
        await new Promise((r) => setImmediate(r));
        flips++;
      }
    })();
    const outcomes = { ok: 0, changed: 0 };
    try {
      for (let i = 0; i < 60; i++) {
        const kernel = i % 2 ? 'scalar' : undefined; // scalar has no copy-out kernel: memcpy, then hash the copy
        try {
          const { buf, out } = await run(units, 'sha256', 2, kernel, undefined, i % 3 === 2 ? 'map-memcpy' : 'map', rfd);
          let at = 0;
          units.forEach(([, l, m], k) => {
            expect(hexAt(out, k), `call ${i} unit ${k}`).toBe(sha(m === 2, buf.subarray(at, at + l)));
            at += l;
          });
          outcomes.ok++;
        } catch (e) {
          expect(e).toMatchObject({ code: 'FILE_CHANGED' });
          outcomes.changed++;
        }
      }
    } finally {
      stop = true;
      await writer;
      closeSync(wfd);
      closeSync(rfd);
    }
    expect(outcomes.ok + outcomes.changed).toBe(60);
  });

  it('refuses bad arguments with BAD_ARGUMENT naming them', async () => {
    const b = new Uint8Array(a.alignedBuffer(4096));
    const o = new Uint8Array(32);
    const call = (...args: unknown[]) => (a.verifiedUnitsAsync as unknown as (...x: unknown[]) => Promise<void>)(...args);
    expect(() => call(fd, Float64Array.of(0), Float64Array.of(4097), Uint8Array.of(2), 'sha256', b, o)).toThrow(/buffer must hold/);
    expect(() => call(fd, Float64Array.of(0), Float64Array.of(10), Uint8Array.of(1), 'sha256', b, o)).toThrow(/needs algorithm 'blake3'/);
    expect(() => call(fd, Float64Array.of(0), Float64Array.of(10), Uint8Array.of(2), 'blake3', b, o)).toThrow(/needs algorithm 'sha256'/);
    expect(() => call(fd, Float64Array.of(512), Float64Array.of(10), Uint8Array.of(1), 'blake3', b, o)).toThrow(/multiple of 1024/);
    expect(() => call(fd, Float64Array.of(0), Float64Array.of(10), Uint8Array.of(3), 'sha256', b, o)).toThrow(/modes\[0\]/);
    expect(() => call(fd, Float64Array.of(0), Float64Array.of(10), Uint8Array.of(0), 'md5', b, o)).toThrow(/algorithm/);
    expect(() => call(fd, [0], Float64Array.of(10), Uint8Array.of(0), 'sha256', b, o)).toThrow(/offsets must be a Float64Array/);
    expect(() => call(fd, Float64Array.of(-1), Float64Array.of(10), Uint8Array.of(0), 'sha256', b, o)).toThrow(/offsets\[0\]/);
    expect(() => call(fd, Float64Array.of(0), Float64Array.of(10), Uint8Array.of(0), 'sha256', b, new Uint8Array(31))).toThrow(/32 bytes per unit/);
    expect(() => call(fd, Float64Array.of(0), Float64Array.of(10), Uint8Array.of(0), 'sha256', b, o, 0)).toThrow(/threads/);
    expect(() => call(fd, Float64Array.of(0), Float64Array.of(10), Uint8Array.of(0), 'sha256', b, o, 1, 'nope')).toThrow(/not a SHA-256 kernel/);
    expect(() => call(fd, Float64Array.of(0), Float64Array.of(10), Uint8Array.of(0), 'sha256', b, o, 1, undefined, 'mmap')).toThrow(/io must be 'pread', 'map' or 'map-memcpy'/);
    expect(() => call(fd, Float64Array.of(0), Float64Array.of(10), Uint8Array.of(0), 'sha256', b, o, 1, undefined, 3)).toThrow(/io must be/);
    try {
      call(fd, Float64Array.of(0), Float64Array.of(10), Uint8Array.of(9), 'sha256', b, o);
    } catch (e) {
      expect(e).toMatchObject({ code: 'BAD_ARGUMENT' });
    }
    expect(() => a.alignedBuffer(0)).toThrow(/bytes must be/);
  });
});
