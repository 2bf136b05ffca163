/**
 * Reading file ranges for the JS-side backends (js, node-crypto): synchronous pread of fixed blocks
 * into one reused, page-offset-safe buffer per worker. A plain large Buffer starts at page offset 16,
 * where the kernel copy ran 4-5x slower on the Zen 3 development host (readSync 2.2 against 6.7 GB/s),
 * so the view starts at offset 48.
 */
import { closeSync, readSync } from 'node:fs';
import { identityOf, openChecked } from '../io/open-checked.js';
import { ModelsealError } from '../errors.js';
import type { BatchControl, Leaf, LeafBatch } from './types.js';

export const READ_BLOCK_BYTES = 1024 * 1024;

/** A buffer of `n` bytes whose start is at page offset 48 (fast for kernel copies). */
export function pageSafeBuffer(n: number): Uint8Array {
  return Buffer.allocUnsafeSlow(n + 4096).subarray(48, 48 + n);
}

export function fileError(path: string, e: unknown): ModelsealError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new ModelsealError('FILE_NOT_FOUND', `${path} disappeared while the model was being hashed.`, { cause: e });
  if (code === 'EACCES' || code === 'EPERM') return new ModelsealError('FILE_UNREADABLE', `${path} is not readable (permission denied); fix its permissions or ignore it.`, { cause: e });
  if (code === 'EISDIR') return new ModelsealError('UNSUPPORTED_FILE_TYPE', `${path} is a directory, not a file.`, { cause: e });
  return new ModelsealError('IO_ERROR', `cannot read ${path}: ${(e as Error).message}`, { cause: e });
}

export function fileChanged(path: string): ModelsealError {
  return new ModelsealError('FILE_CHANGED', `${path} changed (it became shorter) while it was being hashed; hash again once it is stable.`);
}

/**
 * Reports `bytes` read for a batch and stops it if its caller aborted (see LeafBatch.control). Called
 * once per read block, so both happen within one block (1-16 MiB) of the request.
 */
export function batchProgress(control: BatchControl | undefined, bytes: number): void {
  if (!control) return;
  if (Atomics.load(control.counters, 0) !== 0n) throw new ModelsealError('ABORTED', 'hashing was aborted.', { kind: 'internal' });
  Atomics.add(control.counters, control.slot, BigInt(bytes));
}

/**
 * Opens files once per batch and streams leaf ranges in blocks. The block buffer belongs to the
 * hasher and is reused across batches: a fresh native buffer per batch is garbage the GC does not
 * see as pressure, and RSS would grow with the model size.
 */
export class LeafReader {
  private readonly fds = new Map<string, number>();

  constructor(
    private readonly buf: Uint8Array = pageSafeBuffer(READ_BLOCK_BYTES),
    private readonly control?: BatchControl,
  ) {}

  private fd(leaf: Leaf): number {
    let fd = this.fds.get(leaf.path);
    if (fd === undefined) {
      fd = openChecked(leaf.path, identityOf(leaf));
      this.fds.set(leaf.path, fd);
    }
    return fd;
  }

  /** Calls `update` with consecutive views (valid only during the call) covering the leaf range. */
  read(leaf: Leaf, update: (block: Uint8Array) => void): void {
    const fd = this.fd(leaf);
    let pos = leaf.offset;
    let left = leaf.length;
    while (left > 0) {
      const want = Math.min(left, this.buf.length);
      let got = 0;
      while (got < want) {
        let n: number;
        try {
          n = readSync(fd, this.buf, got, want - got, pos + got);
        } catch (e) {
          throw fileError(leaf.path, e);
        }
        if (n === 0) throw fileChanged(leaf.path);
        got += n;
      }
      update(this.buf.subarray(0, want));
      batchProgress(this.control, want);
      pos += want;
      left -= want;
    }
  }

  /** Reads the whole leaf into one new array (only for small leaves: BLAKE3 CV reference path). */
  readAll(leaf: Leaf): Uint8Array {
    const out = new Uint8Array(leaf.length);
    let o = 0;
    this.read(leaf, (b) => {
      out.set(b, o);
      o += b.length;
    });
    return out;
  }

  close(): void {
    for (const fd of this.fds.values()) closeSync(fd);
    this.fds.clear();
  }
}

/**
 * Hashes each leaf of `batch` with `hashLeaf`, all reading through one {@link LeafReader} over
 * `block` (honouring the batch's control), closed however the batch ends.
 */
export function hashEachLeaf(block: Uint8Array, batch: LeafBatch, hashLeaf: (reader: LeafReader, leaf: Leaf) => Uint8Array): Uint8Array[] {
  const reader = new LeafReader(block, batch.control);
  try {
    return batch.leaves.map((leaf) => hashLeaf(reader, leaf));
  } finally {
    reader.close();
  }
}
