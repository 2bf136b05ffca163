/**
 * The GPU side shared by the file backend and GPU-resident verification: shader loading, pipelines
 * (cached per device), pure planning of the kernel passes over a window of a data buffer, and
 * encoding them into a command encoder. Planning is plain data so it can be read and tested alone.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { blake3Parent } from '../js/blake3.js';
import { BUFFER_USAGE, isSoftwareDevice } from './device.js';

/** Chunks per workgroup in the BLAKE3 kernels (the default `GROUP` override); a power of two. */
export const B3_GROUP = 64;
/** Bytes covered by one chunk-kernel workgroup at the default group size. */
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
/** Data bindings of sha256_leaves_multi.wgsl (it needs this + 2 storage buffers per stage). */
export const SHA_MULTI_BINDINGS = 8;
/** u32 words per group / segment descriptor (32 bytes). */
const DESC_WORDS = 8;
const MAX_WORKGROUPS_PER_DIM = 65535;

const SHADER_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'shaders');

type ShaderName = 'sha256_leaves' | 'sha256_leaves_multi' | 'blake3_chunks' | 'blake3_parents';

/** Reads one kernel's WGSL from shaders/ (the same path from src/ and dist/). */
export function loadShader(name: ShaderName): string {
  return readFileSync(resolve(SHADER_DIR, `${name}.wgsl`), 'utf8');
}

/**
 * Kernel variants. None changes a digest; they trade parallelism, registers and workgroup memory,
 * and the best choice depends on the GPU, so each can be set per call (benchmarks sweep them) or by
 * an environment variable (docs/gpu.md lists them).
 */
export interface WebGpuKernelTuning {
  /**
   * Data windows one SHA-256 dispatch reads: 1 (sha256_leaves.wgsl) or up to SHA_MULTI_BINDINGS
   * (sha256_leaves_multi.wgsl), so that the leaves of a buffer larger than one storage binding run in
   * one dispatch. MODELSEAL_WEBGPU_SHA_BINDINGS.
   */
  shaBindings: number;
  /** SHA-256 workgroup size; 0: 16 below SHA_SMALL_BELOW segments, else 64. MODELSEAL_WEBGPU_SHA_WORKGROUP. */
  shaWorkgroup: number;
  /** SHA-256: load block b + 1 before compressing block b. MODELSEAL_WEBGPU_SHA_PREFETCH (0 or 1). */
  shaPrefetch: boolean;
  /**
   * SHA-256: the invocations of a workgroup load each next block of all their segments together
   * (coalesced, through workgroup memory; entry point main_coop). MODELSEAL_WEBGPU_SHA_COOP=1.
   */
  shaCoop: boolean;
  /** BLAKE3 chunk kernel: blocks staged per barrier (1, 2, 4, 8). MODELSEAL_WEBGPU_STAGE_BLOCKS. */
  b3StageBlocks: number;
  /** BLAKE3 chunk kernel: each thread loads its own chunk, no staging. MODELSEAL_WEBGPU_B3_DIRECT (0 or 1). */
  b3Direct: boolean;
  /** BLAKE3 chunks per workgroup (32, 64, 128, 256); also the parent kernel's fan-in. MODELSEAL_WEBGPU_B3_GROUP. */
  b3Group: number;
}

const TUNING_CHOICES: { [K in keyof WebGpuKernelTuning]: readonly (number | boolean)[] } = {
  shaBindings: [1, 2, 3, 4, 5, 6, 7, 8],
  shaWorkgroup: [0, 1, 4, 8, 16, 32, 64, 128, 256],
  shaPrefetch: [false, true],
  shaCoop: [false, true],
  b3StageBlocks: [1, 2, 4, 8],
  b3Direct: [false, true],
  b3Group: [32, 64, 128, 256],
};

const TUNING_ENV: { [K in keyof WebGpuKernelTuning]: string } = {
  shaBindings: 'MODELSEAL_WEBGPU_SHA_BINDINGS',
  shaWorkgroup: 'MODELSEAL_WEBGPU_SHA_WORKGROUP',
  shaPrefetch: 'MODELSEAL_WEBGPU_SHA_PREFETCH',
  shaCoop: 'MODELSEAL_WEBGPU_SHA_COOP',
  b3StageBlocks: 'MODELSEAL_WEBGPU_STAGE_BLOCKS',
  b3Direct: 'MODELSEAL_WEBGPU_B3_DIRECT',
  b3Group: 'MODELSEAL_WEBGPU_B3_GROUP',
};

/**
 * The tuning a device gets: explicit `options` (validated: RangeError), else the environment
 * variable (ignored when not a valid choice), else the default. Defaults, from two sweeps of
 * bench/gpu on an H200 (bench/results/gpu-nvidia-h200-2026-11-26-run{3,4}.*; 16 GiB device-resident;
 * single runs, and identical settings moved by up to ±20 % between rows):
 * - SHA-256: all windows of a call in one dispatch when the device has the storage-buffer slots for
 *   it (a 2 GiB window holds only 2047 leaves of 1 MiB): 1 MiB leaves 40-48 -> 86-119 GB/s. Prefetch
 *   of the next block and the workgroup size (16/32/64/128) made no difference beyond that noise;
 *   prefetch stays on (it was the faster one in run 3, 115 vs 99).
 * - BLAKE3: direct loads (each invocation reads its own chunk), 128-chunk groups: 639 GB/s, against
 *   420 with 64-chunk groups, 597 with 256, 388 with 32; staged through workgroup memory 216 (2
 *   blocks per barrier), 277-309 (1), 115 (4).
 * On lavapipe direct loads and prefetch were also the faster ones (correctness runs, not GPU figures).
 */
export function resolveTuning(device: GPUDevice, options: Partial<WebGpuKernelTuning> = {}, env: NodeJS.ProcessEnv = process.env): WebGpuKernelTuning {
  const maxBindings = Math.max(1, Math.min(SHA_MULTI_BINDINGS, device.limits.maxStorageBuffersPerShaderStage - 2));
  // Software adapters keep one binding: on Mesa lavapipe (LLVM 15) the multi-binding kernel gave the
  // right digests in 16 of 17 runs, but one test run stalled for minutes (and an earlier attempt did
  // not finish within 120 s), cause unknown (docs/gpu.md); their buffers are small anyway. On the
  // H200 the benchmark checks it leaf by leaf against node:crypto.
  const shaBindings = isSoftwareDevice(device) ? 1 : maxBindings;
  const dflt: WebGpuKernelTuning = { shaBindings, shaWorkgroup: 0, shaPrefetch: true, shaCoop: false, b3StageBlocks: 1, b3Direct: true, b3Group: 128 };
  const out = { ...dflt } as Record<keyof WebGpuKernelTuning, number | boolean>;
  for (const key of Object.keys(dflt) as (keyof WebGpuKernelTuning)[]) {
    const choices = TUNING_CHOICES[key];
    const given = options[key];
    if (given !== undefined) {
      if (!choices.includes(given)) throw new RangeError(`tuning.${key} must be one of ${choices.join(', ')} (got ${String(given)})`);
      out[key] = given;
      continue;
    }
    const raw = env[TUNING_ENV[key]];
    if (raw === undefined || raw === '') continue;
    const v = typeof dflt[key] === 'boolean' ? raw === '1' || raw === 'true' : Number(raw);
    if (choices.includes(v)) out[key] = v;
  }
  const t = out as unknown as WebGpuKernelTuning;
  if (t.shaBindings > maxBindings) {
    throw new RangeError(`tuning.shaBindings ${t.shaBindings}: the device allows ${device.limits.maxStorageBuffersPerShaderStage} storage buffers per shader stage, so at most ${maxBindings}`);
  }
  // Direct loads do not use the staging array; the smallest one leaves workgroup memory to the CVs.
  if (t.b3Direct) t.b3StageBlocks = 1;
  if (t.shaCoop) {
    // tile (17 words per invocation) + 3 words of segment data per invocation + 2 words
    const shaWgBytes = Math.max(t.shaWorkgroup || SHA_WORKGROUP, SHA_WORKGROUP_SMALL) * 80 + 8;
    if (shaWgBytes > device.limits.maxComputeWorkgroupStorageSize) {
      throw new RangeError(`tuning shaCoop with workgroups of ${t.shaWorkgroup} needs ${shaWgBytes} bytes of workgroup memory; the device allows ${device.limits.maxComputeWorkgroupStorageSize}`);
    }
  }
  const wgBytes = t.b3Group * (16 * t.b3StageBlocks + 1) * 4 + t.b3Group * 9 * 4;
  if (wgBytes > device.limits.maxComputeWorkgroupStorageSize) {
    throw new RangeError(`tuning b3Group ${t.b3Group} x b3StageBlocks ${t.b3StageBlocks} needs ${wgBytes} bytes of workgroup memory; the device allows ${device.limits.maxComputeWorkgroupStorageSize}`);
  }
  return t;
}

/** A short name of a tuning (pipeline cache key, benchmark labels). */
export function tuningLabel(t: WebGpuKernelTuning): string {
  return `sha bind=${t.shaBindings} wg=${t.shaWorkgroup || 'auto'}${t.shaPrefetch ? ' prefetch' : ''}${t.shaCoop ? ' coop' : ''}; b3 ${t.b3Direct ? 'direct' : `stage=${t.b3StageBlocks}`} group=${t.b3Group}`;
}

export interface Pipelines {
  tuning: WebGpuKernelTuning;
  /** SHA-256 pipeline for large dispatches, and for dispatches under SHA_SMALL_BELOW segments. */
  sha256: GPUComputePipeline;
  sha256Small: GPUComputePipeline;
  blake3Chunks: GPUComputePipeline;
  blake3Parents: GPUComputePipeline;
}

const pipelineCache = new WeakMap<GPUDevice, Map<string, Promise<Pipelines>>>();

async function compile(device: GPUDevice, name: ShaderName, constants: Record<string, number>, entryPoint = 'main'): Promise<GPUComputePipeline> {
  const module = device.createShaderModule({ label: `modelseal ${name}.wgsl`, code: loadShader(name) });
  const info = await module.getCompilationInfo();
  const errors = info.messages.filter((m) => m.type === 'error');
  if (errors.length > 0) {
    throw new Error(`shaders/${name}.wgsl does not compile: ${errors.map((m) => `${m.lineNum}:${m.linePos} ${m.message}`).join('; ')}`);
  }
  return device.createComputePipelineAsync({
    label: `modelseal ${name} ${entryPoint} pipeline`,
    layout: 'auto',
    compute: { module, entryPoint, constants },
  });
}

/** The compute pipelines of a device for one tuning (resolveTuning's defaults when omitted), compiled once. */
export function getPipelines(device: GPUDevice, options: Partial<WebGpuKernelTuning> = {}): Promise<Pipelines> {
  const tuning = resolveTuning(device, options);
  const key = tuningLabel(tuning);
  let perDevice = pipelineCache.get(device);
  if (!perDevice) {
    perDevice = new Map();
    pipelineCache.set(device, perDevice);
  }
  let p = perDevice.get(key);
  if (!p) {
    p = (async () => {
      const sha = tuning.shaBindings > 1 ? 'sha256_leaves_multi' : 'sha256_leaves';
      const prefetch = tuning.shaPrefetch ? 1 : 0;
      const wgLarge = tuning.shaWorkgroup || SHA_WORKGROUP;
      const wgSmall = tuning.shaWorkgroup || SHA_WORKGROUP_SMALL;
      const entry = tuning.shaCoop ? 'main_coop' : 'main';
      const large = compile(device, sha, { WORKGROUP_SIZE: wgLarge, PREFETCH: prefetch }, entry);
      const small = wgSmall === wgLarge ? large : compile(device, sha, { WORKGROUP_SIZE: wgSmall, PREFETCH: prefetch }, entry);
      const [sha256, sha256Small, blake3Chunks, blake3Parents] = await Promise.all([
        large,
        small,
        compile(device, 'blake3_chunks', { GROUP: tuning.b3Group, STAGE_BLOCKS: tuning.b3StageBlocks, DIRECT: tuning.b3Direct ? 1 : 0 }),
        compile(device, 'blake3_parents', { GROUP: tuning.b3Group }),
      ]);
      return { tuning, sha256, sha256Small, blake3Chunks, blake3Parents };
    })();
    p.catch(() => perDevice.delete(key));
    perDevice.set(key, p);
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

/** One BLAKE3 plan over one data window, with the scratch buffers it may use. */
export interface B3Job {
  window: DataWindow;
  plan: B3Plan;
  scratch: ScratchBuffers;
}

/**
 * Encodes the BLAKE3 passes of several jobs into one compute pass, level by level: every job's chunk
 * dispatch first, then every job's first parent pass, and so on. Each job has its own node buffer, so
 * the chunk dispatches of different windows need no barrier between them (a barrier after a write
 * waits for all earlier compute work, so job-by-job order would drain the GPU 4 times per window).
 * Returns each job's node buffer; its first 8 words per piece are the results. Descriptors are written
 * with queue.writeBuffer, which is ordered before the next submit.
 */
export function encodeBlake3Jobs(device: GPUDevice, pipelines: Pipelines, encoder: GPUCommandEncoder, jobs: readonly B3Job[]): GPUBuffer[] {
  const align = device.limits.minStorageBufferOffsetAlignment;
  const prepared = jobs.map((job) => {
    const offsets: number[] = [];
    let total = 0;
    for (const p of job.plan.passes) {
      offsets.push(total);
      total += Math.ceil((p.count * DESC_WORDS * 4) / align) * align;
    }
    const groupsBuf = job.scratch.get('blake3 group descriptors', total, BUFFER_USAGE.STORAGE | BUFFER_USAGE.COPY_DST);
    const nodes = job.scratch.get('blake3 nodes', job.plan.nodeCount * 32, STORAGE_SRC_DST);
    job.plan.passes.forEach((p, i) => device.queue.writeBuffer(groupsBuf, offsets[i]!, p.groups));
    return { job, offsets, groupsBuf, nodes };
  });
  const levels = Math.max(0, ...jobs.map((j) => j.plan.passes.length));
  const pass = encoder.beginComputePass({ label: 'modelseal blake3 pass' });
  for (let level = 0; level < levels; level++) {
    for (const { job, offsets, groupsBuf, nodes } of prepared) {
      const p = job.plan.passes[level];
      if (!p) continue;
      const groupsBinding = { buffer: groupsBuf, offset: offsets[level]!, size: p.count * DESC_WORDS * 4 };
      const w = job.window;
      if (p.kind === 'chunks') {
        pass.setPipeline(pipelines.blake3Chunks);
        pass.setBindGroup(
          0,
          device.createBindGroup({
            label: 'modelseal blake3 chunks bind group',
            layout: pipelines.blake3Chunks.getBindGroupLayout(0),
            entries: [
              { binding: 0, resource: { buffer: w.buffer, offset: w.offset, size: w.size } },
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
            label: `modelseal blake3 parents bind group ${level}`,
            layout: pipelines.blake3Parents.getBindGroupLayout(0),
            entries: [
              { binding: 0, resource: groupsBinding },
              { binding: 1, resource: { buffer: nodes } },
            ],
          }),
        );
      }
      dispatch2d(pass, p.count);
    }
  }
  pass.end();
  return prepared.map((p) => p.nodes);
}

/** encodeBlake3Jobs for one window. */
export function encodeBlake3(
  device: GPUDevice,
  pipelines: Pipelines,
  encoder: GPUCommandEncoder,
  window: DataWindow,
  plan: B3Plan,
  scratch: ScratchBuffers,
): GPUBuffer {
  return encodeBlake3Jobs(device, pipelines, encoder, [{ window, plan, scratch }])[0]!;
}

/**
 * Encodes one SHA-256 dispatch over up to `pipelines.tuning.shaBindings` windows (segment.binding
 * picks one); returns the states buffer (8 words per segment; big-endian digest words when final).
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
  const bindings = pipelines.tuning.shaBindings;
  // The one-binding kernel is sha256_leaves.wgsl; any other count runs the multi kernel, whose
  // SHA_MULTI_BINDINGS bindings are all bound (the spare ones repeat window 0).
  const declared = bindings > 1 ? SHA_MULTI_BINDINGS : 1;
  if (windows.length < 1 || windows.length > bindings) throw new RangeError(`1 to ${bindings} data windows per SHA-256 dispatch`);
  const n = plan.segments.length / DESC_WORDS;
  const segBuf = scratch.get('sha256 segment descriptors', n * DESC_WORDS * 4, BUFFER_USAGE.STORAGE | BUFFER_USAGE.COPY_DST);
  const states = scratch.get('sha256 states', n * 32, STORAGE_SRC_DST);
  device.queue.writeBuffer(segBuf, 0, plan.segments);
  if (plan.initStates) device.queue.writeBuffer(states, 0, plan.initStates);
  const small = n < SHA_SMALL_BELOW;
  const pipeline = small ? pipelines.sha256Small : pipelines.sha256;
  const wg = pipelines.tuning.shaWorkgroup || (small ? SHA_WORKGROUP_SMALL : SHA_WORKGROUP);
  const pass = openPass ?? encoder.beginComputePass({ label: 'modelseal sha256 pass' });
  pass.setPipeline(pipeline);
  const entries: GPUBindGroupEntry[] = [];
  for (let k = 0; k < declared; k++) {
    const w = windows[k] ?? windows[0]!;
    entries.push({ binding: k, resource: { buffer: w.buffer, offset: w.offset, size: w.size } });
  }
  entries.push({ binding: declared, resource: { buffer: segBuf, offset: 0, size: n * DESC_WORDS * 4 } });
  entries.push({ binding: declared + 1, resource: { buffer: states } });
  pass.setBindGroup(0, device.createBindGroup({ label: 'modelseal sha256 bind group', layout: pipeline.getBindGroupLayout(0), entries }));
  dispatch2d(pass, Math.ceil(n / wg));
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
