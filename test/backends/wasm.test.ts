/**
 * wasm backend, in-memory paths: SHA-256 (scalar; the 4-lane kernel is exercised through file
 * leaves in wasm-files.test.ts) and BLAKE3 (SIMD128 and scalar kernels) against node:crypto, the
 * official BLAKE3 vectors, the NIST SHA-256 vectors and the BLAKE3 reference (src/backends/js/blake3.ts).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { blake3 as nobleBlake3 } from '@noble/hashes/blake3.js';
import { describe, expect, it } from 'vitest';
import { blake3ParentWasm, wasmBackend } from '../../src/backends/wasm.js';
import type { LeafHasher } from '../../src/backends/types.js';
import { fill251, hex, itVectors, VECTORS_DIR } from '../helpers.js';
import { blake3Digest as refBlake3, blake3Parent as refBlake3Parent, blake3SubtreeCv as refBlake3Cv } from '../../src/backends/js/blake3.js';

const MiB = 1 << 20;
const probe = wasmBackend.probe();
const available = probe.ok;
// CI sets MODELSEAL_REQUIRE_WASM=1: there the backend must run, not skip.
if (!available && process.env.MODELSEAL_REQUIRE_WASM === '1') throw new Error(`wasm backend required but unavailable: ${probe.ok ? '' : probe.reason}`);
const suite = available ? describe : describe.skip;

const KERNELS = [
  { label: 'simd128', kernels: {} },
  { label: 'scalar', kernels: { sha256: 'scalar', blake3: 'scalar' } },
];

/** Lengths at every boundary the kernels care about: blocks, chunks, 4-chunk groups, IO buffer. */
const EDGE_LENGTHS = [
  ...Array.from({ length: 201 }, (_, i) => i),
  255, 256, 257, 511, 512, 513, 1023, 1024, 1025, 2047, 2048, 2049, 3071, 3072, 3073, 4095, 4096, 4097,
  5119, 5120, 5121, 8191, 8192, 8193, 16383, 16384, 16385, 65535, 65536, 65537,
];
/** Around the 4 MiB IO buffer (one blake3_update per buffer) and largest subtree (4096 chunks). */
const BIG_LENGTHS = [4 * MiB - 1, 4 * MiB, 4 * MiB + 1, 4 * MiB + 1024, 9 * MiB + 7];

/** noble's BLAKE3 is slow (~30 MB/s): each big expected digest is computed once for both kernels. */
const nobleCache = new Map<number, { data: Uint8Array; digest: string }>();
function bigInput(len: number): { data: Uint8Array; digest: string } {
  let v = nobleCache.get(len);
  if (!v) {
    const data = fill251(len, 17);
    v = { data, digest: hex(nobleBlake3(data)) };
    nobleCache.set(len, v);
  }
  return v;
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

suite('wasm backend: probe', () => {
  it('reports sha256 and blake3 with subtrees', () => {
    expect(probe.ok).toBe(true);
    if (!probe.ok) return;
    expect(probe.name).toBe('wasm');
    expect(probe.capabilities.algorithms).toEqual(['sha256', 'blake3']);
    expect(probe.capabilities.subtrees).toBe(true);
  });

  it('rejects unknown kernels and algorithms it does not offer', () => {
    expect(() => wasmBackend.createLeafHasher({ kernels: { sha256: 'avx2' } })).toThrow(RangeError);
    expect(() => wasmBackend.createLeafHasher({ kernels: { blake3: 'gpu' } })).toThrow(RangeError);
    const h = wasmBackend.createLeafHasher();
    expect(() => h.hashBytes('blake2b', new Uint8Array(1), 'digest')).toThrow(expect.objectContaining({ code: 'BACKEND_ALGORITHM' }));
    expect(() => h.hashBytes('sha256', new Uint8Array(1), 'cv')).toThrow(RangeError);
    expect(() => h.hashBytes('blake3', new Uint8Array(1), 'digest', 5)).toThrow(RangeError);
    expect(() => h.hashBytes('blake3', new Uint8Array(1), 'cv', -1)).toThrow(RangeError);
  });
});

for (const { label, kernels } of KERNELS) {
  suite(`wasm backend (${label}): SHA-256 in memory`, () => {
    const h: LeafHasher = available ? wasmBackend.createLeafHasher({ kernels }) : (undefined as never);

    itVectors('matches the NIST SHA-256 short and long message vectors', () => {
      let n = 0;
      for (const file of ['SHA256ShortMsg.rsp', 'SHA256LongMsg.rsp']) {
        const text = readFileSync(join(VECTORS_DIR, 'sha256', file), 'utf8');
        for (const m of text.matchAll(/Len = (\d+)\s+Msg = ([0-9a-f]*)\s+MD = ([0-9a-f]{64})/g)) {
          const bits = Number(m[1]);
          const msg = Buffer.from(m[2]!, 'hex').subarray(0, bits / 8);
          expect(hex(h.hashBytes('sha256', msg, 'digest')), `${file} Len=${bits}`).toBe(m[3]);
          n++;
        }
      }
      expect(n).toBeGreaterThan(120); // both files parsed
    });

    it('matches node:crypto at block, chunk and buffer edges', () => {
      for (const len of [...EDGE_LENGTHS, ...BIG_LENGTHS]) {
        const data = fill251(len);
        expect(hex(h.hashBytes('sha256', data, 'digest')), `length ${len}`).toBe(sha256(data));
      }
    });

    it('hashes unaligned views', () => {
      const big = fill251(70_000, 5);
      for (const start of [1, 3, 7, 13]) {
        const view = big.subarray(start, start + 66_001);
        expect(hex(h.hashBytes('sha256', view, 'digest'))).toBe(sha256(view));
      }
    });
  });

  suite(`wasm backend (${label}): BLAKE3 in memory`, () => {
    const h: LeafHasher = available ? wasmBackend.createLeafHasher({ kernels }) : (undefined as never);

    itVectors('matches the official BLAKE3 test vectors (input i % 251)', () => {
      const json = JSON.parse(readFileSync(join(VECTORS_DIR, 'blake3', 'test_vectors.json'), 'utf8')) as {
        cases: { input_len: number; hash: string }[];
      };
      expect(json.cases.length).toBeGreaterThan(30);
      for (const c of json.cases) {
        expect(hex(h.hashBytes('blake3', fill251(c.input_len), 'digest')), `input_len ${c.input_len}`).toBe(c.hash.slice(0, 64));
      }
    });

    it('matches the independent reference at block and chunk edges', () => {
      for (const len of EDGE_LENGTHS) {
        const data = fill251(len);
        expect(hex(h.hashBytes('blake3', data, 'digest')), `length ${len}`).toBe(hex(refBlake3(data)));
      }
    });

    it('matches @noble/hashes around the IO buffer and the largest subtree', () => {
      for (const len of BIG_LENGTHS) {
        const { data, digest } = bigInput(len);
        expect(hex(h.hashBytes('blake3', data, 'digest')), `length ${len}`).toBe(digest);
      }
    });

    it('hashes unaligned views', () => {
      const big = fill251(70_000, 5);
      for (const start of [1, 3, 7, 13]) {
        const view = big.subarray(start, start + 66_001);
        expect(hex(h.hashBytes('blake3', view, 'digest'))).toBe(hex(refBlake3(view.slice())));
      }
    });

    it('subtree CVs merged in tree order equal the whole digest', () => {
      // 37 chunks + 100 bytes as subtrees of 16, 16, 4 and a 1-chunk + tail, merged as the tree does
      const data = fill251(37 * 1024 + 100, 9);
      const cv = (from: number, to: number): Uint8Array => h.hashBytes('blake3', data.subarray(from * 1024, to === -1 ? undefined : to * 1024), 'cv', from);
      const a = cv(0, 16), b = cv(16, 32), c = cv(32, 36), d = cv(36, -1);
      expect(hex(d)).toBe(hex(refBlake3Cv(data.subarray(36 * 1024), 36)));
      const left = blake3ParentWasm(a, b, false); // chunks 0..31
      const right = blake3ParentWasm(c, d, false); // chunks 32..37
      expect(hex(blake3ParentWasm(left, right, true))).toBe(hex(refBlake3(data)));
      expect(hex(refBlake3Parent(left, right, true))).toBe(hex(refBlake3(data)));
    });

    it('chunk counters crossing 2^32 agree with the reference and between kernels', () => {
      const other = wasmBackend.createLeafHasher({ kernels: label === 'scalar' ? {} : { blake3: 'scalar' } });
      const cases: [number, number][] = [
        [2 ** 32 - 2, 4 * 1024], // crosses inside one 4-lane group
        [2 ** 32 - 1, 5 * 1024 + 1],
        [2 ** 32 - 8, 16 * 1024], // aligned subtree whose right half is above 2^32
        [2 ** 32 - 3, 9 * 1024 + 777],
        [2 ** 33 + 4, 1024],
        [2 ** 52 - 16, 32 * 1024], // near the largest safe integer counter (offset 2^62 bytes)
        [2 ** 32, 1],
      ];
      for (const [counter, len] of cases) {
        const data = fill251(len, counter % 251);
        const got = hex(h.hashBytes('blake3', data, 'cv', counter));
        expect(got, `counter ${counter} length ${len}`).toBe(hex(refBlake3Cv(data, counter)));
        expect(hex(other.hashBytes('blake3', data, 'cv', counter))).toBe(got);
      }
      // the counter matters: the same bytes at counter 2^32 and 0 differ (the high word is used)
      const data = fill251(2048);
      expect(hex(h.hashBytes('blake3', data, 'cv', 2 ** 32))).not.toBe(hex(h.hashBytes('blake3', data, 'cv', 0)));
    });
  });
}

suite('wasm backend: blake3ParentWasm', () => {
  it('equals the reference parent and validates its arguments', () => {
    const l = fill251(32, 1), r = fill251(32, 100);
    expect(hex(blake3ParentWasm(l, r, false))).toBe(hex(refBlake3Parent(l, r, false)));
    expect(hex(blake3ParentWasm(l, r, true))).toBe(hex(refBlake3Parent(l, r, true)));
    expect(() => blake3ParentWasm(l.subarray(1), r, true)).toThrow(RangeError);
  });

  it('two 1-chunk CVs merge to the 2-chunk digest', () => {
    const h = wasmBackend.createLeafHasher();
    const data = fill251(2048);
    const a = h.hashBytes('blake3', data.subarray(0, 1024), 'cv', 0);
    const b = h.hashBytes('blake3', data.subarray(1024), 'cv', 1);
    expect(hex(blake3ParentWasm(a, b, true))).toBe(hex(nobleBlake3(data)));
  });
});
