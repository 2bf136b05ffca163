/**
 * Owned chunks (chunks / chunksOfFiles without reuseBuffers, createReadStream, createWebStream) on
 * the native path: every chunk the consumer keeps stays valid and unchanged after the stream moved
 * on, after garbage collections, and after later streams whose dropped batch buffers went back to
 * the addon's spare pool and were handed out again. Bounded memory for a consumer that drops its
 * chunks is a benchmark matter (bench/verified-stream-owned.mjs), not a timed test.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { nativeUnitsApi } from '../../src/engine/native-units.js';
import { openVerified, signModel } from '../../src/index.js';
import { fill251 } from '../helpers.js';
import { keyedTempDir } from './fixtures.js';

const LEAF = 64 * 1024;
// several 4 MiB batches per file (2 threads x 2 MiB of 64 KiB leaves), a short last leaf
const SIZES: Record<string, number> = { 'a.bin': 200 * LEAF + 777, 'b.bin': 150 * LEAF, 'c.bin': 3 * LEAF + 5 };
const NATIVE = nativeUnitsApi() !== undefined;
const { t, keys } = keyedTempDir();

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

async function model(hash: 'sha256' | 'blake3'): Promise<{ dir: string; sig: string; bytes: Map<string, Buffer> }> {
  const dir = join(t.path, `m-${hash}`);
  mkdirSync(dir, { recursive: true });
  const bytes = new Map<string, Buffer>();
  let salt = 3;
  for (const [name, size] of Object.entries(SIZES)) {
    const b = Buffer.from(fill251(size, salt++));
    writeFileSync(join(dir, name), b);
    bytes.set(name, b);
  }
  const sig = join(t.path, `m-${hash}.sig`);
  await signModel(dir, { privateKey: keys.priv, output: sig, hash, merkle: { leafSize: LEAF } });
  return { dir, sig, bytes };
}

/** Streams that drop every chunk, with collections between, so that freed batch buffers are reused. */
async function churn(v: Awaited<ReturnType<typeof openVerified>>): Promise<void> {
  for (let round = 0; round < 3; round++) {
    gc();
    for await (const c of v.chunksOfFiles()) void c;
    for await (const c of v.createReadStream('b.bin')) void c;
    gc();
    await new Promise((r) => setImmediate(r)); // finalizers of the collected buffers
  }
}

describe.skipIf(!NATIVE)('owned verified chunks stay valid (native path)', () => {
  for (const hash of ['sha256', 'blake3'] as const) {
    it(`${hash}: chunks kept from chunksOfFiles, createReadStream and createWebStream are unchanged after later streams and GC`, async () => {
      const m = await model(hash);
      const v = await openVerified(m.dir, { signature: m.sig, publicKey: keys.pub, workers: 2, verifier: 'native' });
      try {
        const kept: Array<{ path: string; offset: number; bytes: Buffer }> = [];
        for await (const c of v.chunksOfFiles()) kept.push(c);
        const crs: Buffer[] = [];
        for await (const c of v.createReadStream('a.bin')) crs.push(c as Buffer);
        const web: Uint8Array[] = [];
        const r = v.createWebStream('a.bin').getReader();
        for (let x = await r.read(); !x.done; x = await r.read()) web.push(x.value);
        expect(v.stats.unitsNative).toBeGreaterThan(0);

        await churn(v);

        let total = 0;
        for (const { path, offset, bytes } of kept) {
          const want = m.bytes.get(path)!.subarray(offset, offset + bytes.length);
          expect(Buffer.compare(bytes, want), `${path} @ ${offset}`).toBe(0);
          total += bytes.length;
        }
        expect(total).toBe(Object.values(SIZES).reduce((a, b) => a + b, 0));
        expect(Buffer.concat(crs).equals(m.bytes.get('a.bin')!)).toBe(true);
        expect(Buffer.concat(web).equals(m.bytes.get('a.bin')!)).toBe(true);
      } finally {
        await v.close();
      }
    });
  }
});
