/**
 * The backend contract. A backend never changes a digest: every backend is tested against the
 * portable JS reference (`js`) in one shared suite (test/backends/).
 */

import type { HashAlgorithm, Leaf, LeafBatch } from '../hash/vocabulary.js';

// The hash vocabulary is part of every backend's contract, so backend modules name it from here.
export { BLAKE3_CHUNK_BYTES, type BatchControl, type HashAlgorithm, type Leaf, type LeafBatch } from '../hash/vocabulary.js';

/** The backends, by the name `--backend` and `disableBackends` take. */
export type BackendName = 'native' | 'wasm' | 'js' | 'node-crypto' | 'webgpu';
/** Every {@link BackendName}, in the order `doctor` lists them. */
export const BACKEND_NAMES: readonly BackendName[] = ['native', 'webgpu', 'wasm', 'node-crypto', 'js'];

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
  /** Whether {@link LeafHasher.hashLeavesThreaded} serves `algorithm` (only backends with native threads have it). */
  threadedAlgorithm?(algorithm: HashAlgorithm): boolean;
  /**
   * The outputs of `hashLeaves`, computed by `threads` threads of the backend's own (native) code off
   * the calling thread, instead of by a pool of worker threads. Optional.
   */
  hashLeavesThreaded?(batch: LeafBatch, threads: number): Promise<Uint8Array[]>;
  /**
   * Optional (native BLAKE3): the file digest from the CVs of its consecutive aligned subtree leaves
   * (at least two), equal to `blake3MergeCvs` of the JS reference, computed in the backend's code.
   */
  mergeCvs?(cvs: Uint8Array[]): Uint8Array;
  /**
   * Optional (native SHA-256): `hashLeaves` of 'digest' leaves plus, in the same read of the bytes, the
   * RFC 9162 leaf hashes SHA-256(0x00 ‖ bytes) of the Merkle leaves `merkle` names inside each range
   * (32 bytes each, ranges in order). A hasher without it leaves the Merkle leaves to its caller.
   */
  hashLeavesMerkle?(batch: LeafBatch, merkle: MerkleLeafSpec): { digests: Uint8Array[]; leafHashes: Uint8Array };
  /**
   * Optional (native SHA-256, addons with sha256LeavesMerkleAsync): the outputs of
   * {@link LeafHasher.hashLeavesMerkle} computed by `threads` native threads off the calling thread,
   * as {@link LeafHasher.hashLeavesThreaded} is to `hashLeaves`. The same bytes either way.
   */
  hashLeavesMerkleThreaded?(batch: LeafBatch, merkle: MerkleLeafSpec, threads: number): Promise<{ digests: Uint8Array[]; leafHashes: Uint8Array }>;
  /**
   * Optional (native SHA-256): plain digests of several buffers in one call, interleaved on the
   * multi-buffer kernel (verified reads hash a batch of leaves this way). Equal to `hashBytes` of each.
   */
  hashBytesMulti?(algorithm: 'sha256', datas: Uint8Array[]): Uint8Array[];
}

/**
 * The Merkle companion leaves carried by each range of a batch: for range k, leaves `first[k]` ..
 * `first[k] + count[k] - 1` of `leafBytes` bytes each (leaf i = [i * leafBytes, min((i + 1) * leafBytes,
 * file end))), every one wholly inside range k.
 */
export interface MerkleLeafSpec {
  leafBytes: number;
  first: number[];
  count: number[];
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
