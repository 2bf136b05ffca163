#!/bin/bash
# `modelseal hash` end to end on a lent NVIDIA machine: the same 4 GiB model hashed by the CPU alone
# (native, every core), by the GPU alone (--backend webgpu) and by both sharing one plan (auto =
# hybrid work stealing on a hardware adapter), for blake3 and for sha256 shards of 1 MiB, each
# result's root digest compared across the three. Carry: .gl, .gpu-carry (runtime.tar.xz and
# prod-modules.tar.xz: the production node_modules without webgpu), dist, build (the addon).
# Writes engine.json and engine.log under $OUT.
set -u
cd "$(dirname "$0")/../.."
# LOCAL=1: a dry run in a development checkout (its own node_modules, small model).
if [ -z "${LOCAL:-}" ]; then
  for f in .gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
  mkdir -p /tmp/rt
  tar -xJf .gpu-carry/runtime.tar.xz -C /tmp/rt
  tar -xJf .gpu-carry/prod-modules.tar.xz -C /tmp/rt
  ln -sfn /tmp/rt/node_modules node_modules
  export PATH=/tmp/rt/bin:$PATH
fi
export XDG_RUNTIME_DIR=/tmp UV_THREADPOOL_SIZE=16
CHUNKS=${ENGINE_CHUNKS_64MIB:-64}
ICD=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -f "$ICD" ] && export VK_DRIVER_FILES=$ICD
node bin/modelseal.js doctor 2>&1 | tee "$OUT/doctor.txt"
MODEL=/tmp/engine-model
mkdir -p "$MODEL"
node -e "
const fs = require('fs'), c = require('crypto');
const blk = c.randomBytes(64 << 20), fd = fs.openSync('$MODEL/weights.bin', 'w');
for (let i = 0; i < $CHUNKS; i++) { blk[0] = i; fs.writeSync(fd, blk); }
fs.closeSync(fd);"
cat "$MODEL/weights.bin" > /dev/null
CHUNKS_MIB=$((CHUNKS * 64)) node - "$MODEL" <<'EOF' 2>&1 | tee "$OUT/engine.log"
const { spawnSync } = require('node:child_process');
const { writeFileSync } = require('node:fs');
const model = process.argv[2];
const cases = [
  ['blake3', ['--hash', 'blake3']],
  ['sha256 shards 1 MiB', ['--method', 'shards', '--shard-size', '1MiB']],
];
const modes = [
  ['cpu (native, all cores)', ['--backend', 'native']],
  ['gpu alone', ['--backend', 'webgpu']],
  ['auto (hybrid on hardware)', []],
];
const rows = [];
for (const [name, args] of cases) {
  const roots = new Set();
  for (const [mode, margs] of modes) {
    const runs = [];
    let last;
    for (let r = 0; r < 3; r++) {
      const t0 = process.hrtime.bigint();
      const p = spawnSync(process.execPath, ['bin/modelseal.js', 'hash', model, ...args, ...margs, '--json'], { encoding: 'utf8', maxBuffer: 64 << 20 });
      const wall = Number(process.hrtime.bigint() - t0) / 1e9;
      if (p.status !== 0) { runs.push({ error: (p.stderr || p.stdout).slice(-400) }); break; }
      last = JSON.parse(p.stdout.trim().split('\n').pop());
      runs.push({ wall, seconds: last.seconds });
    }
    const ok = runs.filter((x) => x.wall);
    const med = (k) => ok.map((x) => x[k]).sort((a, b) => a - b)[ok.length >> 1];
    const row = { case: name, mode, backend: last?.backend, workers: last?.workers, backendBytes: last?.backendBytes, rootDigest: last?.rootDigest, bytes: last?.bytes, runs };
    if (ok.length) Object.assign(row, { medianWall: med('wall'), medianSeconds: med('seconds'), GBpsInProcess: last.bytes / med('seconds') / 1e9, GBpsWall: last.bytes / med('wall') / 1e9 });
    if (last) roots.add(last.rootDigest);
    rows.push(row);
    console.log(`${name.padEnd(22)} ${mode.padEnd(28)} ${row.GBpsInProcess ? row.GBpsInProcess.toFixed(2).padStart(6) + ' GB/s (whole process ' + row.GBpsWall.toFixed(2) + ')' : 'FAILED ' + JSON.stringify(runs)}  backend=${row.backend} ${row.backendBytes ? JSON.stringify(row.backendBytes) : ''}`);
  }
  console.log(`${name}: root digests ${roots.size === 1 ? 'equal across modes' : 'DIFFER: ' + [...roots].join(' ')}`);
  rows.push({ case: name, rootsEqual: roots.size === 1 });
}
writeFileSync(process.env.OUT + '/engine.json', JSON.stringify({ date: new Date().toISOString(), model: `${process.env.CHUNKS_MIB ?? 4096} MiB, one file, page cache`, rows }, null, 2) + '\n');
EOF
