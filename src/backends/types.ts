/**
 * The backend contract. A backend never changes a digest: every backend is tested against the
 * portable JS reference (`js`) in one shared suite (test/backends/).
 */

export type BackendName = 'native' | 'wasm' | 'js' | 'node-crypto' | 'webgpu';
export const BACKEND_NAMES: readonly BackendName[] = ['native', 'webgpu', 'wasm', 'node-crypto', 'js'];

/** The per-resource hash functions of OMS. */
export type HashAlgorithm = 'sha256' | 'blake2b' | 'blake3';
export const HASH_ALGORITHMS: readonly HashAlgorithm[] = ['sha256', 'blake2b', 'blake3'];

/** Output bytes per algorithm: SHA-256 32, BLAKE2b-512 64, BLAKE3 32 (CVs are 32 too). */
export const DIGEST_BYTES: Record<HashAlgorithm, number> = { sha256: 32, blake2b: 64, blake3: 32 };

/** BLAKE3 chunk size; subtree leaves start at multiples of it (chunk counter = offset / 1024). */
export const BLAKE3_CHUNK_BYTES = 1024;

/**
 * One unit of planned work: the byte range [offset, offset + length) of a file.
 * - output 'digest': the plain hash of those bytes (a whole file or a shard).
 * - output 'cv' (BLAKE3 only): the chaining value of the aligned subtree starting at `offset`
 *   (a multiple of 1024; `length` a power-of-two number of chunks, or the file's tail), computed
 *   with chunk counter offset/1024 and WITHOUT the ROOT flag, to be merged in tree order.
 */
export interface Leaf {
  path: string;
  offset: number;
  length: number;
  output: 'digest' | 'cv';
  /** The file's device and inode as the walk saw them; readers refuse a file that is no longer it. */
  dev?: number;
  ino?: number;
}

export interface LeafBatch {
  algorithm: HashAlgorithm;
  leaves: Leaf[];
}

/** Plain data describing what a backend can do (printed by `doctor`). */
export interface Capabilities {
  algorithms: HashAlgorithm[];
  /** Can compute BLAKE3 subtree CVs ('cv' leaves). */
  subtrees: boolean;
  /** Human-readable detail: kernels chosen, adapter name, ... */
  detail: string;
  /** Kernel names that can be forced (e.g. native 'sha256:shani-x2'). */
  kernels?: string[];
  /** A GPU backend running on a software adapter (e.g. lavapipe): correct, but it is the CPU. */
  software?: boolean;
  /** A good amount of work per hashLeaves call, in bytes (GPU batches). */
  preferredBatchBytes?: number;
}

export type ProbeResult =
  | { ok: true; name: BackendName; capabilities: Capabilities }
  | { ok: false; name: BackendName; reason: string };

/**
 * A synchronous leaf hasher: what a CPU backend does inside one worker thread. It reads the file
 * ranges itself (no whole-file reads into the JS heap) and returns one digest/CV per leaf, in order.
 * It throws a ModelsealError with code FILE_CHANGED if a file is shorter than planned.
 */
export interface LeafHasher {
  readonly name: BackendName;
  hashLeaves(batch: LeafBatch): Uint8Array[];
  /** The same function over bytes in memory (streaming verification, tests). */
  hashBytes(algorithm: HashAlgorithm, data: Uint8Array, output: 'digest' | 'cv', chunkCounter?: number): Uint8Array;
}

/** A CPU backend module: probed in the main thread, instantiated inside each worker. */
export interface CpuBackendModule {
  readonly name: BackendName;
  /** Never throws: unavailability is a value with a reason. */
  probe(): ProbeResult;
  createLeafHasher(options?: BackendOptions): LeafHasher;
}

export interface BackendOptions {
  /** Force a kernel (native: e.g. 'sha256=avx2-x8', 'blake3=sse41'); testing and benchmarks. */
  kernels?: Record<string, string>;
}

/** An asynchronous backend as the engine sees it (the CPU pool, or the GPU). */
export interface HashBackend {
  readonly name: BackendName;
  readonly capabilities: Capabilities;
  hashLeaves(batch: LeafBatch, signal?: AbortSignal): Promise<Uint8Array[]>;
  close(): Promise<void>;
}
