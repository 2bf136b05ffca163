/**
 * openVerified's native batches on the addon's UnitsPipeline (persistent native threads, the
 * default) and, with MODELSEAL_NATIVE_PIPELINE=0, one libuv work item per batch
 * (verifiedUnitsAsync): chunksOfFiles yields the same bytes both ways, every batch takes the path
 * asked for, close() stops the pipeline, and a kernel forced by MODELSEAL_NATIVE_KERNELS reaches
 * the native threads on both paths. Skipped, with one line, when the addon has no UnitsPipeline.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { nativeUnitsApi } from '../../src/engine/native-units.js';
import { ModelsealError, openVerified, type VerifiedModel } from '../../src/index.js';
import { keyedTempDir, signedFilesModel } from './fixtures.js';

const LEAF = 64 * 1024;
// several batches per file, a short last leaf, a one-leaf file and a file shorter than a leaf
const SIZES: Record<string, number> = { 'a.bin': 24 * LEAF, 'b.bin': 9 * LEAF + 4097, 'c.bin': LEAF, 'd.bin': 333 };
const api = nativeUnitsApi() as (Record<string, unknown> & { UnitsPipeline?: unknown }) | undefined;
const PIPELINE = typeof api?.UnitsPipeline === 'function';
const { t, keys } = keyedTempDir();

const model = (hash: 'sha256' | 'blake3') => signedFilesModel(t, keys, SIZES, { hash, leaf: LEAF, salt: 11 });

async function collectAll(v: VerifiedModel, reuseBuffers: boolean): Promise<Map<string, Buffer>> {
  const parts = new Map<string, Buffer[]>();
  for await (const { path, bytes } of v.chunksOfFiles(undefined, { reuseBuffers })) {
    if (!parts.has(path)) parts.set(path, []);
    parts.get(path)!.push(Buffer.from(bytes));
  }
  return new Map([...parts].map(([k, p]) => [k, Buffer.concat(p)]));
}

/**
 * Counts what the native path calls, on the addon object the library uses: pipelines made, their
 * submits and closes, and verifiedUnitsAsync calls. Restored by {@link restore}.
 */
function spyAddon() {
  const a = api!;
  const original = { UnitsPipeline: a.UnitsPipeline, verifiedUnitsAsync: a.verifiedUnitsAsync };
  const counts = { pipelines: 0, submits: 0, closes: 0, asyncCalls: 0, kernels: new Set<unknown>() };
  a.UnitsPipeline = new Proxy(original.UnitsPipeline as new (...x: unknown[]) => object, {
    construct(target, args) {
      counts.pipelines++;
      const pipe = Reflect.construct(target, args) as { submit: (...x: unknown[]) => void; close: () => void };
      const submit = pipe.submit.bind(pipe);
      const close = pipe.close.bind(pipe);
      return {
        submit: (...x: unknown[]) => {
          counts.submits++;
          counts.kernels.add(x[8]);
          submit(...x);
        },
        close: () => {
          counts.closes++;
          close();
        },
      };
    },
  });
  a.verifiedUnitsAsync = (...x: unknown[]) => {
    counts.asyncCalls++;
    return (original.verifiedUnitsAsync as (...y: unknown[]) => Promise<void>)(...x);
  };
  return { counts, restore: () => Object.assign(a, original) };
}

describe.skipIf(!PIPELINE)(`openVerified batches on UnitsPipeline${PIPELINE ? '' : ' (skipped: the addon has no UnitsPipeline; run `npm run build:native`)'}`, () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  describe.each([
    ['sha256', 'RFC 9162 leaves'],
    ['blake3', 'subtree CVs'],
  ] as const)('%s companion (%s)', (hash, _units) => {
    it('chunksOfFiles yields the same bytes on the pipeline and with MODELSEAL_NATIVE_PIPELINE=0, each batch on the path asked for', async () => {
      const m = await model(hash);
      const seen: Array<Map<string, Buffer>> = [];
      for (const setting of [undefined, '0'] as const) {
        vi.stubEnv('MODELSEAL_NATIVE_PIPELINE', setting);
        const spy = spyAddon();
        try {
          const v = await openVerified(m.dir, { signature: m.sig, publicKey: keys.pub, workers: 2, verifier: 'native' });
          try {
            for (const reuse of [true, false]) {
              const files = await collectAll(v, reuse);
              expect([...files.keys()].sort(), `pipeline=${setting}`).toEqual(Object.keys(SIZES).sort());
              for (const [name, b] of m.bytes) expect(files.get(name)!.equals(b), `${name} pipeline=${setting} reuse=${reuse}`).toBe(true);
              seen.push(files);
            }
            expect(v.stats.unitsNative, `pipeline=${setting}`).toBeGreaterThan(0);
            expect(v.stats.unitsFailed).toBe(0);
          } finally {
            await v.close();
          }
          const c = spy.counts;
          if (setting === undefined) {
            expect({ pipelines: c.pipelines > 0, submits: c.submits > 0, asyncCalls: c.asyncCalls }).toEqual({ pipelines: true, submits: true, asyncCalls: 0 });
            // every pipeline started is stopped by close()
            expect(c.closes).toBeGreaterThanOrEqual(c.pipelines);
          } else {
            expect({ pipelines: c.pipelines, asyncCalls: c.asyncCalls > 0 }).toEqual({ pipelines: 0, asyncCalls: true });
          }
        } finally {
          spy.restore();
        }
      }
      for (const files of seen.slice(1)) for (const [name, b] of seen[0]!) expect(files.get(name)!.equals(b), name).toBe(true);
    });
  });

  it('a SHA-256 kernel forced by MODELSEAL_NATIVE_KERNELS reaches the native threads either way: an unknown one is refused alike', async () => {
    const m = await model('sha256');
    const outcomes: unknown[] = [];
    for (const setting of [undefined, '0'] as const) {
      vi.stubEnv('MODELSEAL_NATIVE_KERNELS', 'sha256=no-such-kernel');
      vi.stubEnv('MODELSEAL_NATIVE_PIPELINE', setting);
      const spy = spyAddon();
      const v = await openVerified(m.dir, { signature: m.sig, publicKey: keys.pub, workers: 2, verifier: 'native' });
      try {
        let err: unknown;
        try {
          await collectAll(v, true);
        } catch (e) {
          err = e;
        }
        expect(err, `pipeline=${setting}`).toBeInstanceOf(ModelsealError);
        expect((err as Error).message).toMatch(/no-such-kernel/);
        outcomes.push((err as ModelsealError).code);
        if (setting === undefined) expect([...spy.counts.kernels]).toEqual(['no-such-kernel']);
      } finally {
        await v.close();
        spy.restore();
      }
    }
    expect(outcomes[0]).toBe(outcomes[1]);
  });
});
