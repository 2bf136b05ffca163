/**
 * Shared set-up of the native BLAKE3 tests: the addon (through the one loader, so
 * MODELSEAL_NATIVE_PATH and MODELSEAL_DISABLE_NATIVE apply), its kernels, and adapters over the
 * BLAKE3 reference (src/backends/js/blake3.ts), which (unlike @noble/hashes) can start a subtree at
 * any chunk counter.
 *
 * The native tier skips, with the loader's reason, only when the addon is not built. With
 * MODELSEAL_REQUIRE_NATIVE=1 (CI) a missing addon throws here, at import, which fails the suite.
 */
import { blake3Digest, blake3Parent, blake3SubtreeCv } from '../../src/backends/js/blake3.js';
import { loadNative } from '../../src/native/addon.js';

export interface Blake3Addon {
  blake3Leaves(paths: string[], offsets: number[], lengths: number[], cvFlags: Uint8Array, out: Uint8Array, kernel?: string): void;
  blake3Bytes(data: Uint8Array, chunkCounter: number, output: 'cv' | 'digest', kernel?: string): Uint8Array;
  blake3Parent(left: Uint8Array, right: Uint8Array, root: boolean): Uint8Array;
  blake3Kernels(): string[];
  blake3DefaultKernel(): string;
  blake3IoOptions(
    mode?: 'pread' | 'mmap',
    blockBytes?: number,
    sharedFiles?: 'auto' | 'map' | 'read',
  ): { mode: 'pread' | 'mmap'; blockBytes: number; preadBlockBytes: number; mmapWindowBytes: number; sharedFiles: 'auto' | 'map' | 'read' };
  cpuFeatures(): { sse41: boolean; avx2: boolean; avx512f: boolean; avx512vl: boolean; arch: string };
}

/** Every BLAKE3 kernel name the addon knows, runnable here or not, best first. */
export const ALL_BLAKE3_KERNELS = ['avx512', 'avx2', 'sse41', 'portable'] as const;

const load = loadNative();
const hasBlake3 = load.ok && typeof load.addon.blake3Leaves === 'function';
if (!hasBlake3 && process.env.MODELSEAL_REQUIRE_NATIVE === '1') {
  throw new Error(
    `MODELSEAL_REQUIRE_NATIVE=1 but the native BLAKE3 is unavailable: ${load.ok ? 'the addon has no blake3Leaves (outdated build)' : load.reason}`,
  );
}

/** The addon, or undefined (then `skipReason` says why). */
export const addon: Blake3Addon | undefined = hasBlake3 ? (load.addon as unknown as Blake3Addon) : undefined;
export const skipReason = load.ok
  ? hasBlake3
    ? ''
    : 'the native addon has no BLAKE3 functions (outdated build: run `npm run build:native`)'
  : load.reason;
/** Kernels runnable on this CPU. */
export const kernels: string[] = addon ? addon.blake3Kernels() : [];

/** Why a kernel does not run here ('' if it does). */
export function kernelSkip(k: string): string {
  if (!addon) return skipReason;
  if (kernels.includes(k)) return '';
  const f = addon.cpuFeatures();
  if (f.arch !== 'x86_64') return `${k} is an x86 kernel and this is ${f.arch}`;
  return `this CPU lacks ${k === 'avx512' ? 'AVX-512F/VL' : k.toUpperCase()} (the kernel is compiled but never dispatched here)`;
}

// ---------------------------------------------------------------------------------------------
// The BLAKE3 oracle is the one reference, src/backends/js/blake3.ts (checked against the official
// vectors and @noble/hashes in test/backends/blake3-reference.test.ts); these adapters give it the
// bigint chunk counters the native tests use.

/** Reference chaining value of the subtree holding `data` at chunk counter `firstChunk` (below 2^53). */
export function refSubtreeCv(data: Uint8Array, firstChunk: bigint): Uint8Array {
  return blake3SubtreeCv(data, Number(firstChunk));
}

/** Reference BLAKE3-256 of a whole input. */
export const refDigest = blake3Digest;

/** Reference parent merge. */
export const refParent = blake3Parent;

/**
 * Merges the CVs of consecutive aligned subtrees of one size (the last may be shorter) in tree
 * order, with a caller's parent function (the addon's, to test it): the left part holds the
 * largest power of two of leaves < total.
 */
export function mergeInTreeOrder(cvs: Uint8Array[], parent: (l: Uint8Array, r: Uint8Array, root: boolean) => Uint8Array, root = true): Uint8Array {
  if (cvs.length === 1) return cvs[0]!;
  let left = 1;
  while (left * 2 < cvs.length) left *= 2;
  return parent(mergeInTreeOrder(cvs.slice(0, left), parent, false), mergeInTreeOrder(cvs.slice(left), parent, false), root);
}
