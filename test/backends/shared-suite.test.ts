/**
 * One suite, every backend: each backend's leaf outputs must equal the portable reference (`js`) on
 * the same file ranges — boundary lengths, odd offsets, lanes of different lengths in one batch,
 * BLAKE3 subtree CVs, ranges beyond 4 GiB and chunk counters beyond 2^32 (sparse files); and the native
 * backend's threaded SHA-256 and BLAKE3 paths (`native-threads`) and its threaded SHA-256 with
 * RFC 9162 leaves (`native-merkle-threads`, leaves also checked against the pool call) the same way.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeSync, openSync, writeSync, ftruncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jsBackend } from '../../src/backends/js.js';
import type { HashAlgorithm, Leaf } from '../../src/backends/types.js';
import { ALL_TARGETS, THREADED_TARGETS, openTarget, openThreadedTarget, type Target } from './backend-targets.js';
import { fill251, hex, tempDir } from '../helpers.js';

const MiB = 1 << 20;
const GiB4 = 2 ** 32;
const BOUNDARY_LENGTHS = [
  0, 1, 2, 3, 31, 32, 33, 55, 56, 57, 63, 64, 65, 111, 112, 119, 120, 127, 128, 129, 191, 192, 193, 255, 256, 257,
  1023, 1024, 1025, 2047, 2048, 2049, 3071, 3072, 3073, 4095, 4096, 4097, 8191, 8192, 8193, 16383, 16384, 16385,
  65535, 65536, 65537, MiB - 1, MiB, MiB + 1, 4 * MiB + 3,
];
const ODD_OFFSETS = [0, 1, 63, 4096 + 7];
/** Power-of-two subtree sizes (chunks) and tails for BLAKE3 CV leaves. */
const CV_LENGTHS = [1024, 2048, 4096, 8192, 65536, MiB, 1, 1000, 1025, 3000, 5 * 1024 + 17];

let dir: { path: string; cleanup: () => void };
let dataPath: string;
let sparsePath: string;
let hugeSparsePath: string | undefined;
const DATA_BYTES = 12 * MiB + 12345;
const reference = jsBackend.createLeafHasher();

beforeAll(() => {
  dir = tempDir();
  dataPath = join(dir.path, 'data.bin');
  writeFileSync(dataPath, fill251(DATA_BYTES));
  // > 4 GiB sparse file with real bytes around the 4 GiB mark
  sparsePath = join(dir.path, 'sparse.bin');
  let fd = openSync(sparsePath, 'w');
  ftruncateSync(fd, GiB4 + 8 * MiB);
  writeSync(fd, fill251(4 * MiB, 3), 0, 4 * MiB, GiB4 - 2 * MiB);
  closeSync(fd);
  // chunk counter 2^32 sits at byte 2^42 (4 TiB): sparse, only a few MiB are real
  try {
    hugeSparsePath = join(dir.path, 'huge-sparse.bin');
    fd = openSync(hugeSparsePath, 'w');
    ftruncateSync(fd, 2 ** 42 + 4 * MiB);
    writeSync(fd, fill251(4 * MiB, 11), 0, 4 * MiB, 2 ** 42 - 2 * MiB);
    closeSync(fd);
  } catch {
    hugeSparsePath = undefined; // filesystem without 4 TiB sparse files: the case below says so
  }
});
afterAll(() => dir.cleanup());

function digestLeaves(path: string): Leaf[] {
  const leaves: Leaf[] = [];
  for (const off of ODD_OFFSETS) for (const len of BOUNDARY_LENGTHS) leaves.push({ path, offset: off, length: len, output: 'digest' });
  return leaves;
}

function cvLeaves(path: string, base: number): Leaf[] {
  return CV_LENGTHS.map((len, i) => ({ path, offset: base + i * MiB, length: len, output: 'cv' as const }));
}

async function expectSame(t: Target, algorithm: HashAlgorithm, leaves: Leaf[]): Promise<void> {
  const want = reference.hashLeaves({ algorithm, leaves }).map(hex);
  const got = (await t.hashLeaves(algorithm, leaves)).map(hex);
  for (let i = 0; i < leaves.length; i++) {
    const l = leaves[i]!;
    expect(got[i], `${t.name} ${algorithm} ${l.output} offset ${l.offset} length ${l.length}`).toBe(want[i]);
  }
}

const isThreaded = (n: string): n is (typeof THREADED_TARGETS)[number] => (THREADED_TARGETS as readonly string[]).includes(n);

for (const name of [...ALL_TARGETS, ...THREADED_TARGETS]) {
  describe(`backend ${name}`, async () => {
    const opened = isThreaded(name) ? await openThreadedTarget(name) : await openTarget(name);
    if ('skip' in opened) {
      it.skip(`unavailable here: ${opened.skip}`, () => {});
      return;
    }
    const t = opened;
    afterAll(() => t.close());

    for (const algorithm of t.algorithms) {
      it(`${algorithm}: boundary lengths at odd offsets, all lanes in one batch`, async () => {
        await expectSame(t, algorithm, digestLeaves(dataPath));
      });

      it(`${algorithm}: ranges across the 4 GiB mark of a sparse file`, async () => {
        await expectSame(t, algorithm, [
          { path: sparsePath, offset: GiB4 - MiB, length: 2 * MiB, output: 'digest' },
          { path: sparsePath, offset: GiB4, length: 3 * MiB + 5, output: 'digest' },
          { path: sparsePath, offset: GiB4 + 7 * MiB, length: MiB, output: 'digest' },
        ]);
      });
    }

    if (t.algorithms.includes('blake3')) {
      it('blake3: subtree CVs (powers of two and tails) at aligned offsets', async () => {
        await expectSame(t, 'blake3', cvLeaves(dataPath, 0));
      });

      it('blake3: subtree CVs beyond 4 GiB', async () => {
        await expectSame(t, 'blake3', [
          { path: sparsePath, offset: GiB4 - MiB, length: MiB, output: 'cv' },
          { path: sparsePath, offset: GiB4, length: 2 * MiB, output: 'cv' },
        ]);
      });

      it('blake3: chunk counters crossing 2^32 (4 TiB offsets of a sparse file)', async (ctx) => {
        if (!hugeSparsePath) ctx.skip();
        const base = 2 ** 42;
        await expectSame(t, 'blake3', [
          { path: hugeSparsePath!, offset: base - MiB, length: MiB, output: 'cv' },
          { path: hugeSparsePath!, offset: base - 1024, length: 1024, output: 'cv' },
          { path: hugeSparsePath!, offset: base, length: 2 * MiB, output: 'cv' },
          { path: hugeSparsePath!, offset: base + 2 * MiB, length: 1500, output: 'cv' },
        ]);
      });
    }

    it('reports a file that is shorter than planned as FILE_CHANGED', async () => {
      const alg = t.algorithms[0]!;
      await expect(t.hashLeaves(alg, [{ path: dataPath, offset: DATA_BYTES - 10, length: 20, output: 'digest' }])).rejects.toMatchObject({ code: 'FILE_CHANGED' });
    });

    it('reports a missing file as FILE_NOT_FOUND', async () => {
      const alg = t.algorithms[0]!;
      await expect(t.hashLeaves(alg, [{ path: join(dir.path, 'nope'), offset: 0, length: 1, output: 'digest' }])).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' });
    });
  });
}
