/**
 * The backends the shared suite runs against, each behind one async leaf interface. A backend that
 * is not available here is skipped with its probe reason, except where CI requires it
 * (MODELSEAL_REQUIRE_NATIVE=1, MODELSEAL_REQUIRE_WASM=1, MODELSEAL_REQUIRE_GPU=1): then the suite fails.
 */
import { probeBackend } from '../../src/backends/dispatch.js';
import { loadCpuBackend } from '../../src/backends/registry.js';
import type { BackendName, HashAlgorithm, HashBackend, Leaf } from '../../src/backends/types.js';

export interface Target {
  name: BackendName | 'native-threads';
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

/**
 * Targets that are a backend's other path to the same outputs: `native-threads` is the native
 * backend's hashLeavesThreaded (BLAKE3 leaves on 3 native threads, files with several leaves mapped
 * once and shared; SHA-256 leaves grouped natively, pairs for the x2 kernel, taken by 3 native
 * threads), which the engine uses instead of the worker pool.
 */
export const THREADED_TARGETS = ['native-threads'] as const;

export async function openThreadedTarget(name: (typeof THREADED_TARGETS)[number]): Promise<Target | { skip: string }> {
  const opened = await openTarget('native');
  if ('skip' in opened) return opened;
  const h = (await loadCpuBackend('native')).createLeafHasher();
  const algorithms = opened.algorithms.filter((a) => h.threadedAlgorithm?.(a) === true);
  if (!h.hashLeavesThreaded || algorithms.length === 0) {
    if (process.env.MODELSEAL_REQUIRE_NATIVE === '1') throw new Error('MODELSEAL_REQUIRE_NATIVE=1 but this addon build has no threaded BLAKE3 (blake3LeavesAsync)');
    return { skip: 'this addon build has no threaded BLAKE3 (blake3LeavesAsync): run `npm run build:native`' };
  }
  return { name, algorithms, hashLeaves: (algorithm, leaves) => h.hashLeavesThreaded!({ algorithm, leaves }, 3), close: async () => {} };
}

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
