/**
 * The one loader of the native addon, shared by backends/ and attest/. Loading never throws:
 * an unavailable addon is a value with a reason (printed by `modelseal doctor`).
 */
import { createRequire } from 'node:module';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
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

/**
 * Where a loaded addon came from: a prebuilt binary shipped in the package (`prebuilds/`), a build from
 * source (`build/Release`, made by cmake-js at install or by `npm run build:native`), or the file named
 * by MODELSEAL_NATIVE_PATH.
 */
export type NativeOrigin = 'prebuilt' | 'source build' | 'MODELSEAL_NATIVE_PATH';

export type NativeLoad =
  | { ok: true; addon: NativeAddon; path: string; origin: NativeOrigin; why: string }
  | { ok: false; reason: string };

/** Repository / package root (dist/native/addon.js and src/native/addon.ts are both two levels down). */
export const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** What to run when no binary fits (the package ships prebuilt binaries for linux-x64 and, when it could build one, linux-arm64). */
export const NATIVE_BUILD_ADVICE =
  'build it from source with `npm run build:native` in a clone, or in a project that depends on modelseal: ' +
  '`npm install --no-save cmake-js@8.0.0 node-addon-api@8.5.0 && node node_modules/modelseal/scripts/build-native.mjs --force` (needs cmake and a C++17 compiler)';

let cached: NativeLoad | undefined;

/**
 * Loads the addon once per thread: a local source build (build/Release) first, then the prebuilt
 * binary for this platform (node-gyp-build's lookup, the one used by well-kept native packages).
 * MODELSEAL_DISABLE_NATIVE=1 disables it; MODELSEAL_NATIVE_PATH=FILE loads that file instead.
 */
export function loadNative(): NativeLoad {
  if (cached) return cached;
  cached = load();
  return cached;
}

type GypBuild = { resolve?: (dir: string) => string };

function load(): NativeLoad {
  if (process.env.MODELSEAL_DISABLE_NATIVE === '1') {
    return { ok: false, reason: 'disabled by MODELSEAL_DISABLE_NATIVE=1' };
  }
  const require = createRequire(import.meta.url);
  let path: string;
  let origin: NativeOrigin;
  if (process.env.MODELSEAL_NATIVE_PATH) {
    path = process.env.MODELSEAL_NATIVE_PATH;
    origin = 'MODELSEAL_NATIVE_PATH';
    if (!existsSync(path)) return { ok: false, reason: `MODELSEAL_NATIVE_PATH names ${path}, which does not exist` };
  } else {
    try {
      path = sourceBuild() ?? gypResolve(require);
    } catch {
      return { ok: false, reason: `${noBinaryReason()}; ${NATIVE_BUILD_ADVICE}` };
    }
    origin = relative(PACKAGE_ROOT, path).startsWith('prebuilds') ? 'prebuilt' : 'source build';
  }
  try {
    const addon = require(path) as NativeAddon;
    if (typeof addon.cpuFeatures !== 'function') return { ok: false, reason: `${path} is not a modelseal addon` };
    return { ok: true, addon, path, origin, why: whyLoaded(origin, path) };
  } catch (e) {
    return { ok: false, reason: `the ${origin} addon ${path} failed to load: ${(e as Error).message}; ${NATIVE_BUILD_ADVICE}` };
  }
}

/**
 * The source build in build/Release, found as node-gyp-build finds it first (its first `*.node` file),
 * without loading node-gyp-build: requiring and resolving through it took ~2.5 ms of a `hash` run's
 * start (in-process, load 4). Undefined when there is none or node-gyp-build's own overrides are set
 * (PREBUILDS_ONLY, MODELSEAL_PREBUILD): then node-gyp-build decides, as before.
 */
function sourceBuild(): string | undefined {
  if (process.env.PREBUILDS_ONLY || process.env.MODELSEAL_PREBUILD) return undefined;
  const dir = join(PACKAGE_ROOT, 'build', 'Release');
  try {
    const file = readdirSync(dir).find((f) => f.endsWith('.node'));
    return file === undefined ? undefined : join(dir, file);
  } catch {
    return undefined;
  }
}

/** node-gyp-build's lookup: build/Release, build/Debug, then the prebuilt binary for this platform. */
function gypResolve(require: NodeJS.Require): string {
  const resolve = (require('node-gyp-build') as GypBuild).resolve;
  if (typeof resolve !== 'function') throw new Error('node-gyp-build has no resolve()');
  return resolve(PACKAGE_ROOT);
}

function whyLoaded(origin: NativeOrigin, path: string): string {
  if (origin === 'MODELSEAL_NATIVE_PATH') return `MODELSEAL_NATIVE_PATH=${path}`;
  if (origin === 'source build') return 'built from source in build/Release, which takes precedence over prebuilt binaries';
  return `the prebuilt binary for ${process.platform}-${process.arch} shipped in the package (no local source build in build/Release)`;
}

/** Why neither a source build nor a prebuilt binary is there: the install script's record, if any. */
function noBinaryReason(): string {
  const platform = `${process.platform}-${process.arch}`;
  const shipped = existsSync(join(PACKAGE_ROOT, 'prebuilds')) ? readdirSync(join(PACKAGE_ROOT, 'prebuilds')).join(', ') : '';
  const prebuilt = shipped ? `no prebuilt binary for ${platform} (the package has ${shipped})` : `no prebuilt binary for ${platform} (none shipped: a source checkout)`;
  const status = installStatus();
  return `${prebuilt} and no source build${status ? ` (${status})` : ''}`;
}

function installStatus(): string {
  try {
    const status = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'build', 'native-status.json'), 'utf8')) as { reason?: string };
    return status.reason ?? '';
  } catch {
    return ''; // no status file: the install script never ran (npm blocks dependencies' install scripts by default)
  }
}
