/**
 * The GPU work planner, pure data and no GPU: how leaves are cut into pieces and packed into upload
 * batches, the BLAKE3 chunk and parent passes and the SHA-256 segment descriptors of one dispatch,
 * the dispatch grid, and how results read back are decoded and merged. The encoder (./encode.ts)
 * turns these plans into GPU commands; test/gpu/planner.test.ts checks them without a GPU.
 */
import { blake3Parent } from '../js/blake3.js';
import type { Leaf, LeafBatch } from '../types.js';
import { B3_GROUP, SHA_SMALL_BELOW, SHA_WORKGROUP, SHA_WORKGROUP_SMALL, type WebGpuKernelTuning } from './tuning.js';

/** u32 words per group / segment descriptor (32 bytes). */
export const DESC_WORDS = 8;
/** WebGPU's guaranteed maxComputeWorkgroupsPerDimension. */
export const MAX_WORKGROUPS_PER_DIM = 65535;
/** Alignment of pieces inside an upload batch (a storage-buffer offset alignment every device accepts). */
export const PLACE_ALIGN = 256;

/** A BLAKE3 input inside one data window: its bytes, first chunk counter, and whether it is a whole digest. */
export interface B3Piece {
  /** Byte offset relative to the window start (any alignment; 4-aligned is faster). */
  byteOffset: number;
  byteLength: number;
  /** Chunk counter of the first chunk (u64 as a JS number, exact below 2^53). */
  counter: number;
  /** true: the piece is a whole BLAKE3 input and its result is the root digest (ROOT flag). */
  root: boolean;
}

/** One dispatch of the chunk kernel or the parent kernel. */
export interface B3Pass {
  kind: 'chunks' | 'parents';
  /** DESC_WORDS words per workgroup. */
  groups: Uint32Array;
  count: number;
}

/** The passes for a list of pieces; piece i's result (CV or digest) ends up in node i. */
export interface B3Plan {
  passes: B3Pass[];
  /** Nodes (8 words each) the node buffer must hold. */
  nodeCount: number;
  pieceCount: number;
}

function putDesc(arr: Uint32Array, i: number, a: number, b: number, counter: number, out: number, flags: number): void {
  const o = i * DESC_WORDS;
  arr[o] = a;
  arr[o + 1] = b;
  arr[o + 2] = counter % 0x1_0000_0000;
  arr[o + 3] = Math.floor(counter / 0x1_0000_0000);
  arr[o + 4] = out;
  arr[o + 5] = flags;
}

const ROOT_FLAG = 8;

/**
 * Plans the chunk pass and the parent passes. Every group of `group` (the pipelines' b3Group)
 * consecutive nodes of a piece starts at a multiple of `group` inside it, so each group's node is an aligned subtree's CV and
 * reducing level by level gives BLAKE3's tree. Each pass appends its outputs to the node buffer;
 * a piece's final node is written to node index = piece index.
 */
export function planBlake3(pieces: readonly B3Piece[], group: number = B3_GROUP): B3Plan {
  const n = pieces.length;
  const groupBytes = group * 1024;
  let next = n; // nodes [0, n) hold the results
  // Pass 0: chunks.
  let count = 0;
  for (const p of pieces) count += Math.max(1, Math.ceil(p.byteLength / groupBytes));
  const groups0 = new Uint32Array(count * DESC_WORDS);
  // Per piece: [start, count) of its nodes after the current pass, or -1 once it is final.
  let starts = new Array<number>(n);
  let counts = new Array<number>(n);
  let g = 0;
  pieces.forEach((p, i) => {
    const ng = Math.max(1, Math.ceil(p.byteLength / groupBytes));
    if (ng === 1) {
      putDesc(groups0, g++, p.byteOffset, p.byteLength, p.counter, i, p.root ? ROOT_FLAG : 0);
      counts[i] = 0;
      return;
    }
    starts[i] = next;
    counts[i] = ng;
    for (let k = 0; k < ng; k++) {
      const len = Math.min(groupBytes, p.byteLength - k * groupBytes);
      putDesc(groups0, g++, p.byteOffset + k * groupBytes, len, p.counter + k * group, next++, 0);
    }
  });
  const passes: B3Pass[] = [{ kind: 'chunks', groups: groups0, count }];
  for (;;) {
    let pc = 0;
    for (let i = 0; i < n; i++) if (counts[i]! > 0) pc += Math.ceil(counts[i]! / group);
    if (pc === 0) break;
    const groups = new Uint32Array(pc * DESC_WORDS);
    const ns = new Array<number>(n);
    const nc = new Array<number>(n).fill(0);
    let gi = 0;
    for (let i = 0; i < n; i++) {
      const c = counts[i]!;
      if (c === 0) continue;
      const ng = Math.ceil(c / group);
      if (ng === 1) {
        putDesc(groups, gi++, starts[i]!, c, 0, i, pieces[i]!.root ? ROOT_FLAG : 0);
        continue;
      }
      ns[i] = next;
      nc[i] = ng;
      for (let k = 0; k < ng; k++) {
        putDesc(groups, gi++, starts[i]! + k * group, Math.min(group, c - k * group), 0, next++, 0);
      }
    }
    passes.push({ kind: 'parents', groups, count: pc });
    starts = ns;
    counts = nc;
  }
  return { passes, nodeCount: next, pieceCount: n };
}

/** A SHA-256 leaf segment inside one data window. */
export interface ShaPiece {
  byteOffset: number;
  byteLength: number;
  /** The whole leaf's length (for the padding). */
  totalLength: number;
  first: boolean;
  final: boolean;
  /** State to resume from when !first (8 words, as the previous segment left it). */
  initState?: Uint32Array;
  /** Which of the dispatch's data windows holds the segment (default 0). */
  binding?: number;
  /**
   * RFC 9162 leaf (first segment only): the message is 0x00 then the bytes from byteOffset + 1;
   * byteOffset is one before the leaf (−1 wraps to 2^32 − 1, never read) and byteLength counts the prefix.
   */
  prefix?: boolean;
}

/** The segment descriptors (and resume states) of one SHA-256 dispatch; segment i's state is state i. */
export function planSha256(pieces: readonly ShaPiece[]): { segments: Uint32Array; initStates: Uint32Array | null } {
  const segments = new Uint32Array(pieces.length * DESC_WORDS);
  let init: Uint32Array | null = null;
  pieces.forEach((p, i) => {
    if (!p.final && p.byteLength % 64 !== 0) throw new RangeError('a non-final SHA-256 segment must be a multiple of 64 bytes');
    const o = i * DESC_WORDS;
    if (p.prefix && !p.first) throw new RangeError('only the first SHA-256 segment carries the RFC 9162 prefix');
    segments[o] = p.byteOffset >>> 0;
    segments[o + 1] = p.byteLength;
    segments[o + 2] = p.totalLength % 0x1_0000_0000;
    segments[o + 3] = Math.floor(p.totalLength / 0x1_0000_0000);
    segments[o + 4] = (p.first ? 1 : 0) | (p.final ? 2 : 0) | (p.prefix ? 4 : 0);
    segments[o + 5] = i;
    segments[o + 6] = p.binding ?? 0;
    if (!p.first) {
      if (!p.initState) throw new RangeError('a resumed SHA-256 segment needs its initial state');
      init ??= new Uint32Array(pieces.length * 8);
      init.set(p.initState, i * 8);
    }
  });
  return { segments, initStates: init };
}

/** Largest power-of-two number of chunks, in bytes, that fits in `maxBytes` (>= 1024). */
export function b3PieceBytes(maxBytes: number): number {
  let p = 1024;
  while (p * 2 <= maxBytes) p *= 2;
  return p;
}

/**
 * Merges the CVs of consecutive equal-size aligned subtrees (the last may be shorter) level by
 * level, as BLAKE3's tree does; with `root` the last merge gives the digest. One CV is returned as is.
 */
export function mergeSubtreeCvs(cvs: Uint8Array[], root: boolean): Uint8Array {
  if (cvs.length === 0) throw new RangeError('mergeSubtreeCvs: no CVs');
  let level = cvs;
  while (level.length > 1) {
    const up: Uint8Array[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) up.push(blake3Parent(level[i]!, level[i + 1]!, root && level.length === 2));
    if (level.length % 2 === 1) up.push(level[level.length - 1]!);
    level = up;
  }
  return level[0]!;
}

/** 8 little-endian words (a BLAKE3 node) → 32 bytes. */
export function b3NodeBytes(words: Uint32Array, index: number): Uint8Array {
  return new Uint8Array(words.buffer.slice(words.byteOffset + index * 32, words.byteOffset + index * 32 + 32));
}

/** 8 SHA-256 state words → the 32-byte big-endian digest. */
export function shaStateBytes(words: Uint32Array, index: number): Uint8Array {
  const out = new Uint8Array(32);
  const dv = new DataView(out.buffer);
  for (let k = 0; k < 8; k++) dv.setUint32(k * 4, words[index * 8 + k]!, false);
  return out;
}

// ------------------------------------------------------------------------------------------------
// Dispatch shapes (pure)

/** Workgroups as an (x, y) grid: no dimension may exceed MAX_WORKGROUPS_PER_DIM. */
export function dispatchGrid(groups: number): [x: number, y: number] {
  const x = Math.min(groups, MAX_WORKGROUPS_PER_DIM);
  return [x, Math.ceil(groups / x)];
}

/** How a SHA-256 dispatch of `segments` segments runs: which pipeline, its workgroup size, how many groups. */
export function shaDispatch(segments: number, tuning: Pick<WebGpuKernelTuning, 'shaWorkgroup'>): { small: boolean; workgroupSize: number; workgroups: number } {
  const small = segments < SHA_SMALL_BELOW;
  const workgroupSize = tuning.shaWorkgroup || (small ? SHA_WORKGROUP_SMALL : SHA_WORKGROUP);
  return { small, workgroupSize, workgroups: Math.ceil(segments / workgroupSize) };
}

/** Where each pass's descriptors sit in one descriptor buffer whose bindings start at multiples of `align`. */
export function descriptorLayout(plan: B3Plan, align: number): { offsets: number[]; totalBytes: number } {
  const offsets: number[] = [];
  let total = 0;
  for (const p of plan.passes) {
    offsets.push(total);
    total += Math.ceil((p.count * DESC_WORDS * 4) / align) * align;
  }
  return { offsets, totalBytes: total };
}

// ------------------------------------------------------------------------------------------------
// Cutting leaves into upload batches (pure)

/** A piece of a leaf placed in an upload batch. */
export interface PlacedPiece {
  /** Index of the leaf in the batch's leaves. */
  leaf: number;
  /** Index of the piece inside its leaf. */
  piece: number;
  fileOffset: number;
  length: number;
  /** Byte offset inside the upload batch (a multiple of PLACE_ALIGN). */
  batchOffset: number;
  b3?: B3Piece;
  sha?: Omit<ShaPiece, 'byteOffset' | 'initState'>;
}

/** Upload batches of placed pieces, and how many pieces each leaf was cut into. */
export interface LeafCut {
  batches: PlacedPiece[][];
  perLeaf: number[];
}

/**
 * Cuts leaves into pieces that fit an upload batch of `batchBytes` and packs them in order.
 * BLAKE3 pieces are aligned power-of-two subtrees (their CVs merge with mergeSubtreeCvs, and a leaf of
 * one piece is hashed to its digest on the GPU); SHA-256 pieces are segments that resume the previous
 * one's state. Throws RangeError for a leaf the kernels cannot take (negative or unsafe offsets, a
 * 'cv' leaf that is not blake3 or not chunk-aligned).
 */
export function cutLeaves(batch: LeafBatch, batchBytes: number): LeafCut {
  const { algorithm, leaves } = batch;
  const B = batchBytes;
  const pieceMax = algorithm === 'blake3' ? b3PieceBytes(B) : B;
  const perLeaf: number[] = [];
  const out: PlacedPiece[][] = [];
  let cur: PlacedPiece[] = [];
  let used = 0;
  const place = (p: Omit<PlacedPiece, 'batchOffset'>): void => {
    const at = Math.ceil(used / PLACE_ALIGN) * PLACE_ALIGN;
    if (cur.length > 0 && at + p.length > B) {
      out.push(cur);
      cur = [];
      used = 0;
      place(p);
      return;
    }
    cur.push({ ...p, batchOffset: at });
    used = at + p.length;
  };
  leaves.forEach((leaf: Leaf, li) => {
    if (!Number.isSafeInteger(leaf.offset) || !Number.isSafeInteger(leaf.length) || leaf.offset < 0 || leaf.length < 0) {
      throw new RangeError(`leaf ${leaf.path}: offset and length must be non-negative integers`);
    }
    if (leaf.output === 'cv') {
      if (algorithm !== 'blake3') throw new RangeError(`leaf ${leaf.path}: 'cv' output exists only for blake3`);
      if (leaf.offset % 1024 !== 0) throw new RangeError(`leaf ${leaf.path}: a 'cv' leaf must start at a multiple of 1024 (offset ${leaf.offset})`);
    }
    const n = Math.max(1, Math.ceil(leaf.length / pieceMax));
    perLeaf.push(n);
    for (let k = 0; k < n; k++) {
      const start = k * pieceMax;
      const length = Math.min(pieceMax, leaf.length - start);
      const base: Omit<PlacedPiece, 'batchOffset'> = { leaf: li, piece: k, fileOffset: leaf.offset + start, length };
      if (algorithm === 'blake3') {
        const counter = (leaf.output === 'cv' ? leaf.offset / 1024 : 0) + start / 1024;
        base.b3 = { byteOffset: 0, byteLength: length, counter, root: leaf.output === 'digest' && n === 1 };
      } else {
        base.sha = { byteLength: length, totalLength: leaf.length, first: k === 0, final: k === n - 1 };
      }
      place(base);
    }
  });
  if (cur.length > 0) out.push(cur);
  return { batches: out, perLeaf };
}
