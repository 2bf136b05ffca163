#!/usr/bin/env node
// Builds the native addon with cmake-js at install time. A failed build never fails the install:
// everything runs on the other backends, and `modelseal doctor` prints the reason recorded here.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const statusFile = join(root, 'build', 'native-status.json');
const force = process.argv.includes('--force');
const strict = process.argv.includes('--strict') || process.env.MODELSEAL_NATIVE_STRICT === '1';

function record(status) {
  mkdirSync(dirname(statusFile), { recursive: true });
  writeFileSync(statusFile, JSON.stringify({ ...status, at: new Date().toISOString() }, null, 2) + '\n');
}

if (process.env.MODELSEAL_SKIP_NATIVE === '1') {
  record({ ok: false, reason: 'build skipped: MODELSEAL_SKIP_NATIVE=1 at install time' });
  process.exit(0);
}
if (!force && existsSync(join(root, 'build', 'Release', 'modelseal.node')) && process.env.npm_lifecycle_event === 'install') {
  // keep an existing build on re-install; `npm run build:native` rebuilds
}

const cmakeJs = join(root, 'node_modules', 'cmake-js', 'bin', 'cmake-js');
if (!existsSync(cmakeJs)) {
  record({ ok: false, reason: 'cmake-js is not installed (dependencies missing)' });
  process.exit(strict ? 1 : 0);
}
if (force) rmSync(join(root, 'build', 'CMakeFiles'), { recursive: true, force: true });
const args = [cmakeJs, 'compile', '--directory', root, '--out', join(root, 'build')];
if (process.env.MODELSEAL_NATIVE_DEBUG === '1') args.push('--debug');
const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', cwd: root });
const log = (r.stdout ?? '') + (r.stderr ?? '');
mkdirSync(join(root, 'build'), { recursive: true });
writeFileSync(join(root, 'build', 'native-build.log'), log);
if (r.status === 0 && existsSync(join(root, 'build', 'Release', 'modelseal.node'))) {
  record({ ok: true, reason: 'built' });
  console.log('modelseal: native addon built (build/Release/modelseal.node)');
} else {
  const tail = log.split('\n').filter((l) => /error|not found|CMake Error/i.test(l)).slice(0, 5).join(' | ');
  const reason = r.error
    ? `could not run cmake-js: ${r.error.message}`
    : `native build failed (exit ${r.status}): ${tail || 'see build/native-build.log'}`;
  record({ ok: false, reason });
  console.warn(`modelseal: ${reason}; continuing without the native backend (see build/native-build.log)`);
  if (strict) process.exit(1);
}
