/**
 * `wasm`: SHA-256 and BLAKE3 in WebAssembly with SIMD128 (our C sources in wasm/src/, built by
 * scripts/build-wasm.sh into the committed wasm/modelseal.wasm). The CPU backend for machines
 * without the native addon.
 *
 * - SHA-256: up to 4 leaves of a batch are hashed at once, one per u32 lane of each v128
 *   (multi-buffer); with fewer than 3 leaves in flight the scalar kernel runs (SHA-256 cannot be
 *   vectorised within one message).
 * - BLAKE3: 4 chunks per SIMD128 compression, subtrees reduced 4 parents at a time; 'cv' leaves
 *   are subtree chaining values at chunk counter offset/1024 (64-bit), without the ROOT flag.
 *
 * File ranges are read with fs.readSync straight into the module's memory (a page-aligned 4 MiB
 * IO buffer; 4 lanes of 1 MiB for SHA-256), so bytes are copied once, by the kernel.
 */
import { closeSync, readFileSync, readSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ModelsealError, UnavailableError } from '../errors.js';
import { batchProgress, fileChanged, fileError } from './file-reader.js';
import { identityOf, openChecked } from '../io/open-checked.js';
import {
  BLAKE3_CHUNK_BYTES,
  type BackendOptions,
  type BatchControl,
  type CpuBackendModule,
  type HashAlgorithm,
  type Leaf,
  type LeafBatch,
  type LeafHasher,
  type ProbeResult,
} from './types.js';

/** The module, relative to this file (src/backends/ and dist/backends/ are both two levels down). */
export const WASM_MODULE_PATH = fileURLToPath(new URL('../../wasm/modelseal.wasm', import.meta.url));

/** Must equal ms_abi_version() of the module (wasm/src/io.c). */
const ABI_VERSION = 1;

/** Kernels that can be forced through BackendOptions.kernels (e.g. `{ sha256: 'scalar' }`). */
export const WASM_KERNELS = ['sha256=x4', 'sha256=scalar', 'blake3=simd128', 'blake3=scalar'] as const;

/**
 * With fewer active SHA-256 lanes than this, the scalar kernel runs instead of the 4-lane one: a
 * 4-lane step costs about 2x a scalar block (dev machine: 0.50 GB/s over 4 lanes against 0.26 for
 * one stream) whether 1 or 4 lanes carry a message, so it breaks even at 2 and wins from 3 on.
 */
const SHA256_X4_MIN_LANES = 3;

/*
 * The few WebAssembly JS-API types used here. The project compiles against lib ES2023 without DOM,
 * which has no WebAssembly declarations, so they are declared locally.
 */
declare const WASM_MODULE_BRAND: unique symbol;
/** A compiled WebAssembly.Module (opaque). */
interface WasmModule {
  readonly [WASM_MODULE_BRAND]: true;
}
interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: object) => { exports: unknown };
}
const WA = (globalThis as { WebAssembly?: WebAssemblyApi }).WebAssembly;

interface WasmExports {
  memory: { buffer: ArrayBuffer };
  ms_abi_version(): number;
  ms_io_buffer(): number;
  ms_io_bytes(): number;
  ms_lanes(): number;
  ms_param_area(): number;
  sha256_init(lane: number): void;
  sha256_update(lane: number, ptr: number, len: number): void;
  sha256_update_x4(p0: number, p1: number, p2: number, p3: number, nblocks: number): number;
  sha256_final(lane: number, out: number): void;
  blake3_set_kernel(kernel: number): void;
  blake3_init(counterLo: number, counterHi: number): void;
  blake3_update(ptr: number, len: number): void;
  blake3_finalize(out: number, root: number): void;
  blake3_parent(block: number, root: number, out: number): void;
}

type Compiled = { ok: true; module: WasmModule } | { ok: false; reason: string };
let compiled: Compiled | undefined;

/** Compiles the module once per thread (synchronously: workers create hashers synchronously). */
function compile(): Compiled {
  if (compiled) return compiled;
  compiled = compileUncached();
  return compiled;
}

function compileUncached(): Compiled {
  if (!WA) return { ok: false, reason: 'this JavaScript engine has no WebAssembly' };
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(WASM_MODULE_PATH);
  } catch (e) {
    return { ok: false, reason: `${WASM_MODULE_PATH} cannot be read (${(e as Error).message}); rebuild it with scripts/build-wasm.sh` };
  }
  let module: WasmModule;
  try {
    module = new WA.Module(bytes);
  } catch (e) {
    // A CompileError here is almost always a missing feature: the module needs SIMD128 and bulk memory.
    return {
      ok: false,
      reason: `the WebAssembly module does not compile here (${(e as Error).message}); it needs WebAssembly SIMD128 and bulk memory (Node >= 16.4)`,
    };
  }
  try {
    const abi = (new WA.Instance(module, {}).exports as unknown as WasmExports).ms_abi_version();
    if (abi !== ABI_VERSION) return { ok: false, reason: `${WASM_MODULE_PATH} has ABI ${abi}, this code expects ${ABI_VERSION}; rebuild it with scripts/build-wasm.sh` };
  } catch (e) {
    return { ok: false, reason: `the WebAssembly module does not instantiate (${(e as Error).message})` };
  }
  return { ok: true, module };
}

/** One module instance: its own memory, lane states and BLAKE3 hasher. */
class WasmInstance {
  readonly x: WasmExports;
  /** A view on the whole memory (the memory never grows, so the view stays valid). */
  readonly mem: Uint8Array;
  readonly io: number;
  readonly ioBytes: number;
  readonly lanes: number;
  readonly laneBytes: number;
  readonly param: number;

  constructor(module: WasmModule) {
    this.x = new WA!.Instance(module, {}).exports as unknown as WasmExports;
    this.mem = new Uint8Array(this.x.memory.buffer);
    this.io = this.x.ms_io_buffer();
    this.ioBytes = this.x.ms_io_bytes();
    this.lanes = this.x.ms_lanes();
    this.laneBytes = this.ioBytes / this.lanes;
    this.param = this.x.ms_param_area();
  }

  result(ptr: number): Uint8Array {
    return this.mem.slice(ptr, ptr + 32);
  }

  blake3Bytes(data: Uint8Array, chunkCounter: number, root: boolean): Uint8Array {
    const { x } = this;
    x.blake3_init(chunkCounter >>> 0, Math.floor(chunkCounter / 2 ** 32));
    for (let o = 0; o < data.length; o += this.ioBytes) {
      const piece = data.subarray(o, Math.min(data.length, o + this.ioBytes));
      this.mem.set(piece, this.io);
      x.blake3_update(this.io, piece.length);
    }
    x.blake3_finalize(this.param, root ? 1 : 0);
    return this.result(this.param);
  }

  sha256Bytes(data: Uint8Array): Uint8Array {
    const { x } = this;
    x.sha256_init(0);
    for (let o = 0; o < data.length; o += this.ioBytes) {
      const piece = data.subarray(o, Math.min(data.length, o + this.ioBytes));
      this.mem.set(piece, this.io);
      x.sha256_update(0, this.io, piece.length);
    }
    x.sha256_final(0, this.param);
    return this.result(this.param);
  }
}

function requireModule(): WasmModule {
  const c = compile();
  if (!c.ok) throw new UnavailableError('BACKEND_UNAVAILABLE', `the wasm backend is unavailable: ${c.reason}.`);
  return c.module;
}

function checkChunkCounter(chunkCounter: number): void {
  if (!Number.isSafeInteger(chunkCounter) || chunkCounter < 0) {
    throw new RangeError(`chunkCounter must be a non-negative safe integer, got ${chunkCounter}`);
  }
}

/**
 * Open files of one batch: a file is opened once even when it holds many leaves, and closed after
 * its last leaf in the batch, so a batch of many small files never holds more than a few open.
 */
class OpenFiles {
  private readonly fds = new Map<string, number>();
  /** Leaves of the batch per path not yet finished (lanes finish out of order). */
  private readonly pending = new Map<string, number>();

  constructor(leaves: Leaf[]) {
    for (const leaf of leaves) this.pending.set(leaf.path, (this.pending.get(leaf.path) ?? 0) + 1);
  }

  fd(leaf: Leaf): number {
    let fd = this.fds.get(leaf.path);
    if (fd === undefined) {
      fd = openChecked(leaf.path, identityOf(leaf));
      this.fds.set(leaf.path, fd);
    }
    return fd;
  }

  /** One leaf of `path` is finished; the file is closed after its last one. */
  done(path: string): void {
    const left = (this.pending.get(path) ?? 1) - 1;
    this.pending.set(path, left);
    const fd = this.fds.get(path);
    if (left === 0 && fd !== undefined) {
      this.fds.delete(path);
      closeSync(fd);
    }
  }

  closeAll(): void {
    for (const fd of this.fds.values()) closeSync(fd);
    this.fds.clear();
  }
}

/** Reads exactly `length` bytes at `position` into mem[dst...]; a short file is FILE_CHANGED. */
function readFully(mem: Uint8Array, fd: number, path: string, dst: number, length: number, position: number, control: BatchControl | undefined): void {
  let got = 0;
  while (got < length) {
    let n: number;
    try {
      n = readSync(fd, mem, dst + got, length - got, position + got);
    } catch (e) {
      throw fileError(path, e);
    }
    if (n === 0) throw fileChanged(path);
    got += n;
  }
  batchProgress(control, length);
}

/** One SHA-256 leaf in flight in a lane: its file position and its bytes waiting in the lane buffer. */
interface Sha256Lane {
  index: number;
  leaf: Leaf;
  fd: number;
  /** Next file position to read and bytes of the leaf still unread. */
  filePos: number;
  fileLeft: number;
  /** Unhashed bytes in the lane buffer: memory addresses [bufPos, bufEnd). */
  bufPos: number;
  bufEnd: number;
}

class WasmLeafHasher implements LeafHasher {
  readonly name = 'wasm' as const;
  private readonly w: WasmInstance;
  private readonly sha256Lanes: number;
  /** The running batch's progress/abort channel (hashLeaves is synchronous: one batch at a time). */
  private control: BatchControl | undefined;

  constructor(module: WasmModule, options: BackendOptions = {}) {
    this.w = new WasmInstance(module);
    const k = options.kernels ?? {};
    const sha = k.sha256 ?? 'x4';
    const b3 = k.blake3 ?? 'simd128';
    if (sha !== 'x4' && sha !== 'scalar') throw new RangeError(`unknown wasm sha256 kernel '${sha}' (use x4 or scalar)`);
    if (b3 !== 'simd128' && b3 !== 'scalar') throw new RangeError(`unknown wasm blake3 kernel '${b3}' (use simd128 or scalar)`);
    this.sha256Lanes = sha === 'x4' ? this.w.lanes : 1;
    this.w.x.blake3_set_kernel(b3 === 'scalar' ? 1 : 0);
  }

  hashLeaves(batch: LeafBatch): Uint8Array[] {
    const files = new OpenFiles(batch.leaves);
    this.control = batch.control;
    try {
      switch (batch.algorithm) {
        case 'sha256':
          for (const leaf of batch.leaves) {
            if (leaf.output !== 'digest') throw new RangeError("'cv' leaves exist only for blake3");
          }
          return this.sha256Leaves(batch.leaves, files);
        case 'blake3':
          return batch.leaves.map((leaf) => {
            const cv = this.blake3Leaf(leaf, files);
            files.done(leaf.path);
            return cv;
          });
        default:
          throw new UnavailableError('BACKEND_ALGORITHM', `the wasm backend does not compute ${batch.algorithm}; it offers sha256 and blake3.`);
      }
    } finally {
      this.control = undefined;
      files.closeAll();
    }
  }

  hashBytes(algorithm: HashAlgorithm, data: Uint8Array, output: 'digest' | 'cv', chunkCounter = 0): Uint8Array {
    checkChunkCounter(chunkCounter);
    if (algorithm === 'blake3') {
      if (output === 'digest' && chunkCounter !== 0) throw new RangeError("a BLAKE3 'digest' starts at chunk counter 0; use output 'cv' for a subtree");
      return this.w.blake3Bytes(data, chunkCounter, output === 'digest');
    }
    if (algorithm === 'sha256') {
      if (output !== 'digest') throw new RangeError("'cv' output exists only for blake3");
      return this.w.sha256Bytes(data);
    }
    throw new UnavailableError('BACKEND_ALGORITHM', `the wasm backend does not compute ${algorithm}; it offers sha256 and blake3.`);
  }

  private blake3Leaf(leaf: Leaf, files: OpenFiles): Uint8Array {
    const { w } = this;
    let counter = 0;
    if (leaf.output === 'cv') {
      if (leaf.offset % BLAKE3_CHUNK_BYTES !== 0) throw new RangeError(`a BLAKE3 'cv' leaf must start at a multiple of ${BLAKE3_CHUNK_BYTES}, got offset ${leaf.offset}`);
      counter = leaf.offset / BLAKE3_CHUNK_BYTES;
    }
    const fd = files.fd(leaf);
    w.x.blake3_init(counter >>> 0, Math.floor(counter / 2 ** 32));
    let pos = leaf.offset;
    let left = leaf.length;
    while (left > 0) {
      const n = Math.min(left, w.ioBytes);
      readFully(w.mem, fd, leaf.path, w.io, n, pos, this.control);
      w.x.blake3_update(w.io, n);
      pos += n;
      left -= n;
    }
    w.x.blake3_finalize(w.param, leaf.output === 'digest' ? 1 : 0);
    return w.result(w.param);
  }

  /**
   * Streams up to 4 leaves at once through the lanes. Each lane has its own 1 MiB buffer, refilled
   * from its file when empty; every step hashes the whole blocks that all active lanes have. A
   * leaf's last partial block is absorbed by the scalar path when the leaf finishes, and the freed
   * lane takes the next leaf, so leaves of different lengths share the lanes.
   */
  private sha256Leaves(leaves: Leaf[], files: OpenFiles): Uint8Array[] {
    const { w } = this;
    const x = w.x;
    const results: Uint8Array[] = new Array<Uint8Array>(leaves.length);
    const lanes: (Sha256Lane | null)[] = new Array<Sha256Lane | null>(this.sha256Lanes).fill(null);
    let next = 0;
    for (;;) {
      for (let l = 0; l < lanes.length; l++) {
        let lane = lanes[l];
        if (!lane && next < leaves.length) {
          const leaf = leaves[next]!;
          const start = w.io + l * w.laneBytes;
          lane = { index: next, leaf, fd: files.fd(leaf), filePos: leaf.offset, fileLeft: leaf.length, bufPos: start, bufEnd: start };
          lanes[l] = lane;
          x.sha256_init(l);
          next++;
        }
        if (lane && lane.bufPos === lane.bufEnd && lane.fileLeft > 0) {
          // Lane buffers are a multiple of 64 bytes, so only a leaf's last read can end mid-block.
          const n = Math.min(lane.fileLeft, w.laneBytes);
          const start = w.io + l * w.laneBytes;
          readFully(w.mem, lane.fd, lane.leaf.path, start, n, lane.filePos, this.control);
          lane.filePos += n;
          lane.fileLeft -= n;
          lane.bufPos = start;
          lane.bufEnd = start + n;
        }
      }
      let finished = false;
      let active = 0;
      for (let l = 0; l < lanes.length; l++) {
        const lane = lanes[l];
        if (!lane) continue;
        const avail = lane.bufEnd - lane.bufPos;
        if (lane.fileLeft === 0 && avail < 64) {
          if (avail > 0) x.sha256_update(l, lane.bufPos, avail);
          x.sha256_final(l, w.param);
          results[lane.index] = w.result(w.param);
          files.done(lane.leaf.path);
          lanes[l] = null;
          finished = true;
        } else {
          active++;
        }
      }
      if (finished) continue; // give the freed lanes their next leaves first
      if (active === 0) break;
      if (active >= SHA256_X4_MIN_LANES) {
        let blocks = Infinity;
        let anyPtr = 0;
        for (const lane of lanes) {
          if (!lane) continue;
          blocks = Math.min(blocks, (lane.bufEnd - lane.bufPos) >>> 6);
          anyPtr = lane.bufPos;
        }
        // An idle lane hashes some other lane's bytes into its own (discarded) state.
        const p = lanes.map((lane) => (lane ? lane.bufPos : anyPtr));
        if (x.sha256_update_x4(p[0]!, p[1]!, p[2]!, p[3]!, blocks) !== 0) {
          throw new ModelsealError('INTERNAL', 'wasm sha256: a lane held a partial block before a 4-lane step (a bug in the lane scheduler).', { kind: 'internal' });
        }
        for (const lane of lanes) if (lane) lane.bufPos += blocks * 64;
      } else {
        for (let l = 0; l < lanes.length; l++) {
          const lane = lanes[l];
          if (!lane) continue;
          const n = (lane.bufEnd - lane.bufPos) & ~63;
          x.sha256_update(l, lane.bufPos, n);
          lane.bufPos += n;
        }
      }
    }
    return results;
  }
}

let shared: WasmInstance | undefined;

/**
 * BLAKE3 parent node of two 32-byte chaining values (tree-order merge of 'cv' leaves); with
 * `root` true the result is the digest of the whole input. Throws UnavailableError where the
 * module cannot run.
 */
export function blake3ParentWasm(left: Uint8Array, right: Uint8Array, root: boolean): Uint8Array {
  if (left.length !== 32) throw new RangeError(`left must be a 32-byte chaining value, got ${left.length} bytes`);
  if (right.length !== 32) throw new RangeError(`right must be a 32-byte chaining value, got ${right.length} bytes`);
  shared ??= new WasmInstance(requireModule());
  shared.mem.set(left, shared.param);
  shared.mem.set(right, shared.param + 32);
  shared.x.blake3_parent(shared.param, root ? 1 : 0, shared.param + 64);
  return shared.result(shared.param + 64);
}

/** The wasm CPU backend (probed in the main thread, one LeafHasher per worker). */
export const wasmBackend: CpuBackendModule = {
  name: 'wasm',
  probe(): ProbeResult {
    const c = compile();
    if (!c.ok) return { ok: false, name: 'wasm', reason: c.reason };
    return {
      ok: true,
      name: 'wasm',
      capabilities: {
        algorithms: ['sha256', 'blake3'],
        subtrees: true,
        detail: 'WebAssembly SIMD128: SHA-256 4 lanes (scalar for a lone leaf), BLAKE3 4-way chunks and parents',
        kernels: [...WASM_KERNELS],
      },
    };
  },
  createLeafHasher(options?: BackendOptions): LeafHasher {
    return new WasmLeafHasher(requireModule(), options);
  },
};
