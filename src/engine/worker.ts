/**
 * The piscina worker entry: hashes one task (a few leaves) synchronously with one CPU backend.
 * Errors go back as plain data (codes survive the thread boundary) and are revived by the pool.
 */
import { loadCpuBackend } from '../backends/registry.js';
import { createHash } from 'node:crypto';
import { LeafReader } from '../backends/file-reader.js';
import type { BackendName, LeafHasher, MerkleLeafSpec } from '../backends/types.js';
import type { BatchControl, HashAlgorithm, Leaf } from '../hash/vocabulary.js';
import { toWireError, type WireError } from '../errors.js';

export interface WorkerTask {
  backend: BackendName;
  kernels?: Record<string, string>;
  algorithm: HashAlgorithm;
  leaves: Leaf[];
  /** Shared progress counters and abort flag (LeafBatch.control). */
  control?: BatchControl;
  /** Also the Merkle companion's RFC 9162 leaf hashes inside each leaf's range (`sign --merkle`). */
  merkle?: MerkleLeafSpec;
}

/** `leafHashes`: 32 bytes per Merkle leaf of `task.merkle`, ranges in order (only when it was asked). */
export type WorkerReply = { digests: Uint8Array[]; leafHashes?: Uint8Array } | { error: WireError };

const hashers = new Map<string, LeafHasher>();

async function hasherFor(task: WorkerTask): Promise<LeafHasher> {
  const key = `${task.backend}|${JSON.stringify(task.kernels ?? {})}`;
  let h = hashers.get(key);
  if (!h) {
    const m = await loadCpuBackend(task.backend);
    const p = m.probe();
    if (!p.ok) throw Object.assign(new Error(`the ${task.backend} backend is unavailable in a worker: ${p.reason}`), { code: 'BACKEND_UNAVAILABLE', kind: 'unavailable' });
    h = m.createLeafHasher(task.kernels ? { kernels: task.kernels } : {});
    hashers.set(key, h);
  }
  return h;
}

/**
 * RFC 9162 leaf hashes for a hasher that cannot emit them in its own read (JS-side backends, BLAKE2b):
 * a second read of the same ranges in this worker, right after the first (page cache warm), so the
 * companion still costs no extra pass in the calling thread.
 */
function merkleLeavesByRead(task: WorkerTask, merkle: MerkleLeafSpec): Uint8Array {
  const out = new Uint8Array(32 * merkle.count.reduce((a, c) => a + c, 0));
  const reader = new LeafReader(undefined, task.control);
  let k = 0;
  try {
    task.leaves.forEach((range, r) => {
      const end = range.offset + range.length;
      for (let i = merkle.first[r]!; i < merkle.first[r]! + merkle.count[r]!; i++) {
        const offset = i * merkle.leafBytes;
        const h = createHash('sha256').update(RFC9162_LEAF_PREFIX);
        reader.read({ ...range, offset, length: Math.min(merkle.leafBytes, end - offset) }, (b) => h.update(b));
        out.set(h.digest(), 32 * k++);
      }
    });
  } finally {
    reader.close();
  }
  return out;
}

const RFC9162_LEAF_PREFIX = new Uint8Array([0]);

export default async function hashTask(task: WorkerTask): Promise<WorkerReply> {
  try {
    const h = await hasherFor(task);
    const batch = { algorithm: task.algorithm, leaves: task.leaves, ...(task.control ? { control: task.control } : {}) };
    if (task.merkle) {
      if (h.hashLeavesMerkle && task.algorithm === 'sha256') return h.hashLeavesMerkle(batch, task.merkle);
      const digests = h.hashLeaves(batch);
      return { digests, leafHashes: merkleLeavesByRead(task, task.merkle) };
    }
    return { digests: h.hashLeaves(batch) };
  } catch (e) {
    return { error: toWireError(e) };
  }
}
