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
  /** Persistent native threads for a stream's batches (absent from older builds). */
  UnitsPipeline?: new (threads: number, done: (id: number, error?: Error) => void) => UnitsPipeline;
}

/** The addon's UnitsPipeline (native/verified_units_napi.cc): `threads` persistent threads taking tasks in order. */
interface UnitsPipeline {
  submit(id: number, fd: number, offsets: Float64Array, lengths: Float64Array, modes: Uint8Array, algorithm: 'sha256' | 'blake3', buffer: Uint8Array, out: Uint8Array, kernel?: string): void;
  close(): void;
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

/**
 * Whether a ring's batches go to the addon's UnitsPipeline (persistent native threads) rather than
 * one libuv work item each: when the addon has it and MODELSEAL_NATIVE_PIPELINE is not '0' (a
 * benchmark switch, read when a ring starts its pipeline).
 */
export function nativePipelineOn(): boolean {
  return typeof nativeUnitsApi()?.UnitsPipeline === 'function' && process.env.MODELSEAL_NATIVE_PIPELINE !== '0';
}

/** The addon's verified-units functions, or undefined when the addon (or this build of it) lacks them. */
export function nativeUnitsApi(): VerifiedUnitsApi | undefined {
  if (api === undefined) {
    const load = loadNative();
    api = load.ok && typeof load.addon.verifiedUnitsAsync === 'function' && typeof load.addon.alignedBuffer === 'function' ? (load.addon as unknown as VerifiedUnitsApi) : null;
  }
  return api ?? undefined;
}

/**
 * A batch read and hashed: unit k's bytes are `views[k]`, its 32-byte digest `digests[32k, 32k + 32)`.
 * With `reuse` the whole object (buffer, views, digests, argument arrays) is the ring slot's and is
 * handed out again for a later batch of the same layout once {@link NativeUnitRing.release} took it
 * back: the consumer reads it only until then.
 */
export interface NativeBatch {
  /** The whole batch buffer (give it back with {@link NativeUnitRing.release} once no one reads it). */
  buffer: ArrayBuffer;
  /** Unit k's bytes (a view of `buffer`). */
  views: Buffer[];
  /** 32 bytes per unit, in unit order. */
  digests: Uint8Array;
}

/** A ring's pipeline and the settlers of its tasks, by task id. */
interface Pipeline {
  pipe: UnitsPipeline;
  waiting: Map<number, { resolve: () => void; reject: (e: Error) => void }>;
  next: number;
}

/** A ring slot: a batch buffer with its argument arrays and unit views, reused as one. */
interface Slot extends NativeBatch {
  offsets: Float64Array;
  lengths: Float64Array;
  modes: Uint8Array;
  bytes: Uint8Array;
}

/**
 * Batches of verified-read units hashed by native threads, over a ring of reused buffers.
 *
 * Measured reason for reusing the whole slot (views and argument arrays, not only the buffer): the
 * JS thread shares the cores with the hashing threads, and per 1 MiB unit it spent ~30 µs (0.06-0.09
 * CPU-s per 2 GiB, /proc/self/task per-thread CPU on a 2-vCPU EPYC Milan), part of it allocating a
 * Buffer view, a digest subarray and three typed arrays per batch (see docs/companion.md).
 */
export class NativeUnitRing {
  /** Slots of settled batches whose bytes nobody reads any more. */
  private readonly free: Slot[] = [];
  /** Slots handed out by {@link hash} with `reuse`, the only ones {@link release} takes back. */
  private readonly recyclable = new WeakMap<ArrayBuffer, Slot>();

  /** MODELSEAL_NATIVE_KERNELS, as hashing honours it: read once per ring (the variable is read through a C++ getter). */
  private readonly kernels = forcedKernels();
  /** The pipeline's threads and the settlers of its tasks, by id (see {@link hash}). */
  private pipeline: Pipeline | undefined;

  /**
   * @param threads native threads per batch (≥ 1) when each batch is a libuv work item (addons
   *   without UnitsPipeline, or MODELSEAL_NATIVE_PIPELINE=0, a benchmark switch)
   * @param workers the pipeline's threads: every batch of the ring is hashed by these, in order
   */
  constructor(
    private readonly api: VerifiedUnitsApi,
    private readonly threads: number,
    private readonly workers = threads,
  ) {}

  /**
   * The ring's persistent native threads, started at the first batch. Measured reason: with a
   * libuv work item per batch, four pool threads time-shared the two cores of the 2-vCPU EPYC Milan
   * host with the calling thread, which waited behind them at each wake-up while the cores idled
   * (docs/companion.md, "The pipeline"). The settle callback holds only the table of waiting
   * tasks, never the ring: a ring nobody closes is still collected, and its threads with it.
   */
  private pipe(): Pipeline | undefined {
    if (this.pipeline) return this.pipeline;
    if (!this.api.UnitsPipeline || !nativePipelineOn()) return undefined;
    const waiting = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
    const pipe = new this.api.UnitsPipeline(Math.max(1, this.workers), (id, error) => {
      const w = waiting.get(id);
      waiting.delete(id);
      if (error) w?.reject(error);
      else w?.resolve();
    });
    this.pipeline = { pipe, waiting, next: 0 };
    return this.pipeline;
  }

  /** Stops the pipeline's threads (after the caller awaited every batch). Later batches start a new one. */
  close(): void {
    this.pipeline?.pipe.close();
    this.pipeline = undefined;
  }

  /** A free slot laid out exactly as `units` (same lengths), else one of the same size relaid, else a new one. */
  private slot(units: ReadonlyArray<{ offset: number; length: number }>, total: number, reuse: boolean): Slot {
    if (reuse) {
      let fit = -1;
      for (let i = 0; i < this.free.length; i++) {
        const f = this.free[i]!;
        if (f.buffer.byteLength !== total || f.views.length !== units.length) continue;
        fit = i;
        if (f.views.every((v, k) => v.length === units[k]!.length)) break;
      }
      if (fit >= 0) {
        const f = this.free.splice(fit, 1)[0]!;
        if (!f.views.every((v, k) => v.length === units[k]!.length)) f.views = viewsOf(f.buffer, units);
        return f;
      }
    }
    const buffer = this.api.alignedBuffer(Math.max(1, total));
    const n = units.length;
    return { buffer, bytes: new Uint8Array(buffer), views: viewsOf(buffer, units), digests: new Uint8Array(32 * n), offsets: new Float64Array(n), lengths: new Float64Array(n), modes: new Uint8Array(n) };
  }

  /**
   * Reads and hashes consecutive units of `fd` (all of one algorithm) into one buffer. With `reuse`
   * the batch may come from the ring and may go back to it through {@link release}; without, it
   * is the caller's to keep. The promise settles only after every native thread stopped writing.
   */
  async hash(fd: number, units: ReadonlyArray<{ offset: number; length: number }>, kind: readonly NativeUnitKind[], reuse: boolean): Promise<NativeBatch> {
    let total = 0;
    for (const u of units) total += u.length;
    const s = this.slot(units, total, reuse);
    for (let i = 0; i < units.length; i++) {
      s.offsets[i] = units[i]!.offset;
      s.lengths[i] = units[i]!.length;
      s.modes[i] = kind[i]!.mode;
    }
    const algorithm = kind[0]!.algorithm;
    const kernel = this.kernels[algorithm];
    try {
      const p = this.pipe();
      if (p) {
        const id = p.next++;
        await new Promise<void>((resolve, reject) => {
          p.waiting.set(id, { resolve, reject });
          try {
            p.pipe.submit(id, fd, s.offsets, s.lengths, s.modes, algorithm, s.bytes, s.digests, kernel);
          } catch (e) {
            p.waiting.delete(id);
            throw e;
          }
        });
      } else {
        await this.api.verifiedUnitsAsync(fd, s.offsets, s.lengths, s.modes, algorithm, s.bytes, s.digests, this.threads, kernel);
      }
    } catch (e) {
      // a read error is the file's (FILE_UNREADABLE, as on the pool); FILE_CHANGED (the file ended
      // inside a unit) and the rest keep their codes
      if ((e as { code?: string }).code === 'IO_ERROR') throw new InputError('FILE_UNREADABLE', (e as Error).message, { cause: e });
      throw fromNativeError(e, 'verified read');
    }
    if (reuse) this.recyclable.set(s.buffer, s);
    return s;
  }

  /**
   * Takes back a batch buffer asked with `reuse` once its batch settled and nothing reads its bytes
   * any more; at most `keep` are kept. Buffers of batches still in flight (a consumer that stopped
   * early) are never given back: they are dropped, so no later batch can share memory with a
   * native thread still writing.
   */
  release(buffer: ArrayBuffer, keep: number): void {
    const s = this.recyclable.get(buffer);
    if (!s) return;
    this.recyclable.delete(buffer);
    if (this.free.length < keep) this.free.push(s);
  }
}

/** Buffer views of consecutive units laid out from the start of `buffer`. */
function viewsOf(buffer: ArrayBuffer, units: ReadonlyArray<{ length: number }>): Buffer[] {
  let at = 0;
  return units.map((u) => {
    const b = Buffer.from(buffer, at, u.length);
    at += u.length;
    return b;
  });
}
