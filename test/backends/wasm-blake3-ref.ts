/**
 * A small, independent BLAKE3 (plain hash mode) written for the wasm tests: straight from the
 * specification (compression function, chunks, left-full binary tree), slow and obvious. It exists
 * so that the wasm kernels are checked against something that shares none of their code, in
 * particular for subtree chaining values at chunk counters beyond 2^32, which no official vector
 * covers.
 */
const IV = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
const PERMUTATION = [2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8];
const CHUNK_START = 1;
const CHUNK_END = 2;
const PARENT = 4;
const ROOT = 8;

const rotr = (x: number, n: number): number => ((x >>> n) | (x << (32 - n))) >>> 0;

function compress(cv: number[], m: number[], counter: number, blockLen: number, flags: number): number[] {
  const v = [...cv, IV[0]!, IV[1]!, IV[2]!, IV[3]!, counter >>> 0, Math.floor(counter / 2 ** 32) >>> 0, blockLen, flags];
  const g = (a: number, b: number, c: number, d: number, x: number, y: number): void => {
    v[a] = (v[a]! + v[b]! + x) >>> 0;
    v[d] = rotr(v[d]! ^ v[a]!, 16);
    v[c] = (v[c]! + v[d]!) >>> 0;
    v[b] = rotr(v[b]! ^ v[c]!, 12);
    v[a] = (v[a]! + v[b]! + y) >>> 0;
    v[d] = rotr(v[d]! ^ v[a]!, 8);
    v[c] = (v[c]! + v[d]!) >>> 0;
    v[b] = rotr(v[b]! ^ v[c]!, 7);
  };
  let s = m.slice();
  for (let r = 0; r < 7; r++) {
    g(0, 4, 8, 12, s[0]!, s[1]!);
    g(1, 5, 9, 13, s[2]!, s[3]!);
    g(2, 6, 10, 14, s[4]!, s[5]!);
    g(3, 7, 11, 15, s[6]!, s[7]!);
    g(0, 5, 10, 15, s[8]!, s[9]!);
    g(1, 6, 11, 12, s[10]!, s[11]!);
    g(2, 7, 8, 13, s[12]!, s[13]!);
    g(3, 4, 9, 14, s[14]!, s[15]!);
    s = PERMUTATION.map((i) => s[i]!);
  }
  return IV.map((_, i) => (v[i]! ^ v[i + 8]!) >>> 0);
}

function blockWords(bytes: Uint8Array, offset: number, length: number): number[] {
  const block = new Uint8Array(64);
  block.set(bytes.subarray(offset, offset + length));
  const dv = new DataView(block.buffer);
  return Array.from({ length: 16 }, (_, i) => dv.getUint32(4 * i, true));
}

function wordsToBytes(words: number[]): Uint8Array {
  const out = new Uint8Array(32);
  const dv = new DataView(out.buffer);
  words.forEach((w, i) => dv.setUint32(4 * i, w, true));
  return out;
}

function chunkCv(data: Uint8Array, counter: number, rootFlag: number): number[] {
  let cv = IV.slice();
  const blocks = Math.max(1, Math.ceil(data.length / 64));
  for (let b = 0; b < blocks; b++) {
    const len = Math.min(64, data.length - 64 * b);
    const flags = (b === 0 ? CHUNK_START : 0) | (b === blocks - 1 ? CHUNK_END | rootFlag : 0);
    cv = compress(cv, blockWords(data, 64 * b, len), counter, len, flags);
  }
  return cv;
}

function node(data: Uint8Array, counter: number, root: boolean): number[] {
  if (data.length <= 1024) return chunkCv(data, counter, root ? ROOT : 0);
  const chunks = Math.ceil(data.length / 1024);
  let left = 1;
  while (left * 2 < chunks) left *= 2; // the left subtree: the largest power of two below the total
  const l = node(data.subarray(0, left * 1024), counter, false);
  const r = node(data.subarray(left * 1024), counter + left, false);
  return compress(IV, [...l, ...r], 0, 64, PARENT | (root ? ROOT : 0));
}

/** BLAKE3 digest (32 bytes). */
export function refBlake3(data: Uint8Array): Uint8Array {
  return wordsToBytes(node(data, 0, true));
}

/** Chaining value (no ROOT) of `data` as the subtree whose first chunk has counter `chunkCounter`. */
export function refBlake3Cv(data: Uint8Array, chunkCounter: number): Uint8Array {
  return wordsToBytes(node(data, chunkCounter, false));
}

/** Parent node of two CVs; `root` gives the digest. */
export function refBlake3Parent(left: Uint8Array, right: Uint8Array, root: boolean): Uint8Array {
  const both = new Uint8Array(64);
  both.set(left);
  both.set(right, 32);
  return wordsToBytes(compress(IV, blockWords(both, 0, 64), 0, 64, PARENT | (root ? ROOT : 0)));
}
