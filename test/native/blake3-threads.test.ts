/**
 * blake3LeavesAsync: the leaves of blake3Leaves hashed by native threads off the JS thread (what
 * the engine runs for BLAKE3 instead of a worker pool). Its outputs must be the bytes blake3Leaves
 * writes, for every kernel and thread count, through both of its read paths (files with several
 * leaves mapped once and shared by the threads; single-leaf files read per thread), with the same
 * error codes, progress in the control slot and abort through control slot 0.
 */
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { blake3 as nobleBlake3 } from '@noble/hashes/blake3.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fill251, hex, tempDir } from '../helpers.js';
import { ALL_BLAKE3_KERNELS, addon as baseAddon, kernelSkip, mergeInTreeOrder, skipReason } from './blake3-helpers.js';

const MiB = 2 ** 20;

type Control = { counters: BigInt64Array; slot: number };
interface ThreadsAddon {
  blake3LeavesAsync(
    paths: string[],
    offsets: number[],
    lengths: number[],
    cvFlags: Uint8Array,
    out: Uint8Array,
    kernel?: string,
    identities?: Float64Array,
    control?: Control,
    threads?: number,
  ): Promise<void>;
}
const addon = baseAddon && typeof (baseAddon as unknown as Partial<ThreadsAddon>).blake3LeavesAsync === 'function' ? (baseAddon as typeof baseAddon & ThreadsAddon) : undefined;
const why = addon ? '' : baseAddon ? 'this addon build has no blake3LeavesAsync (run `npm run build:native`)' : skipReason;

interface L {
  path: string;
  offset: number;
  length: number;
  cv: boolean;
}

const args = (leaves: L[]) =>
  [leaves.map((l) => l.path), leaves.map((l) => l.offset), leaves.map((l) => l.length), Uint8Array.from(leaves, (l) => (l.cv ? 1 : 0))] as const;

function syncLeaves(leaves: L[], kernel?: string): string[] {
  const out = new Uint8Array(32 * leaves.length);
  addon!.blake3Leaves(...args(leaves), out, kernel);
  return leaves.map((_, i) => hex(out.subarray(32 * i, 32 * i + 32)));
}

async function threadLeaves(leaves: L[], threads: number, kernel?: string, identities?: Float64Array, control?: Control): Promise<string[]> {
  const out = new Uint8Array(32 * leaves.length);
  await addon!.blake3LeavesAsync(...args(leaves), out, kernel, identities, control, threads);
  return leaves.map((_, i) => hex(out.subarray(32 * i, 32 * i + 32)));
}

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return 'no error';
}

describe.skipIf(!addon)(`native BLAKE3 on native threads (blake3LeavesAsync)${why ? ` (skipped: ${why})` : ''}`, () => {
  let dir: ReturnType<typeof tempDir>;
  let big: string;
  let small: string;
  const SIZE = 9 * MiB + 5 * 1024 + 333;  // 1 MiB subtrees and a partial-chunk tail
  let data: Uint8Array;

  beforeAll(() => {
    dir = tempDir('modelseal-blake3-threads-');
    big = join(dir.path, 'big.bin');
    small = join(dir.path, 'small.bin');
    data = fill251(SIZE);
    writeFileSync(big, data);
    writeFileSync(small, fill251(70_000, 9));
  });
  afterAll(() => dir?.cleanup());

  /** 1 MiB subtree leaves of `big` (a shared mapping), a digest of `small` (read per thread), and odd digest ranges of `big`. */
  const mixed = (): L[] => {
    const leaves: L[] = [];
    for (let o = 0; o < SIZE; o += MiB) leaves.push({ path: big, offset: o, length: Math.min(MiB, SIZE - o), cv: true });
    leaves.splice(3, 0, { path: small, offset: 0, length: 70_000, cv: false });
    leaves.push({ path: big, offset: 12345, length: 3 * MiB + 7, cv: false }, { path: big, offset: 0, length: 0, cv: false }, { path: big, offset: 5 * 1024, length: 1024, cv: true });
    return leaves;
  };

  for (const k of ALL_BLAKE3_KERNELS) {
    const skip = kernelSkip(k);
    it.skipIf(skip !== '')(`kernel ${k}: 1, 2 and 5 threads write the bytes blake3Leaves writes${skip ? ` (skipped: ${skip})` : ''}`, async () => {
      const leaves = mixed();
      const want = syncLeaves(leaves, k);
      for (const threads of [1, 2, 5]) expect(await threadLeaves(leaves, threads, k), `${threads} threads`).toEqual(want);
    });
  }

  // A shared file's leaf is hashed from the mapping, or by pread blocks where its page cache maps at
  // small folios ('auto': decided per leaf by a fault count on two of its pages, for leaves of more
  // than ~3 MiB); both forced ways must give the same bytes and codes. The 4 MiB leaves of a file
  // written in 4 KiB writes (small folios) and of `big` (one write) take the probe under 'auto'.
  for (const shared of ['map', 'read', 'auto'] as const) {
    it(`shared files read as '${shared}': the same bytes, and FILE_CHANGED when planned past the end`, async () => {
      const before = addon!.blake3IoOptions().sharedFiles;
      expect(before).toBe('auto');
      const pieces = join(dir.path, 'pieces.bin');
      const fd = openSync(pieces, 'w');
      const bytes = fill251(13 * MiB + 777, 4);
      for (let o = 0; o < bytes.length; o += 4096) writeSync(fd, bytes, o, Math.min(4096, bytes.length - o));
      closeSync(fd);
      try {
        expect(addon!.blake3IoOptions(undefined, undefined, shared).sharedFiles).toBe(shared);
        const leaves = mixed();
        for (const [path, size] of [[pieces, bytes.length], [big, SIZE]] as const) {
          for (let o = 0; o < size; o += 4 * MiB) leaves.push({ path, offset: o, length: Math.min(4 * MiB, size - o), cv: true });
        }
        const want = syncLeaves(leaves);
        for (const threads of [1, 2, 5]) expect(await threadLeaves(leaves, threads), `${threads} threads`).toEqual(want);
        expect(await codeOf(threadLeaves([{ path: big, offset: 0, length: MiB, cv: true }, { path: big, offset: 9 * MiB, length: 2 * MiB, cv: true }], 2))).toBe('FILE_CHANGED');
        const missing = join(dir.path, 'nope.bin');
        expect(await codeOf(threadLeaves([{ path: missing, offset: 0, length: 1024, cv: true }, { path: missing, offset: 1024, length: 1, cv: true }], 2))).toBe('FILE_NOT_FOUND');
      } finally {
        addon!.blake3IoOptions(undefined, undefined, before);
      }
    });
  }

  it("refuses an unknown sharedFiles mode", () => {
    expect(() => addon!.blake3IoOptions(undefined, undefined, 'nope' as 'auto')).toThrow(RangeError);
    expect(addon!.blake3IoOptions().sharedFiles).toBe('auto');
  });

  it('subtree CVs from 2 threads merge to the whole-file digest of @noble/hashes', async () => {
    const leaves: L[] = [];
    for (let o = 0; o < SIZE; o += MiB) leaves.push({ path: big, offset: o, length: Math.min(MiB, SIZE - o), cv: true });
    const cvs = (await threadLeaves(leaves, 2)).map((h) => Uint8Array.from(Buffer.from(h, 'hex')));
    expect(hex(mergeInTreeOrder(cvs, addon!.blake3Parent))).toBe(hex(nobleBlake3(data)));
  });

  it('adds every byte to the control slot, and stops with ABORTED once slot 0 is set', async () => {
    const counters = new BigInt64Array(new SharedArrayBuffer(8 * 3));
    const leaves = mixed();
    await threadLeaves(leaves, 2, undefined, undefined, { counters, slot: 2 });
    expect(counters[2]).toBe(BigInt(leaves.reduce((a, l) => a + l.length, 0)));
    expect(counters[1]).toBe(0n);
    Atomics.store(counters, 0, 1n);
    expect(await codeOf(threadLeaves(leaves, 2, undefined, undefined, { counters, slot: 1 }))).toBe('ABORTED');
  });

  it('rejects with the codes of native/io.h, on both read paths', async () => {
    const missing = join(dir.path, 'nope.bin');
    expect(await codeOf(threadLeaves([{ path: missing, offset: 0, length: 1, cv: false }], 2))).toBe('FILE_NOT_FOUND');
    // two leaves of a missing file: the shared-mapping path
    expect(await codeOf(threadLeaves([{ path: missing, offset: 0, length: 1024, cv: true }, { path: missing, offset: 1024, length: 1, cv: true }], 2))).toBe('FILE_NOT_FOUND');
    // planned longer than the file is, through the mapping and through pread
    expect(await codeOf(threadLeaves([{ path: big, offset: 0, length: MiB, cv: true }, { path: big, offset: 9 * MiB, length: 2 * MiB, cv: true }], 2))).toBe('FILE_CHANGED');
    expect(await codeOf(threadLeaves([{ path: small, offset: 0, length: 70_001, cv: false }], 1))).toBe('FILE_CHANGED');
    const sub = join(dir.path, 'a-directory');
    mkdirSync(sub, { recursive: true });
    expect(await codeOf(threadLeaves([{ path: sub, offset: 0, length: 1024, cv: true }, { path: sub, offset: 1024, length: 1024, cv: true }], 2))).toBe('UNSUPPORTED_FILE_TYPE');
    // a recorded identity that is not the file's any more
    const ids = Float64Array.from([1, 2, 1, 2]);
    expect(await codeOf(threadLeaves([{ path: big, offset: 0, length: MiB, cv: true }, { path: big, offset: MiB, length: MiB, cv: true }], 2, undefined, ids))).toBe('FILE_CHANGED');
  });

  it('refuses bad arguments synchronously, naming them', () => {
    const a = addon!;
    const out = new Uint8Array(64);
    const f = Uint8Array.from([1]);
    expect(() => a.blake3LeavesAsync([big], [1000], [1024], f, out)).toThrow(/offsets\[0\].*multiple of 1024/);
    expect(() => a.blake3LeavesAsync([big], [0], [1024], f, out, undefined, undefined, undefined, 0)).toThrow(/threads/);
    expect(() => a.blake3LeavesAsync([big], [0], [1024], f, out, undefined, undefined, undefined, 257)).toThrow(RangeError);
    expect(() => a.blake3LeavesAsync([big], [0], [1024], f, out, 'nope')).toThrow(RangeError);
  });
});
