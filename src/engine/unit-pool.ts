/**
 * Verified-read units on the worker pool (openVerified): each unit is read from storage once, by a
 * worker, into memory shared with the caller, and hashed there by the best CPU backend (native
 * SHA-NI / BLAKE3 SIMD); the caller compares the digest and hands out those very bytes. Several
 * units run at once, one per worker, while the consumer handles earlier ones.
 */
import { selectBackend } from '../backends/dispatch.js';
import type { BackendName } from '../backends/types.js';
import { InputError, reviveError } from '../errors.js';
import { DIGEST_BYTES, type HashAlgorithm } from '../hash/vocabulary.js';
import { HashPool } from './pool.js';
import type { UnitReply, UnitTask } from './worker.js';

/** What a unit's bytes are hashed as: an RFC 9162 leaf, a BLAKE3 subtree CV, or a plain digest. */
export type UnitMode = UnitTask['units'][number]['mode'];

/** A unit read and hashed by a worker: `bytes` are what was hashed; `short` if the file ended early. */
export type HashedUnit = { bytes: Buffer; digest: Uint8Array } | { short: true };

/** A pool of workers hashing verified-read units of one algorithm. */
export class UnitPool {
  private readonly pool: HashPool;
  private readonly backend: Promise<BackendName>;
  /**
   * Batch buffers handed back by {@link release} (opt-in recycling): a stream of full 4 MiB batches
   * reuses the same few ArrayBuffers instead of a fresh one per task. Measured (s2-onepass profile,
   * 2-vCPU EPYC Milan): fresh buffers cost ~0.37 s of GC per GiB on the calling thread plus their page faults.
   */
  private readonly free: ArrayBuffer[] = [];
  /** Buffers of replies asked with `recycle`, the only ones {@link release} takes back. */
  private readonly recyclable = new WeakSet<ArrayBufferLike>();

  /** @param workers threads (≥ 1). */
  constructor(
    workers: number,
    private readonly algorithm: HashAlgorithm,
  ) {
    this.pool = new HashPool(workers);
    // the worker hashes BLAKE2b with node:crypto itself; any SHA-256 backend serves the RFC 9162 leaves
    this.backend = selectBackend(algorithm === 'blake2b' ? 'sha256' : algorithm, undefined);
    this.backend.catch(() => undefined);
  }

  /**
   * Reads and hashes units of the open file `fd` in one pool task (consecutive units amortise the
   * task's round trip: ~0.1 ms, a fifth of hashing one 1 MiB leaf). One result per unit; all `short`
   * when the file ended inside the batch.
   */
  async hash(fd: number, units: Array<{ offset: number; length: number; mode: UnitMode }>, recycle = false): Promise<HashedUnit[]> {
    const total = units.reduce((a, u) => a + u.length + 1 + 64, 0);
    // a recycled buffer of exactly this size (the worker lays units and digests out over the whole
    // buffer), else allocUnsafeSlow: an ArrayBuffer of its own (transferable), not zero-filled
    // (every byte is read into)
    const reuse = recycle ? this.free.findIndex((b) => b.byteLength === total) : -1;
    const buffer = reuse >= 0 ? this.free.splice(reuse, 1)[0]! : (Buffer.allocUnsafeSlow(total).buffer as ArrayBuffer);
    const backend = await this.backend;
    const algorithm = (m: UnitMode): HashAlgorithm => (m === 'rfc9162' ? 'sha256' : this.algorithm);
    const task: UnitTask = { backend, algorithm: this.algorithm === 'blake2b' ? 'blake2b' : this.algorithm, fd, units, buffer };
    const reply = await this.pool.runNamed<UnitReply>('hashUnits', task, [buffer]);
    if ('error' in reply) {
      const e = reviveError(reply.error);
      throw e.kind === 'internal' ? e : new InputError('FILE_UNREADABLE', e.message, { cause: e });
    }
    // the file ended inside the batch: it changed since it was opened, so no unit of it is handed out
    if (!(reply instanceof Uint8Array)) return units.map(() => ({ short: true as const }));
    if (recycle) this.recyclable.add(reply.buffer);
    const digests = reply.length - 64 * units.length;
    let at = 0;
    return units.map((u, k) => {
      const bytes = Buffer.from(reply.buffer, reply.byteOffset + at + 1, u.length);
      at += u.length + 1;
      return { bytes, digest: reply.subarray(digests + 64 * k, digests + 64 * k + DIGEST_BYTES[algorithm(u.mode)]) };
    });
  }

  /**
   * Takes back the buffer of a reply asked with `recycle` once nothing reads its bytes any more (the
   * caller's promise); other buffers are ignored. At most `keep` buffers are kept.
   */
  release(buffer: ArrayBufferLike, keep: number): void {
    if (!this.recyclable.delete(buffer)) return;
    if (this.free.length < keep) this.free.push(buffer as ArrayBuffer);
  }

  async close(): Promise<void> {
    this.free.length = 0;
    await this.pool.close();
  }
}
