/**
 * openVerified with verification off the calling thread, on the worker pool (`verifier: 'pool'`)
 * and on the addon's native threads (`verifier: 'native'`, the default with the addon): multi-unit
 * reads go to them (each unit read once and handed out as the very bytes it hashed), single-unit
 * reads stay on the calling thread; `workers: 0` keeps everything on the calling thread. The same
 * bytes, the same verdicts and the same RANGE_MISMATCH every way, for every companion tree and
 * without one. Units the addon does not serve (BLAKE2b digests) go to the pool under 'native'.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nativeUnitsApi } from '../../src/engine/native-units.js';
import { ModelsealError, openVerified, signModel } from '../../src/index.js';
import { fill251 } from '../helpers.js';
import { keyedTempDir } from './fixtures.js';

const LEAF = 1024;
const SIZE = 40 * LEAF + 333;
const { t, keys } = keyedTempDir();

type Case = { hash: 'sha256' | 'blake3' | 'blake2b'; method?: 'shards'; merkle: boolean; verifier: 'pool' | 'native' };
const BASE: Array<Omit<Case, 'verifier'>> = [
  { hash: 'sha256', merkle: true },
  { hash: 'blake3', merkle: true },
  { hash: 'blake2b', merkle: true },
  { hash: 'sha256', method: 'shards', merkle: false },
  { hash: 'blake2b', merkle: false },
];
const NATIVE = nativeUnitsApi() !== undefined;
const CASES: Case[] = BASE.flatMap((c) => [{ ...c, verifier: 'pool' as const }, ...(NATIVE ? [{ ...c, verifier: 'native' as const }] : [])]);
/** Whether the native path serves a case's units: every companion leaf (RFC 9162 or BLAKE3 CV) and SHA-256 / BLAKE3 digests. */
const onNative = (c: Case): boolean => c.verifier === 'native' && (c.merkle || c.hash !== 'blake2b');

async function signed(c: Case, name: string): Promise<{ dir: string; sig: string; bytes: Buffer }> {
  const dir = join(t.path, name);
  mkdirSync(dir, { recursive: true });
  const bytes = Buffer.from(fill251(SIZE, 3));
  writeFileSync(join(dir, 'w.bin'), bytes);
  const sig = join(t.path, `${name}.sig`);
  await signModel(dir, { privateKey: keys.priv, output: sig, hash: c.hash, ...(c.method ? { method: 'shards', shardSize: 4000 } : {}), ...(c.merkle ? { merkle: { leafSize: LEAF } } : {}) });
  return { dir, sig, bytes };
}

describe.each(CASES)('openVerified off the calling thread ($verifier): $hash $method companion=$merkle', (c) => {
  const tag = `${c.hash}-${c.method ?? 'files'}-${c.merkle ? 'm' : 'n'}-${c.verifier}`;
  it('streams the whole file through the workers, each unit read once; equal to workers: 0', async () => {
    const m = await signed(c, `ok-${tag}`);
    for (const workers of [2, 0]) {
      const v = await openVerified(m.dir, { signature: m.sig, publicKey: keys.pub, workers, verifier: c.verifier });
      try {
        const parts: Buffer[] = [];
        for await (const chunk of v.chunks('w.bin')) parts.push(Buffer.from(chunk));
        expect(Buffer.concat(parts).equals(m.bytes)).toBe(true);
        expect(v.stats.bytesRead).toBe(SIZE);
        // leaves, 4000-byte shards, or the whole file (one unit: never worth a worker)
        const units = c.merkle ? Math.ceil(SIZE / LEAF) : c.method ? Math.ceil(SIZE / 4000) : 1;
        expect(v.stats.unitsVerified).toBe(units);
        expect(v.stats.unitsOnWorkers).toBe(workers > 0 && units > 1 ? units : 0);
        expect(v.stats.unitsNative).toBe(workers > 0 && units > 1 && onNative(c) ? units : 0);
        // a read inside one unit stays on this thread
        const before = v.stats.unitsOnWorkers;
        expect((await v.read('w.bin', SIZE - 10, 10)).equals(m.bytes.subarray(SIZE - 10))).toBe(true);
        expect(v.stats.unitsOnWorkers).toBe(before);
      } finally {
        await v.close();
      }
    }
  });

  it('reuseBuffers: the same bytes, each unit read once per stream, and the next stream reads into the recycled buffer', async () => {
    if (!c.merkle) return; // one unit (whole file) or shards: the same pool path, covered by the leaf cases
    const m = await signed(c, `reuse-${tag}`);
    const v = await openVerified(m.dir, { signature: m.sig, publicKey: keys.pub, workers: 2, verifier: c.verifier });
    try {
      const seen: ArrayBufferLike[][] = [];
      for (let pass = 0; pass < 2; pass++) {
        const parts: Buffer[] = [];
        const buffers: ArrayBufferLike[] = [];
        for await (const chunk of v.chunks('w.bin', 0, undefined, { reuseBuffers: true })) {
          parts.push(Buffer.from(chunk));
          buffers.push(chunk.buffer);
        }
        expect(Buffer.concat(parts).equals(m.bytes)).toBe(true);
        seen.push(buffers);
      }
      // recycled units are not cached: both passes read every unit from storage
      expect(v.stats.bytesRead).toBe(2 * SIZE);
      expect(v.stats.unitsOnWorkers).toBe(2 * Math.ceil(SIZE / LEAF));
      if (onNative(c)) {
        // native: the second pass read into ring buffers the first pass handed back (the same
        // ArrayBuffers), and no more of them than the ring holds
        expect(v.stats.unitsNative).toBe(2 * Math.ceil(SIZE / LEAF));
        const first = new Set(seen[0]);
        expect(seen[1]!.some((b) => first.has(b))).toBe(true);
        expect(new Set([...seen[0]!, ...seen[1]!]).size).toBeLessThanOrEqual(8);
      } else {
        // the second pass's batch (the same size) was read into the buffer the first pass handed back:
        // it went to a worker again (transferred, so detached here); the second pass's own is intact
        expect(seen[0]![seen[0]!.length - 1]!.byteLength).toBe(0);
        expect(seen[1]![seen[1]!.length - 1]!.byteLength).toBeGreaterThan(0);
      }
    } finally {
      await v.close();
    }
  });

  it('a flipped byte fails its unit on the workers with RANGE_MISMATCH; earlier bytes were handed out, later units still read', async () => {
    if (!c.merkle) return; // whole-file and 4000-byte-shard units: covered by the leaf cases' logic
    const m = await signed(c, `flip-${tag}`);
    const at = 17 * LEAF + 5;
    const bad = Buffer.from(m.bytes);
    bad[at] ^= 1;
    writeFileSync(join(m.dir, 'w.bin'), bad);
    const v = await openVerified(m.dir, { signature: m.sig, publicKey: keys.pub, workers: 2, verifier: c.verifier });
    try {
      let got = 0;
      let err: unknown;
      try {
        for await (const chunk of v.chunks('w.bin')) {
          expect(Buffer.from(chunk).equals(bad.subarray(got, got + chunk.length))).toBe(true);
          got += chunk.length;
        }
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ModelsealError);
      expect(err).toMatchObject({ code: 'RANGE_MISMATCH', details: { file: 'w.bin', start: 17 * LEAF, end: 18 * LEAF } });
      expect(got).toBe(17 * LEAF);
      const rest = await v.read('w.bin', 18 * LEAF, SIZE - 18 * LEAF);
      expect(rest.equals(bad.subarray(18 * LEAF))).toBe(true);
      expect(v.stats.unitsOnWorkers).toBeGreaterThan(0);
      if (onNative(c)) expect(v.stats.unitsNative).toBeGreaterThan(0);
    } finally {
      await v.close();
    }
  });
});

it('refuses a bad worker count', async () => {
  await expect(openVerified(t.path, { signature: join(t.path, 'none.sig'), publicKey: keys.pub, workers: -1 })).rejects.toMatchObject({ code: 'BAD_WORKERS' });
});
