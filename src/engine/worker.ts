/**
 * The piscina worker entry: hashes one task (a few leaves) synchronously with one CPU backend.
 * Errors go back as plain data (codes survive the thread boundary) and are revived by the pool.
 */
import { loadCpuBackend } from '../backends/registry.js';
import { createHash } from 'node:crypto';
import { readSync } from 'node:fs';
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
 * Units of a verified read (openVerified), in one pool task: each unit [offset, offset + length) of
 * the open file `fd` (file descriptors are shared by the process's threads) is read into `buffer`
 * one byte after its slot's start, and hashed there. The caller hands out exactly these bytes after
 * comparing the digests, so nothing is read twice. `mode`: 'rfc9162' hashes 0x00 ‖ bytes (the prefix
 * written in the spare byte), 'cv' the BLAKE3 subtree CV at `offset`, 'digest' the plain hash.
 */
export interface UnitTask {
  backend: BackendName;
  algorithm: HashAlgorithm;
  fd: number;
  units: Array<{ offset: number; length: number; mode: 'rfc9162' | 'digest' | 'cv' }>;
  /**
   * Transferred from the caller and back: unit k in bytes [s_k + 1, s_k + 1 + length_k) where s_k is
   * the sum of (length + 1) of the units before it; then 64 bytes per unit for the digests.
   */
  buffer: ArrayBuffer;
}

/** The buffer moved back with the digests in it, or `short`: unit `short` ended past the file's end. */
export type UnitReply = Uint8Array | { short: number } | { error: WireError };

export async function hashUnits(task: UnitTask): Promise<UnitReply> {
  try {
    const whole = new Uint8Array(task.buffer);
    const digests = whole.length - 64 * task.units.length;
    const h = task.algorithm === 'blake2b' && task.units.every((u) => u.mode !== 'rfc9162') ? undefined : await hasherFor({ backend: task.backend, algorithm: task.algorithm, leaves: [] });
    // SHA-256 messages of the batch (RFC 9162 leaves with their 0x00, or plain digests), hashed together
    const sha: Array<{ k: number; msg: Uint8Array }> = [];
    let at = 0;
    for (let k = 0; k < task.units.length; k++) {
      const u = task.units[k]!;
      const all = whole.subarray(at, at + u.length + 1);
      const data = all.subarray(1);
      at += u.length + 1;
      let got = 0;
      while (got < u.length) {
        let n: number;
        try {
          n = readSync(task.fd, data, got, u.length - got, u.offset + got);
        } catch (e) {
          return { error: { code: 'FILE_UNREADABLE', kind: 'input', message: `read failed: ${(e as Error).message}` } };
        }
        if (n === 0) return { short: k };
        got += n;
      }
      if (u.mode === 'rfc9162') {
        all[0] = 0x00;
        sha.push({ k, msg: all });
      } else if (task.algorithm === 'sha256') sha.push({ k, msg: data });
      else if (task.algorithm === 'blake2b') whole.set(createHash('blake2b512').update(data).digest(), digests + 64 * k);
      else whole.set(h!.hashBytes(task.algorithm, data, u.mode, u.mode === 'cv' ? u.offset / 1024 : 0), digests + 64 * k);
    }
    if (sha.length > 0) {
      // several leaves interleaved on the multi-buffer kernel (shani-x2) beat one stream each
      const ds = h!.hashBytesMulti ? h!.hashBytesMulti('sha256', sha.map((x) => x.msg)) : sha.map((x) => h!.hashBytes('sha256', x.msg, 'digest'));
      sha.forEach((x, i) => whole.set(ds[i]!, digests + 64 * x.k));
    }
    // the bytes go back by transfer (no copy), the digests with them. piscina is imported here, not
    // at the top: hashTask also runs in the calling thread for small plans, which must not pay its
    // ~40 ms import (inside a pool worker it is loaded already)
    const { move } = await import('piscina');
    return move(whole) as unknown as Uint8Array;
  } catch (e) {
    return { error: toWireError(e) };
  }
}
