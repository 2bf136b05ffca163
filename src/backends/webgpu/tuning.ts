/**
 * Kernel tuning: the workgroup shapes and load strategies of the WGSL kernels, chosen per device
 * from explicit options, MODELSEAL_WEBGPU_* environment variables and measured defaults.
 */
import { isSoftwareDevice } from './device.js';

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

