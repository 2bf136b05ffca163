/**
 * The `webgpu` HashBackend: file ranges → GPU → digests / CVs.
 *
 * Leaves are cut into pieces that fit one upload batch (BLAKE3: aligned power-of-two subtrees whose
 * CVs are merged on the CPU, a handful per giant leaf; SHA-256: segments whose state carries over)
 * and packed into batches of `batchBytes`. A ring of slots (3 by default) pipelines the batches:
 * while the GPU copies and hashes batch k, the host reads batch k+1 from disk straight into a
 * mapped upload buffer (no extra host copy); only digests and CVs come back.
 *
 * The whole BLAKE3 tree above the 1 KiB chunks is merged on the GPU (in-workgroup reduction of
 * groups of chunks, 128 by default, then parent passes of the same fan-in); a CPU merge of per-chunk
 * CVs would cost one JS compression per KiB (~1 GB/s), far below any GPU's rate.
 */
import type { FileHandle } from 'node:fs/promises';
import { identityOf, openCheckedAsync } from '../../io/open-checked.js';
import { ModelsealError, UnavailableError } from '../../errors.js';
import { fileChanged, fileError } from '../file-reader.js';
import type { Capabilities, HashBackend, Leaf, LeafBatch, ProbeResult } from '../types.js';
import {
  acquireDevice,
  adapterLine,
  BUFFER_USAGE,
  describeAdapter,
  HARDWARE_BATCH_BYTES,
  MAP_MODE,
  requestAdapter,
  SOFTWARE_MAX_BUFFER_BYTES,
  type AdapterDescription,
} from './device.js';
import { encodeBlake3, encodeSha256, ScratchBuffers } from './encode.js';
import { getPipelines, type Pipelines } from './pipelines.js';
import { b3NodeBytes, cutLeaves, mergeSubtreeCvs, planBlake3, planSha256, shaStateBytes, type PlacedPiece } from './planner.js';
import type { WebGpuKernelTuning } from './tuning.js';

export interface WebGpuBackendOptions {
  /** Upload batch size in bytes (default: from the device limits; at most 64 MiB on software adapters). */
  batchBytes?: number;
  /** Upload slots in flight (2 = double, 3 = triple buffering). Default 3. */
  slots?: number;
  /** Largest single read issued to the file system; reads of one batch run concurrently. Default 8 MiB. */
  readBytes?: number;
  /** Kernel variant (default: resolveTuning's defaults and MODELSEAL_WEBGPU_* variables; see docs/gpu.md). */
  tuning?: Partial<WebGpuKernelTuning>;
}

/** The backend plus what a scheduler needs to feed it. */
export interface WebGpuBackend extends HashBackend {
  readonly device: GPUDevice;
  readonly adapter: AdapterDescription;
  /** A good amount of work per hashLeaves call, in bytes (one batch per slot in flight). */
  readonly preferredBatchBytes: number;
  /** Bytes per upload batch. */
  readonly batchBytes: number;
}

/** Probes for a WebGPU adapter. Never throws. */
export async function probeWebGpu(): Promise<ProbeResult> {
  try {
    const adapter = await requestAdapter();
    if (!adapter) {
      return {
        ok: false,
        name: 'webgpu',
        reason: 'no WebGPU adapter (no Vulkan driver for a GPU and no software Vulkan such as Mesa lavapipe)',
      };
    }
    const d = describeAdapter(adapter);
    return { ok: true, name: 'webgpu', capabilities: capabilitiesOf(d, defaultBatchBytes(d)) };
  } catch (e) {
    return { ok: false, name: 'webgpu', reason: (e as Error).message };
  }
}

function capabilitiesOf(d: AdapterDescription, batchBytes: number): Capabilities {
  return {
    algorithms: ['sha256', 'blake3'],
    subtrees: true,
    // the engine's hybrid mode joins the CPU workers only on a hardware adapter
    software: d.software,
    preferredBatchBytes: batchBytes,
    detail:
      `adapter: ${adapterLine(d)}; vendor=${d.vendor || '?'} architecture=${d.architecture || '?'} device=${d.device || '?'} ` +
      `description=${d.description || '?'}; maxStorageBufferBindingSize=${d.maxStorageBufferBindingSize} maxBufferSize=${d.maxBufferSize}; ` +
      `batch ${batchBytes / 1048576} MiB; kernels sha256_leaves (one shard per invocation: needs many shards), blake3_chunks + blake3_parents (GPU tree merge)`,
  };
}

function defaultBatchBytes(d: AdapterDescription): number {
  const cap = d.software ? SOFTWARE_MAX_BUFFER_BYTES : HARDWARE_BATCH_BYTES;
  const lim = Math.min(d.maxStorageBufferBindingSize, d.maxBufferSize, cap);
  return Math.floor(lim / 65536) * 65536;
}

interface Slot {
  staging: GPUBuffer;
  data: GPUBuffer;
  scratch: ScratchBuffers;
  /** Settles when the slot's previous batch is done and its staging buffer is mapped again. */
  idle: Promise<void>;
}

class WebGpuHashBackend implements WebGpuBackend {
  readonly name = 'webgpu' as const;
  readonly capabilities: Capabilities;
  readonly preferredBatchBytes: number;
  private readonly slots: Slot[];
  private closed = false;
  private lost: string | null = null;
  private queueTail: Promise<unknown> = Promise.resolve();

  constructor(
    readonly device: GPUDevice,
    readonly adapter: AdapterDescription,
    private readonly pipelines: Pipelines,
    readonly batchBytes: number,
    slotCount: number,
    private readonly readBytes: number,
  ) {
    this.capabilities = capabilitiesOf(adapter, batchBytes);
    this.preferredBatchBytes = batchBytes * slotCount;
    this.slots = Array.from({ length: slotCount }, (_, i) => ({
      staging: device.createBuffer({
        label: `modelseal upload staging ${i}`,
        size: batchBytes,
        usage: BUFFER_USAGE.MAP_WRITE | BUFFER_USAGE.COPY_SRC,
        mappedAtCreation: true,
      }),
      data: device.createBuffer({ label: `modelseal batch data ${i}`, size: batchBytes, usage: BUFFER_USAGE.STORAGE | BUFFER_USAGE.COPY_DST }),
      scratch: new ScratchBuffers(device, `modelseal slot ${i}`),
      idle: Promise.resolve(),
    }));
    void device.lost.then((info) => {
      if (!this.closed) this.lost = `${info.reason}: ${info.message}`;
    });
  }

  /** Calls are serialised: the slots are shared state. */
  hashLeaves(batch: LeafBatch, signal?: AbortSignal): Promise<Uint8Array[]> {
    const run = this.queueTail.then(() => this.run(batch, signal));
    this.queueTail = run.catch(() => undefined);
    return run;
  }

  private check(signal?: AbortSignal): void {
    if (this.closed) throw new ModelsealError('BACKEND_CLOSED', 'the webgpu backend was closed; create a new one.', { kind: 'internal' });
    if (this.lost) throw new UnavailableError('WEBGPU_DEVICE_LOST', `the GPU device was lost (${this.lost}); hash again, or use a CPU backend.`);
    if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new ModelsealError('ABORTED', 'hashing was aborted.', { kind: 'internal' });
  }

  private async run(batch: LeafBatch, signal?: AbortSignal): Promise<Uint8Array[]> {
    this.check(signal);
    const algorithm = batch.algorithm;
    if (algorithm !== 'sha256' && algorithm !== 'blake3') {
      throw new UnavailableError('ALGORITHM_UNSUPPORTED', `the webgpu backend computes sha256 and blake3, not ${algorithm}; use a CPU backend for it.`);
    }
    const { batches, perLeaf } = cutLeaves(batch, this.batchBytes);
    const leafResults: Uint8Array[][] = perLeaf.map((n) => new Array<Uint8Array>(n));
    // SHA-256 state of the last finished segment of a leaf cut into several (resumes the next one).
    const shaStates = new Map<number, Promise<Uint32Array>>();
    const handles = new Map<string, Promise<FileHandle>>();
    const fh = (leaf: Leaf): Promise<FileHandle> => {
      let h = handles.get(leaf.path);
      if (!h) {
        h = openCheckedAsync(leaf.path, identityOf(leaf));
        handles.set(leaf.path, h);
      }
      return h;
    };
    const pending: Promise<void>[] = [];
    try {
      for (let bi = 0; bi < batches.length; bi++) {
        this.check(signal);
        if (batch.control && Atomics.load(batch.control.counters, 0) !== 0n) throw new ModelsealError('ABORTED', 'hashing was aborted.', { kind: 'internal' });
        const slot = this.slots[bi % this.slots.length]!;
        await slot.idle;
        if (slot.staging.mapState !== 'mapped') await slot.staging.mapAsync(MAP_MODE.WRITE);
        const placed = batches[bi]!;
        const view = new Uint8Array(slot.staging.getMappedRange(0, this.batchBytes));
        let used: number;
        try {
          used = await this.fill(view, placed, batch.leaves, fh);
        } finally {
          slot.staging.unmap();
        }
        // Resumed SHA-256 segments need the previous segment's state (an earlier batch).
        const initStates = new Map<number, Uint32Array>();
        for (const p of placed) if (p.sha && !p.sha.first) initStates.set(p.leaf, await shaStates.get(p.leaf)!);
        const done = this.submit(slot, placed, used, algorithm, initStates);
        const results = done.then((r) => {
          placed.forEach((p, i) => {
            leafResults[p.leaf]![p.piece] = r[i]!;
          });
          // progress inside a leaf cut into several batches: bytes count once their batch is hashed
          if (batch.control) Atomics.add(batch.control.counters, batch.control.slot, BigInt(placed.reduce((a, p) => a + p.length, 0)));
          return r;
        });
        for (const [i, p] of placed.entries()) {
          if (p.sha && !p.sha.final) shaStates.set(p.leaf, results.then((r) => new Uint32Array(r[i]!.slice().buffer)));
        }
        slot.idle = results.then(
          () => slot.staging.mapAsync(MAP_MODE.WRITE),
          () => slot.staging.mapAsync(MAP_MODE.WRITE),
        );
        pending.push(results.then(() => undefined));
      }
      await Promise.all(pending);
    } finally {
      // Every slot must be idle (mapped) before the next call, whatever happened.
      await Promise.allSettled(this.slots.map((s) => s.idle));
      await Promise.allSettled(pending);
      for (const h of handles.values()) void h.then((f) => f.close()).catch(() => undefined);
    }
    return leafResults.map((parts, li) => {
      if (parts.length === 1) return parts[0]!;
      if (algorithm === 'blake3') return mergeSubtreeCvs(parts, batch.leaves[li]!.output === 'digest');
      return parts[parts.length - 1]!;
    });
  }

  /** Reads every piece of the batch into the mapped staging view, concurrently. Returns the bytes used. */
  private async fill(view: Uint8Array, placed: PlacedPiece[], leaves: Leaf[], fh: (leaf: Leaf) => Promise<FileHandle>): Promise<number> {
    const reads: Array<() => Promise<void>> = [];
    let used = 0;
    for (const p of placed) {
      const leaf = leaves[p.leaf]!;
      const path = leaf.path;
      used = Math.max(used, p.batchOffset + p.length);
      for (let o = 0; o < p.length; o += this.readBytes) {
        const n = Math.min(this.readBytes, p.length - o);
        reads.push(async () => {
          const h = await fh(leaf);
          let got = 0;
          while (got < n) {
            let r: number;
            try {
              ({ bytesRead: r } = await h.read(view, p.batchOffset + o + got, n - got, p.fileOffset + o + got));
            } catch (e) {
              throw fileError(path, e);
            }
            if (r === 0) throw fileChanged(path);
            got += r;
          }
        });
      }
    }
    // A bounded number in flight: enough to keep the libuv pool busy.
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < reads.length) await reads[next++]!();
    };
    await Promise.all(Array.from({ length: Math.min(16, reads.length) }, worker));
    return used;
  }

  /** Copies, hashes and reads back one batch; resolves to one result per placed piece. */
  private async submit(slot: Slot, placed: PlacedPiece[], used: number, algorithm: 'sha256' | 'blake3' | string, initStates: Map<number, Uint32Array>): Promise<Uint8Array[]> {
    const device = this.device;
    const encoder = device.createCommandEncoder({ label: 'modelseal batch' });
    const copyBytes = Math.max(4, Math.ceil(used / 4) * 4);
    encoder.copyBufferToBuffer(slot.staging, 0, slot.data, 0, copyBytes);
    const window = { buffer: slot.data, offset: 0, size: copyBytes };
    let results: GPUBuffer;
    if (algorithm === 'blake3') {
      const plan = planBlake3(placed.map((p) => ({ ...p.b3!, byteOffset: p.batchOffset })), this.pipelines.tuning.b3Group);
      results = encodeBlake3(device, this.pipelines, encoder, window, plan, slot.scratch);
    } else {
      const plan = planSha256(
        placed.map((p) => ({ ...p.sha!, byteOffset: p.batchOffset, ...(p.sha!.first ? {} : { initState: initStates.get(p.leaf)! }) })),
      );
      results = encodeSha256(device, this.pipelines, encoder, [window], plan, slot.scratch);
    }
    const bytes = placed.length * 32;
    const readback = slot.scratch.get('readback', bytes, BUFFER_USAGE.MAP_READ | BUFFER_USAGE.COPY_DST);
    encoder.copyBufferToBuffer(results, 0, readback, 0, Math.ceil(bytes / 4) * 4);
    device.queue.submit([encoder.finish()]);
    await readback.mapAsync(MAP_MODE.READ, 0, Math.ceil(bytes / 256) * 256);
    const words = new Uint32Array(readback.getMappedRange(0, Math.ceil(bytes / 256) * 256).slice(0, bytes));
    readback.unmap();
    return placed.map((p, i) => {
      if (algorithm === 'blake3') return b3NodeBytes(words, i);
      // A SHA-256 segment that is not final hands its raw state words to the next one.
      return p.sha!.final ? shaStateBytes(words, i) : new Uint8Array(words.slice(i * 8, i * 8 + 8).buffer);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.queueTail;
    this.closed = true;
    await Promise.allSettled(this.slots.map((s) => s.idle));
    for (const s of this.slots) {
      s.scratch.destroy();
      s.staging.destroy();
      s.data.destroy();
    }
    this.device.destroy();
  }
}

/**
 * Creates the webgpu backend on the high-performance adapter. Throws UnavailableError (code
 * WEBGPU_NO_ADAPTER / WEBGPU_UNAVAILABLE) when there is no adapter or Dawn cannot load.
 */
export async function createWebGpuBackend(options: WebGpuBackendOptions = {}): Promise<WebGpuBackend> {
  const { device, description } = await acquireDevice('modelseal webgpu backend');
  try {
    const pipelines = await getPipelines(device, options.tuning);
    const lim = Math.min(description.maxStorageBufferBindingSize, description.maxBufferSize);
    let batchBytes = options.batchBytes ?? defaultBatchBytes(description);
    if (!Number.isInteger(batchBytes) || batchBytes < 65536 || batchBytes > lim) {
      throw new RangeError(`batchBytes must be an integer between 65536 and ${lim} (the device limit)`);
    }
    batchBytes = Math.floor(batchBytes / 256) * 256;
    const slots = options.slots ?? 3;
    if (!Number.isInteger(slots) || slots < 1 || slots > 8) throw new RangeError('slots must be an integer from 1 to 8');
    return new WebGpuHashBackend(device, description, pipelines, batchBytes, slots, options.readBytes ?? 8 * 1024 * 1024);
  } catch (e) {
    device.destroy();
    throw e;
  }
}
