/**
 * Verified-read units on native threads (openVerified): a batch of consecutive units of one open
 * file is read with pread into a page-aligned buffer and hashed piece by piece while in L2, by the
 * addon's `verifiedUnitsAsync` (native/verified_units_napi.cc), off the JS thread. The caller
 * compares the digests and hands out those very bytes. Batches come from a small ring of reused
 * buffers, or fresh ones when the caller keeps the bytes.
 *
 * Measured reason (2-vCPU EPYC Milan, 2 GiB page-cached, SHA-256 companion): the worker-pool path
 * (unit-pool.ts) spent 2.6 CPU-s per 2 GiB with recycled buffers, of which 0.69 s pread copies into
 * transferred buffers and 0.2 s postMessage, against `hash`'s 1.0 s; see docs/companion.md for this
 * path's figures. Optional like every use of the addon: without it openVerified uses the pool.
 */
import { fromNativeError, InputError } from '../errors.js';
import { forcedKernels } from '../backends/native.js';
import { loadNative } from '../native/addon.js';
import type { UnitMode } from './unit-pool.js';

/** The addon's verified-units functions (absent from older builds). */
interface VerifiedUnitsApi {
  verifiedUnitsAsync(fd: number, offsets: Float64Array, lengths: Float64Array, modes: Uint8Array, algorithm: 'sha256' | 'blake3', buffer: Uint8Array, out: Uint8Array, threads?: number, kernel?: string): Promise<void>;
  alignedBuffer(bytes: number): ArrayBuffer;
}

/** What a native batch hashes a unit as: the call's algorithm and the unit's mode code. */
export type NativeUnitKind = { algorithm: 'sha256' | 'blake3'; mode: 0 | 1 | 2 };

/**
 * How `verifiedUnitsAsync` hashes a unit of `mode` in a model signed with `hashType`, or undefined
 * when it cannot (BLAKE2b digests: the pool's node:crypto path serves those).
 */
export function nativeUnitKind(mode: UnitMode, hashType: string): NativeUnitKind | undefined {
  if (mode === 'rfc9162') return { algorithm: 'sha256', mode: 2 };
  if (mode === 'cv') return { algorithm: 'blake3', mode: 1 };
  if (hashType === 'sha256' || hashType === 'blake3') return { algorithm: hashType, mode: 0 };
  return undefined;
}

let api: VerifiedUnitsApi | null | undefined;

/** The addon's verified-units functions, or undefined when the addon (or this build of it) lacks them. */
export function nativeUnitsApi(): VerifiedUnitsApi | undefined {
  if (api === undefined) {
    const load = loadNative();
    api = load.ok && typeof load.addon.verifiedUnitsAsync === 'function' && typeof load.addon.alignedBuffer === 'function' ? (load.addon as unknown as VerifiedUnitsApi) : null;
  }
  return api ?? undefined;
}

/** A batch read and hashed: unit k's bytes and its 32-byte digest. */
export interface NativeBatch {
  /** The whole batch buffer (give it back with {@link NativeUnitRing.release} once no one reads it). */
  buffer: ArrayBuffer;
  units: Array<{ bytes: Buffer; digest: Uint8Array }>;
}

/** Batches of verified-read units hashed by native threads, over a ring of reused buffers. */
export class NativeUnitRing {
  /** Buffers of settled batches whose bytes nobody reads any more, by size. */
  private readonly free: ArrayBuffer[] = [];
  /** Buffers handed out by {@link hash} with `reuse`, the only ones {@link release} takes back. */
  private readonly recyclable = new WeakSet<ArrayBuffer>();

  /** @param threads native threads per batch (≥ 1). */
  constructor(
    private readonly api: VerifiedUnitsApi,
    private readonly threads: number,
  ) {}

  /**
   * Reads and hashes consecutive units of `fd` (all of one algorithm) into one buffer. With `reuse`
   * the buffer may come from the ring and may go back to it through {@link release}; without, it
   * is the caller's to keep. The promise settles only after every native thread stopped writing.
   */
  async hash(fd: number, units: Array<{ offset: number; length: number }>, kind: NativeUnitKind[], reuse: boolean): Promise<NativeBatch> {
    const total = units.reduce((a, u) => a + u.length, 0);
    const k = this.free.findIndex((b) => b.byteLength === total);
    const buffer = reuse && k >= 0 ? this.free.splice(k, 1)[0]! : this.api.alignedBuffer(Math.max(1, total));
    const out = new Uint8Array(32 * units.length);
    const algorithm = kind[0]!.algorithm;
    try {
      await this.api.verifiedUnitsAsync(
        fd,
        Float64Array.from(units, (u) => u.offset),
        Float64Array.from(units, (u) => u.length),
        Uint8Array.from(kind, (x) => x.mode),
        algorithm,
        new Uint8Array(buffer),
        out,
        this.threads,
        forcedKernels()[algorithm], // MODELSEAL_NATIVE_KERNELS, as hashing honours it
      );
    } catch (e) {
      // a read error is the file's (FILE_UNREADABLE, as on the pool); FILE_CHANGED (the file ended
      // inside a unit) and the rest keep their codes
      if ((e as { code?: string }).code === 'IO_ERROR') throw new InputError('FILE_UNREADABLE', (e as Error).message, { cause: e });
      throw fromNativeError(e, 'verified read');
    }
    if (reuse) this.recyclable.add(buffer);
    let at = 0;
    return {
      buffer,
      units: units.map((u, i) => {
        const bytes = Buffer.from(buffer, at, u.length);
        at += u.length;
        return { bytes, digest: out.subarray(32 * i, 32 * i + 32) };
      }),
    };
  }

  /**
   * Takes back a batch buffer asked with `reuse` once its batch settled and nothing reads its bytes
   * any more; at most `keep` are kept. Buffers of batches still in flight (a consumer that stopped
   * early) are never given back: they are dropped, so no later batch can share memory with a
   * native thread still writing.
   */
  release(buffer: ArrayBuffer, keep: number): void {
    if (!this.recyclable.delete(buffer)) return;
    if (this.free.length < keep) this.free.push(buffer);
  }
}
