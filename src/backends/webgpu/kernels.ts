/**
 * The GPU side shared by the file backend and GPU-resident verification: shader loading, pipelines
 * (cached per device), pure planning of the kernel passes over a window of a data buffer, and
 * encoding them into a command encoder. Planning is plain data so it can be read and tested alone.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { blake3Parent } from '../js/blake3.js';
import { BUFFER_USAGE } from './device.js';

/** Chunks per workgroup in the BLAKE3 kernels (the `GROUP` override); a power of two. */
export const B3_GROUP = 64;
/** Bytes covered by one chunk-kernel workgroup. */
export const B3_GROUP_BYTES = B3_GROUP * 1024;
/** Invocations per workgroup in the SHA-256 kernel (one leaf segment each). */
export const SHA_WORKGROUP = 64;
/**
 * The same kernel with small workgroups, for dispatches of few leaves: one thread per leaf is
 * latency-bound, so few leaves must be spread over as many SMs / compute units as possible.
 */
export const SHA_WORKGROUP_SMALL = 16;
/**
 * Below this many segments a dispatch uses the small-workgroup pipeline. On an H200 (one run each):
 * 2048 leaves per dispatch 39.8 → 45.9 GB/s and 512 leaves 10.9 → 14.1 GB/s with 16-thread
 * workgroups, but 8192 leaves 80.5 → 32.2 GB/s, so only small dispatches use them.
 */
export const SHA_SMALL_BELOW = 4096;
/**
 * Data bindings of the SHA-256 kernel (windows of up to maxStorageBufferBindingSize each per
 * dispatch). 1: an 8-binding variant that would put 16 GiB of leaves in one dispatch hung on Mesa
 * lavapipe and was not shipped (see docs/gpu.md).
 */
export const SHA_DATA_BINDINGS = 1;
/** u32 words per group / segment descriptor (32 bytes). */
const DESC_WORDS = 8;
const MAX_WORKGROUPS_PER_DIM = 65535;

const SHADER_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'shaders');

/** Reads one kernel's WGSL from shaders/ (the same path from src/ and dist/). */
export function loadShader(name: 'sha256_leaves' | 'blake3_chunks' | 'blake3_parents'): string {
  return readFileSync(resolve(SHADER_DIR, `${name}.wgsl`), 'utf8');
}

export interface Pipelines {
  sha256: GPUComputePipeline;
  sha256Small: GPUComputePipeline;
  blake3Chunks: GPUComputePipeline;
  blake3Parents: GPUComputePipeline;
}

const pipelineCache = new WeakMap<GPUDevice, Promise<Pipelines>>();

async function compile(device: GPUDevice, name: 'sha256_leaves' | 'blake3_chunks' | 'blake3_parents', constants: Record<string, number>): Promise<GPUComputePipeline> {
  const module = device.createShaderModule({ label: `modelseal ${name}.wgsl`, code: loadShader(name) });
  const info = await module.getCompilationInfo();
  const errors = info.messages.filter((m) => m.type === 'error');
  if (errors.length > 0) {
    throw new Error(`shaders/${name}.wgsl does not compile: ${errors.map((m) => `${m.lineNum}:${m.linePos} ${m.message}`).join('; ')}`);
  }
  return device.createComputePipelineAsync({
    label: `modelseal ${name} pipeline`,
    layout: 'auto',
    compute: { module, entryPoint: 'main', constants },
  });
}

/** The three compute pipelines of a device, compiled once. */
export function getPipelines(device: GPUDevice): Promise<Pipelines> {
  let p = pipelineCache.get(device);
  if (!p) {
    p = (async () => {
      if (device.limits.maxStorageBuffersPerShaderStage < SHA_DATA_BINDINGS + 2) {
        throw new Error(`the device allows ${device.limits.maxStorageBuffersPerShaderStage} storage buffers per shader stage; the SHA-256 kernel needs ${SHA_DATA_BINDINGS + 2}`);
      }
      // Blocks staged per barrier in the chunk kernel. 2 measured faster than 4 on an H200 (194 vs
      // 125 GB/s device-resident; 4 needs 19 KiB of workgroup memory, so fewer workgroups fit an SM).
      // MODELSEAL_WEBGPU_STAGE_BLOCKS overrides it for benchmarks.
      const stageEnv = Number(process.env.MODELSEAL_WEBGPU_STAGE_BLOCKS);
      const stage = [1, 2, 4, 8].includes(stageEnv) ? stageEnv : 2;
      const [sha256, sha256Small, blake3Chunks, blake3Parents] = await Promise.all([
        compile(device, 'sha256_leaves', { WORKGROUP_SIZE: SHA_WORKGROUP }),
        compile(device, 'sha256_leaves', { WORKGROUP_SIZE: SHA_WORKGROUP_SMALL }),
        compile(device, 'blake3_chunks', { GROUP: B3_GROUP, STAGE_BLOCKS: stage }),
        compile(device, 'blake3_parents', { GROUP: B3_GROUP }),
      ]);
      return { sha256, sha256Small, blake3Chunks, blake3Parents };
    })();
    pipelineCache.set(device, p);
  }
  return p;
}

// ------------------------------------------------------------------------------------------------
// Planning (pure)

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
 * Plans the chunk pass and the parent passes. Every group of B3_GROUP consecutive nodes of a piece
 * starts at a multiple of B3_GROUP inside it, so each group's node is an aligned subtree's CV and
 * reducing level by level gives BLAKE3's tree. Each pass appends its outputs to the node buffer;
 * a piece's final node is written to node index = piece index.
 */
export function planBlake3(pieces: readonly B3Piece[]): B3Plan {
  const n = pieces.length;
  let next = n; // nodes [0, n) hold the results
  // Pass 0: chunks.
  let count = 0;
  for (const p of pieces) count += Math.max(1, Math.ceil(p.byteLength / B3_GROUP_BYTES));
  const groups0 = new Uint32Array(count * DESC_WORDS);
  // Per piece: [start, count) of its nodes after the current pass, or -1 once it is final.
  let starts = new Array<number>(n);
  let counts = new Array<number>(n);
  let g = 0;
  pieces.forEach((p, i) => {
    const ng = Math.max(1, Math.ceil(p.byteLength / B3_GROUP_BYTES));
    if (ng === 1) {
      putDesc(groups0, g++, p.byteOffset, p.byteLength, p.counter, i, p.root ? ROOT_FLAG : 0);
      counts[i] = 0;
      return;
    }
    starts[i] = next;
    counts[i] = ng;
    for (let k = 0; k < ng; k++) {
      const len = Math.min(B3_GROUP_BYTES, p.byteLength - k * B3_GROUP_BYTES);
      putDesc(groups0, g++, p.byteOffset + k * B3_GROUP_BYTES, len, p.counter + k * B3_GROUP, next++, 0);
    }
  });
  const passes: B3Pass[] = [{ kind: 'chunks', groups: groups0, count }];
  for (;;) {
    let pc = 0;
    for (let i = 0; i < n; i++) if (counts[i]! > 0) pc += Math.ceil(counts[i]! / B3_GROUP);
    if (pc === 0) break;
    const groups = new Uint32Array(pc * DESC_WORDS);
    const ns = new Array<number>(n);
    const nc = new Array<number>(n).fill(0);
    let gi = 0;
    for (let i = 0; i < n; i++) {
      const c = counts[i]!;
      if (c === 0) continue;
      const ng = Math.ceil(c / B3_GROUP);
      if (ng === 1) {
        putDesc(groups, gi++, starts[i]!, c, 0, i, pieces[i]!.root ? ROOT_FLAG : 0);
        continue;
      }
      ns[i] = next;
      nc[i] = ng;
      for (let k = 0; k < ng; k++) {
        putDesc(groups, gi++, starts[i]! + k * B3_GROUP, Math.min(B3_GROUP, c - k * B3_GROUP), 0, next++, 0);
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
}

export function planSha256(pieces: readonly ShaPiece[]): { segments: Uint32Array; initStates: Uint32Array | null } {
  const segments = new Uint32Array(pieces.length * DESC_WORDS);
  let init: Uint32Array | null = null;
  pieces.forEach((p, i) => {
    if (!p.final && p.byteLength % 64 !== 0) throw new RangeError('a non-final SHA-256 segment must be a multiple of 64 bytes');
    const o = i * DESC_WORDS;
    segments[o] = p.byteOffset;
    segments[o + 1] = p.byteLength;
    segments[o + 2] = p.totalLength % 0x1_0000_0000;
    segments[o + 3] = Math.floor(p.totalLength / 0x1_0000_0000);
    segments[o + 4] = (p.first ? 1 : 0) | (p.final ? 2 : 0);
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

// ------------------------------------------------------------------------------------------------
// Splitting long inputs (pure)

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

// ------------------------------------------------------------------------------------------------
// Encoding

/** Reusable scratch buffers, grown on demand (labels name their owner). */
export class ScratchBuffers {
  private readonly buffers = new Map<string, GPUBuffer>();
  constructor(
    private readonly device: GPUDevice,
    private readonly label: string,
  ) {}

  get(name: string, bytes: number, usage: number): GPUBuffer {
    const size = Math.max(256, Math.ceil(bytes / 256) * 256);
    const have = this.buffers.get(name);
    if (have && have.size >= size) return have;
    have?.destroy();
    const b = this.device.createBuffer({ label: `${this.label} ${name}`, size: Math.max(size, (have?.size ?? 0) * 2), usage });
    this.buffers.set(name, b);
    return b;
  }

  destroy(): void {
    for (const b of this.buffers.values()) b.destroy();
    this.buffers.clear();
  }
}

/** A byte window of a storage buffer bound as the kernels' `data` (offset 256-aligned, size 4-aligned). */
export interface DataWindow {
  buffer: GPUBuffer;
  offset: number;
  size: number;
}

function dispatch2d(pass: GPUComputePassEncoder, groups: number): void {
  const x = Math.min(groups, MAX_WORKGROUPS_PER_DIM);
  pass.dispatchWorkgroups(x, Math.ceil(groups / x));
}

const STORAGE_SRC_DST = BUFFER_USAGE.STORAGE | BUFFER_USAGE.COPY_SRC | BUFFER_USAGE.COPY_DST;

/**
 * Encodes the BLAKE3 passes of `plan` over `window`; the results (8 words per piece) are at the
 * start of the returned node buffer. Descriptors are written with queue.writeBuffer, which is
 * ordered before the next submit.
 */
export function encodeBlake3(
  device: GPUDevice,
  pipelines: Pipelines,
  encoder: GPUCommandEncoder,
  window: DataWindow,
  plan: B3Plan,
  scratch: ScratchBuffers,
): GPUBuffer {
  const align = device.limits.minStorageBufferOffsetAlignment;
  const offsets: number[] = [];
  let total = 0;
  for (const p of plan.passes) {
    offsets.push(total);
    total += Math.ceil((p.count * DESC_WORDS * 4) / align) * align;
  }
  const groupsBuf = scratch.get('blake3 group descriptors', total, BUFFER_USAGE.STORAGE | BUFFER_USAGE.COPY_DST);
  const nodes = scratch.get('blake3 nodes', plan.nodeCount * 32, STORAGE_SRC_DST);
  plan.passes.forEach((p, i) => device.queue.writeBuffer(groupsBuf, offsets[i]!, p.groups));
  const pass = encoder.beginComputePass({ label: 'modelseal blake3 pass' });
  plan.passes.forEach((p, i) => {
    const groupsBinding = { buffer: groupsBuf, offset: offsets[i]!, size: p.count * DESC_WORDS * 4 };
    if (p.kind === 'chunks') {
      pass.setPipeline(pipelines.blake3Chunks);
      pass.setBindGroup(
        0,
        device.createBindGroup({
          label: 'modelseal blake3 chunks bind group',
          layout: pipelines.blake3Chunks.getBindGroupLayout(0),
          entries: [
            { binding: 0, resource: { buffer: window.buffer, offset: window.offset, size: window.size } },
            { binding: 1, resource: groupsBinding },
            { binding: 2, resource: { buffer: nodes } },
          ],
        }),
      );
    } else {
      pass.setPipeline(pipelines.blake3Parents);
      pass.setBindGroup(
        0,
        device.createBindGroup({
          label: `modelseal blake3 parents bind group ${i}`,
          layout: pipelines.blake3Parents.getBindGroupLayout(0),
          entries: [
            { binding: 0, resource: groupsBinding },
            { binding: 1, resource: { buffer: nodes } },
          ],
        }),
      );
    }
    dispatch2d(pass, p.count);
  });
  pass.end();
  return nodes;
}

/**
 * Encodes one SHA-256 dispatch over up to SHA_DATA_BINDINGS windows (segment.binding picks one);
 * returns the states buffer (8 words per segment; big-endian digest words when final).
 */
export function encodeSha256(
  device: GPUDevice,
  pipelines: Pipelines,
  encoder: GPUCommandEncoder,
  windows: readonly DataWindow[],
  plan: { segments: Uint32Array; initStates: Uint32Array | null },
  scratch: ScratchBuffers,
  /** An open compute pass to record into. */
  openPass?: GPUComputePassEncoder,
): GPUBuffer {
  if (windows.length < 1 || windows.length > SHA_DATA_BINDINGS) throw new RangeError(`1 to ${SHA_DATA_BINDINGS} data windows per SHA-256 dispatch`);
  const n = plan.segments.length / DESC_WORDS;
  const segBuf = scratch.get('sha256 segment descriptors', n * DESC_WORDS * 4, BUFFER_USAGE.STORAGE | BUFFER_USAGE.COPY_DST);
  const states = scratch.get('sha256 states', n * 32, STORAGE_SRC_DST);
  device.queue.writeBuffer(segBuf, 0, plan.segments);
  if (plan.initStates) device.queue.writeBuffer(states, 0, plan.initStates);
  const small = n < SHA_SMALL_BELOW;
  const pipeline = small ? pipelines.sha256Small : pipelines.sha256;
  const pass = openPass ?? encoder.beginComputePass({ label: 'modelseal sha256 pass' });
  pass.setPipeline(pipeline);
  const entries: GPUBindGroupEntry[] = [];
  for (let k = 0; k < SHA_DATA_BINDINGS; k++) {
    // Unused bindings repeat the first window (every binding must be bound).
    const w = windows[k] ?? windows[0]!;
    entries.push({ binding: k, resource: { buffer: w.buffer, offset: w.offset, size: w.size } });
  }
  entries.push({ binding: SHA_DATA_BINDINGS, resource: { buffer: segBuf, offset: 0, size: n * DESC_WORDS * 4 } });
  entries.push({ binding: SHA_DATA_BINDINGS + 1, resource: { buffer: states } });
  pass.setBindGroup(0, device.createBindGroup({ label: 'modelseal sha256 bind group', layout: pipeline.getBindGroupLayout(0), entries }));
  dispatch2d(pass, Math.ceil(n / (small ? SHA_WORKGROUP_SMALL : SHA_WORKGROUP)));
  if (!openPass) pass.end();
  return states;
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
