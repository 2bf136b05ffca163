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
export type UnitMode = UnitTask['mode'];

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

  /** Reads and hashes bytes [offset, offset + length) of the open file `fd`. */
  async hash(fd: number, offset: number, length: number, mode: UnitMode): Promise<HashedUnit> {
    const buffer = new ArrayBuffer(length + 1 + 64);
    const algorithm = mode === 'rfc9162' ? 'sha256' : this.algorithm;
    const task: UnitTask = { backend: await this.backend, algorithm, fd, offset, length, buffer, mode };
    const reply = await this.pool.runNamed<UnitReply>('hashUnit', task, [buffer]);
    if (reply instanceof Uint8Array) {
      const n = DIGEST_BYTES[algorithm];
      return { bytes: Buffer.from(reply.buffer, reply.byteOffset + 1, length), digest: reply.subarray(reply.length - 64, reply.length - 64 + n) };
    }
    if ('error' in reply) {
      const e = reviveError(reply.error);
      throw e.kind === 'internal' ? e : new InputError('FILE_UNREADABLE', e.message, { cause: e });
    }
    return reply;
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}
