/**
 * chunksOfFiles: several files streamed through one prefetch window (the next file's first batches
 * go out while the current file's last ones run). Same bytes as chunks() file by file on every
 * verifier; a tampered first leaf of the next file fails only after every byte of the current file
 * was handed out; a file missing in the middle fails in its turn; stopping at the file boundary
 * (with the next file's batches in flight) leaves later streams and close() intact.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nativeUnitsApi } from '../../src/engine/native-units.js';
import { ModelsealError, openVerified, type VerifiedModel } from '../../src/index.js';
import { keyedTempDir, signedFilesModel } from './fixtures.js';

const LEAF = 1024;
// a.bin and b.bin span many batches (b with a short last leaf), c.bin is one leaf, d.bin two
const SIZES: Record<string, number> = { 'a.bin': 40 * LEAF, 'b.bin': 33 * LEAF + 77, 'c.bin': 500, 'd.bin': 2 * LEAF };
const NATIVE = nativeUnitsApi() !== undefined;
const { t, keys } = keyedTempDir();

const model = (hash: 'sha256' | 'blake3') => signedFilesModel(t, keys, SIZES, { hash, leaf: LEAF, salt: 3 });

/** Every chunk of chunksOfFiles, reassembled per file, checking that offsets are contiguous. */
async function collectAll(v: VerifiedModel, reuseBuffers: boolean, paths?: string[]): Promise<{ order: string[]; files: Map<string, Buffer> }> {
  const parts = new Map<string, Buffer[]>();
  const at = new Map<string, number>();
  const order: string[] = [];
  for await (const { path, offset, bytes } of v.chunksOfFiles(paths, { reuseBuffers })) {
    if (!parts.has(path)) {
      parts.set(path, []);
      order.push(path);
    }
    expect(offset, `${path} offset`).toBe(at.get(path) ?? 0);
    at.set(path, offset + bytes.length);
    parts.get(path)!.push(Buffer.from(bytes));
  }
  return { order, files: new Map([...parts].map(([k, v]) => [k, Buffer.concat(v)])) };
}

describe.each(['sha256', 'blake3'] as const)('chunksOfFiles, %s companion', (hash) => {
  // native threads only where the addon has them (without, 'native' streams on the pool: that row is the pool's)
  const verifiers: Array<readonly ['native' | 'pool', number]> = [...(NATIVE ? [['native', 2] as const] : []), ['pool', 2], ['native', 0] /* the calling thread */];

  it.each(verifiers)('streams every file in files() order with the bytes chunks() gives (verifier %s, workers %i)', async (verifier, workers) => {
    const m = await model(hash);
    const v = await openVerified(m.dir, { signature: m.sig, publicKey: keys.pub, workers, verifier });
    try {
      for (const reuse of [true, false]) {
        const { order, files } = await collectAll(v, reuse);
        expect(order).toEqual(v.files().map((f) => f.path));
        for (const [name, b] of m.bytes) expect(files.get(name)!.equals(b), `${name} reuse=${reuse}`).toBe(true);
      }
      // a subset, in the order asked, a file twice
      const { order, files } = await collectAll(v, true, ['d.bin', 'a.bin']);
      expect(order).toEqual(['d.bin', 'a.bin']);
      expect(files.get('a.bin')!.equals(m.bytes.get('a.bin')!)).toBe(true);
      const twice: string[] = [];
      for await (const c of v.chunksOfFiles(['c.bin', 'c.bin'])) twice.push(c.path);
      expect(twice).toEqual(['c.bin', 'c.bin']);
      if (verifier === 'native' && workers > 0) expect(v.stats.unitsNative).toBeGreaterThan(0);
      else expect(v.stats.unitsNative).toBe(0);
    } finally {
      await v.close();
    }
  });

  it('a tampered first leaf of the next file fails with RANGE_MISMATCH only after every byte of the current file', async () => {
    const m = await model(hash);
    const bad = Buffer.from(m.bytes.get('b.bin')!);
    bad[100] ^= 0x20;
    writeFileSync(join(m.dir, 'b.bin'), bad);
    const v = await openVerified(m.dir, { signature: m.sig, publicKey: keys.pub, workers: 2 });
    try {
      for (const reuseBuffers of [true, false]) {
        const got = new Map<string, number>();
        let err: unknown;
        try {
          for await (const { path, offset, bytes } of v.chunksOfFiles(['a.bin', 'b.bin', 'c.bin'], { reuseBuffers })) {
            expect(Buffer.from(bytes).equals((path === 'b.bin' ? bad : m.bytes.get(path)!).subarray(offset, offset + bytes.length))).toBe(true);
            got.set(path, offset + bytes.length);
          }
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(ModelsealError);
        expect(err).toMatchObject({ code: 'RANGE_MISMATCH', details: { file: 'b.bin', start: 0, end: LEAF } });
        expect(got.get('a.bin')).toBe(SIZES['a.bin']);
        expect(got.has('b.bin')).toBe(false);
      }
      // the untouched files still stream, and b.bin's other leaves still read
      expect((await collectAll(v, true, ['c.bin', 'a.bin'])).files.get('a.bin')!.equals(m.bytes.get('a.bin')!)).toBe(true);
      expect((await v.read('b.bin', LEAF, SIZES['b.bin']! - LEAF)).equals(bad.subarray(LEAF))).toBe(true);
    } finally {
      await v.close();
    }
  });

  it('a signed file missing in the middle fails with FILE_MISSING in its turn, after every byte of the files before it', async () => {
    const m = await model(hash);
    rmSync(join(m.dir, 'c.bin'));
    const v = await openVerified(m.dir, { signature: m.sig, publicKey: keys.pub, workers: 2 });
    try {
      const seen = new Map<string, number>();
      await expect(
        (async () => {
          for await (const { path, offset, bytes } of v.chunksOfFiles(['a.bin', 'b.bin', 'c.bin', 'd.bin'], { reuseBuffers: true })) seen.set(path, offset + bytes.length);
        })(),
      ).rejects.toMatchObject({ code: 'FILE_MISSING' });
      expect(seen.get('a.bin')).toBe(SIZES['a.bin']);
      expect(seen.get('b.bin')).toBe(SIZES['b.bin']);
      expect(seen.has('d.bin')).toBe(false);
    } finally {
      await v.close();
    }
  });

  it('stopping at the file boundary (break, return) with the next file in flight leaves later streams intact; close waits', async () => {
    const m = await model(hash);
    const v = await openVerified(m.dir, { signature: m.sig, publicKey: keys.pub, workers: 2 });
    try {
      // the last chunk of a.bin, and the first of b.bin
      for (const stop of [{ path: 'a.bin', end: SIZES['a.bin']! }, { path: 'b.bin', end: LEAF }]) {
        for await (const { path, offset, bytes } of v.chunksOfFiles(undefined, { reuseBuffers: true })) {
          expect(Buffer.from(bytes).equals(m.bytes.get(path)!.subarray(offset, offset + bytes.length))).toBe(true);
          if (path === stop.path && offset + bytes.length === stop.end) break;
        }
        const it = v.chunksOfFiles(undefined, { reuseBuffers: true });
        let r = await it.next();
        while (!r.done && !(r.value.path === stop.path && r.value.offset + r.value.bytes.length === stop.end)) r = await it.next();
        expect(r.done).toBe(false);
        await it.return(undefined);
        // a whole stream right after, into the same ring: every byte as signed
        const { files } = await collectAll(v, true);
        for (const [name, b] of m.bytes) expect(files.get(name)!.equals(b), name).toBe(true);
      }
      // abandoned at the boundary, then close: close settles only after the batches in flight
      const it = v.chunksOfFiles(undefined, { reuseBuffers: true });
      for (let k = 0; k < 40; k++) await it.next();
    } finally {
      await v.close();
    }
    await expect(v.chunksOfFiles().next()).rejects.toMatchObject({ code: 'MODEL_CLOSED' });
  });

  it('refuses paths that are not files of the signed model at the first next(), before any byte', async () => {
    const m = await model(hash);
    const v = await openVerified(m.dir, { signature: m.sig, publicKey: keys.pub, workers: 2 });
    try {
      const before = v.stats.bytesRead;
      await expect(v.chunksOfFiles(['a.bin', 'nope.bin']).next()).rejects.toMatchObject({ code: 'FILE_NOT_SIGNED' });
      await expect(v.chunksOfFiles('a.bin' as unknown as string[]).next()).rejects.toMatchObject({ code: 'USAGE' });
      await expect(v.chunksOfFiles([1 as unknown as string]).next()).rejects.toMatchObject({ code: 'USAGE' });
      expect(v.stats.bytesRead).toBe(before);
      expect((await v.chunksOfFiles([]).next()).done).toBe(true);
    } finally {
      await v.close();
    }
  });
});
