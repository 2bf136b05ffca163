/**
 * The one loader of the native addon, shared by backends/ and attest/. Loading never throws:
 * an unavailable addon is a value with a reason (printed by `modelseal doctor`).
 */
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface NativeCpuFeatures {
  sse41: boolean;
  ssse3: boolean;
  avx: boolean;
  avx2: boolean;
  shaNi: boolean;
  avx512f: boolean;
  avx512vl: boolean;
  neon: boolean;
  arch: string;
}

/**
 * The addon's exports. Areas add their functions here as they add them to native/ (every member
 * beyond `cpuFeatures` is optional so that an older build still loads and reports what it lacks).
 */
export interface NativeAddon {
  abiVersion: number;
  cpuFeatures(): NativeCpuFeatures;
  [name: string]: unknown;
}

export type NativeLoad = { ok: true; addon: NativeAddon; path: string } | { ok: false; reason: string };

/** Repository / package root (dist/native/addon.js and src/native/addon.ts are both two levels down). */
export const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

let cached: NativeLoad | undefined;

/** Loads build/Release/modelseal.node once per thread. MODELSEAL_DISABLE_NATIVE=1 disables it. */
export function loadNative(): NativeLoad {
  if (cached) return cached;
  cached = load();
  return cached;
}

function load(): NativeLoad {
  if (process.env.MODELSEAL_DISABLE_NATIVE === '1') {
    return { ok: false, reason: 'disabled by MODELSEAL_DISABLE_NATIVE=1' };
  }
  const path = process.env.MODELSEAL_NATIVE_PATH ?? join(PACKAGE_ROOT, 'build', 'Release', 'modelseal.node');
  if (!existsSync(path)) {
    let why = 'the addon was not built';
    try {
      const status = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'build', 'native-status.json'), 'utf8')) as { reason?: string };
      if (status.reason) why = status.reason;
    } catch {
      /* no status file: never attempted */
    }
    return { ok: false, reason: `${why} (expected ${path}; run \`npm run build:native\`)` };
  }
  try {
    const require = createRequire(import.meta.url);
    const addon = require(path) as NativeAddon;
    if (typeof addon.cpuFeatures !== 'function') return { ok: false, reason: `${path} is not a modelseal addon` };
    return { ok: true, addon, path };
  } catch (e) {
    return { ok: false, reason: `the addon failed to load: ${(e as Error).message}` };
  }
}
