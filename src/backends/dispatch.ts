/**
 * The one place that decides which backend runs: probes every backend (never throws), keeps the
 * preference order per algorithm (best → portable), honours a forced backend and a list of
 * disabled ones (option or MODELSEAL_DISABLE_BACKENDS=native,wasm).
 */
import { UnavailableError, InputError } from '../errors.js';
import { CPU_BACKENDS, loadCpuBackend } from './registry.js';
import { BACKEND_NAMES, type BackendName, type HashAlgorithm, type ProbeResult } from './types.js';

/** Preference per algorithm, best first. The GPU is chosen by --backend webgpu or hybrid mode. */
export const PREFERENCE: Record<HashAlgorithm, BackendName[]> = {
  sha256: ['native', 'node-crypto', 'wasm', 'js'],
  blake3: ['native', 'wasm', 'js'],
  blake2b: ['node-crypto', 'js'],
};

const WEBGPU_MODULE = './webgpu/index.js';

export function disabledBackends(extra: BackendName[] = []): Set<BackendName> {
  const env = (process.env.MODELSEAL_DISABLE_BACKENDS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  return new Set<BackendName>([...(env as BackendName[]), ...extra]);
}

async function probeOne(name: BackendName): Promise<ProbeResult> {
  try {
    if (name === 'webgpu') {
      const m = (await import(WEBGPU_MODULE)) as { probeWebGpu: () => Promise<ProbeResult> };
      return await m.probeWebGpu();
    }
    return (await loadCpuBackend(name)).probe();
  } catch (e) {
    return { ok: false, name, reason: (e as Error).message };
  }
}

const probeCache = new Map<BackendName, Promise<ProbeResult>>();

/** Probes one backend (cached per process). Disabled backends report why. */
export function probeBackend(name: BackendName, disabled = disabledBackends()): Promise<ProbeResult> {
  if (disabled.has(name)) return Promise.resolve({ ok: false, name, reason: 'disabled (MODELSEAL_DISABLE_BACKENDS or --disable-backend)' });
  let p = probeCache.get(name);
  if (!p) {
    p = probeOne(name);
    probeCache.set(name, p);
  }
  return p;
}

/** The probe report of every backend, in preference order (printed by `doctor` and benchmarks). */
export async function probeAll(disabled = disabledBackends()): Promise<ProbeResult[]> {
  return Promise.all(BACKEND_NAMES.map((n) => probeBackend(n, disabled)));
}

export function isBackendName(s: string): s is BackendName {
  return (BACKEND_NAMES as readonly string[]).includes(s);
}

/**
 * Chooses the backend for an algorithm. A forced backend that is unavailable or cannot compute the
 * algorithm is an error (never a silent fallback).
 */
export async function selectBackend(
  algorithm: HashAlgorithm,
  forced: BackendName | 'auto' | undefined,
  disable: BackendName[] = [],
): Promise<BackendName> {
  const disabled = disabledBackends(disable);
  if (forced && forced !== 'auto') {
    if (!isBackendName(forced)) throw new InputError('BACKEND_UNKNOWN', `unknown backend "${String(forced)}"; choose one of ${BACKEND_NAMES.join(', ')}.`);
    const p = await probeBackend(forced, disabled);
    if (!p.ok) throw new UnavailableError('BACKEND_UNAVAILABLE', `the ${forced} backend is not available here: ${p.reason}. Run \`modelseal doctor\` for details.`);
    if (!p.capabilities.algorithms.includes(algorithm)) {
      throw new UnavailableError('BACKEND_ALGORITHM', `the ${forced} backend does not compute ${algorithm}; it offers ${p.capabilities.algorithms.join(', ')}.`);
    }
    return forced;
  }
  const reasons: string[] = [];
  for (const name of PREFERENCE[algorithm]) {
    const p = await probeBackend(name, disabled);
    if (p.ok && p.capabilities.algorithms.includes(algorithm)) return name;
    reasons.push(`${name}: ${p.ok ? `no ${algorithm}` : p.reason}`);
  }
  throw new UnavailableError('NO_BACKEND', `no backend can compute ${algorithm} here (${reasons.join('; ')}).`);
}

export { CPU_BACKENDS };
