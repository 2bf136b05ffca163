#!/usr/bin/env node
// The package's install step for the native addon. Order (DESIGN §3): a prebuilt binary for this
// platform shipped in the package (prebuilds/, made at `npm pack` by scripts/prebuild.mjs), then a
// build from source with cmake-js, and when neither works everything still runs on the other
// backends (WASM last). A failed build never fails the install unless MODELSEAL_NATIVE_STRICT=1 or
// --strict; `modelseal doctor` prints the reason recorded here. --force always builds from source.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const statusFile = join(root, 'build', 'native-status.json');
const force = process.argv.includes('--force');
// An explicit build (--force, `npm run build:native`) fails loudly; only the install step stays quiet.
const strict = force || process.argv.includes('--strict') || process.env.MODELSEAL_NATIVE_STRICT === '1';
const require = createRequire(join(root, 'package.json'));

function record(status) {
  mkdirSync(dirname(statusFile), { recursive: true });
  writeFileSync(statusFile, JSON.stringify({ ...status, at: new Date().toISOString() }, null, 2) + '\n');
}

if (process.env.MODELSEAL_SKIP_NATIVE === '1') {
  record({ ok: false, reason: 'build skipped: MODELSEAL_SKIP_NATIVE=1 at install time' });
  process.exit(0);
}

/** The prebuilt binary for this platform, if the package has one and it loads here. */
function loadablePrebuilt() {
  const dir = join(root, 'prebuilds', `${process.platform}-${process.arch}`);
  const file = existsSync(dir) ? readdirSync(dir).find((f) => f.endsWith('.node')) : undefined;
  if (!file) return undefined;
  try {
    if (typeof require(join(dir, file)).cpuFeatures !== 'function') return undefined;
    return join(dir, file);
  } catch {
    return undefined; // e.g. an older glibc than the build machine's: build from source instead
  }
}

// A strict install (CI) always proves the source build; otherwise a working prebuilt binary is enough.
if (!strict) {
  const prebuilt = loadablePrebuilt();
  if (prebuilt) {
    record({ ok: true, reason: `prebuilt binary ${prebuilt.slice(root.length + 1)} loads; no source build needed` });
    process.exit(0);
  }
}

// Resolved the way Node resolves it (npm may hoist cmake-js above this package's node_modules).
let cmakeJs;
try {
  cmakeJs = join(dirname(require.resolve('cmake-js/package.json')), 'bin', 'cmake-js');
  require.resolve('node-addon-api');
} catch {
  const why = force ? 'a source build was asked for' : `no prebuilt binary for ${process.platform}-${process.arch} loads here`;
  const reason =
    `${why}, and cmake-js/node-addon-api (needed to build from source) are not installed: ` +
    'npm install --no-save cmake-js@8.0.0 node-addon-api@8.5.0, then run this script again with --force';
  record({ ok: false, reason });
  console.warn(`modelseal: ${reason}${strict ? '' : '; continuing without the native backend'}`);
  process.exit(strict ? 1 : 0);
}
// A forced build starts clean: a CMake cache from another checkout path (a copied build/) breaks it.
if (force) for (const f of ['CMakeFiles', 'CMakeCache.txt']) rmSync(join(root, 'build', f), { recursive: true, force: true });
const args = [cmakeJs, 'compile', '--directory', root, '--out', join(root, 'build')];
if (process.env.MODELSEAL_NATIVE_DEBUG === '1') args.push('--debug');
const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', cwd: root });
const log = (r.stdout ?? '') + (r.stderr ?? '');
mkdirSync(join(root, 'build'), { recursive: true });
writeFileSync(join(root, 'build', 'native-build.log'), log);
if (r.status === 0 && existsSync(join(root, 'build', 'Release', 'modelseal.node'))) {
  record({ ok: true, reason: 'built from source' });
  console.log('modelseal: native addon built from source (build/Release/modelseal.node)');
} else {
  const tail = log.split('\n').filter((l) => /error|not found|CMake Error/i.test(l)).slice(0, 5).join(' | ');
  const reason = r.error
    ? `could not run cmake-js: ${r.error.message}`
    : `native build failed (exit ${r.status}): ${tail || 'see build/native-build.log'}`;
  record({ ok: false, reason });
  console.warn(`modelseal: ${reason}${strict ? '' : '; continuing without the native backend'} (see build/native-build.log)`);
  if (strict) process.exit(1);
}
