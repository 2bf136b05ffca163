/**
 * Every native SHA-256 kernel runnable on this CPU, forced by name, against node:crypto (OpenSSL)
 * and the NIST vectors: in-memory messages at the lengths the kernels care about, unaligned views,
 * and multi-buffer calls whose lanes have different lengths.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fill251, hex, itVectors } from '../helpers.js';
import { ALL_SHA256_KERNELS, addon, kernels, nistVectors, skipReason } from './native-sha256-helpers.js';

const ref = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Lengths around every edge the padding and the block loop care about. */
function boundaryLengths(): number[] {
  const s = new Set<number>();
  for (let n = 0; n <= 200; n++) s.add(n);
  for (const n of [55, 56, 63, 64, 65, 119, 120, 127, 128, 129]) s.add(n);
  for (const blocks of [3, 4, 7, 8, 15, 16, 17, 31, 64, 100, 1024]) for (const d of [-1, 0, 1]) s.add(64 * blocks + d);
  for (const n of [65536, 1 << 20]) for (const d of [-1, 0, 1]) s.add(n + d);
  return [...s].sort((a, b) => a - b);
}

describe.skipIf(!addon)(`native SHA-256 kernels${addon ? '' : ` (skipped: ${skipReason})`}`, () => {
  const a = addon!;

  it('lists the kernels this CPU can run, so that each one below is actually exercised', () => {
    const f = a.cpuFeatures();
    expect(kernels).toContain('scalar');
    expect(kernels).toContain(a.sha256DefaultKernel());
    expect(kernels[0]).toBe(a.sha256DefaultKernel());
    if (f.arch === 'x86_64' && f.shaNi && f.sse41) expect(kernels).toEqual(expect.arrayContaining(['shani', 'shani-x2', 'shani-x4']));
    if (f.arch === 'x86_64' && f.avx2) expect(kernels).toContain('avx2-x8');
    if (f.arch === 'x86_64' && f.avx2 && f.avx512f) expect(kernels).toContain('avx512-x16');
    for (const k of kernels) expect(ALL_SHA256_KERNELS).toContain(k);
  });

  it('refuses kernels this CPU cannot run with KERNEL_UNAVAILABLE, and unknown names with BAD_ARGUMENT', () => {
    for (const k of ALL_SHA256_KERNELS.filter((k) => !kernels.includes(k))) {
      expect(() => a.sha256Bytes(new Uint8Array(1), k)).toThrow(expect.objectContaining({ code: 'KERNEL_UNAVAILABLE' }));
    }
    expect(() => a.sha256Bytes(new Uint8Array(1), 'sha-ni')).toThrow(RangeError);
    expect(() => a.sha256Bytes(new Uint8Array(1), 'sha-ni')).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT' }));
  });

  describe.each(kernels)('kernel %s', (k) => {
    itVectors('matches the NIST short and long message vectors', () => {
      const cases = [...nistVectors('SHA256ShortMsg.rsp'), ...nistVectors('SHA256LongMsg.rsp')];
      expect(cases.length).toBe(129);
      for (const c of cases) expect(hex(a.sha256Bytes(c.msg, k))).toBe(c.md);
      // The same vectors in one multi-buffer call: 129 lanes of 129 different lengths.
      const multi = a.sha256BytesMulti(cases.map((c) => c.msg), k);
      cases.forEach((c, i) => expect(hex(multi.subarray(32 * i, 32 * i + 32))).toBe(c.md));
    });

    it('matches node:crypto at lengths 0-200, 55/56/63/64/65 and block multiples ±1', () => {
      const data = fill251((1 << 20) + 1);
      for (const n of boundaryLengths()) {
        const m = data.subarray(0, n);
        expect(hex(a.sha256Bytes(m, k)), `length ${n}`).toBe(ref(m));
      }
    });

    it('reads unaligned views (subarray offsets 1..15)', () => {
      const data = fill251(4096 + 64);
      for (let off = 1; off <= 15; off++) {
        for (const n of [0, 1, 55, 64, 65, 1000, 4096]) {
          const m = data.subarray(off, off + n);
          expect(hex(a.sha256Bytes(m, k)), `offset ${off} length ${n}`).toBe(ref(m));
        }
      }
    });

    it('hashes lanes of different lengths in one multi-buffer call', () => {
      const data = fill251(300_000);
      // Lengths chosen so that lanes run dry at different times: empty, sub-block, two-block
      // padding, long lanes next to short ones, and more messages than any kernel has lanes.
      const lengths = [0, 1, 55, 56, 64, 119, 120, 4096, 100_000, 3, 299_999, 64 * 9 + 1, 7, 63, 200_000, 128, 0, 65, 12_345, 250_000, 9];
      const msgs = lengths.map((n, i) => data.subarray(i, i + Math.min(n, data.length - i)));
      const out = a.sha256BytesMulti(msgs, k);
      expect(out.length).toBe(32 * msgs.length);
      msgs.forEach((m, i) => expect(hex(out.subarray(32 * i, 32 * i + 32)), `lane ${i} (${m.length} bytes)`).toBe(ref(m)));
      // Every count of messages from 0 to 17 (fewer and more than the widest kernel's 16 lanes).
      for (let count = 0; count <= 17; count++) {
        const some = msgs.slice(4, 4 + count);
        const o = a.sha256BytesMulti(some, k);
        expect(o.length).toBe(32 * some.length);
        some.forEach((m, i) => expect(hex(o.subarray(32 * i, 32 * i + 32))).toBe(ref(m)));
      }
    });
  });

  it('validates arguments with TypeError / RangeError naming the argument', () => {
    expect(() => a.sha256Bytes([1, 2] as unknown as Uint8Array)).toThrow(TypeError);
    expect(() => a.sha256Bytes(new Uint16Array(2) as unknown as Uint8Array)).toThrow(/data must be a Uint8Array/);
    expect(() => a.sha256Bytes(new Uint8Array(1), 5 as unknown as string)).toThrow(/kernel must be a string/);
    expect(() => a.sha256BytesMulti('x' as unknown as Uint8Array[])).toThrow(/datas must be an array/);
    expect(() => a.sha256BytesMulti([new Uint8Array(1), {} as Uint8Array])).toThrow(/datas\[1\] must be a Uint8Array/);
    // Buffer is a Uint8Array and is accepted.
    expect(hex(a.sha256Bytes(Buffer.from('abc')))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});
