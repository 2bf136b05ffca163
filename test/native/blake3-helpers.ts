/**
 * Shared set-up of the native BLAKE3 tests: the addon (through the one loader, so
 * MODELSEAL_NATIVE_PATH and MODELSEAL_DISABLE_NATIVE apply), its kernels, and a tiny independent
 * BLAKE3 written here from the specification, which (unlike @noble/hashes) can start a subtree at
 * any 64-bit chunk counter.
 *
 * The native tier skips, with the loader's reason, only when the addon is not built. With
 * MODELSEAL_REQUIRE_NATIVE=1 (CI) a missing addon throws here, at import, which fails the suite.
 */
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
  ): { mode: 'pread' | 'mmap'; blockBytes: number; preadBlockBytes: number; mmapWindowBytes: number };
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
// Independent reference, straight from the BLAKE3 specification (section 2): slow and simple.

const IV = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
const PERM = [2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8];
const CHUNK_START = 1;
const CHUNK_END = 2;
const PARENT = 4;
const ROOT = 8;

const rotr = (x: number, n: number): number => ((x >>> n) | (x << (32 - n))) >>> 0;

function g(v: Uint32Array, a: number, b: number, c: number, d: number, x: number, y: number): void {
  v[a] = (v[a]! + v[b]! + x) >>> 0;
  v[d] = rotr(v[d]! ^ v[a]!, 16);
  v[c] = (v[c]! + v[d]!) >>> 0;
  v[b] = rotr(v[b]! ^ v[c]!, 12);
  v[a] = (v[a]! + v[b]! + y) >>> 0;
  v[d] = rotr(v[d]! ^ v[a]!, 8);
  v[c] = (v[c]! + v[d]!) >>> 0;
  v[b] = rotr(v[b]! ^ v[c]!, 7);
}

/** The compression function; returns the first 8 output words. `counter` is a 64-bit bigint. */
export function refCompress(cv: Uint32Array, block: Uint8Array, blockLen: number, counter: bigint, flags: number): Uint32Array {
  const padded = new Uint8Array(64);
  padded.set(block.subarray(0, blockLen));
  let m = new Uint32Array(16);
  const dv = new DataView(padded.buffer);
  for (let i = 0; i < 16; i++) m[i] = dv.getUint32(4 * i, true);
  const v = new Uint32Array([
    ...cv, IV[0]!, IV[1]!, IV[2]!, IV[3]!,
    Number(counter & 0xffffffffn), Number((counter >> 32n) & 0xffffffffn), blockLen, flags,
  ]);
  for (let r = 0; r < 7; r++) {
    g(v, 0, 4, 8, 12, m[0]!, m[1]!);
    g(v, 1, 5, 9, 13, m[2]!, m[3]!);
    g(v, 2, 6, 10, 14, m[4]!, m[5]!);
    g(v, 3, 7, 11, 15, m[6]!, m[7]!);
    g(v, 0, 5, 10, 15, m[8]!, m[9]!);
    g(v, 1, 6, 11, 12, m[10]!, m[11]!);
    g(v, 2, 7, 8, 13, m[12]!, m[13]!);
    g(v, 3, 4, 9, 14, m[14]!, m[15]!);
    m = Uint32Array.from(PERM, (p) => m[p]!);
  }
  return Uint32Array.from({ length: 8 }, (_, i) => (v[i]! ^ v[i + 8]!) >>> 0);
}

const toBytes = (w: Uint32Array): Uint8Array => {
  const out = new Uint8Array(32);
  const dv = new DataView(out.buffer);
  w.forEach((x, i) => dv.setUint32(4 * i, x, true));
  return out;
};
const toWords = (b: Uint8Array): Uint32Array => {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return Uint32Array.from({ length: 8 }, (_, i) => dv.getUint32(4 * i, true));
};

/** A node of the tree before its final compression (so that the root can add ROOT). */
interface Node {
  cv: Uint32Array;
  block: Uint8Array;
  blockLen: number;
  counter: bigint;
  flags: number;
}

function chunkNode(chunk: Uint8Array, counter: bigint): Node {
  let cv: Uint32Array = Uint32Array.from(IV);
  const blocks = Math.max(1, Math.ceil(chunk.length / 64));
  for (let b = 0; b < blocks - 1; b++) {
    cv = refCompress(cv, chunk.subarray(64 * b, 64 * b + 64), 64, counter, b === 0 ? CHUNK_START : 0);
  }
  const last = chunk.subarray(64 * (blocks - 1));
  return { cv, block: last, blockLen: last.length, counter, flags: (blocks === 1 ? CHUNK_START : 0) | CHUNK_END };
}

const nodeCv = (n: Node): Uint32Array => refCompress(n.cv, n.block, n.blockLen, n.counter, n.flags);

function parentNode(left: Uint32Array, right: Uint32Array): Node {
  const block = new Uint8Array(64);
  block.set(toBytes(left));
  block.set(toBytes(right), 32);
  return { cv: Uint32Array.from(IV), block, blockLen: 64, counter: 0n, flags: PARENT };
}

/** The spec's recursive tree: the left subtree holds the largest power of two of chunks < total. */
function subtreeNode(data: Uint8Array, firstChunk: bigint): Node {
  if (data.length <= 1024) return chunkNode(data, firstChunk);
  const chunks = Math.ceil(data.length / 1024);
  let leftChunks = 1;
  while (leftChunks * 2 < chunks) leftChunks *= 2;
  const split = leftChunks * 1024;
  return parentNode(
    nodeCv(subtreeNode(data.subarray(0, split), firstChunk)),
    nodeCv(subtreeNode(data.subarray(split), firstChunk + BigInt(leftChunks))),
  );
}

/** Reference chaining value of the subtree holding `data` at chunk counter `firstChunk`. */
export function refSubtreeCv(data: Uint8Array, firstChunk: bigint): Uint8Array {
  return toBytes(nodeCv(subtreeNode(data, firstChunk)));
}

/** Reference BLAKE3-256 of a whole input. */
export function refDigest(data: Uint8Array): Uint8Array {
  const n = subtreeNode(data, 0n);
  return toBytes(refCompress(n.cv, n.block, n.blockLen, 0n, n.flags | ROOT));
}

/** Reference parent merge. */
export function refParent(left: Uint8Array, right: Uint8Array, root: boolean): Uint8Array {
  const n = parentNode(toWords(left), toWords(right));
  return toBytes(refCompress(n.cv, n.block, n.blockLen, 0n, n.flags | (root ? ROOT : 0)));
}

/**
 * Merges the CVs of consecutive aligned subtrees of one size (the last may be shorter) in tree
 * order, as the engine does: the left part holds the largest power of two of leaves < total.
 */
export function mergeInTreeOrder(cvs: Uint8Array[], parent: (l: Uint8Array, r: Uint8Array, root: boolean) => Uint8Array, root = true): Uint8Array {
  if (cvs.length === 1) return cvs[0]!;
  let left = 1;
  while (left * 2 < cvs.length) left *= 2;
  return parent(mergeInTreeOrder(cvs.slice(0, left), parent, false), mergeInTreeOrder(cvs.slice(left), parent, false), root);
}
