/**
 * openVerified: verified reads of a signed model, at the finest granularity the signature allows.
 *
 * The contract: **no byte is returned before every unit (companion leaf, OMS shard or whole file)
 * that covers it has been read from storage once, into memory, and hashed to the signed value.**
 * The bytes handed out are the very bytes that were hashed (never read again after the check), so a
 * file changed under the reader cannot slip unverified bytes through. A mismatch rejects with
 * RANGE_MISMATCH naming the file, the unit's byte range and the tensors it overlaps; nothing is
 * poisoned, so later reads of other units still work.
 *
 * With a Merkle companion the unit is one leaf (default 1 MiB); without one it is an OMS shard
 * (`--method shards`) or the whole file, up to MAX_UNIT_BYTES (larger units are refused with
 * RANGE_TOO_COARSE rather than buffered). `granularity` says which applies.
 */
import { createHash, subtle, timingSafeEqual } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, read, realpathSync, statSync } from 'node:fs';
import { promisify } from 'node:util';

import { basename, join, relative, isAbsolute } from 'node:path';
import { Readable } from 'node:stream';
import type { LeafHasher } from '../backends/types.js';
import { blake3LeafHasher, leafEntry } from '../engine/merkle.js';
import { defaultWorkers } from '../engine/pool.js';
import { NativeUnitRing, nativePipelineOn, nativeUnitKind, nativeUnitsApi, type NativeUnitKind } from '../engine/native-units.js';
import { UnitPool, type UnitMode } from '../engine/unit-pool.js';
import { InputError, ModelsealError, VerificationError } from '../errors.js';
import { detectTensorFormat, readTensorIndex, type TensorIndex, type TensorRange } from '../formats/index.js';
import type { CompanionFile } from '../manifest/companion.js';
import { parseShardName } from '../manifest/oms.js';
import { IN_TOTO_PAYLOAD_TYPE, parseStatementJson, statementToManifest } from '../manifest/statement.js';
import type { Manifest } from '../manifest/types.js';
import { findCompanion, loadFileEntries, verifyCompanion, type VerifiedCompanion } from './companion.js';
import { globToRegExp } from './compare.js';
import { readBundleFile, trustOptionsOf, verifyBundleSignature, type SignerInfo, type TrustOptions } from './signature.js';

/** Largest unit verified in memory without a companion (whole files or shards above it are refused). */
export const MAX_UNIT_BYTES = 512 * 1024 * 1024;
/** Verified units kept in memory per model, so small reads in one leaf read it from storage once. */
const CACHE_UNITS = 8;
const CACHE_MAX_UNIT_BYTES = 64 * 1024 * 1024;
/** Units a stream reads and verifies ahead of the consumer (the libuv pool has 4 threads by default). */
const PREFETCH_UNITS = 4;
/**
 * Pool tasks in flight per worker: one hashing, two queued behind it, so a worker never waits for
 * the consumer; each task up to POOL_BATCH_BYTES of consecutive units (at least one). Memory stays
 * at 3 × 4 MiB per worker, whatever the model size. Three, not two: with two, stream workers sat
 * idle ~0.35 s of a 2 GiB stream each (profile, 2-vCPU EPYC Milan at load 3) waiting for the
 * loaded calling thread to hand them the next task; with three, SHA-256 reuseBuffers streaming
 * went from 0.82 to 1.10 GB/s (bench/verified-stream-ab.mjs, same load).
 */
const POOL_BATCHES_PER_WORKER = 3;
const POOL_BATCH_BYTES = 4 * 1024 * 1024;
/**
 * Native path (the addon's verifiedUnitsAsync): batches of about 2 MiB of units per native thread
 * (at least two: the two lanes of SHA-256's 2-lane kernel), ⌈workers / NATIVE_CALLS⌉ threads per
 * call, and calls + NATIVE_EXTRA_BATCHES batches in flight, so that every core hashes while the
 * consumer reads an earlier, verified batch. 2 MiB, not 4: a file's last batch runs alone on one
 * core while the other idles, and a model streams file after file; on the 2-vCPU EPYC Milan host
 * (2 GiB in 16 files, SHA-256, load 3.7) 2 MiB batches reached 99-101 % of `hash` where 4 MiB
 * reached 80-85 %. Five extra batches, not one: a batch that finished out of order, or one the
 * calling thread has not yet taken (it shares the cores with the hashing threads), holds its place,
 * and with one extra the threads ran dry; quiet 2-vCPU EPYC Milan, same model, 11 alternating rounds
 * twice: SHA-256 73-75 % of `hash` with one, 80-82 % with five (ten: 82 %); BLAKE3 80 → 81 %.
 * Memory: (calls + NATIVE_EXTRA_BATCHES + 1) batches per stream (16 MiB on 2 cores); with the addon's
 * pipeline (calls + PIPELINE_EXTRA_BATCHES + 1), 8 MiB.
 */
const NATIVE_BATCH_BYTES = 2 * 1024 * 1024;
/**
 * chunksOfFiles over several files, SHA-256 units: batches twice as large (4 MiB per thread). The
 * drain that made 4 MiB lose for a per-file stream happens there once per stream, not at each file
 * end, and fewer batches mean fewer calls and wake-ups of the calling thread. Measured
 * (bench/verified-stream-threads.mjs, `files` rows, 2-vCPU EPYC Milan, load 0.9-3.3, 2 MiB against
 * 4 MiB in alternating processes, two rounds of 9 runs): SHA-256 82.7 / 82.6 → 85.0 / 85.1 % of
 * `hash` (cores busy 1.80-1.81 → 1.87); BLAKE3 86.2 / 84.4 → 83.9 / 82.6 % (its pool threads' CPU
 * rose 0.89-0.90 → 0.95 s), so BLAKE3 keeps 2 MiB. 4 MiB with only two extra batches (the memory of
 * 2 MiB with five) lost for both (72-82 %). Memory: (calls + NATIVE_EXTRA_BATCHES + 1) × 4 MiB
 * per thread (32 MiB on 2 cores).
 */
const NATIVE_MULTI_FILE_BATCH_SCALE = 2;
const NATIVE_EXTRA_BATCHES = 5;
/**
 * Extra batches with the addon's pipeline (persistent native threads taking batches in order,
 * native-units.ts): one, not five. The five above covered libuv's pool threads time-sharing the
 * cores with the calling thread; the pipeline's threads do not, and a smaller window keeps the
 * ring in cache: 2-vCPU EPYC Milan, 2 GiB in 16 files, chunksOfFiles, alternating processes
 * (bench/verified-stream-threads.mjs), BLAKE3 with 5 extra 82-88 % of `hash`, 2 extra 88-92 %,
 * 1 extra 91-94 %, none 94-96 %; SHA-256 with 2 extra 91-93 %, 1 extra 87-95 %, none 92-94 %.
 * One rather than none, so a consumer that pauses for longer than one batch takes to hash
 * (~1 ms a thread) does not leave the threads idle; with a consumer that copies every chunk the
 * windows measured alike (80-86 % of `hash` then the same copy).
 */
const PIPELINE_EXTRA_BATCHES = 1;
const NATIVE_CALLS = 3; // libuv's pool has 4 threads: one stays free for the consumer's own file reads
/** Units above this go to the pool (a shard-granular file's shards can be up to MAX_UNIT_BYTES). */
const NATIVE_MAX_UNIT_BYTES = 16 * 1024 * 1024;
const readAsync = promisify(read);

/** Options of {@link VerifiedModel.chunks}. */
export interface ChunkOptions {
  /**
   * Reuse the memory of earlier chunks: each chunk is valid only until the next one is asked for.
   * Default false (every chunk stays valid). Saves the allocation, page faults and garbage
   * collection of a fresh buffer per batch when streaming a whole file.
   */
  reuseBuffers?: boolean;
}

export interface OpenVerifiedOptions extends TrustOptions {
  /** The OMS bundle (`model.sig`). */
  signature: string;
  /** The Merkle companion; default `<signature>.merkle` when it exists; `false` ignores one. */
  companion?: string | false;
  /**
   * Worker threads that read and hash the units of multi-unit reads (streams, large tensors), so the
   * consumer reads earlier units while later ones verify: default the available parallelism; 0
   * verifies on the calling thread (and libuv's pool for SHA-256), as single-unit reads always do.
   */
  workers?: number;
  /**
   * What hashes the units of multi-unit reads when `workers` > 0: `native` (the default when the
   * addon is loaded) reads and hashes them on the addon's native threads into a small ring of
   * reused buffers; `pool` on the worker pool. Both hand out the same verified bytes.
   */
  verifier?: 'native' | 'pool';
}

/** How finely a file can be verified. */
export type Granularity = 'leaf' | 'shard' | 'file';

/** A signed file as openVerified sees it. */
export interface VerifiedFileInfo {
  /** Name in the manifest (`/`-separated, relative to the model root; `.` for a single-file model). */
  path: string;
  /** Signed size (files without a companion: the size on disk, bound by the whole-file digest). */
  size: number;
  granularity: Granularity;
  /** Bytes per unit (leaf size, shard size, or the file size). */
  unitBytes: number;
  /** The companion tree of a leaf-granular file. */
  tree?: CompanionFile['tree'];
}

/** Counters: what was read from storage and what was hashed. */
export interface VerifiedReadStats {
  bytesRead: number;
  unitsVerified: number;
  unitsFailed: number;
  /** Units read and hashed on the worker pool or native threads (the rest on the calling thread). */
  unitsOnWorkers: number;
  /** Of those, the units read and hashed by the addon's native threads. */
  unitsNative: number;
}

/** The shape `verifyGpuBuffer` takes (structurally its GpuBufferLayout). */
export interface GpuLeafLayout {
  algorithm: 'blake3' | 'sha256';
  /** BLAKE3: 'digest' / 'cv' with the chunk counter; SHA-256: 'leaf' (RFC 9162). */
  ranges: Array<{ name: string; offset: number; length: number; output: 'digest' | 'cv' | 'leaf'; chunkCounter?: number }>;
}

interface Unit {
  start: number;
  end: number;
  /** Index within the file's unit list. */
  index: number;
}

interface FileState {
  name: string;
  abs: string;
  granularity: Granularity;
  size: number;
  unitBytes: number;
  fd: number;
  /** Leaf mode: the companion file and its checked sidecar entries. */
  leaf?: { file: CompanionFile; entries: Uint8Array[] };
  /** Shard/file mode: [start, end, digest] per unit. */
  resources?: Array<{ start: number; end: number; digest: string }>;
  index?: Promise<TensorIndex>;
  indexValue?: TensorIndex;
  indexing?: boolean;
}

/** One byte range of one file in a verified stream. */
interface StreamSegment {
  st: FileState;
  start: number;
  end: number;
}

/** A chunk of {@link VerifiedModel.chunksOfFiles}: verified bytes [offset, offset + bytes.length) of `path`. */
export interface VerifiedChunk {
  /** The file's name in the manifest (as {@link VerifiedModel.files} lists it). */
  path: string;
  offset: number;
  bytes: Buffer;
}

function rangeError(what: string): InputError {
  return new InputError('RANGE_INVALID', what);
}

/**
 * A model opened for verified reads. Obtain one with {@link openVerified}; call `close()` when done.
 */
export class VerifiedModel {
  /** The verified OMS root digest. */
  readonly rootDigest: string;
  /** Who signed (established by verification). */
  readonly signer: SignerInfo;
  /** `leaf` with a companion for every file, else the coarsest granularity among the files. */
  readonly granularity: Granularity;
  /** The companion used, if any. */
  readonly companionPath: string | undefined;
  /** Plain-language notes (e.g. that reads verify whole files because there is no companion). */
  readonly notes: string[];
  readonly stats: VerifiedReadStats = { bytesRead: 0, unitsVerified: 0, unitsFailed: 0, unitsOnWorkers: 0, unitsNative: 0 };

  private readonly states = new Map<string, FileState>();
  private readonly cache = new Map<string, Buffer>();
  private closed = false;
  private pool: UnitPool | undefined;
  private ring: NativeUnitRing | undefined;
  /** Units on the pool now (close() waits for them: they read this model's file descriptors). */
  private readonly inFlight = new Set<Promise<unknown>>();

  /** @internal */
  constructor(
    private readonly root: string,
    private readonly isFile: boolean,
    private readonly manifest: Manifest,
    private readonly vc: VerifiedCompanion | undefined,
    private readonly blake3: LeafHasher | undefined,
    signer: SignerInfo,
    private readonly workers = 0,
    private readonly verifier: 'native' | 'pool' = 'native',
  ) {
    this.rootDigest = manifest.rootDigest;
    this.signer = signer;
    this.companionPath = vc?.path;
    const s = manifest.serialization;
    const names = this.fileNames();
    const covered = vc ? names.filter((n) => vc.byName.has(n)).length : 0;
    this.granularity = vc && covered === names.length ? 'leaf' : s.method === 'shards' ? 'shard' : 'file';
    this.notes = [];
    if (!vc) this.notes.push(`no Merkle companion: reads verify whole ${s.method === 'shards' ? 'OMS shards' : 'files'} (sign with --merkle for leaf-level reads)`);
    else if (covered < names.length) this.notes.push(`the companion covers ${covered} of ${names.length} files; the others verify whole ${s.method === 'shards' ? 'shards' : 'files'}`);
  }

  private fileNames(): string[] {
    const s = this.manifest.serialization;
    if (s.method === 'files') return this.manifest.resources.map((r) => r.name);
    return [...new Set(this.manifest.resources.map((r) => parseShardName(r.name)!.path))];
  }

  /** The signed files. */
  files(): VerifiedFileInfo[] {
    return this.fileNames().map((n) => {
      const c = this.vc?.byName.get(n)?.file;
      if (c) return { path: n, size: c.size, granularity: 'leaf' as const, unitBytes: c.leafSize, tree: c.tree };
      const st = this.stateIfOpen(n);
      if (st) return { path: n, size: st.size, granularity: st.granularity, unitBytes: st.unitBytes };
      if (this.manifest.serialization.method === 'shards') {
        const size = Math.max(...this.manifest.resources.filter((r) => parseShardName(r.name)!.path === n).map((r) => parseShardName(r.name)!.end));
        return { path: n, size, granularity: 'shard' as const, unitBytes: this.manifest.serialization.shardSize! };
      }
      const size = statSync(this.absOf(n)).size;
      return { path: n, size, granularity: 'file' as const, unitBytes: size };
    });
  }

  /** One signed file's info (opens it: the size is checked against the signed one). */
  fileInfo(path: string): VerifiedFileInfo {
    const st = this.state(path);
    return { path: st.name, size: st.size, granularity: st.granularity, unitBytes: st.unitBytes };
  }

  private stateIfOpen(n: string): FileState | undefined {
    return this.states.get(n);
  }

  /** A user's path → the manifest name (a single-file model answers to `.` and its basename). */
  private nameOf(path: string): string {
    const names = this.fileNames();
    if (names.includes(path)) return path;
    if (this.isFile && names.length === 1 && (path === '.' || path === basename(this.root))) return names[0]!;
    throw new InputError('FILE_NOT_SIGNED', `${path} is not a file of the signed model; \`modelseal inspect\` lists them.`);
  }

  private absOf(name: string): string {
    return this.isFile ? this.root : join(this.root, ...name.split('/'));
  }

  private state(path: string): FileState {
    if (this.closed) throw new InputError('MODEL_CLOSED', 'this verified model was closed; open it again.');
    const name = this.nameOf(path);
    let st = this.states.get(name);
    if (st) return st;
    const abs = this.absOf(name);
    if (!this.isFile) {
      // Refuse a path whose directories lead out of the model (O_NOFOLLOW guards only the last component).
      let real: string;
      try {
        real = realpathSync(abs);
      } catch (e) {
        throw new VerificationError('FILE_MISSING', `${name} is signed but missing from the model (${(e as Error).message}).`, { cause: e });
      }
      const rel = relative(this.root, real);
      if (rel.startsWith('..') || isAbsolute(rel)) throw new InputError('PATH_ESCAPES_MODEL', `${name} resolves outside the model root; refused.`);
    }
    let fd: number;
    try {
      fd = openSync(abs, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new VerificationError('FILE_MISSING', `${name} is signed but missing from the model.`, { cause: e });
      throw new InputError('FILE_UNREADABLE', `${name}: ${(e as Error).message}.`, { cause: e });
    }
    const disk = fstatSync(fd);
    if (!disk.isFile()) {
      closeSync(fd);
      throw new InputError('FILE_UNREADABLE', `${name} is not a regular file.`);
    }
    const c = this.vc?.byName.get(name);
    if (c) {
      if (disk.size !== c.file.size) {
        closeSync(fd);
        throw new VerificationError('FILE_SIZE_MISMATCH', `${name} is ${disk.size} bytes, the signed size is ${c.file.size}.`, { details: { file: name } });
      }
      let entries: Uint8Array[];
      try {
        entries = loadFileEntries(this.vc!, name);
      } catch (e) {
        closeSync(fd);
        throw e;
      }
      st = { name, abs, granularity: 'leaf', size: c.file.size, unitBytes: c.file.leafSize, fd, leaf: { file: c.file, entries } };
    } else if (this.manifest.serialization.method === 'shards') {
      const resources = this.manifest.resources
        .map((r) => ({ s: parseShardName(r.name)!, digest: r.digest }))
        .filter((r) => r.s.path === name)
        .map((r) => ({ start: r.s.start, end: r.s.end, digest: r.digest }))
        .sort((a, b) => a.start - b.start);
      const size = resources.length ? resources[resources.length - 1]!.end : 0;
      if (disk.size !== size) {
        closeSync(fd);
        throw new VerificationError('FILE_SIZE_MISMATCH', `${name} is ${disk.size} bytes, the signed shards cover ${size}.`, { details: { file: name } });
      }
      st = { name, abs, granularity: 'shard', size, unitBytes: this.manifest.serialization.shardSize!, fd, resources };
    } else {
      const digest = this.manifest.resources.find((r) => r.name === name)!.digest;
      st = { name, abs, granularity: 'file', size: disk.size, unitBytes: disk.size, fd, resources: [{ start: 0, end: disk.size, digest }] };
    }
    this.states.set(name, st);
    return st;
  }

  private unitsOver(st: FileState, start: number, end: number): Unit[] {
    const out: Unit[] = [];
    if (st.leaf) {
      const L = st.unitBytes;
      if (start >= end) return out;
      for (let i = Math.floor(start / L); i * L < end; i++) out.push({ start: i * L, end: Math.min(st.size, (i + 1) * L), index: i });
      return out;
    }
    st.resources!.forEach((r, i) => {
      if (r.end > start && r.start < end) out.push({ start: r.start, end: r.end, index: i });
    });
    return out;
  }

  /** What a pool worker hashes a unit as, and the signed value it must equal. */
  private target(st: FileState, u: Unit): { mode: UnitMode; expected: Uint8Array } {
    if (st.leaf) {
      const f = st.leaf.file;
      if (st.leaf.entries.length === 0) return { mode: 'digest', expected: Buffer.from(f.root, 'hex') };
      return { mode: f.tree === 'rfc9162-sha256' ? 'rfc9162' : 'cv', expected: st.leaf.entries[u.index]! };
    }
    return { mode: 'digest', expected: Buffer.from(st.resources![u.index]!.digest, 'hex') };
  }

  /**
   * Reads and hashes consecutive units in one task on a pool worker; one promise per unit, settled
   * like {@link unit}'s (the bytes it resolves to are the bytes hashed).
   */
  private pooledUnits(st: FileState, us: Unit[], recycle = false): Array<Promise<Buffer>> {
    this.pool ??= new UnitPool(this.workers, this.manifest.serialization.hashType);
    const targets = us.map((u) => this.target(st, u));
    const batch = this.pool.hash(st.fd, us.map((u, k) => ({ offset: u.start, length: u.end - u.start, mode: targets[k]!.mode })), recycle);
    this.inFlight.add(batch);
    const settled = batch.finally(() => this.inFlight.delete(batch));
    return us.map((u, k) =>
      settled.then(
        (rs) => {
          const r = rs[k]!;
          if ('short' in r) throw new VerificationError('FILE_SIZE_MISMATCH', `${st.name} became shorter while being read.`, { details: { file: st.name } });
          const t = targets[k]!.expected;
          this.stats.unitsOnWorkers++;
          // recycled bytes are overwritten after the consumer moves on: never cached
          return this.accept(st, u, r.bytes, r.digest.length === t.length && timingSafeEqual(r.digest, t), !recycle);
        },
        (e: unknown) => {
          if (e instanceof ModelsealError && e.code === 'FILE_UNREADABLE') throw new InputError('FILE_UNREADABLE', `${st.name}: ${e.message}.`, { cause: e });
          throw e;
        },
      ),
    );
  }

  /** How many native calls run at once, and threads per call (see NATIVE_CALLS). */
  private nativeShape(): { calls: number; threads: number } {
    const calls = Math.max(1, Math.min(this.workers, NATIVE_CALLS));
    return { calls, threads: Math.ceil(this.workers / calls) };
  }

  /**
   * How the addon hashes each of `us` (one algorithm for the batch), or undefined when the native
   * path does not serve them: no addon (or one built before verifiedUnitsAsync), `verifier: 'pool'`,
   * BLAKE2b digests, or a unit over NATIVE_MAX_UNIT_BYTES.
   */
  private nativeKinds(st: FileState, us: Unit[]): NativeUnitKind[] | undefined {
    if (this.verifier !== 'native' || this.workers === 0 || !nativeUnitsApi()) return undefined;
    const kinds: NativeUnitKind[] = [];
    for (const u of us) {
      if (u.end - u.start > NATIVE_MAX_UNIT_BYTES) return undefined;
      const k = nativeUnitKind(this.target(st, u).mode, this.manifest.serialization.hashType);
      if (!k || (kinds.length > 0 && k.algorithm !== kinds[0]!.algorithm)) return undefined;
      kinds.push(k);
    }
    return kinds;
  }

  /**
   * Reads and hashes consecutive units on the addon's native threads into one batch buffer (from
   * the ring with `reuse`). One promise for the batch, resolving to each unit's verified bytes or
   * its RANGE_MISMATCH (a unit's bytes are handed out only once its digest equals the signed
   * value); a read failure rejects the whole batch.
   *
   * One promise per batch, not per unit: per-unit `then` chains cost the JS thread, which shares
   * the cores with the hashing threads (docs/companion.md, "Main-thread cost").
   */
  private nativeUnits(st: FileState, us: Unit[], kinds: NativeUnitKind[], reuse: boolean): Promise<Array<Buffer | ModelsealError>> {
    this.ring ??= new NativeUnitRing(nativeUnitsApi()!, this.nativeShape().threads, this.workers);
    const batch = this.ring.hash(st.fd, us.map((u) => ({ offset: u.start, length: u.end - u.start })), kinds, reuse);
    this.inFlight.add(batch);
    return batch.then(
      async (b) => {
        this.inFlight.delete(batch);
        const out: Array<Buffer | ModelsealError> = new Array(us.length);
        const d = b.digests;
        const entries = st.leaf && st.leaf.entries.length > 0 ? st.leaf.entries : undefined;
        for (let k = 0; k < us.length; k++) {
          const u = us[k]!;
          const t = entries ? entries[u.index]! : this.target(st, u).expected;
          // the digests are of public signed data: an XOR-accumulate compare (no early exit, no
          // per-unit subarray for timingSafeEqual) is as constant-time as needed here
          let diff = t.length ^ 32;
          for (let j = 0; j < 32 && j < t.length; j++) diff |= d[32 * k + j]! ^ t[j]!;
          this.stats.unitsOnWorkers++;
          this.stats.unitsNative++;
          try {
            // ring bytes are overwritten after the consumer moves on: never cached
            out[k] = diff === 0 ? this.acceptSync(st, u, b.views[k]!, !reuse) : await this.accept(st, u, b.views[k]!, false);
          } catch (e) {
            out[k] = e as ModelsealError;
          }
        }
        return out;
      },
      (e: unknown) => {
        this.inFlight.delete(batch);
        if (e instanceof ModelsealError && e.code === 'FILE_CHANGED') throw new VerificationError('FILE_SIZE_MISMATCH', `${st.name} became shorter while being read.`, { details: { file: st.name }, cause: e });
        if (e instanceof ModelsealError && e.code === 'FILE_UNREADABLE') throw new InputError('FILE_UNREADABLE', `${st.name}: ${e.message}.`, { cause: e });
        throw e;
      },
    );
  }

  /**
   * Hashes a unit and compares it with the signed value. SHA-256 goes through WebCrypto, whose
   * digests run on the libuv thread pool, so several units verify in parallel while the consumer
   * handles earlier ones; `prefixed` is the unit with one spare byte in front (RFC 9162's 0x00 leaf
   * prefix, written in place: no copy).
   */
  private async check(st: FileState, u: Unit, prefixed: Buffer): Promise<boolean> {
    const data = prefixed.subarray(1);
    const eq = (a: Uint8Array, hex: string | Uint8Array): boolean => {
      const b = typeof hex === 'string' ? Buffer.from(hex, 'hex') : hex;
      return a.length === b.length && timingSafeEqual(a, b);
    };
    if (st.leaf) {
      const f = st.leaf.file;
      if (st.leaf.entries.length === 0) return eq(this.digest('blake3', data), f.root);
      if (f.tree === 'rfc9162-sha256') {
        prefixed[0] = 0x00;
        return eq(new Uint8Array(await subtle.digest('SHA-256', prefixed)), st.leaf.entries[u.index]!);
      }
      return eq(leafEntry(f.tree, data, u.start, this.blake3), st.leaf.entries[u.index]!);
    }
    const alg = this.manifest.serialization.hashType;
    const d = alg === 'sha256' ? new Uint8Array(await subtle.digest('SHA-256', data)) : this.digest(alg, data);
    return eq(d, st.resources![u.index]!.digest);
  }

  private digest(alg: Manifest['serialization']['hashType'], data: Uint8Array): Uint8Array {
    if (alg === 'sha256') return createHash('sha256').update(data).digest();
    if (alg === 'blake2b') return createHash('blake2b512').update(data).digest();
    return this.blake3!.hashBytes('blake3', data, 'digest');
  }

  /** A verified unit from the cache (most recently used last), or undefined. */
  private cached(st: FileState, u: Unit): Buffer | undefined {
    const key = `${st.name}\0${u.index}`;
    const hit = this.cache.get(key);
    if (hit) {
      this.cache.delete(key);
      this.cache.set(key, hit);
    }
    return hit;
  }

  private checkUnitSize(st: FileState, u: Unit): void {
    const len = u.end - u.start;
    if (len > MAX_UNIT_BYTES) {
      throw new InputError('RANGE_TOO_COARSE', `${st.name} can only be verified as a whole ${st.granularity} of ${len} bytes, over the ${MAX_UNIT_BYTES}-byte limit for verified reads; sign the model with --merkle (or --method shards).`);
    }
  }

  /** Reads one unit from storage on this thread and verifies it (or takes it from the verified cache). */
  private async unit(st: FileState, u: Unit): Promise<Buffer> {
    const hit = this.cached(st, u);
    if (hit) return hit;
    this.checkUnitSize(st, u);
    const prefixed = Buffer.allocUnsafe(u.end - u.start + 1);
    const buf = prefixed.subarray(1);
    await this.readUnit(st, u, buf);
    return this.accept(st, u, buf, await this.check(st, u, prefixed));
  }

  /** Counts a unit read, hashed and found equal to the signed value; its bytes (kept in the cache with `cache`). */
  private acceptSync(st: FileState, u: Unit, buf: Buffer, cache: boolean): Buffer {
    const len = u.end - u.start;
    this.stats.bytesRead += len;
    this.stats.unitsVerified++;
    if (cache && len <= CACHE_MAX_UNIT_BYTES) {
      this.cache.set(`${st.name}\0${u.index}`, buf);
      if (this.cache.size > CACHE_UNITS) this.cache.delete(this.cache.keys().next().value!);
    }
    return buf;
  }

  /** Counts a unit read and hashed; its bytes if `ok` (kept in the cache), else RANGE_MISMATCH. */
  private async accept(st: FileState, u: Unit, buf: Buffer, ok: boolean, cache = true): Promise<Buffer> {
    if (ok) return this.acceptSync(st, u, buf, cache);
    const len = u.end - u.start;
    this.stats.bytesRead += len;
    this.stats.unitsFailed++;
    const tensors = await this.tensorsOverlapping(st, u.start, u.end);
    throw new VerificationError(
      'RANGE_MISMATCH',
      `${st.name} bytes [${u.start}, ${u.end}) do not match the signed ${st.granularity}${tensors.length ? ` (tensors: ${tensors.slice(0, 8).join(', ')}${tensors.length > 8 ? ', …' : ''})` : ''}: the file was altered. No byte of this range was returned.`,
      { details: { file: st.name, start: u.start, end: u.end, granularity: st.granularity, tensors } },
    );
  }

  /** Reads a unit into `buf` on this thread (asynchronous reads on libuv's pool). */
  private async readUnit(st: FileState, u: Unit, buf: Buffer): Promise<void> {
    const len = u.end - u.start;
    let got = 0;
    while (got < len) {
      let n: number;
      try {
        // asynchronous reads (libuv pool): the units a stream prefetches are read in parallel
        n = (await readAsync(st.fd, buf, got, len - got, u.start + got)).bytesRead;
      } catch (e) {
        throw new InputError('FILE_UNREADABLE', `${st.name}: ${(e as Error).message}.`, { cause: e });
      }
      if (n === 0) throw new VerificationError('FILE_SIZE_MISMATCH', `${st.name} became shorter while being read.`, { details: { file: st.name } });
      got += n;
    }
  }

  private async tensorsOverlapping(st: FileState, start: number, end: number): Promise<string[]> {
    let idx = st.indexValue;
    if (!idx && !st.indexing) {
      try {
        idx = await this.indexOf(st);
      } catch {
        return [];
      }
    }
    if (!idx) return [];
    return idx.tensors.filter((t) => t.end > start && t.start < end && t.end > t.start).map((t) => t.name);
  }

  private checkRange(st: FileState, offset: number, length: number): void {
    if (!Number.isSafeInteger(offset) || offset < 0) throw rangeError(`offset ${offset} must be a non-negative integer.`);
    if (!Number.isSafeInteger(length) || length < 0) throw rangeError(`length ${length} must be a non-negative integer.`);
    if (offset + length > st.size) throw rangeError(`bytes [${offset}, ${offset + length}) lie outside ${st.name} (${st.size} bytes).`);
  }

  /**
   * Reads bytes [offset, offset + length) of a signed file. Resolves only after every unit covering
   * the range verified; rejects with RANGE_MISMATCH (VerificationError) otherwise.
   */
  async read(path: string, offset: number, length: number): Promise<Buffer> {
    const st = this.state(path);
    this.checkRange(st, offset, length);
    const out = Buffer.allocUnsafe(length);
    let at = 0;
    for await (const chunk of this.chunks(st.name, offset, offset + length)) {
      chunk.copy(out, at);
      at += chunk.length;
    }
    return out;
  }

  /**
   * Verifies bytes [start, end) of a file without returning them (memory: one unit). Returns the
   * bytes read and hashed (whole units, none for cached ones), at most one unit beyond each edge.
   */
  async verifyRange(path: string, start: number, end: number): Promise<number> {
    const st = this.state(path);
    this.checkRange(st, start, end - start);
    const before = this.stats.bytesRead;
    for await (const _ of this.chunks(st.name, start, end)) void _;
    return this.stats.bytesRead - before;
  }

  /**
   * Verified chunks of [start, end) (end exclusive), one per unit.
   *
   * With `reuseBuffers: true` a chunk is valid only until the next one is asked for (the loop's next
   * turn): multi-unit reads on the worker pool then read into a few recycled buffers instead of a
   * fresh one per batch, and those units are not kept in the verified cache. Copy a chunk to keep
   * it. The verification contract is the same: no byte is returned before its unit is verified.
   */
  chunks(path: string, start = 0, end?: number, options: ChunkOptions = {}): AsyncGenerator<Buffer> {
    return this.stream(
      [
        () => {
          const st = this.state(path);
          const e = end ?? st.size;
          this.checkRange(st, start, e - start);
          return { st, start, end: e };
        },
      ],
      () => options.reuseBuffers === true,
      (_st, _offset, bytes) => bytes,
    );
  }

  /**
   * Verified chunks of several whole files, file after file, one per unit: what streaming a whole
   * model through {@link chunks} file by file gives, except that the next file's first units are
   * read and verified while the current file's last ones are (the cores do not drain at each file
   * end). `paths` default to every signed file, in {@link files} order; each is checked to be a file
   * of the signed model before any byte is read. A file is opened when its first units are issued.
   *
   * The contract is {@link chunks}': no byte is returned before its unit is verified; a failing
   * unit rejects with RANGE_MISMATCH (naming file, range and tensors) after every chunk before it,
   * of this file and of earlier ones, was handed out. Stopping early (`break`, `return()`) is safe
   * with units of the next file in flight; {@link close} waits for them. With `reuseBuffers: true`
   * a chunk's bytes are valid only until the next chunk is asked for. Memory stays bounded as for
   * {@link chunks} (SHA-256 batches are twice as large here: see NATIVE_MULTI_FILE_BATCH_SCALE).
   *
   * @example
   * for await (const { path, offset, bytes } of m.chunksOfFiles(undefined, { reuseBuffers: true })) load(path, offset, bytes);
   */
  chunksOfFiles(paths?: readonly string[], options: ChunkOptions = {}): AsyncGenerator<VerifiedChunk> {
    const names = (): string[] => {
      if (paths === undefined) return this.fileNames();
      if (!Array.isArray(paths) || paths.some((x) => typeof x !== 'string')) throw new InputError('USAGE', 'chunksOfFiles: paths must be an array of file paths of the signed model (or undefined for every file).');
      return paths.map((x) => this.nameOf(x));
    };
    const segs = (): Array<() => StreamSegment> =>
      names().map((n) => () => {
        const st = this.state(n);
        return { st, start: 0, end: st.size };
      });
    return this.stream(segs, () => options.reuseBuffers === true, (st, offset, bytes) => ({ path: st.name, offset, bytes }));
  }

  /**
   * The engine of {@link chunks} and {@link chunksOfFiles}: verified chunks of consecutive
   * segments (a byte range of one file each), with one prefetch window across segments. `segs` is
   * evaluated at the first `next()` (so argument errors reject it, as from an async generator), and
   * each segment thunk when the window reaches it (its errors surface in order, after every earlier
   * chunk).
   */
  private async *stream<T>(segs: Array<() => StreamSegment> | (() => Array<() => StreamSegment>), reuseOf: () => boolean, wrap: (st: FileState, offset: number, bytes: Buffer) => T): AsyncGenerator<T> {
    const list = typeof segs === 'function' ? segs() : segs;
    const reuse = reuseOf();
    const shape = this.nativeShape();
    interface Entry {
      st: FileState;
      u: Unit;
      /** The chunk: bytes [lo, hi) of the file. */
      lo: number;
      hi: number;
      /** The unit's bytes (pool / calling thread / cache) … */
      p?: Promise<Buffer>;
      /** … or unit k of a native batch. */
      batch?: Promise<Array<Buffer | ModelsealError>>;
      k: number;
      /** The last unit of a recycled batch: its buffer goes back (keeping at most `release`) once the consumer moves past it. */
      release: number;
    }
    // the segment being issued
    let fp: { st: FileState; start: number; end: number; units: Unit[]; onPool: boolean; native: boolean; perBatch: number; depth: number; keep: number; first: boolean } | undefined;
    let si = 0;
    let next = 0;
    let failed: Promise<Buffer> | undefined;
    let firstTurn = true;
    let groups = 0;
    const ahead: Entry[] = [];
    const open = (seg: StreamSegment, first: boolean): NonNullable<typeof fp> => {
      const { st, start, end } = seg;
      const units = this.unitsOver(st, start, end);
      // more than one unit: on the worker pool, in batches of consecutive units, two batches per
      // worker ahead of the consumer; a single-unit read (a header, a small tensor) stays on this
      // thread, where it needs no worker start
      const onPool = this.workers > 0 && units.length > 1;
      // the native path when the addon serves these units (checked on the first full batch's worth)
      const kinds = onPool ? this.nativeKinds(st, units.slice(0, 2)) : undefined;
      const native = kinds !== undefined;
      const batchBytes = list.length > 1 && kinds?.[0]?.algorithm === 'sha256' ? NATIVE_MULTI_FILE_BATCH_SCALE * NATIVE_BATCH_BYTES : NATIVE_BATCH_BYTES;
      const perBatch = native
        ? Math.max(st.unitBytes <= NATIVE_MAX_UNIT_BYTES ? 2 : 1, Math.floor(batchBytes / Math.max(1, st.unitBytes))) * shape.threads
        : Math.max(1, Math.floor(POOL_BATCH_BYTES / Math.max(1, st.unitBytes)));
      const batchesAhead = native ? shape.calls + (nativePipelineOn() ? PIPELINE_EXTRA_BATCHES : NATIVE_EXTRA_BATCHES) : POOL_BATCHES_PER_WORKER * this.workers;
      // Up to PREFETCH_UNITS units are read and verified ahead, in order; memory stays bounded by them.
      const depth = onPool ? batchesAhead * perBatch : PREFETCH_UNITS;
      return { st, start, end, units, onPool, native, perBatch, depth, keep: batchesAhead + 1, first };
    };
    const fill = (): void => {
      for (;;) {
        if (fp === undefined || next >= fp.units.length) {
          // the next segment's first units go out while this one's last ones run, within the window
          if (failed || si >= list.length || (fp !== undefined && ahead.length >= fp.depth)) return;
          try {
            fp = open(list[si]!(), si === 0);
          } catch (e) {
            // surfaced in order, after every chunk already in the window
            failed = Promise.reject(e as Error);
            failed.catch(() => undefined);
            ahead.push({ st: undefined as unknown as FileState, u: { start: 0, end: 0, index: 0 }, lo: 0, hi: 0, p: failed, k: 0, release: 0 });
            return;
          }
          si++;
          next = 0;
          continue;
        }
        const { st, units, native, perBatch, depth, onPool, start, end } = fp;
        if (ahead.length >= depth) return;
        // native batches go out whole (a 1-unit batch would idle the second SHA-256 lane)
        if (native && depth - ahead.length < Math.min(perBatch, units.length - next)) return;
        const u = units[next]!;
        const hit = this.cached(st, u);
        const entry = (v: Unit, k: number, p: Promise<Buffer> | undefined, batch?: Promise<Array<Buffer | ModelsealError>>): Entry => ({ st, u: v, lo: Math.max(start, v.start), hi: Math.min(end, v.end), p, batch, k, release: 0 });
        if (hit) {
          ahead.push(entry(u, 0, Promise.resolve(hit)));
          next++;
        } else if (!onPool || u.end - u.start > MAX_UNIT_BYTES) {
          // (a unit over the limit: unit() rejects it with RANGE_TOO_COARSE in its turn)
          const p = this.unit(st, u);
          p.catch(() => undefined); // surfaced when its turn comes; never an unhandled rejection
          ahead.push(entry(u, 0, p));
          next++;
        } else {
          const group: Unit[] = [];
          let bytes = 0;
          // a native stream's first batch is one lane pair, alone on the cores, so the first verified
          // byte waits for two leaves hashed side by side (about the time of one), not for 4 MiB batches
          const limit = native && next === 0 && fp.first ? Math.min(perBatch, 2) : perBatch;
          while (next < units.length && group.length < limit && ahead.length + group.length < depth) {
            const v = units[next]!;
            const tooBig = v.end - v.start > MAX_UNIT_BYTES;
            if (group.length > 0 && (tooBig || (!native && bytes + (v.end - v.start) > POOL_BATCH_BYTES) || this.cache.has(`${st.name}\0${v.index}`))) break;
            group.push(v);
            bytes += v.end - v.start;
            next++;
          }
          const kinds = native ? this.nativeKinds(st, group) : undefined;
          if (kinds) {
            const batch = this.nativeUnits(st, group, kinds, reuse);
            batch.catch(() => undefined); // surfaced when its turn comes; never an unhandled rejection
            for (let k = 0; k < group.length; k++) ahead.push(entry(group[k]!, k, undefined, batch));
          } else {
            const ps = this.pooledUnits(st, group, reuse);
            for (let k = 0; k < group.length; k++) {
              ps[k]!.catch(() => undefined);
              ahead.push(entry(group[k]!, k, ps[k]!));
            }
          }
          if (reuse) ahead[ahead.length - 1]!.release = fp.keep;
        }
        // first turn: one batch per concurrent call (the first pair has a core to itself); the
        // queued one goes out on the next turn
        if (native && firstTurn && ++groups >= shape.calls) return;
      }
    };
    for (;;) {
      fill();
      firstTurn = false;
      const x = ahead.shift();
      if (x === undefined) return;
      let data: Buffer;
      if (x.batch) {
        const r = (await x.batch)[x.k]!;
        if (r instanceof Error) throw r;
        data = r;
      } else data = await x.p!;
      const lo = x.lo - x.u.start;
      const hi = x.hi - x.u.start;
      yield wrap(x.st, x.lo, lo === 0 && hi === data.length ? data : data.subarray(lo, hi));
      // the consumer asked for the next chunk: the last unit of a batch frees the batch's buffer
      if (x.release > 0) {
        this.pool?.release(data.buffer, x.release);
        this.ring?.release(data.buffer as ArrayBuffer, x.release);
      }
    }
  }

  /**
   * A Node Readable of verified bytes `start`..`end` (both inclusive, as `fs.createReadStream`).
   * The stream errors with RANGE_MISMATCH before emitting any byte of a failing unit; the units
   * before it were emitted already. The next unit is read and verified while the consumer handles
   * the previous one (highWaterMark: one unit).
   */
  createReadStream(path: string, options: { start?: number; end?: number } = {}): Readable {
    const st = this.state(path);
    const start = options.start ?? 0;
    const endExcl = options.end === undefined ? st.size : options.end + 1;
    this.checkRange(st, start, Math.max(0, endExcl - start));
    return Readable.from(this.chunks(path, start, endExcl), { objectMode: false, highWaterMark: st.unitBytes });
  }

  /** The same as {@link createReadStream}, as a web `ReadableStream` of bytes. */
  createWebStream(path: string, options: { start?: number; end?: number } = {}): ReadableStream<Uint8Array> {
    const st = this.state(path);
    const start = options.start ?? 0;
    const endExcl = options.end === undefined ? st.size : options.end + 1;
    this.checkRange(st, start, Math.max(0, endExcl - start));
    const it = this.chunks(path, start, endExcl);
    return new ReadableStream<Uint8Array>({
      async pull(controller) {
        const r = await it.next();
        if (r.done) controller.close();
        else controller.enqueue(new Uint8Array(r.value.buffer, r.value.byteOffset, r.value.byteLength));
      },
      async cancel() {
        await it.return(undefined);
      },
    });
  }

  private indexOf(st: FileState): Promise<TensorIndex> {
    if (!st.index) {
      st.indexing = true;
      st.index = (async () => {
        try {
          const first = await this.read(st.name, 0, Math.min(8, st.size));
          const format = detectTensorFormat(first, st.size, basename(st.abs)); // "." names a single-file model: detect by its real name
          if (!format) throw new InputError('NOT_A_TENSOR_FILE', `${st.name} is neither safetensors nor GGUF; it has no tensors to list.`);
          // the parser reads only through read(): header bytes are verified before they are parsed
          const idx = await readTensorIndex(format, (o, l) => this.read(st.name, o, l), st.size, st.name);
          st.indexValue = idx;
          return idx;
        } finally {
          st.indexing = false;
        }
      })();
      st.index.catch(() => {
        st.index = undefined; // a failed header read may be retried (e.g. after a transient error)
      });
    }
    return st.index;
  }

  /** The tensors of a safetensors or GGUF file, parsed from verified header bytes. */
  async tensors(path: string): Promise<TensorRange[]> {
    return (await this.indexOf(this.state(path))).tensors.map((t) => ({ ...t, shape: [...t.shape] }));
  }

  /** Bytes [0, headerBytes) of a tensor file, and its format. */
  async tensorIndex(path: string): Promise<TensorIndex> {
    return this.indexOf(this.state(path));
  }

  /** One tensor's verified bytes. */
  async readTensor(path: string, name: string): Promise<Buffer> {
    const t = (await this.indexOf(this.state(path))).tensors.find((x) => x.name === name);
    if (!t) throw new InputError('TENSOR_NOT_FOUND', `${path} has no tensor ${JSON.stringify(name)}; \`tensors()\` lists them.`);
    return this.read(path, t.start, t.end - t.start);
  }

  /**
   * The companion leaves covering bytes [start, end) of a file, as a layout for `verifyGpuBuffer`:
   * a runtime that uploaded the leaf-aligned `span` of the file into a GPUBuffer (at buffer offset 0)
   * checks exactly those leaves on the device. The expected values come from the sidecar entries,
   * already checked against the signed root. BLAKE3 companions give subtree CVs ('cv'), RFC 9162
   * SHA-256 companions leaf hashes ('leaf': the kernel adds the 0x00 prefix).
   */
  gpuLeafLayout(path: string, start: number, end: number): { span: { start: number; end: number }; layout: GpuLeafLayout; expected: string[] } {
    const st = this.state(path);
    this.checkRange(st, start, end - start);
    if (!st.leaf) {
      throw new InputError('GPU_LEAVES_UNSUPPORTED', `${st.name} has no Merkle companion leaves; GPU leaf checks need a model signed with --merkle.`);
    }
    const units = this.unitsOver(st, start, end);
    const span = { start: units[0]?.start ?? start, end: units[units.length - 1]?.end ?? start };
    if (st.leaf.file.tree === 'rfc9162-sha256') {
      const ranges = units.map((u) => ({ name: `${st.name}:${u.start}:${u.end}`, offset: u.start - span.start, length: u.end - u.start, output: 'leaf' as const }));
      const expected = units.map((u) => Buffer.from(st.leaf!.entries[u.index]!).toString('hex'));
      return { span, layout: { algorithm: 'sha256', ranges }, expected };
    }
    const single = st.leaf.entries.length === 0;
    const ranges = units.map((u) => ({
      name: `${st.name}:${u.start}:${u.end}`,
      offset: u.start - span.start,
      length: u.end - u.start,
      output: single ? ('digest' as const) : ('cv' as const),
      chunkCounter: u.start / 1024,
    }));
    const expected = units.map((u) => (single ? st.leaf!.file.root : Buffer.from(st.leaf!.entries[u.index]!).toString('hex')));
    return { span, layout: { algorithm: 'blake3', ranges }, expected };
  }

  /** Closes the files. Reads after close are refused. */
  async close(): Promise<void> {
    this.closed = true;
    // units still on the pool read these descriptors: let them finish before closing them
    await Promise.allSettled([...this.inFlight]);
    await this.pool?.close();
    this.pool = undefined;
    this.ring?.close();
    for (const st of this.states.values()) closeSync(st.fd);
    this.states.clear();
    this.cache.clear();
  }
}

/**
 * Opens a signed model for verified reads. The OMS bundle's signature is checked first (the same
 * trust options as verifyModel: exactly one of publicKey, certRoot, sigstore); then the companion,
 * when present, against the verified root. No model byte is read before both pass.
 *
 * @example
 * const m = await openVerified('./model', { signature: './model.sig', publicKey: 'pub.pem' });
 * const w = await m.readTensor('model.safetensors', 'lm_head.weight'); // verified bytes
 * await m.close();
 */
export async function openVerified(modelPath: string, options: OpenVerifiedOptions): Promise<VerifiedModel> {
  if (typeof options?.signature !== 'string') throw new TypeError('options.signature must be the path of the OMS bundle');
  const workers = options.workers ?? defaultWorkers();
  if (!Number.isInteger(workers) || workers < 0 || workers > 256) throw new InputError('BAD_WORKERS', `workers must be an integer from 0 to 256 (got ${String(options.workers)}).`);
  const trust = trustOptionsOf(options);
  const bundle = readBundleFile(options.signature);
  const v = await verifyBundleSignature(bundle, trust, { expectedPayloadType: IN_TOTO_PAYLOAD_TYPE });
  const manifest = statementToManifest(parseStatementJson(v.payload)).manifest;
  const cpath = findCompanion(options.signature, options.companion);
  const vc = cpath !== undefined ? await verifyCompanion(cpath, trust, v.signer, manifest) : undefined;
  let root: string;
  let isFile: boolean;
  try {
    root = realpathSync(modelPath);
    isFile = statSync(root).isFile();
  } catch (e) {
    throw new InputError('MODEL_NOT_FOUND', `${modelPath}: ${(e as Error).message}; check the model path.`, { cause: e });
  }
  const blake3 = manifest.serialization.hashType === 'blake3' ? await blake3LeafHasher() : undefined;
  if (options.verifier !== undefined && options.verifier !== 'native' && options.verifier !== 'pool') throw new InputError('USAGE', `verifier must be 'native' or 'pool' (got ${String(options.verifier)}).`);
  return new VerifiedModel(root, isFile, manifest, vc, blake3, v.signer, workers, options.verifier ?? 'native');
}

/** One tensor's outcome in {@link verifyTensors}. */
export interface TensorVerdict {
  file: string;
  name: string;
  start: number;
  end: number;
  verified: boolean;
  /** The error code when not verified (RANGE_MISMATCH, …). */
  code?: string;
}

export interface VerifyTensorsResult {
  verified: boolean;
  /** `tensors verified: k of n` (n: tensors in the files searched), or why it failed. */
  summary: string;
  selected: TensorVerdict[];
  total: number;
  unmatched: string[];
  granularity: Granularity;
  rootDigest: string;
  signer: SignerInfo;
  /** Bytes of the model hashed, and its total size over the files searched. */
  bytesHashed: number;
  bytesTotal: number;
  notes: string[];
}

/**
 * Verifies only the tensors named by `patterns` (exact names or globs: `*`, `?`, `[…]`), in `files`
 * (default: every safetensors / GGUF file of the model): each tensor's leaves, plus the header bytes
 * that locate it. The verdict is a subset verdict, never "model verified".
 */
export async function verifyTensors(modelPath: string, patterns: string[], options: OpenVerifiedOptions & { files?: string[] }): Promise<VerifyTensorsResult> {
  if (!Array.isArray(patterns) || patterns.length === 0) throw new InputError('USAGE', 'name at least one tensor (--tensor NAME or GLOB).');
  const m = await openVerified(modelPath, options);
  try {
    const res = patterns.map((p) => ({ p, re: globToRegExp(p), hit: false }));
    const files = options.files ?? m.files().filter((f) => /\.(safetensors|gguf)$/i.test(f.path === '.' ? modelPath : f.path)).map((f) => f.path);
    const selected: TensorVerdict[] = [];
    let total = 0;
    let bytesTotal = 0;
    const before = m.stats.bytesRead;
    for (const file of files) {
      const idx = await m.tensorIndex(file); // header verified before it is trusted; a failure throws
      total += idx.tensors.length;
      bytesTotal += m.fileInfo(file).size;
      for (const t of idx.tensors) {
        const match = res.filter((r) => r.re.test(t.name));
        if (match.length === 0) continue;
        for (const r of match) r.hit = true;
        try {
          await m.verifyRange(file, t.start, t.end);
          selected.push({ file, name: t.name, start: t.start, end: t.end, verified: true });
        } catch (e) {
          if (!(e instanceof ModelsealError) || e.kind !== 'verification') throw e;
          selected.push({ file, name: t.name, start: t.start, end: t.end, verified: false, code: e.code });
        }
      }
    }
    const unmatched = res.filter((r) => !r.hit).map((r) => r.p);
    const ok = selected.length > 0 && selected.every((s) => s.verified) && unmatched.length === 0;
    const good = selected.filter((s) => s.verified).length;
    const failed = selected.length - good;
    const summary = ok
      ? `tensors verified: ${good} of ${total}`
      : `tensor verification FAILED: ${[failed ? `${failed} tensor(s) do not match` : '', unmatched.length ? `${unmatched.length} pattern(s) matched no tensor` : '', selected.length === 0 && unmatched.length === 0 ? 'no tensor selected' : ''].filter(Boolean).join(', ')} (${good} of ${total} verified)`;
    return { verified: ok, summary, selected, total, unmatched, granularity: m.granularity, rootDigest: m.rootDigest, signer: m.signer, bytesHashed: m.stats.bytesRead - before, bytesTotal, notes: m.notes };
  } finally {
    await m.close();
  }
}
