/**
 * `native`: the C++ addon (native/). It reads file ranges itself (mmap of the page cache, or pread
 * into page-aligned native memory; no copies through JS) and hashes many leaves per call:
 * - SHA-256: multi-buffer SHA-NI (2 or 4 leaves interleaved), single-stream SHA-NI, AVX-512 16-lane,
 *   AVX2 8-lane, ARMv8 SHA-2, portable scalar; chosen by a fixed rule from CPU features (the same in
 *   every process), each forceable by name (`sha256Kernels()` lists them).
 * - BLAKE3 (digests and subtree CVs), when the addon was built with it (`blake3Leaves`).
 * BLAKE2b is not offered here: node:crypto (OpenSSL) covers it.
 */
import { fromNativeError, InputError, UnavailableError } from '../errors.js';
import { loadNative, type NativeAddon } from '../native/addon.js';
import { blake3MergeCvs } from './js/blake3.js';
import type { BackendOptions, BatchControl, Capabilities, CpuBackendModule, HashAlgorithm, LeafBatch, LeafHasher, MerkleLeafSpec, ProbeResult } from './types.js';

/** The SHA-256 functions of native/sha256_napi.cc. */
interface Sha256Api {
  sha256Leaves(paths: string[], offsets: number[], lengths: number[], out: Uint8Array, kernel?: string, options?: { identities?: Float64Array; control?: BatchControl }): void;
  /** sha256Leaves on `threads` native threads off the JS thread (absent from older builds). */
  sha256LeavesAsync?(paths: string[], offsets: number[], lengths: number[], out: Uint8Array, kernel?: string, options?: { identities?: Float64Array; control?: BatchControl }, threads?: number): Promise<void>;
  sha256Bytes(data: Uint8Array, kernel?: string): Uint8Array;
  sha256BytesMulti(datas: Uint8Array[], kernel?: string): Uint8Array;
  sha256Kernels(): string[];
  sha256DefaultKernel(): string;
  /** Absent from addons built before the rule was printed (optional, like the BLAKE3 functions). */
  sha256DefaultKernelReason?(): string;
}

/** The one-read SHA-256 + RFC 9162 leaves of native/sha256_merkle_napi.cc (optional: absent from older builds). */
interface Sha256MerkleApi {
  sha256LeavesMerkle(paths: string[], offsets: number[], lengths: number[], leafFirst: number[], leafCount: number[], leafBytes: number, out: Uint8Array, leavesOut: Uint8Array, kernel?: string, options?: { identities?: Float64Array; control?: BatchControl }): void;
  sha256BytesMerkle(data: Uint8Array, leafBytes: number, kernel?: string): Uint8Array;
  /** sha256LeavesMerkle on `threads` native threads off the JS thread (absent from older builds). */
  sha256LeavesMerkleAsync?(paths: string[], offsets: number[], lengths: number[], leafFirst: number[], leafCount: number[], leafBytes: number, out: Uint8Array, leavesOut: Uint8Array, kernel?: string, options?: { identities?: Float64Array; control?: BatchControl }, threads?: number): Promise<void>;
}

/** The BLAKE3 functions of native/blake3_napi.cc (optional: an addon built without them still serves SHA-256). */
interface Blake3Api {
  blake3Leaves(paths: string[], offsets: number[], lengths: number[], cvFlags: Uint8Array, out: Uint8Array, kernel?: string, identities?: Float64Array, control?: BatchControl): void;
  blake3Bytes(data: Uint8Array, chunkCounter: number, output: 'cv' | 'digest', kernel?: string): Uint8Array;
  blake3Kernels(): string[];
  /** Absent from addons built before it (optional): the same leaves on native threads, off the JS thread. */
  /** Optional: addons before it leave the merge to the JS reference. */
  blake3MergeCvs?(cvs: Uint8Array, kernel?: string): Uint8Array;
  blake3LeavesAsync?(paths: string[], offsets: number[], lengths: number[], cvFlags: Uint8Array, out: Uint8Array, kernel?: string, identities?: Float64Array, control?: BatchControl, threads?: number): Promise<void>;
}

function hasFunctions(addon: NativeAddon, names: readonly string[]): boolean {
  return names.every((n) => typeof addon[n] === 'function');
}

const SHA256_FUNCTIONS = ['sha256Leaves', 'sha256Bytes', 'sha256BytesMulti', 'sha256Kernels', 'sha256DefaultKernel'] as const;
const BLAKE3_FUNCTIONS = ['blake3Leaves', 'blake3Bytes', 'blake3Kernels'] as const;

/** Rebuilds an addon error (a JS Error with a string `code`) as a ModelsealError with the same code. */
export function toModelsealError(e: unknown): unknown {
  return fromNativeError(e);
}

function callNative<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw toModelsealError(e);
  }
}

/**
 * Kernels forced by options, or by MODELSEAL_NATIVE_KERNELS (e.g. `sha256=avx2-x8,blake3=sse41`)
 * for benchmarks and CI; options win.
 */
export function forcedKernels(options?: BackendOptions): Record<string, string> {
  const fromEnv: Record<string, string> = {};
  for (const part of (process.env.MODELSEAL_NATIVE_KERNELS ?? '').split(',')) {
    const [alg, kernel] = part.split('=').map((s) => s.trim());
    if (alg && kernel) fromEnv[alg] = kernel;
  }
  return { ...fromEnv, ...(options?.kernels ?? {}) };
}

/** The SHA-256 kernel this process runs by default, and why (`modelseal doctor`). */
export interface KernelChoice {
  kernel: string;
  /** The CPU-feature rule that chose it, or the variable or option that forced it. */
  reason: string;
  forced: boolean;
}

/**
 * The native SHA-256 kernel that hashing uses here without options: the addon's fixed rule from CPU
 * features (the same in every process), unless MODELSEAL_NATIVE_KERNELS forces one. Undefined when
 * the addon or its SHA-256 functions are unavailable (the probe says why).
 */
export function sha256KernelChoice(): KernelChoice | undefined {
  const load = loadNative();
  if (!load.ok || !hasFunctions(load.addon, SHA256_FUNCTIONS)) return undefined;
  const sha = load.addon as unknown as Sha256Api;
  const forced = forcedKernels().sha256;
  if (forced !== undefined) {
    const runnable = sha.sha256Kernels().includes(forced);
    return { kernel: forced, reason: runnable ? 'forced by MODELSEAL_NATIVE_KERNELS' : 'forced by MODELSEAL_NATIVE_KERNELS, but not runnable on this CPU: hashing will refuse it', forced: true };
  }
  const reason = typeof sha.sha256DefaultKernelReason === 'function' ? sha.sha256DefaultKernelReason() : 'this addon build does not say; rebuild it with `npm run build:native`';
  return { kernel: sha.sha256DefaultKernel(), reason, forced: false };
}

/**
 * BLAKE3 subtree CVs (at least two, 32 bytes each) merged into the file's digest by `addon`'s
 * blake3MergeCvs (`kernel`: a forced kernel), or by the JS reference when `addon` is undefined or
 * lacks it: the same bytes either way (test/native/blake3-merge.test.ts). For hashModel's split
 * files and for a companion's BLAKE3 roots (engine/merkle.ts).
 */
export function mergeBlake3Cvs(addon: Pick<Blake3Api, 'blake3MergeCvs'> | undefined, cvs: readonly Uint8Array[], kernel?: string): Uint8Array {
  const merge = addon?.blake3MergeCvs;
  if (typeof merge !== 'function') return blake3MergeCvs([...cvs]);
  if (cvs.length < 2) throw new RangeError('blake3MergeCvs: need at least two subtree CVs');
  const all = new Uint8Array(32 * cvs.length);
  cvs.forEach((cv, i) => {
    if (cv.length !== 32) throw new RangeError('blake3MergeCvs: every CV is 32 bytes');
    all.set(cv, 32 * i);
  });
  return callNative(() => merge.call(addon, all, kernel));
}

function cvFlagsOf(batch: LeafBatch): Uint8Array {
  const cvFlags = new Uint8Array(batch.leaves.length);
  batch.leaves.forEach((l, i) => (cvFlags[i] = l.output === 'cv' ? 1 : 0));
  return cvFlags;
}

class NativeLeafHasher implements LeafHasher {
  readonly name = 'native' as const;
  private readonly sha: Sha256Api;
  private readonly b3: Blake3Api | undefined;
  private readonly kernels: Record<string, string>;
  readonly hashLeavesMerkle?: (batch: LeafBatch, merkle: MerkleLeafSpec) => { digests: Uint8Array[]; leafHashes: Uint8Array };
  readonly hashLeavesMerkleThreaded?: (batch: LeafBatch, merkle: MerkleLeafSpec, threads: number) => Promise<{ digests: Uint8Array[]; leafHashes: Uint8Array }>;

  constructor(addon: NativeAddon, options?: BackendOptions) {
    this.sha = addon as unknown as Sha256Api;
    if (hasFunctions(addon, ['sha256LeavesMerkle'])) {
      const m = addon as unknown as Sha256MerkleApi;
      this.hashLeavesMerkle = (batch, merkle) => this.leavesMerkle(m, batch, merkle);
      if (typeof m.sha256LeavesMerkleAsync === 'function') {
        const run = m.sha256LeavesMerkleAsync.bind(m);
        this.hashLeavesMerkleThreaded = (batch, merkle, threads) => this.leavesMerkleThreaded(run, batch, merkle, threads);
      }
    }
    this.b3 = hasFunctions(addon, BLAKE3_FUNCTIONS) ? (addon as unknown as Blake3Api) : undefined;
    this.kernels = forcedKernels(options);
    // Refuse an unknown or unrunnable kernel now, not at the first leaf.
    const sha = this.kernels.sha256;
    if (sha !== undefined && !this.sha.sha256Kernels().includes(sha)) {
      throw new UnavailableError(
        'KERNEL_UNAVAILABLE',
        `SHA-256 kernel '${sha}' is not available on this machine; available: ${this.sha.sha256Kernels().join(', ')}.`,
      );
    }
    const b3k = this.kernels.blake3;
    if (b3k !== undefined && this.b3 && !this.b3.blake3Kernels().includes(b3k)) {
      throw new UnavailableError(
        'KERNEL_UNAVAILABLE',
        `BLAKE3 kernel '${b3k}' is not available on this machine; available: ${this.b3.blake3Kernels().join(', ')}.`,
      );
    }
  }

  /** The addon's arrays for a batch: paths, offsets, lengths, and the walk's (dev, ino) per leaf. */
  private leafArrays(batch: LeafBatch): { paths: string[]; offsets: number[]; lengths: number[]; identities: Float64Array } {
    const n = batch.leaves.length;
    const paths = new Array<string>(n);
    const offsets = new Array<number>(n);
    const lengths = new Array<number>(n);
    // the walk's (dev, ino) per leaf, NaN where unknown: the addon refuses a file that is no longer it
    const identities = new Float64Array(2 * n).fill(NaN);
    for (let i = 0; i < n; i++) {
      const leaf = batch.leaves[i]!;
      paths[i] = leaf.path;
      offsets[i] = leaf.offset;
      lengths[i] = leaf.length;
      if (leaf.dev !== undefined && leaf.ino !== undefined) {
        identities[2 * i] = leaf.dev;
        identities[2 * i + 1] = leaf.ino;
      }
    }
    return { paths, offsets, lengths, identities };
  }

  private static split(out: Uint8Array, n: number): Uint8Array[] {
    const digests = new Array<Uint8Array>(n);
    for (let i = 0; i < n; i++) digests[i] = out.subarray(32 * i, 32 * i + 32);
    return digests;
  }

  hashLeaves(batch: LeafBatch): Uint8Array[] {
    const n = batch.leaves.length;
    if (n === 0) return [];
    const { paths, offsets, lengths, identities } = this.leafArrays(batch);
    const out = new Uint8Array(32 * n);
    switch (batch.algorithm) {
      case 'sha256': {
        if (batch.leaves.some((l) => l.output !== 'digest')) throw new RangeError("'cv' leaves exist only for blake3");
        callNative(() => this.sha.sha256Leaves(paths, offsets, lengths, out, this.kernels.sha256, batch.control ? { identities, control: batch.control } : { identities }));
        break;
      }
      case 'blake3': {
        const b3 = this.requireBlake3();
        callNative(() => b3.blake3Leaves(paths, offsets, lengths, cvFlagsOf(batch), out, this.kernels.blake3, identities, batch.control));
        break;
      }
      default:
        throw new UnavailableError('ALGORITHM_UNAVAILABLE', `the native backend does not compute ${batch.algorithm}; use node-crypto or js.`);
    }
    return NativeLeafHasher.split(out, n);
  }

  /** Whether {@link hashLeavesThreaded} can run `algorithm` (BLAKE3, with an addon that has blake3LeavesAsync). */
  threadedAlgorithm(algorithm: HashAlgorithm): boolean {
    if (algorithm === 'sha256') return typeof this.sha.sha256LeavesAsync === 'function';
    return algorithm === 'blake3' && typeof this.b3?.blake3LeavesAsync === 'function';
  }

  /**
   * BLAKE3 leaves on `threads` native threads, off the JS thread: the same outputs as
   * {@link hashLeaves}, without a worker pool (no isolate per worker to start).
   */
  async hashLeavesThreaded(batch: LeafBatch, threads: number): Promise<Uint8Array[]> {
    const n = batch.leaves.length;
    if (n === 0) return [];
    if (batch.algorithm === 'sha256' && typeof this.sha.sha256LeavesAsync === 'function') {
      // SHA-256 digest leaves, grouped natively (pairs for shani-x2) and taken by the threads in turn
      if (batch.leaves.some((l) => l.output !== 'digest')) throw new RangeError("'cv' leaves exist only for blake3");
      const { paths, offsets, lengths, identities } = this.leafArrays(batch);
      const out = new Uint8Array(32 * n);
      try {
        await this.sha.sha256LeavesAsync(paths, offsets, lengths, out, this.kernels.sha256, batch.control ? { identities, control: batch.control } : { identities }, threads);
      } catch (e) {
        throw toModelsealError(e);
      }
      return NativeLeafHasher.split(out, n);
    }
    const b3 = this.requireBlake3();
    if (batch.algorithm !== 'blake3' || typeof b3.blake3LeavesAsync !== 'function') {
      throw new UnavailableError('ALGORITHM_UNAVAILABLE', `threaded native hashing covers SHA-256 and BLAKE3 only (asked: ${batch.algorithm}); use hashLeaves.`);
    }
    const { paths, offsets, lengths, identities } = this.leafArrays(batch);
    const out = new Uint8Array(32 * n);
    try {
      await b3.blake3LeavesAsync(paths, offsets, lengths, cvFlagsOf(batch), out, this.kernels.blake3, identities, batch.control, threads);
    } catch (e) {
      throw toModelsealError(e);
    }
    return NativeLeafHasher.split(out, n);
  }

  /**
   * The digest of a file from its subtree CVs, merged by the addon (equal to the JS reference's
   * blake3MergeCvs). An addon without blake3MergeCvs falls back to that reference.
   */
  mergeCvs(cvs: Uint8Array[]): Uint8Array {
    return mergeBlake3Cvs(this.requireBlake3(), cvs, this.kernels.blake3);
  }

  /** The addon arguments of sha256LeavesMerkle(Async) for a batch, and its output arrays. */
  private merkleArgs(batch: LeafBatch, merkle: MerkleLeafSpec) {
    if (batch.algorithm !== 'sha256' || batch.leaves.some((l) => l.output !== 'digest')) throw new RangeError('Merkle leaves in one read exist for SHA-256 digest leaves only');
    const { paths, offsets, lengths, identities } = this.leafArrays(batch);
    const out = new Uint8Array(32 * batch.leaves.length);
    const leafHashes = new Uint8Array(32 * merkle.count.reduce((a, c) => a + c, 0));
    const options = batch.control ? { identities, control: batch.control } : { identities };
    const args = [paths, offsets, lengths, merkle.first, merkle.count, merkle.leafBytes, out, leafHashes, this.kernels.sha256, options] as const;
    return { args, result: () => ({ digests: NativeLeafHasher.split(out, batch.leaves.length), leafHashes }) };
  }

  /** See LeafHasher.hashLeavesMerkle: SHA-256 'digest' leaves only; one read, range and leaf streams as two SHA lanes. */
  private leavesMerkle(m: Sha256MerkleApi, batch: LeafBatch, merkle: MerkleLeafSpec): { digests: Uint8Array[]; leafHashes: Uint8Array } {
    const { args, result } = this.merkleArgs(batch, merkle);
    callNative(() => m.sha256LeavesMerkle(...args));
    return result();
  }

  /** See LeafHasher.hashLeavesMerkleThreaded: {@link leavesMerkle} on native threads. */
  private async leavesMerkleThreaded(
    run: NonNullable<Sha256MerkleApi['sha256LeavesMerkleAsync']>,
    batch: LeafBatch,
    merkle: MerkleLeafSpec,
    threads: number,
  ): Promise<{ digests: Uint8Array[]; leafHashes: Uint8Array }> {
    const { args, result } = this.merkleArgs(batch, merkle);
    try {
      await run(...args, threads);
    } catch (e) {
      throw toModelsealError(e);
    }
    return result();
  }

  hashBytesMulti(algorithm: 'sha256', datas: Uint8Array[]): Uint8Array[] {
    if (algorithm !== 'sha256') throw new RangeError('hashBytesMulti computes SHA-256 only');
    const out = callNative(() => this.sha.sha256BytesMulti(datas, this.kernels.sha256));
    return datas.map((_, i) => out.subarray(32 * i, 32 * i + 32));
  }

  hashBytes(algorithm: HashAlgorithm, data: Uint8Array, output: 'digest' | 'cv', chunkCounter = 0): Uint8Array {
    if (algorithm === 'sha256') {
      if (output !== 'digest') throw new RangeError("'cv' output exists only for blake3");
      return callNative(() => this.sha.sha256Bytes(data, this.kernels.sha256));
    }
    if (algorithm === 'blake3') {
      const b3 = this.requireBlake3();
      return callNative(() => b3.blake3Bytes(data, chunkCounter, output, this.kernels.blake3));
    }
    throw new UnavailableError('ALGORITHM_UNAVAILABLE', `the native backend does not compute ${algorithm}; use node-crypto or js.`);
  }

  private requireBlake3(): Blake3Api {
    if (!this.b3) throw new UnavailableError('ALGORITHM_UNAVAILABLE', 'this build of the native addon has no BLAKE3; rebuild it with `npm run build:native`.');
    return this.b3;
  }
}

function probe(): ProbeResult {
  const load = loadNative();
  if (!load.ok) return { ok: false, name: 'native', reason: load.reason };
  const addon = load.addon;
  if (!hasFunctions(addon, SHA256_FUNCTIONS)) {
    return { ok: false, name: 'native', reason: `${load.path} has no SHA-256 functions (an outdated build?); run \`npm run build:native\`` };
  }
  try {
    const sha = addon as unknown as Sha256Api;
    const algorithms: HashAlgorithm[] = ['sha256'];
    const kernels = sha.sha256Kernels().map((k) => `sha256=${k}`);
    const parts = [`sha256=${sha.sha256DefaultKernel()}`];
    let subtrees = false;
    if (hasFunctions(addon, BLAKE3_FUNCTIONS)) {
      const b3 = (addon as unknown as Blake3Api).blake3Kernels();
      algorithms.push('blake3');
      subtrees = true;
      kernels.push(...b3.map((k) => `blake3=${k}`));
      if (b3[0] !== undefined) parts.push(`blake3=${b3[0]}`);
    }
    const f = addon.cpuFeatures();
    const features = (['shaNi', 'sse41', 'avx2', 'avx512f', 'neon'] as const).filter((k) => f[k]).join(' ');
    const capabilities: Capabilities = {
      algorithms,
      subtrees,
      detail: `${parts.join(', ')} (${f.arch}${features ? `: ${features}` : ''})`,
      kernels,
    };
    return { ok: true, name: 'native', capabilities };
  } catch (e) {
    return { ok: false, name: 'native', reason: `the addon's probe failed: ${(e as Error).message}` };
  }
}

/** The native CPU backend (see the module comment). */
export const nativeBackend: CpuBackendModule = {
  name: 'native',
  probe,
  createLeafHasher(options?: BackendOptions): LeafHasher {
    const load = loadNative();
    if (!load.ok) throw new UnavailableError('BACKEND_UNAVAILABLE', `the native backend is unavailable: ${load.reason}`);
    if (!hasFunctions(load.addon, SHA256_FUNCTIONS)) {
      throw new UnavailableError('BACKEND_UNAVAILABLE', `${load.path} has no SHA-256 functions; run \`npm run build:native\`.`);
    }
    return new NativeLeafHasher(load.addon, options);
  },
};
