import type { BackendName } from '../backends/types.js';
import type { HashAlgorithm, SerializationMethod } from '../hash/vocabulary.js';
import type { Manifest } from '../manifest/types.js';

export interface ProgressEvent {
  phase: 'walk' | 'hash' | 'done';
  bytesDone: number;
  bytesTotal: number;
  resourcesDone: number;
  resourcesTotal: number;
}

export interface HashModelOptions {
  hash?: HashAlgorithm;
  method?: SerializationMethod;
  shardSize?: number;
  /** 'auto' (default) picks the fastest available; a name forces it (error if unavailable). */
  backend?: BackendName | 'auto';
  /** Backends never to use (e.g. ['native'] to test fallbacks). */
  disableBackends?: BackendName[];
  /**
   * CPU workers and the GPU share one plan (work stealing): the CPU lanes start at once, the GPU joins
   * when its device is ready. Off unless `true` (then a WebGPU adapter is required, software ones too):
   * on the H200 host measured it was slower than the host's 16 cores alone (docs/gpu.md).
   */
  hybrid?: boolean;
  /** Worker threads for CPU backends (default: available parallelism). */
  workers?: number;
  /** Extra paths to ignore (absolute, or relative to the model root). */
  ignorePaths?: string[];
  /** Apply the OMS default git ignores at the model root (default true). */
  ignoreGitPaths?: boolean;
  /** Follow file symlinks that stay inside the model root (default false: symlinks are an error). */
  allowSymlinks?: boolean;
  /** Restrict to these relative paths (subset verification); undefined = all files. */
  only?: (relPath: string) => boolean;
  /**
   * Accept a model with no resources (root = SHA-256 of nothing), as the reference tool does.
   * Default false: hashing or signing an empty model is almost always a wrong path (OMS spec §6.1).
   */
  allowEmpty?: boolean;
  signal?: AbortSignal;
  onProgress?: (e: ProgressEvent) => void;
  /** Bytes of leaves per pool task (tuning; default from the plan, larger for multi-buffer kernels). */
  taskTargetBytes?: number;
  /** Forced kernels per backend (benchmarks, tests). */
  kernels?: Record<string, string>;
  /**
   * Also emit the Merkle companion's leaves at this size (a power of two, 1 KiB to 1 GiB) in the same
   * pass (`sign --merkle`): BLAKE3 files are planned in subtrees of this size, whose CVs are the
   * outboard; other hashes get RFC 9162 leaf hashes from the workers (HashResult.merkle).
   */
  merkleLeafBytes?: number;
}

/**
 * The companion leaves of one pass, per file of the plan (walk order): RFC 9162 leaf hashes
 * (`leafCount(size)` entries), or BLAKE3 subtree CVs (none for a file of at most one leaf). An entry
 * is undefined where the lane that hashed its bytes could not emit it (a GPU lane, a leaf cut by a
 * shard edge): the companion builder reads those leaves itself.
 */
export interface MerkleLeaves {
  leafBytes: number;
  tree: 'rfc9162-sha256' | 'blake3-outboard';
  files: Array<{ rel: string; size: number; entries: Array<Uint8Array | undefined> }>;
}

export interface HashResult {
  manifest: Manifest;
  bytes: number;
  seconds: number;
  backend: BackendName | 'hybrid';
  /** Worker threads started; 0 when the plan was small enough (≤ 1 MiB, CPU only) to hash in the calling thread. */
  workers: number;
  /** Bytes hashed by each backend (two entries in hybrid mode). */
  backendBytes: Partial<Record<BackendName, number>>;
  /** With `merkleLeafBytes`: the companion leaves computed in the same pass. */
  merkle?: MerkleLeaves;
  /** Where `seconds` went, in wall-clock seconds (profiling; printed by `hash --json`). */
  phases: HashPhases;
}

/**
 * Wall-clock seconds of each step of one hashModel call; they add up to `seconds` (less rounding).
 * `firstResult` is inside `hash`: from the start of hashing until the first task came back, which on
 * a fresh pool includes starting the worker threads.
 */
export interface HashPhases {
  /** Listing the model (walk, ignores, identities). */
  walk: number;
  /** Choosing the backend and making the plan. */
  plan: number;
  /** Hashing every leaf (worker start included). */
  hash: number;
  /** Until the first task's digests came back (0 when there was nothing to hash). */
  firstResult: number;
  /** Stopping the workers (or the GPU). */
  close: number;
  /** Re-checking the files and reducing the leaf outputs into the manifest. */
  reduce: number;
}
