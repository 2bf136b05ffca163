/**
 * The piscina worker entry: hashes one task (a few leaves) synchronously with one CPU backend.
 * Errors go back as plain data (codes survive the thread boundary) and are revived by the pool.
 */
import { loadCpuBackend } from '../backends/registry.js';
import type { BackendName, LeafHasher } from '../backends/types.js';
import type { BatchControl, HashAlgorithm, Leaf } from '../hash/vocabulary.js';
import { toWireError, type WireError } from '../errors.js';

export interface WorkerTask {
  backend: BackendName;
  kernels?: Record<string, string>;
  algorithm: HashAlgorithm;
  leaves: Leaf[];
  /** Shared progress counters and abort flag (LeafBatch.control). */
  control?: BatchControl;
}

export type WorkerReply = { digests: Uint8Array[] } | { error: WireError };

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

export default async function hashTask(task: WorkerTask): Promise<WorkerReply> {
  try {
    const h = await hasherFor(task);
    return { digests: h.hashLeaves({ algorithm: task.algorithm, leaves: task.leaves, ...(task.control ? { control: task.control } : {}) }) };
  } catch (e) {
    return { error: toWireError(e) };
  }
}
