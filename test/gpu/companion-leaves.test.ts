/**
 * verifyGpuBuffer with companion leaves: a tensor's leaf-aligned span uploaded into a GPUBuffer is
 * checked leaf by leaf on the device against the BLAKE3 companion; a flipped byte in the upload
 * fails exactly its leaf. The layout itself is also checked on the CPU (runs without a GPU).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blake3SubtreeCv } from '../../src/backends/js/blake3.js';
import type { VerifiedModel } from '../../src/index.js';
import { hex } from '../helpers.js';
import { openSignedTensorModel, type SignedTensorModel } from '../loadtime/fixtures.js';
import { skipReason } from './gpu-env.js';

const LEAF = 4096;
let m: SignedTensorModel;
let v: VerifiedModel;
let file: Buffer;
beforeAll(async () => {
  m = await openSignedTensorModel('blake3', LEAF);
  ({ v, file } = m);
});
afterAll(() => m.close());

describe('companion leaves as a GPU layout', () => {
  it('covers the tensor with leaf-aligned ranges whose expected CVs are the CPU reference', async () => {
    const b = (await v.tensors('model.safetensors')).find((x) => x.name === 'b')!;
    const { span, layout, expected } = v.gpuLeafLayout('model.safetensors', b.start, b.end);
    expect(span.start % LEAF).toBe(0);
    expect(span.start <= b.start && span.end >= b.end).toBe(true);
    layout.ranges.forEach((r, i) => {
      const at = span.start + r.offset;
      expect(r.chunkCounter).toBe(at / 1024);
      expect(hex(blake3SubtreeCv(file.subarray(at, at + r.length), at / 1024))).toBe(expected[i]);
    });
  });
});

describe.skipIf(skipReason !== null)('verifyGpuBuffer with companion leaves', () => {
  it('passes for the uploaded span and fails exactly the leaf with a flipped byte', async () => {
    const { acquireDevice, verifyGpuBuffer } = await import('../../src/backends/webgpu/index.js');
    const { device } = await acquireDevice('modelseal companion-leaves test');
    const b = (await v.tensors('model.safetensors')).find((x) => x.name === 'b')!;
    const { span, layout, expected } = v.gpuLeafLayout('model.safetensors', b.start, b.end);
    const bytes = Buffer.from(file.subarray(span.start, span.end));
    const upload = (data: Uint8Array): GPUBuffer => {
      const buf = device.createBuffer({ label: 'tensor span', size: Math.ceil(data.length / 4) * 4, usage: 0x80 | 0x08 });
      const padded = new Uint8Array(buf.size);
      padded.set(data);
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
    device.destroy();
  });
});
