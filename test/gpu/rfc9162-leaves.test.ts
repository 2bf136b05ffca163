/**
 * RFC 9162 leaves on the GPU: `output: 'leaf'` ranges hash SHA-256(0x00 ‖ bytes) in the kernel (the
 * prefix byte in the message schedule, flag PREFIX), equal to the CPU reference (rfc9162Leaf) at
 * every byte alignment, around block edges, across forced windows (the leaf resumed from state),
 * mixed with plain digests, on the cooperative kernel too; and a SHA-256 companion's gpuLeafLayout
 * checks an uploaded tensor span leaf by leaf. The layout is also checked on the CPU.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rfc9162Leaf } from '../../src/engine/merkle.js';
import { planSha256 } from '../../src/backends/webgpu/planner.js';
import type { VerifiedModel } from '../../src/index.js';
import { fill251, hex } from '../helpers.js';
import { openSignedTensorModel, type SignedTensorModel } from '../loadtime/fixtures.js';
import { skipReason } from './gpu-env.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const STORAGE = 0x80;
const COPY_DST = 0x08;
const LEAF = 4096;

let m: SignedTensorModel;
let v: VerifiedModel;
let file: Buffer;
beforeAll(async () => {
  m = await openSignedTensorModel('sha256', LEAF);
  ({ v, file } = m);
});
afterAll(() => m.close());

describe('RFC 9162 leaves as a GPU layout (CPU side)', () => {
  it("a SHA-256 companion's layout: 'leaf' ranges over the leaf-aligned span, expected = the sidecar's leaf hashes", async () => {
    const b = (await v.tensors('model.safetensors')).find((x) => x.name === 'b')!;
    const { span, layout, expected } = v.gpuLeafLayout('model.safetensors', b.start, b.end);
    expect(layout.algorithm).toBe('sha256');
    expect(span.start % LEAF).toBe(0);
    expect(span.start <= b.start && span.end >= b.end).toBe(true);
    layout.ranges.forEach((r, i) => {
      expect(r.output).toBe('leaf');
      const at = span.start + r.offset;
      expect(hex(rfc9162Leaf(file.subarray(at, at + r.length)))).toBe(expected[i]);
    });
  });

  it('the planner marks only first segments with the prefix flag (4)', () => {
    const p = planSha256([{ byteOffset: -1, byteLength: 65, totalLength: 65, first: true, final: true, prefix: true }]);
    expect(p.segments[0]).toBe(0xffffffff);
    expect(p.segments[4]).toBe(1 | 2 | 4);
    expect(() => planSha256([{ byteOffset: 0, byteLength: 64, totalLength: 65, first: false, final: true, prefix: true, initState: new Uint32Array(8) }])).toThrow(RangeError);
  });
});

describe.skipIf(skipReason !== null)('RFC 9162 leaves on the GPU (lavapipe here)', () => {
  let device: GPUDevice;
  let buffer: GPUBuffer;
  const data = fill251(3 * MiB + 13, 5);
  beforeAll(async () => {
    const { acquireDevice } = await import('../../src/backends/webgpu/index.js');
    ({ device } = await acquireDevice('modelseal rfc9162 test'));
    device.pushErrorScope('validation');
    buffer = device.createBuffer({ label: 'leaves', size: Math.ceil(data.length / 4) * 4, usage: STORAGE | COPY_DST });
    const padded = new Uint8Array(buffer.size);
    padded.set(data);
    device.queue.writeBuffer(buffer, 0, padded);
  });
  afterAll(async () => {
    expect(await device.popErrorScope()).toBeNull();
    buffer.destroy();
    device.destroy();
  });
  const ref = (o: number, n: number) => hex(rfc9162Leaf(data.subarray(o, o + n)));

  it('every alignment, lengths around the 64-byte block and the 56-byte padding edges, mixed with plain digests', async () => {
    const { hashGpuBuffer } = await import('../../src/backends/webgpu/index.js');
    const ranges: Array<{ offset: number; length: number; output: 'leaf' }> = [];
    for (const offset of [0, 1, 2, 3, 4, 4097]) for (const length of [0, 1, 2, 3, 4, 5, 54, 55, 56, 62, 63, 64, 65, 118, 119, 127, 128, 129, 4096]) ranges.push({ offset, length, output: 'leaf' });
    ranges.push({ offset: 0, length: 1 * MiB, output: 'leaf' }, { offset: 2, length: data.length - 2, output: 'leaf' });
    const got = await hashGpuBuffer(device, buffer, { algorithm: 'sha256', ranges });
    expect(got).toEqual(ranges.map((r) => ref(r.offset, r.length)));
    const mixed = [{ offset: 5, length: 100 }, { offset: 5, length: 100, output: 'leaf' as const }];
    const m = await hashGpuBuffer(device, buffer, { algorithm: 'sha256', ranges: mixed });
    expect(m[1]).toBe(ref(5, 100));
    expect(m[0]).not.toBe(m[1]);
  });

  it('leaves longer than one binding resume from state across windows; the cooperative kernel agrees', async () => {
    const { hashGpuBuffer } = await import('../../src/backends/webgpu/index.js');
    const ranges = [
      { offset: 0, length: 2 * MiB + 3, output: 'leaf' as const },
      { offset: 7, length: 200_000, output: 'leaf' as const },
      { offset: 1 * MiB, length: 1 * MiB, output: 'leaf' as const },
      { offset: 64 * KiB + 255, length: 64 * KiB + 64, output: 'leaf' as const },
    ];
    const want = ranges.map((r) => ref(r.offset, r.length));
    expect(await hashGpuBuffer(device, buffer, { algorithm: 'sha256', ranges }, { maxBindingBytes: 64 * KiB + 256 })).toEqual(want);
    expect(await hashGpuBuffer(device, buffer, { algorithm: 'sha256', ranges }, { maxBindingBytes: 1 * MiB, tuning: { shaCoop: true } })).toEqual(want);
    const aligned = Array.from({ length: 8 }, (_, k) => ({ offset: k * 4096, length: 4096, output: 'leaf' as const }));
    expect(await hashGpuBuffer(device, buffer, { algorithm: 'sha256', ranges: aligned }, { tuning: { shaCoop: true } })).toEqual(aligned.map((r) => ref(r.offset, r.length)));
  });

  it('refuses a leaf range for blake3', async () => {
    const { hashGpuBuffer } = await import('../../src/backends/webgpu/index.js');
    await expect(hashGpuBuffer(device, buffer, { algorithm: 'blake3', ranges: [{ offset: 0, length: 4, output: 'leaf' }] })).rejects.toThrow(RangeError);
  });

  it('verifyGpuBuffer with a SHA-256 companion layout passes for the uploaded span and fails exactly the leaf with a flipped byte', async () => {
    const { verifyGpuBuffer } = await import('../../src/backends/webgpu/index.js');
    const b = (await v.tensors('model.safetensors')).find((x) => x.name === 'b')!;
    const { span, layout, expected } = v.gpuLeafLayout('model.safetensors', b.start, b.end);
    const bytes = Buffer.from(file.subarray(span.start, span.end));
    const upload = (d: Uint8Array): GPUBuffer => {
      const buf = device.createBuffer({ label: 'tensor span', size: Math.ceil(d.length / 4) * 4, usage: STORAGE | COPY_DST });
      const padded = new Uint8Array(buf.size);
      padded.set(d);
      device.queue.writeBuffer(buf, 0, padded);
      return buf;
    };
    const good = upload(bytes);
    expect((await verifyGpuBuffer(device, good, layout, expected)).ok).toBe(true);
    bytes[LEAF + 7] ^= 1;
    const bad = upload(bytes);
    const r = await verifyGpuBuffer(device, bad, layout, expected);
    expect(r.ranges.map((x) => x.ok)).toEqual(layout.ranges.map((_, i) => i !== 1));
    good.destroy();
    bad.destroy();
  });
});
