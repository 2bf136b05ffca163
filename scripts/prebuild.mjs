#!/usr/bin/env node
// Builds the prebuilt addon binaries that ship inside the package (run by `npm pack` / `npm publish`
// through the prepack script; never committed). Layout and names are node-gyp-build's (the loader in
// src/native/addon.ts finds them there): prebuilds/<platform>-<arch>/modelseal.napi.glibc.node.
// One Node-API binary serves every Node version >= 20.
//   linux-x64   built with the host compiler, then loaded here as a check;
//   linux-arm64 cross-built with Debian's g++-aarch64-linux-gnu when it is installed (it cannot be
//               loaded on this machine: the check is its ELF machine field).
// Sources and flags are CMakeLists.txt's, through cmake-js, exactly as the source-build fallback.
// MODELSEAL_PREBUILD_TARGETS=x64 (or x64,arm64) limits the targets; a requested target that cannot be
// built fails the pack (a package must not silently lose a platform).
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));
const cmakeJs = join(dirname(require.resolve('cmake-js/package.json')), 'bin', 'cmake-js');
const EM_X86_64 = 62;
const EM_AARCH64 = 183;

const hostOk = process.platform === 'linux' && process.arch === 'x64';
const onPath = (exe) => spawnSync('sh', ['-c', `command -v ${exe}`], { stdio: 'ignore' }).status === 0;
const TARGETS = [
  { arch: 'x64', machine: EM_X86_64, cmake: [], strip: 'strip', available: hostOk, why: 'needs a linux-x64 build machine' },
  {
    arch: 'arm64',
    machine: EM_AARCH64,
    cmake: ['--arch', 'arm64', `--CDCMAKE_TOOLCHAIN_FILE=${join(root, 'scripts', 'toolchain-linux-arm64.cmake')}`],
    strip: 'aarch64-linux-gnu-strip',
    available: hostOk && onPath('aarch64-linux-gnu-g++'),
    why: 'needs g++-aarch64-linux-gnu (apt-get install g++-aarch64-linux-gnu)',
  },
];
const requested = process.env.MODELSEAL_PREBUILD_TARGETS?.split(',').map((s) => s.trim()).filter(Boolean);

rmSync(join(root, 'prebuilds'), { recursive: true, force: true });
let failed = false;
for (const t of TARGETS) {
  const wanted = requested ? requested.includes(t.arch) : true;
  if (!wanted) continue;
  if (!t.available) {
    console.warn(`modelseal prebuild: linux-${t.arch} skipped: ${t.why}`);
    if (requested) failed = true;
    continue;
  }
  const out = join(root, 'build', `prebuild-linux-${t.arch}`);
  const r = spawnSync(process.execPath, [cmakeJs, 'compile', '--directory', root, '--out', out, ...t.cmake], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const built = join(out, 'Release', 'modelseal.node');
  if (r.status !== 0 || !existsSync(built)) {
    console.error(`modelseal prebuild: linux-${t.arch} failed (exit ${r.status}):\n${(r.stdout + r.stderr).split('\n').slice(-20).join('\n')}`);
    failed = true;
    continue;
  }
  const dest = join(root, 'prebuilds', `linux-${t.arch}`, 'modelseal.napi.glibc.node');
  mkdirSync(dirname(dest), { recursive: true });
  copyFileSync(built, dest);
  // Debug symbols are half the file; the source build keeps them for anyone debugging.
  if (onPath(t.strip)) spawnSync(t.strip, ['--strip-unneeded', dest], { stdio: 'inherit' });
  const machine = readFileSync(dest).readUInt16LE(18);
  if (machine !== t.machine) {
    console.error(`modelseal prebuild: ${dest} has ELF machine ${machine}, expected ${t.machine}`);
    failed = true;
    continue;
  }
  if (t.arch === process.arch) {
    const addon = require(dest);
    if (typeof addon.cpuFeatures !== 'function' || typeof addon.sha256Bytes !== 'function') {
      console.error(`modelseal prebuild: ${dest} loads but is not a complete modelseal addon`);
      failed = true;
      continue;
    }
  }
  console.log(`modelseal prebuild: ${dest.slice(root.length + 1)} (${readFileSync(dest).length} bytes)`);
}
if (failed) process.exit(1);
