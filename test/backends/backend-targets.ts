/**
 * The backends the shared suite runs against, each behind one async leaf interface. A backend that
 * is not available here is skipped with its probe reason, except where CI requires it
 * (MODELSEAL_REQUIRE_NATIVE=1, MODELSEAL_REQUIRE_WASM=1, MODELSEAL_REQUIRE_GPU=1): then the suite fails.
 */
import { probeBackend } from '../../src/backends/dispatch.js';
import { loadCpuBackend } from '../../src/backends/registry.js';
import type { BackendName, HashAlgorithm, HashBackend, Leaf } from '../../src/backends/types.js';

export interface Target {
  name: BackendName;
  algorithms: HashAlgorithm[];
  hashLeaves(algorithm: HashAlgorithm, leaves: Leaf[]): Promise<Uint8Array[]>;
  close(): Promise<void>;
}

const REQUIRED: Partial<Record<BackendName, string>> = {
  native: 'MODELSEAL_REQUIRE_NATIVE',
  wasm: 'MODELSEAL_REQUIRE_WASM',
  webgpu: 'MODELSEAL_REQUIRE_GPU',
};

export const ALL_TARGETS: BackendName[] = ['js', 'node-crypto', 'native', 'wasm', 'webgpu'];

export async function openTarget(name: BackendName): Promise<Target | { skip: string }> {
  const p = await probeBackend(name, new Set());
  if (!p.ok) {
    const env = REQUIRED[name];
    if (env && process.env[env] === '1') throw new Error(`${name} backend required by ${env}=1 but unavailable: ${p.reason}`);
    return { skip: p.reason };
  }
  if (name === 'webgpu') {
    const m = (await import('../../src/backends/webgpu/index.js' as string)) as { createWebGpuBackend: () => Promise<HashBackend> };
    const gpu = await m.createWebGpuBackend();
    return {
      name,
      algorithms: p.capabilities.algorithms,
      hashLeaves: (algorithm, leaves) => gpu.hashLeaves({ algorithm, leaves }),
      close: () => gpu.close(),
    };
  }
  const h = (await loadCpuBackend(name)).createLeafHasher();
  return {
    name,
    algorithms: p.capabilities.algorithms,
    hashLeaves: async (algorithm, leaves) => h.hashLeaves({ algorithm, leaves }),
    close: async () => {},
  };
}
