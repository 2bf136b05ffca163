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
  async hash(fd: number, units: Array<{ offset: number; length: number; mode: UnitMode }>): Promise<HashedUnit[]> {
    const total = units.reduce((a, u) => a + u.length + 1 + 64, 0);
    // allocUnsafeSlow: an ArrayBuffer of its own (transferable), not zero-filled (every byte is read into)
    const buffer = Buffer.allocUnsafeSlow(total).buffer as ArrayBuffer;
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
    const digests = reply.length - 64 * units.length;
    let at = 0;
    return units.map((u, k) => {
      const bytes = Buffer.from(reply.buffer, reply.byteOffset + at + 1, u.length);
      at += u.length + 1;
      return { bytes, digest: reply.subarray(digests + 64 * k, digests + 64 * k + DIGEST_BYTES[algorithm(u.mode)]) };
    });
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}
