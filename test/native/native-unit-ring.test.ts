/**
 * NativeUnitRing (src/engine/native-units.ts): a ring slot is reused whole (buffer, unit views,
 * digests, argument arrays) only after release, and relaid when a batch of the same size has other
 * unit lengths; a slot of a batch not yet released (still in flight or still read) is never handed
 * out again; batches asked without `reuse` are never taken back.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NativeUnitRing, nativeUnitsApi, type NativeUnitKind } from '../../src/engine/native-units.js';
import { fill251, tempDir } from '../helpers.js';

const api = nativeUnitsApi();
const leaf = (d: Uint8Array) => createHash('sha256').update(Buffer.from([0])).update(d).digest('hex');

describe.skipIf(!api)(`NativeUnitRing${api ? '' : ' (skipped: the addon has no verifiedUnitsAsync; run `npm run build:native`)'}`, () => {
  let dir: { path: string; cleanup: () => void };
  let fd: number;
  const bytes = Buffer.from(fill251(8192, 11));
  beforeAll(() => {
    dir = tempDir();
    writeFileSync(join(dir.path, 'f.bin'), bytes);
    fd = openSync(join(dir.path, 'f.bin'), 'r');
  });
  afterAll(() => {
    closeSync(fd);
    dir.cleanup();
  });
  const kinds = (n: number): NativeUnitKind[] => Array.from({ length: n }, () => ({ algorithm: 'sha256', mode: 2 }));
  const check = (b: { views: Buffer[]; digests: Uint8Array }, units: Array<{ offset: number; length: number }>) => {
    expect(b.views.map((v) => v.length)).toEqual(units.map((u) => u.length));
    units.forEach((u, k) => {
      const want = bytes.subarray(u.offset, u.offset + u.length);
      expect(b.views[k]!.equals(want)).toBe(true);
      expect(Buffer.from(b.digests.subarray(32 * k, 32 * k + 32)).toString('hex')).toBe(leaf(want));
    });
  };

  it('reuses a released slot whole, relays it for other unit lengths, and never hands out an unreleased one', async () => {
    const ring = new NativeUnitRing(api!, 1);
    const u1 = [
      { offset: 0, length: 1024 },
      { offset: 1024, length: 1024 },
    ];
    const a = await ring.hash(fd, u1, kinds(2), true);
    check(a, u1);
    // not released yet: a second batch of the same size gets other memory
    const b = await ring.hash(fd, u1, kinds(2), true);
    expect(b.buffer).not.toBe(a.buffer);
    ring.release(a.buffer, 4);
    const u2 = [
      { offset: 4096, length: 1024 },
      { offset: 5120, length: 1024 },
    ];
    const c = await ring.hash(fd, u2, kinds(2), true);
    expect(c.buffer).toBe(a.buffer); // the same slot, views and digests reused
    expect(c.views[0]).toBe(a.views[0]);
    check(c, u2);
    ring.release(c.buffer, 4);
    // the same total, other unit lengths: the slot is relaid
    const u3 = [
      { offset: 100, length: 300 },
      { offset: 400, length: 1748 },
    ];
    const d = await ring.hash(fd, u3, kinds(2), true);
    expect(d.buffer).toBe(a.buffer);
    check(d, u3);
    // without reuse: fresh memory, never taken back
    ring.release(d.buffer, 4);
    const e = await ring.hash(fd, u1, kinds(2), false);
    expect(e.buffer).not.toBe(a.buffer);
    check(e, u1);
    ring.release(e.buffer, 4);
    const f = await ring.hash(fd, u1, kinds(2), true);
    expect(f.buffer).toBe(a.buffer);
    expect(f.buffer).not.toBe(e.buffer);
    check(f, u1);
  });
});
