/**
 * native/napi_args.h: every area of the addon (SHA-256, BLAKE3, TEE) reports a wrong argument the
 * same way, a TypeError or RangeError naming the argument with code BAD_ARGUMENT, and the JS side
 * rebuilds it as a ModelsealError (fromNativeError). The TEE functions are only called with
 * arguments they refuse before touching any device.
 */
import { describe, expect, it } from 'vitest';
import { fromNativeError, isErrorCode, ModelsealError } from '../../src/errors.js';
import { loadNative } from '../../src/native/addon.js';

const load = loadNative();
const addon = load.ok ? (load.addon as unknown as Record<string, (...args: unknown[]) => unknown>) : undefined;

function thrown(fn: () => unknown): Error & { code?: unknown } {
  try {
    fn();
  } catch (e) {
    return e as Error & { code?: unknown };
  }
  throw new Error('expected a throw');
}

const CASES: Array<[fn: string, args: unknown[], cls: ErrorConstructor, message: RegExp]> = [
  ['sha256Bytes', ['not bytes'], TypeError, /data must be a Uint8Array/],
  ['sha256Leaves', [['/x'], [-1], [1], new Uint8Array(32)], RangeError, /offsets\[0\] must be a non-negative integer/],
  ['blake3Bytes', [new Uint8Array(1), 1.5, 'cv'], RangeError, /chunkCounter must be a non-negative integer/],
  ['blake3Parent', [new Uint8Array(32), new Uint8Array(31), false], RangeError, /right must be a 32-byte chaining value/],
  ['snpGetReport', [new Uint16Array(48), 0], TypeError, /req must be a Uint8Array/],
  ['snpGetReport', [new Uint8Array(95), 0], RangeError, /req must be 96 bytes/],
  ['snpGetReport', [new Uint8Array(96), 100], RangeError, /certsLen must be 0 or page-aligned/],
  ['tdxGetReport0', [new Uint8Array(1087)], RangeError, /req must be 1088 bytes/],
  ['tdxGetReport0', [new Uint8Array(1088), 7], TypeError, /path arguments must be strings/],
  ['nvmlAttest', [new Uint8Array(31)], RangeError, /nonce must be 32 bytes/],
  ['nvmlProbe', [42], TypeError, /path arguments must be strings/],
];

describe.skipIf(!addon)(`addon argument errors${addon ? '' : ` (skipped: ${load.ok ? '' : load.reason})`}`, () => {
  it.each(CASES.map((c) => [`${c[0]}(${c[2].name})`, ...c] as const))('%s: coded BAD_ARGUMENT naming the argument', (_label, fn, args, cls, message) => {
    if (typeof addon![fn] !== 'function') return expect.fail(`the addon has no ${fn}`);
    const e = thrown(() => addon![fn]!(...args));
    expect(e).toBeInstanceOf(cls);
    expect(e.message).toMatch(message);
    expect(e.code).toBe('BAD_ARGUMENT');
    const m = fromNativeError(e, 'TEE evidence');
    expect(m).toBeInstanceOf(ModelsealError);
    expect(m).toMatchObject({ code: 'BAD_ARGUMENT', kind: 'internal' });
  });

  it('reports file problems with catalogued I/O codes', () => {
    const e = thrown(() => addon!.sha256Leaves!(['/nonexistent/modelseal/x'], [0], [1], new Uint8Array(32)));
    expect(e.code).toBe('FILE_NOT_FOUND');
    expect(isErrorCode(e.code)).toBe(true);
    expect(fromNativeError(e)).toMatchObject({ code: 'FILE_NOT_FOUND', kind: 'input' });
  });
});
