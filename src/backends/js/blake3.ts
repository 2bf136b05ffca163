/**
 * The portable BLAKE3 reference with the subtree API the engine needs: the chaining value (CV) of
 * an aligned subtree at any chunk counter (64-bit), and the parent merge. Small and readable on
 * purpose: every accelerated BLAKE3 (native SIMD, WASM, WGSL) is tested against it.
 */

const IV = new Uint32Array([
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
]);
const MSG_PERMUTATION = [2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8];

export const CHUNK_START = 1;
export const CHUNK_END = 2;
export const PARENT = 4;
export const ROOT = 8;

export const BLAKE3_BLOCK_BYTES = 64;
export const BLAKE3_CHUNK_LEN = 1024;

function g(s: Uint32Array, a: number, b: number, c: number, d: number, mx: number, my: number): void {
  s[a] = (s[a]! + s[b]! + mx) | 0;
  s[d] = rotr(s[d]! ^ s[a]!, 16);
  s[c] = (s[c]! + s[d]!) | 0;
  s[b] = rotr(s[b]! ^ s[c]!, 12);
  s[a] = (s[a]! + s[b]! + my) | 0;
  s[d] = rotr(s[d]! ^ s[a]!, 8);
  s[c] = (s[c]! + s[d]!) | 0;
  s[b] = rotr(s[b]! ^ s[c]!, 7);
}

function rotr(x: number, n: number): number {
  return (x >>> n) | (x << (32 - n));
}

const state = new Uint32Array(16);
const m = new Uint32Array(16);
const permuted = new Uint32Array(16);

/**
 * The BLAKE3 compression function; returns the first 8 words of the output (a CV).
 * `counter` is a 64-bit chunk counter given as a JS number (exact up to 2^53).
 */
export function compress(cv: Uint32Array, block: Uint32Array, counter: number, blockLen: number, flags: number): Uint32Array {
  state.set(cv, 0);
  state.set(IV.subarray(0, 4), 8);
  state[12] = counter >>> 0;
  state[13] = Math.floor(counter / 0x1_0000_0000) >>> 0;
  state[14] = blockLen;
  state[15] = flags;
  m.set(block);
  for (let r = 0; r < 7; r++) {
    g(state, 0, 4, 8, 12, m[0]!, m[1]!);
    g(state, 1, 5, 9, 13, m[2]!, m[3]!);
    g(state, 2, 6, 10, 14, m[4]!, m[5]!);
    g(state, 3, 7, 11, 15, m[6]!, m[7]!);
    g(state, 0, 5, 10, 15, m[8]!, m[9]!);
    g(state, 1, 6, 11, 12, m[10]!, m[11]!);
    g(state, 2, 7, 8, 13, m[12]!, m[13]!);
    g(state, 3, 4, 9, 14, m[14]!, m[15]!);
    if (r < 6) {
      for (let i = 0; i < 16; i++) permuted[i] = m[MSG_PERMUTATION[i]!]!;
      m.set(permuted);
    }
  }
  const out = new Uint32Array(8);
  for (let i = 0; i < 8; i++) out[i] = state[i]! ^ state[i + 8]!;
  return out;
}

function wordsOf(bytes: Uint8Array, offset: number, len: number): Uint32Array {
  const w = new Uint32Array(16);
  for (let i = 0; i < len; i++) w[i >> 2]! |= bytes[offset + i]! << (8 * (i & 3));
  // `|=` above on a typed array element keeps u32 semantics
  return w;
}

function bytesOf(words: Uint32Array): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0; i < 8; i++) {
    const v = words[i]!;
    out[4 * i] = v & 0xff;
    out[4 * i + 1] = (v >>> 8) & 0xff;
    out[4 * i + 2] = (v >>> 16) & 0xff;
    out[4 * i + 3] = (v >>> 24) & 0xff;
  }
  return out;
}

function toWords(cv: Uint8Array): Uint32Array {
  const w = new Uint32Array(8);
  for (let i = 0; i < 8; i++) w[i] = (cv[4 * i]! | (cv[4 * i + 1]! << 8) | (cv[4 * i + 2]! << 16) | (cv[4 * i + 3]! << 24)) >>> 0;
  return w;
}

/**
 * One chunk (<= 1024 bytes) → its CV; with `root` true, the root output instead (only for an
 * input that is a single chunk).
 */
function chunkCv(data: Uint8Array, offset: number, len: number, counter: number, root: boolean): Uint32Array {
  let cv: Uint32Array = IV.slice();
  const blocks = Math.max(1, Math.ceil(len / BLAKE3_BLOCK_BYTES));
  for (let b = 0; b < blocks; b++) {
    const start = b * BLAKE3_BLOCK_BYTES;
    const blen = Math.min(BLAKE3_BLOCK_BYTES, len - start);
    let flags = 0;
    if (b === 0) flags |= CHUNK_START;
    if (b === blocks - 1) flags |= CHUNK_END | (root ? ROOT : 0);
    cv = compress(cv, wordsOf(data, offset + start, Math.max(0, blen)), counter, Math.max(0, blen), flags);
  }
  return cv;
}

function parentWords(left: Uint32Array, right: Uint32Array, root: boolean): Uint32Array {
  const block = new Uint32Array(16);
  block.set(left, 0);
  block.set(right, 8);
  return compress(IV, block, 0, BLAKE3_BLOCK_BYTES, PARENT | (root ? ROOT : 0));
}

/** Largest power of two strictly less than n (n >= 2). */
function leftChunks(n: number): number {
  let p = 1;
  while (p * 2 < n) p *= 2;
  return p;
}

function subtree(data: Uint8Array, offset: number, len: number, counter: number, root: boolean): Uint32Array {
  const chunks = Math.max(1, Math.ceil(len / BLAKE3_CHUNK_LEN));
  if (chunks === 1) return chunkCv(data, offset, len, counter, root);
  const leftLen = leftChunks(chunks) * BLAKE3_CHUNK_LEN;
  const l = subtree(data, offset, leftLen, counter, false);
  const r = subtree(data, offset + leftLen, len - leftLen, counter + leftLen / BLAKE3_CHUNK_LEN, false);
  return parentWords(l, r, root);
}

/** BLAKE3-256 of `data` (the root output). */
export function blake3Digest(data: Uint8Array): Uint8Array {
  return bytesOf(subtree(data, 0, data.length, 0, true));
}

/**
 * The CV of the subtree made of `data` starting at chunk `chunkCounter` (no ROOT flag). `data` must
 * be a whole aligned subtree of the file: a power-of-two number of chunks, or the file's tail.
 */
export function blake3SubtreeCv(data: Uint8Array, chunkCounter: number): Uint8Array {
  return bytesOf(subtree(data, 0, data.length, chunkCounter, false));
}

/** Parent node: CV of (left, right); with `root`, the final digest. */
export function blake3Parent(left: Uint8Array, right: Uint8Array, root: boolean): Uint8Array {
  return bytesOf(parentWords(toWords(left), toWords(right), root));
}

/**
 * Merges the CVs of consecutive equal-size aligned subtrees (the last may be shorter) into the
 * file digest, in BLAKE3 tree order. With one CV there is nothing to merge: the caller must hash
 * a single-subtree file as a 'digest' leaf instead (the ROOT flag lives on its last chunk block).
 */
export function blake3MergeCvs(cvs: Uint8Array[]): Uint8Array {
  if (cvs.length < 2) throw new RangeError('blake3MergeCvs: need at least two subtree CVs');
  const merge = (lo: number, hi: number, root: boolean): Uint8Array => {
    const n = hi - lo;
    if (n === 1) return cvs[lo]!;
    const mid = lo + leftChunks(n);
    return blake3Parent(merge(lo, mid, false), merge(mid, hi, false), root);
  };
  return merge(0, cvs.length, true);
}
