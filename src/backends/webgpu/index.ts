/**
 * The WebGPU backend (Dawn through the `webgpu` package): file hashing (HashBackend) and
 * GPU-resident verification of bytes already in a GPUBuffer.
 */
export { probeWebGpu, createWebGpuBackend, type WebGpuBackend, type WebGpuBackendOptions } from './backend.js';
export {
  hashGpuBuffer,
  verifyGpuBuffer,
  type GpuBufferLayout,
  type GpuBufferRange,
  type GpuRangeVerdict,
  type GpuVerifyResult,
  type HashGpuBufferOptions,
} from './gpu-buffer.js';
export { acquireDevice, adapterLine, type AdapterDescription, type AcquiredDevice } from './device.js';
export { resolveTuning, tuningLabel, type WebGpuKernelTuning } from './tuning.js';
