/**
 * The piscina worker entry: hashes one task (a few leaves) synchronously with one CPU backend.
 * Errors go back as plain data (codes survive the thread boundary) and are revived by the pool.
 */
import { loadCpuBackend } from '../backends/registry.js';
import { createHash } from 'node:crypto';
import { readSync } from 'node:fs';
import { move } from 'piscina';
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

/**
 * One unit of a verified read (openVerified): read [offset, offset + length) of the open file `fd`
 * (file descriptors are shared by the process's threads) into `buffer` at byte 1, and hash it there.
 * The caller hands out exactly these bytes after comparing the digest, so nothing is read twice.
 * `mode`: 'rfc9162' hashes 0x00 ‖ bytes (the prefix written at byte 0), 'cv' the BLAKE3 subtree CV at
 * `offset`, 'digest' the plain hash.
 */
export interface UnitTask {
  backend: BackendName;
  algorithm: HashAlgorithm;
  fd: number;
  offset: number;
  length: number;
  /** length + 1 + 64 bytes, transferred from the caller and back: byte 1.. the unit, the last 64 the digest. */
  buffer: ArrayBuffer;
  mode: 'rfc9162' | 'digest' | 'cv';
}

/**
 * The buffer moved back (its digest in the last 64 bytes, `digestBytes` of them), or `short`: the
 * file ended before the unit did.
 */
export type UnitReply = Uint8Array | { short: true } | { error: WireError };

export async function hashUnit(task: UnitTask): Promise<UnitReply> {
  try {
    const whole = new Uint8Array(task.buffer);
    const all = whole.subarray(0, task.length + 1);
    const data = all.subarray(1);
    // the bytes go back by transfer (no copy), the digest with them
    const reply = (digest: Uint8Array): UnitReply => {
      whole.set(digest, whole.length - 64);
      return move(whole) as unknown as Uint8Array;
    };
    let got = 0;
    while (got < task.length) {
      let n: number;
      try {
        n = readSync(task.fd, data, got, task.length - got, task.offset + got);
      } catch (e) {
        return { error: { code: 'FILE_UNREADABLE', kind: 'input', message: `read failed: ${(e as Error).message}` } };
      }
      if (n === 0) return { short: true };
      got += n;
    }
    if (task.algorithm === 'blake2b') return reply(createHash('blake2b512').update(data).digest());
    const h = await hasherFor({ backend: task.backend, algorithm: task.algorithm, leaves: [] });
    if (task.mode === 'rfc9162') {
      all[0] = 0x00;
      return reply(h.hashBytes('sha256', all, 'digest'));
    }
    return reply(h.hashBytes(task.algorithm, data, task.mode, task.mode === 'cv' ? task.offset / 1024 : 0));
  } catch (e) {
    return { error: toWireError(e) };
  }
}
