/**
 * The machine's limits, measured in the same run as the results read against them: page-cache read
 * bandwidth (what any file hasher must pay to get the bytes), memory copy bandwidth, and on a GPU the
 * host→device upload bandwidth and device-resident hashing speed (`hashGpuBuffer`).
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const READ_BLOCK_BYTES = 8 * 2 ** 20;

/** Seconds to read `files` from the page cache sequentially into one reused 8 MiB buffer. */
export function timePageCacheRead(files: readonly string[]): { bytes: number; seconds: number } {
  const buf = Buffer.allocUnsafeSlow(READ_BLOCK_BYTES);
  let bytes = 0;
  const t0 = performance.now();
  for (const f of files) {
    const fd = openSync(f, 'r');
    try {
      for (let pos = 0; ; ) {
        const n = readSync(fd, buf, 0, buf.length, pos);
        if (n === 0) break;
        pos += n;
        bytes += n;
      }
    } finally {
      closeSync(fd);
    }
  }
  return { bytes, seconds: (performance.now() - t0) / 1000 };
}

/** Seconds to copy `bytes` between two host buffers (one thread, 64 MiB at a time). */
export function timeMemcpy(bytes: number): { bytes: number; seconds: number } {
  const block = 64 * 2 ** 20;
  const src = Buffer.allocUnsafeSlow(block).fill(7);
  const dst = Buffer.allocUnsafeSlow(block);
  src.copy(dst); // first touch of both outside the timing
  const t0 = performance.now();
  let done = 0;
  while (done < bytes) {
    src.copy(dst);
    done += block;
  }
  return { bytes: done, seconds: (performance.now() - t0) / 1000 };
}

// WebGPU usage bits (the spec values), so this module needs no globals from the webgpu package.
const STORAGE = 0x80;
const COPY_DST = 0x08;

/** The GPU ceilings: upload through the queue, and hashing a device-resident buffer. */
export interface GpuCeilingProbe {
  upload(): Promise<{ bytes: number; seconds: number }>;
  resident(algorithm: 'sha256' | 'blake3'): Promise<{ bytes: number; seconds: number }>;
  close(): void;
}

/**
 * Opens a device and a resident buffer of `bytes` (capped by the adapter's binding size) for the GPU
 * ceilings. The resident SHA-256 ceiling uses 1 MiB leaves (SHA-256 is serial within a leaf); BLAKE3
 * hashes the whole buffer.
 */
export async function openGpuCeilings(bytes: number): Promise<GpuCeilingProbe> {
  const gpu = await import('../backends/webgpu/index.js');
  const { device, description } = await gpu.acquireDevice('modelseal bench ceilings');
  const size = Math.max(2 ** 20, Math.floor(Math.min(bytes, description.maxStorageBufferBindingSize, description.maxBufferSize) / 2 ** 20) * 2 ** 20);
  const host = new Uint8Array(size);
  for (let i = 0; i < size; i++) host[i] = i % 251;
  const buffer = device.createBuffer({ label: 'modelseal bench resident', size, usage: STORAGE | COPY_DST });
  device.queue.writeBuffer(buffer, 0, host);
  await device.queue.onSubmittedWorkDone();
  const leaves = Array.from({ length: size / 2 ** 20 }, (_, i) => ({ offset: i * 2 ** 20, length: 2 ** 20 }));
  return {
    async upload() {
      const t0 = performance.now();
      device.queue.writeBuffer(buffer, 0, host);
      await device.queue.onSubmittedWorkDone();
      return { bytes: size, seconds: (performance.now() - t0) / 1000 };
    },
    async resident(algorithm) {
      const layout = algorithm === 'sha256' ? { algorithm, ranges: leaves } : { algorithm, ranges: [{ offset: 0, length: size }] };
      await gpu.hashGpuBuffer(device, buffer, layout); // pipelines compiled outside the timing
      const t0 = performance.now();
      await gpu.hashGpuBuffer(device, buffer, layout);
      return { bytes: size, seconds: (performance.now() - t0) / 1000 };
    },
    close() {
      buffer.destroy();
      device.destroy();
    },
  };
}
