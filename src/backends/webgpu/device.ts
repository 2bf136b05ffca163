/**
 * Adapter and device acquisition on the `webgpu` npm package (Dawn). The package is imported
 * lazily: a machine where its native binary cannot load still runs every CPU backend, and the
 * probe reports why the GPU is unavailable instead of failing at import time.
 */
import { UnavailableError } from '../../errors.js';
import { loadNative } from '../../native/addon.js';

/** Numeric WebGPU flags (spec values), so that nothing depends on the package's globals. */
export const BUFFER_USAGE = {
  MAP_READ: 0x0001,
  MAP_WRITE: 0x0002,
  COPY_SRC: 0x0004,
  COPY_DST: 0x0008,
  UNIFORM: 0x0040,
  STORAGE: 0x0080,
} as const;
export const MAP_MODE = { READ: 0x0001, WRITE: 0x0002 } as const;

/** Buffers on a software adapter stay at or under this (Dawn crashes on repeated 256 MiB writes on lavapipe). */
export const SOFTWARE_MAX_BUFFER_BYTES = 64 * 1024 * 1024;
/**
 * Upload batch on a hardware adapter. SHA-256 runs one thread per shard, so a batch must hold enough
 * shards to keep the GPU busy while the next batch uploads: on an H200, 1 MiB shards of a 4 GiB file
 * ran at 7.5 GB/s with 256 MiB batches and 17.2 GB/s with 1 GiB ones (BLAKE3 23.2 → 26.4 GB/s).
 * Three slots of 1 GiB pin 3 GiB of host-visible staging memory and 3 GiB on the device.
 */
export const HARDWARE_BATCH_BYTES = 1024 * 1024 * 1024;

/** What the adapter is, as plain data (printed by `doctor` and in benchmark headers). */
export interface AdapterDescription {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A CPU implementation (lavapipe/llvmpipe, SwiftShader, WARP): correctness only, no speed. */
  software: boolean;
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
  maxComputeWorkgroupsPerDimension: number;
}

export interface AcquiredDevice {
  adapter: GPUAdapter;
  device: GPUDevice;
  description: AdapterDescription;
}

type WebGpuModule = { create: (options: string[]) => GPU; globals: Record<string, unknown> };

let gpuPromise: Promise<GPU> | undefined;

/** The Dawn instance, created once per process (creating one is slow and holds driver state). */
export function getGpu(): Promise<GPU> {
  gpuPromise ??= (async () => {
    let mod: WebGpuModule;
    try {
      mod = (await import('webgpu')) as unknown as WebGpuModule;
    } catch (e) {
      // GPU support is an optional peer dependency: absent is the normal case for a CPU-only install.
      const absent = (e as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND';
      throw new UnavailableError(
        'WEBGPU_UNAVAILABLE',
        absent
          ? "GPU support is optional and not installed: add it with `npm install webgpu@0.6.2` (Dawn, about 130 MB), or use a CPU backend."
          : `the 'webgpu' package (Dawn) could not be loaded: ${(e as Error).message}. Reinstall it (\`npm install webgpu@0.6.2\`), or use a CPU backend.`,
        { cause: e },
      );
    }
    // Dawn's objects (GPUBufferUsage, ...) are needed by code that reads the spec globals.
    for (const [k, v] of Object.entries(mod.globals)) {
      if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
    }
    return mod.create([]);
  })();
  gpuPromise.catch(() => {
    gpuPromise = undefined;
  });
  return gpuPromise;
}

function isSoftware(info: GPUAdapterInfo, fallback: boolean): boolean {
  const text = `${info.vendor} ${info.architecture} ${info.device} ${info.description}`.toLowerCase();
  return fallback || /llvmpipe|lavapipe|swiftshader|software|warp|basic render/.test(text);
}

/** Describes an adapter as plain data. */
export function describeAdapter(adapter: GPUAdapter): AdapterDescription {
  const info = adapter.info;
  const fallback = (adapter as unknown as { isFallbackAdapter?: boolean }).isFallbackAdapter === true;
  return {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    software: isSoftware(info, fallback),
    maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
    maxBufferSize: adapter.limits.maxBufferSize,
    maxComputeWorkgroupsPerDimension: adapter.limits.maxComputeWorkgroupsPerDimension,
  };
}

/** One line naming the adapter, e.g. "nvidia hopper (NVIDIA H100 80GB HBM3), Vulkan ...". */
export function adapterLine(d: AdapterDescription): string {
  const parts = [d.vendor, d.architecture].filter(Boolean).join(' ');
  const dev = [d.device, d.description].filter(Boolean).join(', ');
  return `${parts || 'unknown vendor'}${dev ? ` (${dev})` : ''}${d.software ? ' [software adapter: a CPU, correctness only]' : ''}`;
}

/**
 * Runs `fn` with file descriptor 2 pointed at /dev/null: Dawn prints its adapter warnings (e.g. on
 * lavapipe, "maxDynamicUniformBuffersPerPipelineLayout artificially reduced ...") straight to stderr
 * from C++, where no JS hook sees them. Shown with MODELSEAL_DEBUG=1; without the native addon
 * (which does the redirection) they are shown too.
 */
async function withoutDawnWarnings<T>(fn: () => Promise<T>): Promise<T> {
  if (process.env.MODELSEAL_DEBUG === '1') return fn();
  const native = loadNative();
  const addon = native.ok ? (native.addon as { stderrSilence?: () => number; stderrRestore?: (fd: number) => void }) : undefined;
  if (!addon?.stderrSilence || !addon.stderrRestore) return fn();
  const saved = addon.stderrSilence();
  try {
    return await fn();
  } finally {
    if (saved >= 0) addon.stderrRestore(saved);
  }
}

/** Requests the high-performance adapter, or returns null when there is none. */
export async function requestAdapter(): Promise<GPUAdapter | null> {
  const gpu = await getGpu();
  return withoutDawnWarnings(() => gpu.requestAdapter({ powerPreference: 'high-performance' }));
}

/**
 * Adapter + device with the storage limits raised to what the adapter allows (the defaults are
 * 128 MiB / 256 MiB, far below a real GPU's). Throws UnavailableError when there is no adapter.
 */
export async function acquireDevice(label = 'modelseal'): Promise<AcquiredDevice> {
  const adapter = await requestAdapter();
  if (!adapter) {
    throw new UnavailableError(
      'WEBGPU_NO_ADAPTER',
      'no WebGPU adapter was found (no Vulkan driver for a GPU, and no software Vulkan such as Mesa lavapipe). Install a Vulkan driver, or use a CPU backend.',
    );
  }
  const l = adapter.limits;
  const device = await adapter.requestDevice({
    label,
    requiredLimits: {
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxBufferSize: l.maxBufferSize,
      maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
      maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
    },
  });
  const description = describeAdapter(adapter);
  if (description.software) softwareDevices.add(device);
  return { adapter, device, description };
}

const softwareDevices = new WeakSet<GPUDevice>();

/**
 * Whether a device runs on a software adapter: known for devices from acquireDevice, else read from
 * `device.adapterInfo` where the WebGPU implementation has it (false when it cannot tell).
 */
export function isSoftwareDevice(device: GPUDevice): boolean {
  if (softwareDevices.has(device)) return true;
  const info = (device as unknown as { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  return info ? isSoftware(info, false) : false;
}
