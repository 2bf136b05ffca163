/**
 * Where each CPU backend module lives. Loaded lazily (the native and wasm modules load binaries).
 * This is the only list of CPU backends; the dispatcher owns the preference order.
 */
import { UnavailableError } from '../errors.js';
import type { BackendName, CpuBackendModule } from './types.js';

type Loader = () => Promise<CpuBackendModule>;

// Specifiers kept in variables: a backend whose module is absent is reported unavailable, not a crash.
const NATIVE_MODULE = './native.js';
const WASM_MODULE = './wasm.js';

const LOADERS: Partial<Record<BackendName, Loader>> = {
  'js': async () => (await import('./js.js')).jsBackend,
  'node-crypto': async () => (await import('./node-crypto.js')).nodeCryptoBackend,
  'native': async () => ((await import(NATIVE_MODULE)) as { nativeBackend: CpuBackendModule }).nativeBackend,
  'wasm': async () => ((await import(WASM_MODULE)) as { wasmBackend: CpuBackendModule }).wasmBackend,
};

export const CPU_BACKENDS: readonly BackendName[] = ['native', 'wasm', 'node-crypto', 'js'];

const cache = new Map<BackendName, Promise<CpuBackendModule>>();

/** Loads a CPU backend module; throws UnavailableError with the reason when it cannot be loaded. */
export function loadCpuBackend(name: BackendName): Promise<CpuBackendModule> {
  let p = cache.get(name);
  if (!p) {
    const loader = LOADERS[name];
    if (!loader) return Promise.reject(new UnavailableError('BACKEND_UNKNOWN', `${name} is not a CPU backend.`));
    p = loader().catch((e: unknown) => {
      cache.delete(name);
      throw new UnavailableError('BACKEND_UNAVAILABLE', `the ${name} backend could not be loaded: ${(e as Error).message}`, { cause: e });
    });
    cache.set(name, p);
  }
  return p;
}
