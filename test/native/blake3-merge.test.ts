/**
 * blake3MergeCvs in the addon (what hashModel merges a split file's subtree CVs with after a
 * threaded native hash): for every count of CVs and every runnable kernel it must give the bytes of
 * the JS reference's blake3MergeCvs, and the native leaf hasher's mergeCvs must too. Bad input is
 * refused with a RangeError, never a wrong digest.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { blake3MergeCvs } from '../../src/backends/js/blake3.js';
import { loadCpuBackend } from '../../src/backends/registry.js';
import { hex } from '../helpers.js';
import { ALL_BLAKE3_KERNELS, addon as baseAddon, kernelSkip, skipReason } from './blake3-helpers.js';

interface MergeAddon {
  blake3MergeCvs(cvs: Uint8Array, kernel?: string): Uint8Array;
}
const addon = baseAddon && typeof (baseAddon as unknown as Partial<MergeAddon>).blake3MergeCvs === 'function' ? (baseAddon as typeof baseAddon & MergeAddon) : undefined;
const why = addon ? '' : baseAddon ? 'this addon build has no blake3MergeCvs (run `npm run build:native`)' : skipReason;

// every count up to 70 (all the shapes of small trees), and around the 256 leaves of a 2 GiB file
const COUNTS = [...Array.from({ length: 69 }, (_, i) => i + 2), 127, 128, 129, 255, 256, 257];
const cvsOf = (n: number) => Array.from({ length: n }, () => new Uint8Array(randomBytes(32)));
const joined = (cvs: Uint8Array[]) => {
  const all = new Uint8Array(32 * cvs.length);
  cvs.forEach((c, i) => all.set(c, 32 * i));
  return all;
};

describe.skipIf(why !== '')(`native blake3MergeCvs${why ? ` (skipped: ${why})` : ''}`, () => {
  for (const k of ALL_BLAKE3_KERNELS) {
    it.skipIf(kernelSkip(k) !== '')(`equals the JS reference for 2..70 and 127..257 CVs (${k})${kernelSkip(k) ? ` (skipped: ${kernelSkip(k)})` : ''}`, () => {
      for (const n of COUNTS) {
        const cvs = cvsOf(n);
        expect(hex(addon!.blake3MergeCvs(joined(cvs), k)), `${n} CVs`).toBe(hex(blake3MergeCvs(cvs)));
      }
    });
  }

  it('the default kernel, and the native leaf hasher, give the same bytes', async () => {
    const h = (await loadCpuBackend('native')).createLeafHasher();
    expect(typeof h.mergeCvs).toBe('function');
    for (const n of [2, 3, 256, 257]) {
      const cvs = cvsOf(n);
      const want = hex(blake3MergeCvs(cvs));
      expect(hex(addon!.blake3MergeCvs(joined(cvs)))).toBe(want);
      expect(hex(h.mergeCvs!(cvs))).toBe(want);
    }
  });

  it('refuses fewer than two CVs, a length that is not whole CVs, and an unknown kernel', async () => {
    expect(() => addon!.blake3MergeCvs(new Uint8Array(32))).toThrow(RangeError);
    expect(() => addon!.blake3MergeCvs(new Uint8Array(0))).toThrow(RangeError);
    expect(() => addon!.blake3MergeCvs(new Uint8Array(65))).toThrow(/multiple of 32/);
    expect(() => addon!.blake3MergeCvs(new Uint8Array(64), 'nope')).toThrow(RangeError);
    const h = (await loadCpuBackend('native')).createLeafHasher();
    expect(() => h.mergeCvs!([new Uint8Array(32)])).toThrow(RangeError);
    expect(() => h.mergeCvs!([new Uint8Array(32), new Uint8Array(31)])).toThrow(RangeError);
  });
});
