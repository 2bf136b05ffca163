/**
 * openVerified's native path (the addon's verifiedUnitsAsync over a ring of reused buffers) against
 * the pool and the calling thread: the same bytes for ranges cut at every leaf boundary ±1 (with
 * and without reuseBuffers, through chunks, createReadStream and createWebStream), tampered leaves
 * in either SHA-256 lane of a pair and in the short last leaf, and a consumer that stops early
 * (break, return, close) while batches are still being read, and a file truncated after open
 * (skipped, with one line, without the addon); each on both native read paths: the mapped file
 * copied by the hashing kernels (MODELSEAL_MEMORY_POLICY=normal, the SHA-256 default) and pread
 * (=low, the low-memory path and BLAKE3's default); and with the addon disabled, the default
 * verifier on the pool.
 */
import { mkdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { nativeUnitsApi } from '../../src/engine/native-units.js';
import { ModelsealError, openVerified, signModel, type VerifiedModel } from '../../src/index.js';
import { fill251 } from '../helpers.js';
import { keyedTempDir } from './fixtures.js';

const LEAF = 1024;
const LEAVES = 24;
const SIZE = LEAVES * LEAF + 333; // a short 25th leaf
const NATIVE = nativeUnitsApi() !== undefined;
const { t, keys } = keyedTempDir();

let seq = 0;
async function signed(hash: 'sha256' | 'blake3', base: string): Promise<{ dir: string; sig: string; bytes: Buffer }> {
  const name = `${base}-${++seq}`;
  const dir = join(t.path, name);
  mkdirSync(dir, { recursive: true });
  const bytes = Buffer.from(fill251(SIZE, 7));
  writeFileSync(join(dir, 'w.bin'), bytes);
  const sig = join(t.path, `${name}.sig`);
  await signModel(dir, { privateKey: keys.priv, output: sig, hash, merkle: { leafSize: LEAF } });
  return { dir, sig, bytes };
}

async function collect(v: VerifiedModel, start: number, end: number, reuseBuffers: boolean): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of v.chunks('w.bin', start, end, { reuseBuffers })) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

describe.skipIf(!NATIVE)(`openVerified on native threads${NATIVE ? '' : ' (skipped: the addon has no verifiedUnitsAsync; run `npm run build:native`)'}`, () => {
  describe.each([
    ['normal', 'SHA-256 from the mapped file through the copy-out kernels'],
    ['low', 'pread into the ring'],
  ] as const)('MODELSEAL_MEMORY_POLICY=%s (%s)', (policy) => {
  beforeAll(() => {
    vi.stubEnv('MODELSEAL_MEMORY_POLICY', policy);
  });
  afterAll(() => {
    vi.unstubAllEnvs();
  });
  describe.each(['sha256', 'blake3'] as const)('%s companion', (hash) => {
    it('ranges cut at every leaf boundary ±1: the same bytes as the pool and the calling thread, with and without reuseBuffers', async () => {
      const m = await signed(hash, `edges-${hash}`);
      const open = (verifier: 'native' | 'pool', workers: number) => openVerified(m.dir, { signature: m.sig, publicKey: keys.pub, workers, verifier });
      const [nat, pool, thread] = await Promise.all([open('native', 2), open('pool', 2), open('native', 0)]);
      try {
        const edges = new Set<number>();
        for (let i = 0; i <= LEAVES + 1; i++) for (const d of [-1, 0, 1]) edges.add(Math.min(SIZE, Math.max(0, i * LEAF + d)));
        const ends = [...edges].sort((a, b) => a - b);
        let native = 0;
        for (const start of ends) {
          // every start, against ends near it and far from it (a multi-leaf range goes native)
          for (const end of ends.filter((e) => e > start && (e - start < 3 * LEAF || e >= SIZE - 1 || e % (5 * LEAF) <= 1))) {
            const want = m.bytes.subarray(start, end);
            const before = nat.stats.unitsNative;
            for (const reuse of [true, false]) expect((await collect(nat, start, end, reuse)).equals(want), `native [${start}, ${end}) reuse=${reuse}`).toBe(true);
            native += nat.stats.unitsNative - before;
            expect((await collect(pool, start, end, false)).equals(want), `pool [${start}, ${end})`).toBe(true);
            expect((await collect(thread, start, end, false)).equals(want), `thread [${start}, ${end})`).toBe(true);
          }
        }
        expect(native).toBeGreaterThan(0);
        expect(pool.stats.unitsNative).toBe(0);
        expect(thread.stats.unitsNative).toBe(0);
      } finally {
        await Promise.all([nat.close(), pool.close(), thread.close()]);
      }
    });

    it('a tampered leaf in either lane of a pair, or the short last leaf, fails with RANGE_MISMATCH before any of its bytes; other leaves still read', async () => {
      for (const leaf of [0, 4, 5, 13, LEAVES]) {
        const m = await signed(hash, `flip-${hash}-${leaf}`);
        const bad = Buffer.from(m.bytes);
        const at = Math.min(SIZE - 1, leaf * LEAF + 100);
        bad[at] ^= 0x40;
        writeFileSync(join(m.dir, 'w.bin'), bad);
        const v = await openVerified(m.dir, { signature: m.sig, publicKey: keys.pub, workers: 2, verifier: 'native' });
        try {
          for (const reuseBuffers of [true, false]) {
            let got = 0;
            let err: unknown;
            try {
              for await (const c of v.chunks('w.bin', 0, SIZE, { reuseBuffers })) {
                expect(Buffer.from(c).equals(bad.subarray(got, got + c.length))).toBe(true);
                got += c.length;
              }
            } catch (e) {
              err = e;
            }
            expect(err).toBeInstanceOf(ModelsealError);
            expect(err).toMatchObject({ code: 'RANGE_MISMATCH', details: { file: 'w.bin', start: leaf * LEAF, end: Math.min(SIZE, (leaf + 1) * LEAF) } });
            expect(got).toBe(leaf * LEAF);
          }
          // the leaves around it verify and read (on native threads when more than one)
          if (leaf > 1) expect((await v.read('w.bin', 0, leaf * LEAF)).equals(m.bytes.subarray(0, leaf * LEAF))).toBe(true);
          if (leaf + 1 < LEAVES) expect((await v.read('w.bin', (leaf + 1) * LEAF, SIZE - (leaf + 1) * LEAF)).equals(m.bytes.subarray((leaf + 1) * LEAF))).toBe(true);
          expect(v.stats.unitsNative).toBeGreaterThan(0);
          await expect(v.read('w.bin', leaf * LEAF, 1)).rejects.toMatchObject({ code: 'RANGE_MISMATCH' });
        } finally {
          await v.close();
        }
      }
    });

    it('a consumer that stops early (break, return, throw) leaves later streams intact; close waits for batches in flight', async () => {
      const m = await signed(hash, `early-${hash}`);
      const v = await openVerified(m.dir, { signature: m.sig, publicKey: keys.pub, workers: 2, verifier: 'native' });
      try {
        for (let stopAt = 0; stopAt < LEAVES; stopAt += 5) {
          let k = 0;
          for await (const c of v.chunks('w.bin', 0, SIZE, { reuseBuffers: true })) {
            expect(Buffer.from(c).equals(m.bytes.subarray(k * LEAF, k * LEAF + c.length))).toBe(true);
            if (k++ === stopAt) break;
          }
          const it = v.chunks('w.bin', 0, SIZE, { reuseBuffers: true });
          await it.next();
          await it.return(undefined);
          await expect(
            (async () => {
              for await (const _ of v.chunks('w.bin', 0, SIZE, { reuseBuffers: true })) throw new Error('consumer failed');
            })(),
          ).rejects.toThrow('consumer failed');
          // a whole stream right after, into the same ring: every byte as signed
          expect((await collect(v, 0, SIZE, true)).equals(m.bytes)).toBe(true);
        }
        // a stream abandoned mid-way, then close: close settles only after the batches in flight
        const it = v.chunks('w.bin', 0, SIZE, { reuseBuffers: true });
        await it.next();
      } finally {
        await v.close();
      }
      await expect(v.read('w.bin', 0, 1)).rejects.toMatchObject({ code: 'MODEL_CLOSED' });
    });

    it('createReadStream and createWebStream hand out owned native-verified bytes', async () => {
      const m = await signed(hash, `streams-${hash}`);
      const v = await openVerified(m.dir, { signature: m.sig, publicKey: keys.pub, workers: 2, verifier: 'native' });
      try {
        const node: Buffer[] = [];
        for await (const c of v.createReadStream('w.bin', { start: LEAF - 1, end: SIZE - 2 })) node.push(c as Buffer);
        expect(Buffer.concat(node).equals(m.bytes.subarray(LEAF - 1, SIZE - 1))).toBe(true);
        const web: Uint8Array[] = [];
        const reader = v.createWebStream('w.bin').getReader();
        for (let r = await reader.read(); !r.done; r = await reader.read()) web.push(r.value);
        // chunks kept by the consumer stay intact after later ones arrive (no ring reuse here)
        expect(Buffer.concat(web).equals(m.bytes)).toBe(true);
        expect(v.stats.unitsNative).toBeGreaterThan(0);
      } finally {
        await v.close();
      }
    });

    it('a file truncated after open fails with FILE_SIZE_MISMATCH, after only bytes of whole leaves before the cut', async () => {
      const m = await signed(hash, `cut-${hash}`);
      const v = await openVerified(m.dir, { signature: m.sig, publicKey: keys.pub, workers: 2, verifier: 'native' });
      try {
        const cut = 10 * LEAF + 500; // inside leaf 10, not on a page boundary
        // the file's state (size, identity) is checked on its first read: cut it after that
        expect((await v.read('w.bin', 0, 1))[0]).toBe(m.bytes[0]);
        truncateSync(join(m.dir, 'w.bin'), cut);
        for (const reuseBuffers of [true, false]) {
          let got = 0;
          let err: unknown;
          try {
            for await (const c of v.chunks('w.bin', 0, SIZE, { reuseBuffers })) {
              expect(Buffer.from(c).equals(m.bytes.subarray(got, got + c.length))).toBe(true);
              got += c.length;
            }
          } catch (e) {
            err = e;
          }
          // the native call's FILE_CHANGED, as the cause (the pool's short read has none)
          expect(err).toMatchObject({ code: 'FILE_SIZE_MISMATCH', details: { file: 'w.bin' }, cause: { code: 'FILE_CHANGED' } });
          expect(got).toBeLessThanOrEqual(10 * LEAF);
        }
      } finally {
        await v.close();
      }
    });
  });
  });

  it("refuses a verifier other than 'native' or 'pool'", async () => {
    const m = await signed('sha256', 'bad-verifier');
    await expect(openVerified(m.dir, { signature: m.sig, publicKey: keys.pub, verifier: 'gpu' as 'pool' })).rejects.toMatchObject({ code: 'USAGE' });
  });
});

describe('openVerified without the addon', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.resetModules();
  });

  it('MODELSEAL_DISABLE_NATIVE=1: the default verifier streams on the pool, the same bytes, no native unit', async () => {
    const m = await signed('sha256', 'no-addon');
    vi.stubEnv('MODELSEAL_DISABLE_NATIVE', '1');
    vi.resetModules();
    const lib = (await import('../../src/index.js')) as typeof import('../../src/index.js');
    const v = await lib.openVerified(m.dir, { signature: m.sig, publicKey: keys.pub, workers: 2 });
    try {
      expect((await collect(v, LEAF - 1, SIZE, true)).equals(m.bytes.subarray(LEAF - 1))).toBe(true);
      expect(v.stats.unitsOnWorkers).toBe(LEAVES + 1);
      expect(v.stats.unitsNative).toBe(0);
    } finally {
      await v.close();
    }
  });
});
