/**
 * The hash vocabulary shared by plan/, manifest/ and backends/ (one layer, none of which imports
 * another for these words): algorithm names, digest sizes, the BLAKE3 chunk and subtree-leaf sizes,
 * the OMS shard size, and the `Leaf` / `LeafBatch` shapes a plan hands to a backend.
 */
import { InputError } from '../errors.js';

/** The per-resource hash functions of OMS. */
export type HashAlgorithm = 'sha256' | 'blake2b' | 'blake3';
/** Every {@link HashAlgorithm}, in the order the CLI lists them. */
export const HASH_ALGORITHMS: readonly HashAlgorithm[] = ['sha256', 'blake2b', 'blake3'];

/** Output bytes per algorithm: SHA-256 32, BLAKE2b-512 64, BLAKE3 32 (CVs are 32 too). */
export const DIGEST_BYTES: Record<HashAlgorithm, number> = { sha256: 32, blake2b: 64, blake3: 32 };

/** BLAKE3 chunk size; subtree leaves start at multiples of it (chunk counter = offset / 1024). */
export const BLAKE3_CHUNK_BYTES = 1024;

/** BLAKE3 subtree leaf size: a power-of-two number of chunks (8 MiB). */
export const BLAKE3_SUBTREE_BYTES = 8 * 1024 * 1024;

/** OMS serialization methods: one resource per file, or per fixed-size shard of a file. */
export type SerializationMethod = 'files' | 'shards';

/** Default OMS shard size (the reference tool's): 1,000,000,000 bytes. */
export const DEFAULT_SHARD_BYTES = 1_000_000_000;

/**
 * Checks a shard size given to the library (the one check: the CLI parses its flag into a number
 * first, and the layers below the library's entry points trust the result).
 * @throws InputError `BAD_SHARD_SIZE` unless `value` is a positive safe integer.
 */
export function checkShardBytes(value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new InputError('BAD_SHARD_SIZE', `shard size must be a positive integer number of bytes (got ${String(value)}).`);
  }
  return value;
}

/**
 * One unit of planned work: the byte range [offset, offset + length) of a file.
 * - output 'digest': the plain hash of those bytes (a whole file or a shard).
 * - output 'cv' (BLAKE3 only): the chaining value of the aligned subtree starting at `offset`
 *   (a multiple of 1024; `length` a power-of-two number of chunks, or the file's tail), computed
 *   with chunk counter offset/1024 and WITHOUT the ROOT flag, to be merged in tree order.
 */
export interface Leaf {
  path: string;
  offset: number;
  length: number;
  output: 'digest' | 'cv';
  /** The file's device and inode as the walk saw them; readers refuse a file that is no longer it. */
  dev?: number;
  ino?: number;
}

/** Leaves hashed with one algorithm: what a backend receives, and answers with one digest/CV per leaf, in order. */
export interface LeafBatch {
  algorithm: HashAlgorithm;
  leaves: Leaf[];
  /**
   * Progress and cancellation shared with the caller while the batch runs (a worker thread sees the
   * same memory): the hasher adds the bytes it has read to `counters[slot]` as it goes, so progress
   * shows inside one large file, and stops with ABORTED at its next block once `counters[0]` is not 0.
   */
  control?: BatchControl;
}

/** See LeafBatch.control. `counters` lives in a SharedArrayBuffer; slot 0 is the abort flag. */
export interface BatchControl {
  counters: BigInt64Array;
  slot: number;
}
