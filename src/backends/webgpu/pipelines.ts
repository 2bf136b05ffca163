/**
 * Compute pipelines: the kernels compiled for one device and one tuning, cached per device.
 */
import { loadShader, type ShaderName } from './shaders.js';
import { resolveTuning, SHA_WORKGROUP, SHA_WORKGROUP_SMALL, tuningLabel, type WebGpuKernelTuning } from './tuning.js';

/** The compiled kernels for one tuning. */
export interface Pipelines {
  tuning: WebGpuKernelTuning;
  /** SHA-256 pipeline for large dispatches, and for dispatches under SHA_SMALL_BELOW segments. */
  sha256: GPUComputePipeline;
  sha256Small: GPUComputePipeline;
  blake3Chunks: GPUComputePipeline;
  blake3Parents: GPUComputePipeline;
}

const pipelineCache = new WeakMap<GPUDevice, Map<string, Promise<Pipelines>>>();

async function compile(device: GPUDevice, name: ShaderName, constants: Record<string, number>, entryPoint = 'main'): Promise<GPUComputePipeline> {
  const module = device.createShaderModule({ label: `modelseal ${name}.wgsl`, code: loadShader(name) });
  const info = await module.getCompilationInfo();
  const errors = info.messages.filter((m) => m.type === 'error');
  if (errors.length > 0) {
    throw new Error(`shaders/${name}.wgsl does not compile: ${errors.map((m) => `${m.lineNum}:${m.linePos} ${m.message}`).join('; ')}`);
  }
  return device.createComputePipelineAsync({
    label: `modelseal ${name} ${entryPoint} pipeline`,
    layout: 'auto',
    compute: { module, entryPoint, constants },
  });
}

/** The compute pipelines of a device for one tuning (resolveTuning's defaults when omitted), compiled once. */
export function getPipelines(device: GPUDevice, options: Partial<WebGpuKernelTuning> = {}): Promise<Pipelines> {
  const tuning = resolveTuning(device, options);
  const key = tuningLabel(tuning);
  let perDevice = pipelineCache.get(device);
  if (!perDevice) {
    perDevice = new Map();
    pipelineCache.set(device, perDevice);
  }
  let p = perDevice.get(key);
  if (!p) {
    p = (async () => {
      const sha = tuning.shaBindings > 1 ? 'sha256_leaves_multi' : 'sha256_leaves';
      const prefetch = tuning.shaPrefetch ? 1 : 0;
      const wgLarge = tuning.shaWorkgroup || SHA_WORKGROUP;
      const wgSmall = tuning.shaWorkgroup || SHA_WORKGROUP_SMALL;
      const entry = tuning.shaCoop ? 'main_coop' : 'main';
      const large = compile(device, sha, { WORKGROUP_SIZE: wgLarge, PREFETCH: prefetch }, entry);
      const small = wgSmall === wgLarge ? large : compile(device, sha, { WORKGROUP_SIZE: wgSmall, PREFETCH: prefetch }, entry);
      const [sha256, sha256Small, blake3Chunks, blake3Parents] = await Promise.all([
        large,
        small,
        compile(device, 'blake3_chunks', { GROUP: tuning.b3Group, STAGE_BLOCKS: tuning.b3StageBlocks, DIRECT: tuning.b3Direct ? 1 : 0 }),
        compile(device, 'blake3_parents', { GROUP: tuning.b3Group }),
      ]);
      return { tuning, sha256, sha256Small, blake3Chunks, blake3Parents };
    })();
    p.catch(() => perDevice.delete(key));
    perDevice.set(key, p);
  }
  return p;
}

