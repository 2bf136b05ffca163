/**
 * src/backends/native.ts: probe report, forced kernels (options.kernels), SHA-256 leaves on every
 * kernel against the js reference backend, and addon errors rebuilt as ModelsealErrors.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsBackend } from '../../src/backends/js.js';
import { nativeBackend, toModelsealError } from '../../src/backends/native.js';
import type { Leaf } from '../../src/backends/types.js';
import { InputError, ModelsealError, UnavailableError } from '../../src/errors.js';
import { fill251, hex, tempDir } from '../helpers.js';
import { addon, kernels, skipReason } from './native-sha256-helpers.js';

describe('native backend without an addon', () => {
  it('probe never throws and reports unavailability as a value', () => {
    const p = nativeBackend.probe();
    expect(p.name).toBe('native');
    if (!p.ok) expect(p.reason.length).toBeGreaterThan(0);
  });

  it('rebuilds addon errors with their code and kind', () => {
    const mk = (code: string) => Object.assign(new Error(`boom ${code}`), { code });
    const changed = toModelsealError(mk('FILE_CHANGED'));
    expect(changed).toBeInstanceOf(InputError);
    expect(changed).toMatchObject({ code: 'FILE_CHANGED', message: 'boom FILE_CHANGED', kind: 'input' });
    expect(toModelsealError(mk('KERNEL_UNAVAILABLE'))).toBeInstanceOf(UnavailableError);
    expect(toModelsealError(mk('BAD_ARGUMENT'))).toMatchObject({ code: 'BAD_ARGUMENT', kind: 'internal' });
    const plain = new Error('no code');
    expect(toModelsealError(plain)).toBe(plain);
  });
});

describe.skipIf(!addon)(`native backend${addon ? '' : ` (skipped: ${skipReason})`}`, () => {
  let dir: { path: string; cleanup: () => void };
  let leaves: Leaf[];

  beforeAll(() => {
    dir = tempDir('modelseal-native-backend-');
    leaves = [];
    for (const [i, size] of [0, 1, 63, 64, 65, 1000, 70_000, 1_048_577].entries()) {
      const p = join(dir.path, `f${i}.bin`);
      writeFileSync(p, fill251(size, i));
      leaves.push({ path: p, offset: 0, length: size, output: 'digest' });
      if (size > 100) leaves.push({ path: p, offset: 33, length: size - 40, output: 'digest' });
    }
  });
  afterAll(() => dir?.cleanup());

  it('probes ok with sha256 and reports the chosen kernels', () => {
    const p = nativeBackend.probe();
    expect(p.ok).toBe(true);
    if (!p.ok) return;
    expect(p.capabilities.algorithms).toContain('sha256');
    expect(p.capabilities.algorithms).not.toContain('blake2b');
    expect(p.capabilities.detail).toContain(`sha256=${addon!.sha256DefaultKernel()}`);
    for (const k of kernels) expect(p.capabilities.kernels).toContain(`sha256=${k}`);
    const hasBlake3 = typeof (addon as unknown as Record<string, unknown>).blake3Leaves === 'function';
    expect(p.capabilities.algorithms.includes('blake3')).toBe(hasBlake3);
    expect(p.capabilities.subtrees).toBe(hasBlake3);
  });

  it.each(kernels)('sha256 leaves with kernel %s equal the js reference backend', (k) => {
    const expected = jsBackend.createLeafHasher().hashLeaves({ algorithm: 'sha256', leaves }).map(hex);
    const h = nativeBackend.createLeafHasher({ kernels: { sha256: k } });
    expect(h.name).toBe('native');
    expect(h.hashLeaves({ algorithm: 'sha256', leaves }).map(hex)).toEqual(expected);
    const data = fill251(5000, 3);
    expect(hex(h.hashBytes('sha256', data, 'digest'))).toBe(hex(jsBackend.createLeafHasher().hashBytes('sha256', data, 'digest')));
    expect(h.hashLeaves({ algorithm: 'sha256', leaves: [] })).toEqual([]);
  });

  it('turns addon errors into ModelsealErrors with the same code', () => {
    const h = nativeBackend.createLeafHasher();
    const missing: Leaf = { path: join(dir.path, 'missing.bin'), offset: 0, length: 10, output: 'digest' };
    expect(() => h.hashLeaves({ algorithm: 'sha256', leaves: [missing] })).toThrow(InputError);
    expect(() => h.hashLeaves({ algorithm: 'sha256', leaves: [missing] })).toThrow(expect.objectContaining({ code: 'FILE_NOT_FOUND' }));
    const short: Leaf = { ...leaves[1]!, length: 5 };
    expect(() => h.hashLeaves({ algorithm: 'sha256', leaves: [short] })).toThrow(expect.objectContaining({ code: 'FILE_CHANGED', kind: 'input' }));
    expect(() => h.hashLeaves({ algorithm: 'sha256', leaves: [{ ...leaves[0]!, output: 'cv' }] })).toThrow(RangeError);
    expect(() => h.hashLeaves({ algorithm: 'blake2b', leaves })).toThrow(expect.objectContaining({ code: 'ALGORITHM_UNAVAILABLE' }));
  });

  it('refuses a forced kernel this machine does not have', () => {
    let err: unknown;
    try {
      nativeBackend.createLeafHasher({ kernels: { sha256: 'no-such-kernel' } });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ModelsealError);
    expect(err).toMatchObject({ code: 'KERNEL_UNAVAILABLE', kind: 'unavailable' });
  });
});
