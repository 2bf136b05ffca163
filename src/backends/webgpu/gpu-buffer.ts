/**
 * GPU-resident verification: hash bytes that already sit in a caller's GPUBuffer (weights an
 * inference runtime uploaded) over given byte ranges, with no second host→device transfer. Only
 * the digests (32 bytes per range) come back to the host.
 *
 * Ranges longer than one storage binding (maxStorageBufferBindingSize) are hashed in windows: BLAKE3
 * as aligned power-of-two subtrees whose CVs are merged on the CPU, SHA-256 as segments whose state
 * carries from one window to the next inside one submission.
 */
import { timingSafeEqual } from 'node:crypto';
import { InputError } from '../../errors.js';
import { BUFFER_USAGE, MAP_MODE } from './device.js';
import { encodeBlake3Jobs, encodeSha256, ScratchBuffers, type DataWindow } from './encode.js';
import { getPipelines } from './pipelines.js';
import { b3NodeBytes, b3PieceBytes, mergeSubtreeCvs, planBlake3, planSha256, shaStateBytes } from './planner.js';
import type { WebGpuKernelTuning } from './tuning.js';

/** One byte range of the buffer. */
export interface GpuBufferRange {
  /** Byte offset in the buffer (any alignment; 4-byte aligned is fastest). */
  offset: number;
  length: number;
  /** Shown in verdicts, e.g. a manifest resource name `model.safetensors:0:1048576`. */
  name?: string;
  /**
   * 'digest' (default): the plain hash of the range. 'cv' (blake3 only): the chaining value of the
   * aligned subtree whose first chunk has counter `chunkCounter` (default: the range's offset in its
   * file / 1024 is the caller's to give; 0 if omitted). 'leaf' (sha256 only): the RFC 9162 leaf
   * hash SHA-256(0x00 ‖ bytes) of a Merkle companion (the prefix byte is added in the kernel).
   */
  output?: 'digest' | 'cv' | 'leaf';
  chunkCounter?: number;
}

/** What to hash in a buffer: one algorithm, many ranges. */
export interface GpuBufferLayout {
  algorithm: 'sha256' | 'blake3';
  ranges: readonly GpuBufferRange[];
}

export interface HashGpuBufferOptions {
  /** Cap on one storage binding (default: the device's maxStorageBufferBindingSize). Tests use it to force windows. */
  maxBindingBytes?: number;
  signal?: AbortSignal;
  /** Kernel variant (default: resolveTuning's defaults and MODELSEAL_WEBGPU_* variables; see docs/gpu.md). */
  tuning?: Partial<WebGpuKernelTuning>;
}

/** The verdict for one range. */
export interface GpuRangeVerdict {
  name: string;
  offset: number;
  length: number;
  expected: string;
  actual: string;
  ok: boolean;
}

export interface GpuVerifyResult {
  /** true only if every range matched. */
  ok: boolean;
  algorithm: 'sha256' | 'blake3';
  ranges: GpuRangeVerdict[];
}

interface WindowWork {
  window: DataWindow;
  /** Pieces placed in this window, offsets relative to the window start. */
  b3: Array<{ range: number; piece: number; byteOffset: number; byteLength: number; counter: number; root: boolean }>;
  sha: Array<{ range: number; piece: number; byteOffset: number; byteLength: number; totalLength: number; first: boolean; final: boolean; prefix: boolean }>;
  shaRanges: Set<number>;
}

function hexOf(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

function validate(buffer: GPUBuffer, layout: GpuBufferLayout): void {
  if ((buffer.usage & BUFFER_USAGE.STORAGE) === 0) {
    throw new InputError(
      'GPU_BUFFER_NOT_STORAGE',
      `the GPUBuffer${buffer.label ? ` '${buffer.label}'` : ''} was created without STORAGE usage, so a compute shader cannot read it; create it with GPUBufferUsage.STORAGE.`,
    );
  }
  if (layout.algorithm !== 'sha256' && layout.algorithm !== 'blake3') {
    throw new InputError('ALGORITHM_UNSUPPORTED', `GPU-resident hashing supports sha256 and blake3, not ${String(layout.algorithm)}.`);
  }
  layout.ranges.forEach((r, i) => {
    const name = r.name ?? `range ${i}`;
    if (!Number.isSafeInteger(r.offset) || !Number.isSafeInteger(r.length) || r.offset < 0 || r.length < 0) {
      throw new RangeError(`${name}: offset and length must be non-negative integers`);
    }
    if (r.offset + r.length > Math.floor(buffer.size / 4) * 4) {
      throw new RangeError(`${name}: [${r.offset}, ${r.offset + r.length}) lies outside the buffer (${buffer.size} bytes; the last size % 4 bytes are not addressable)`);
    }
    if (r.output === 'cv' && layout.algorithm !== 'blake3') throw new RangeError(`${name}: 'cv' output exists only for blake3`);
    if (r.output === 'leaf' && layout.algorithm !== 'sha256') throw new RangeError(`${name}: 'leaf' output (RFC 9162) exists only for sha256`);
  });
}

/**
 * Hashes byte ranges of a GPUBuffer in place and returns one lowercase hex digest (or CV) per range,
 * in order. The buffer must have STORAGE usage; it is only read.
 */
export async function hashGpuBuffer(device: GPUDevice, buffer: GPUBuffer, layout: GpuBufferLayout, options: HashGpuBufferOptions = {}): Promise<string[]> {
  validate(buffer, layout);
  if (options.signal?.aborted) throw options.signal.reason;
  const { algorithm, ranges } = layout;
  if (ranges.length === 0) return [];
  const align = device.limits.minStorageBufferOffsetAlignment;
  const maxBinding = Math.floor(Math.min(device.limits.maxStorageBufferBindingSize, options.maxBindingBytes ?? Infinity) / 4) * 4;
  // Room for a window start aligned down to `align`.
  const span = maxBinding - align;
  if (span < 64 * 1024) throw new RangeError('maxBindingBytes is too small (at least 64 KiB + the offset alignment)');
  const pieceMax = algorithm === 'blake3' ? b3PieceBytes(span) : Math.floor(span / 64) * 64;
  const bufEnd = Math.floor(buffer.size / 4) * 4;

  // Cut into pieces; sort by offset so windows pack consecutive pieces.
  // `length`: the buffer bytes a piece reads; an RFC 9162 leaf's first piece hashes one more (the prefix)
  type P = { range: number; piece: number; offset: number; length: number; counter: number; root: boolean; first: boolean; final: boolean; total: number; prefix: boolean };
  const pieces: P[] = [];
  const counts: number[] = [];
  ranges.forEach((r, ri) => {
    if (r.output === 'leaf') {
      // pieces of the message 0x00 ‖ bytes: piece k holds message bytes [k·pieceMax, …), i.e. buffer
      // bytes from offset − 1 + k·pieceMax, the first piece one fewer (the prefix is not in the buffer)
      const total = r.length + 1;
      const n = Math.ceil(total / pieceMax);
      counts.push(n);
      for (let k = 0; k < n; k++) {
        const msg = Math.min(pieceMax, total - k * pieceMax);
        const first = k === 0;
        pieces.push({ range: ri, piece: k, offset: first ? r.offset : r.offset - 1 + k * pieceMax, length: first ? msg - 1 : msg, counter: 0, root: false, first, final: k === n - 1, total, prefix: first });
      }
      return;
    }
    const n = Math.max(1, Math.ceil(r.length / pieceMax));
    counts.push(n);
    const base = r.output === 'cv' ? (r.chunkCounter ?? 0) : 0;
    for (let k = 0; k < n; k++) {
      const start = k * pieceMax;
      pieces.push({
        range: ri,
        piece: k,
        offset: r.offset + start,
        length: Math.min(pieceMax, r.length - start),
        counter: base + start / 1024,
        root: r.output !== 'cv' && n === 1,
        first: k === 0,
        final: k === n - 1,
        total: r.length,
        prefix: false,
      });
    }
  });
  // SHA-256 segments of one range must run in order across windows: a segment's window comes after
  // the previous segment's, which sorting by offset gives, and each window is encoded after the last.
  const order = pieces.map((_, i) => i).sort((a, b) => pieces[a]!.offset - pieces[b]!.offset);
  const windows: WindowWork[] = [];
  let cur: WindowWork | null = null;
  for (const pi of order) {
    const p = pieces[pi]!;
    if (!cur || p.offset + p.length > cur.window.offset + cur.window.size || p.offset < cur.window.offset || hasRange(cur, p.range)) {
      const start = Math.floor(p.offset / align) * align;
      cur = { window: { buffer, offset: start, size: Math.max(4, Math.min(maxBinding, bufEnd - start)) }, b3: [], sha: [], shaRanges: new Set() };
      windows.push(cur);
    }
    const rel = p.offset - cur.window.offset;
    if (algorithm === 'blake3') {
      cur.b3.push({ range: p.range, piece: p.piece, byteOffset: rel, byteLength: p.length, counter: p.counter, root: p.root });
    } else {
      // a prefixed piece starts one byte before its bytes (the kernel never reads that byte)
      if (p.prefix) cur.sha.push({ range: p.range, piece: p.piece, byteOffset: rel - 1, byteLength: p.length + 1, totalLength: p.total, first: true, final: p.final, prefix: true });
      else cur.sha.push({ range: p.range, piece: p.piece, byteOffset: rel, byteLength: p.length, totalLength: p.total, first: p.first, final: p.final, prefix: false });
      cur.shaRanges.add(p.range);
    }
  }

  const pipelines = await getPipelines(device, options.tuning);
  const scratches: ScratchBuffers[] = [];
  const readback = device.createBuffer({
    label: 'modelseal hashGpuBuffer readback',
    size: Math.ceil((pieces.length * 32) / 256) * 256,
    usage: BUFFER_USAGE.MAP_READ | BUFFER_USAGE.COPY_DST,
  });
  try {
    // Every window goes into one command buffer and one submission; nothing but the results returns.
    const encoder = device.createCommandEncoder({ label: 'modelseal hashGpuBuffer' });
    const resultOffsets: number[] = [];
    let rb = 0;
    if (algorithm === 'blake3') {
      const jobs = windows.map((w) => {
        const scratch = new ScratchBuffers(device, `modelseal hashGpuBuffer window @${w.window.offset}`);
        scratches.push(scratch);
        return { window: w.window, plan: planBlake3(w.b3, pipelines.tuning.b3Group), scratch };
      });
      const outs = encodeBlake3Jobs(device, pipelines, encoder, jobs);
      windows.forEach((w, wi) => {
        resultOffsets.push(rb);
        encoder.copyBufferToBuffer(outs[wi]!, 0, readback, rb, w.b3.length * 32);
        rb += w.b3.length * 32;
      });
    } else {
      // SHA-256: up to tuning.shaBindings consecutive windows share ONE dispatch (a 2 GiB window holds
      // only 2048 leaves of 1 MiB, far from filling a large GPU; on an H200 separate dispatches ran
      // one after the other). Dispatches go into one compute pass, each with its own descriptor and
      // state buffers, and the copies to the readback buffer come after it: a copy between two
      // dispatches would wait for every earlier one. A window that resumes a range needs a GPU-side
      // copy of the state the previous one left (ordered by the encoder, never read back), so it
      // ends the pass first.
      const bindings = pipelines.tuning.shaBindings;
      const lastState = new Map<number, { buf: GPUBuffer; slot: number }>();
      const copies: Array<{ out: GPUBuffer; at: number; bytes: number }> = [];
      let pass: GPUComputePassEncoder | null = null;
      let i = 0;
      while (i < windows.length) {
        let j = i + 1;
        while (j < windows.length && j - i < bindings && windows[j]!.sha.every((s) => s.first)) j++;
        const set = windows.slice(i, j);
        const segs = set.flatMap((w, b) => w.sha.map((s) => ({ ...s, binding: b })));
        const scratch = new ScratchBuffers(device, `modelseal hashGpuBuffer sha256 dispatch ${i}`);
        scratches.push(scratch);
        const states = scratch.get('sha256 states', segs.length * 32, BUFFER_USAGE.STORAGE | BUFFER_USAGE.COPY_SRC | BUFFER_USAGE.COPY_DST);
        if (segs.some((s) => !s.first)) {
          pass?.end();
          pass = null;
          segs.forEach((s, k) => {
            if (!s.first) {
              const prev = lastState.get(s.range)!;
              encoder.copyBufferToBuffer(prev.buf, prev.slot * 32, states, k * 32, 32);
            }
          });
        }
        pass ??= encoder.beginComputePass({ label: 'modelseal hashGpuBuffer sha256 pass' });
        const plan = planSha256(segs.map((s) => (s.first ? s : { ...s, initState: RESUME_ON_GPU })));
        const out = encodeSha256(device, pipelines, encoder, set.map((w) => w.window), { segments: plan.segments, initStates: null }, scratch, pass);
        segs.forEach((s, k) => lastState.set(s.range, { buf: out, slot: k }));
        copies.push({ out, at: rb, bytes: segs.length * 32 });
        for (const w of set) {
          resultOffsets.push(rb);
          rb += w.sha.length * 32;
        }
        i = j;
      }
      pass?.end();
      for (const c of copies) encoder.copyBufferToBuffer(c.out, 0, readback, c.at, c.bytes);
    }
    device.queue.submit([encoder.finish()]);
    if (options.signal?.aborted) throw options.signal.reason;
    const words = await readAll(readback, rb);
    const parts: Uint8Array[][] = counts.map((n) => new Array<Uint8Array>(n));
    windows.forEach((w, wi) => {
      const base = resultOffsets[wi]! / 32;
      w.b3.forEach((p, i) => {
        parts[p.range]![p.piece] = b3NodeBytes(words, base + i);
      });
      w.sha.forEach((p, i) => {
        if (p.final) parts[p.range]![0] = shaStateBytes(words, base + i);
      });
    });
    if (algorithm === 'sha256') return parts.map((ps) => hexOf(ps[0]!));
    return parts.map((ps, ri) => hexOf(ps.length === 1 ? ps[0]! : mergeSubtreeCvs(ps, ranges[ri]!.output !== 'cv')));
  } finally {
    readback.destroy();
    for (const s of scratches) s.destroy();
  }
}

/** Marks a resumed segment whose state is copied on the GPU (planSha256 needs a value). */
const RESUME_ON_GPU = new Uint32Array(8);

function hasRange(w: WindowWork, range: number): boolean {
  // Two segments of one SHA-256 range never share a window (the second resumes from the first).
  return w.shaRanges.has(range);
}

async function readAll(readback: GPUBuffer, bytes: number): Promise<Uint32Array> {
  const size = Math.ceil(bytes / 256) * 256;
  await readback.mapAsync(MAP_MODE.READ, 0, size);
  const words = new Uint32Array(readback.getMappedRange(0, size).slice(0, bytes));
  readback.unmap();
  return words;
}

/**
 * Hashes the ranges in place and compares each with its expected digest (lowercase or uppercase
 * hex, in range order). Comparison is constant-time per range; the result lists every range.
 */
export async function verifyGpuBuffer(
  device: GPUDevice,
  buffer: GPUBuffer,
  layout: GpuBufferLayout,
  expected: readonly string[],
  options: HashGpuBufferOptions = {},
): Promise<GpuVerifyResult> {
  if (expected.length !== layout.ranges.length) {
    throw new RangeError(`expected has ${expected.length} digests for ${layout.ranges.length} ranges`);
  }
  const actual = await hashGpuBuffer(device, buffer, layout, options);
  const ranges = layout.ranges.map((r, i) => {
    const exp = expected[i]!.toLowerCase();
    const act = actual[i]!;
    return { name: r.name ?? `range ${i}`, offset: r.offset, length: r.length, expected: exp, actual: act, ok: sameHex(exp, act) };
  });
  return { ok: ranges.every((r) => r.ok), algorithm: layout.algorithm, ranges };
}

function sameHex(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}
