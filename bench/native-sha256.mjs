#!/usr/bin/env node
// Kernel-only micro-benchmark of the native SHA-256 kernels, one thread, no pool:
//   - in memory: a 256 MiB buffer hashed as leaves of --mem-leaf-mib (sha256BytesMulti);
//   - from a page-cached file: --file-mib of random bytes hashed as leaves of --file-leaf-mib
//     (sha256Leaves, by mmap — the default — and by pread into page-aligned lane buffers), plus one
//     single stream over the whole file by each;
//   - `openssl speed -evp sha256 -bytes 16777216 -seconds 2` in the same run, as the single-stream peer.
// GB/s = 10^9 bytes per second, median of --runs runs. Prints a table; --json prints JSON instead.
//
//   node bench/native-sha256.mjs [--runs 3] [--kernels shani-x2,shani] [--mem-leaf-mib 16]
//        [--file-mib 256] [--file-leaf-mib 64] [--chunk-kib N] [--no-openssl] [--no-file] [--json]
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readSync, rmSync, writeSync, mkdtempSync } from 'node:fs';
import { randomFillSync } from 'node:crypto';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROOT as root, flag, median, opt } from './lib.mjs';


const MIB = 1 << 20;
const runs = Number(opt('runs', '3'));
const memLeaf = Number(opt('mem-leaf-mib', '16')) * MIB;
const fileBytes = Number(opt('file-mib', '256')) * MIB;
const fileLeaf = Number(opt('file-leaf-mib', '64')) * MIB;
const chunkKib = opt('chunk-kib', undefined);
const json = flag('json');

const require = createRequire(import.meta.url);
const addonPath = process.env.MODELSEAL_NATIVE_PATH ?? join(root, 'build', 'Release', 'modelseal.node');
let addon;
try {
  addon = require(addonPath);
} catch (e) {
  console.error(`native addon not loadable (${addonPath}): ${e.message}; run \`npm run build:native\``);
  process.exit(2);
}
const runnable = addon.sha256Kernels();
const kernels = opt('kernels', runnable.join(','))
  .split(',')
  .filter((k) => runnable.includes(k) || (console.error(`skipping kernel ${k}: not runnable here (runnable: ${runnable.join(', ')})`), false));

// Two rates per run: wall clock, and CPU time (user+sys of this process). The box is shared, so
// the CPU-time rate is the stable one; `openssl speed` also reports CPU time unless -elapsed.
function gbps(bytes, fn) {
  fn(); // warm-up (page faults of output buffers, first-touch of lane buffers)
  const wall = [];
  const cpu = [];
  for (let r = 0; r < runs; r++) {
    const c = process.cpuUsage();
    const t = process.hrtime.bigint();
    fn();
    const s = Number(process.hrtime.bigint() - t) / 1e9;
    const u = process.cpuUsage(c);
    wall.push(bytes / s / 1e9);
    cpu.push(bytes / ((u.user + u.system) / 1e6) / 1e9);
  }
  return { median: median(cpu), min: Math.min(...cpu), max: Math.max(...cpu), wallMedian: median(wall) };
}

const rows = [];
const machine = { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version, features: addon.cpuFeatures() };

// In memory. The buffer starts at a page boundary so that no kernel is favoured by alignment.
const memBytes = 256 * MIB;
const backing = new Uint8Array(memBytes + 4096);
const shift = (4096 - (backing.byteOffset % 4096)) % 4096;
const mem = backing.subarray(shift, shift + memBytes);
for (let o = 0; o < memBytes; o += 65536) randomFillSync(mem, o, 65536);
const memLeaves = [];
for (let o = 0; o < memBytes; o += memLeaf) memLeaves.push(mem.subarray(o, Math.min(o + memLeaf, memBytes)));
for (const k of kernels) {
  rows.push({ what: `memory, ${memLeaf / MIB} MiB leaves`, kernel: k, ...gbps(memBytes, () => addon.sha256BytesMulti(memLeaves, k)) });
}

// From a page-cached file.
let dir;
if (!flag('no-file')) {
  dir = mkdtempSync(join(tmpdir(), 'modelseal-bench-'));
  const file = join(dir, 'w.bin');
  const fd = openSync(file, 'w');
  for (let o = 0; o < fileBytes; o += memBytes) writeSync(fd, mem, 0, Math.min(memBytes, fileBytes - o));
  closeSync(fd);
  const rfd = openSync(file, 'r'); // warm the page cache
  const tmp = Buffer.alloc(4 * MIB);
  while (readSync(rfd, tmp) > 0);
  closeSync(rfd);

  const paths = [];
  const offsets = [];
  const lengths = [];
  for (let o = 0; o < fileBytes; o += fileLeaf) {
    paths.push(file);
    offsets.push(o);
    lengths.push(Math.min(fileLeaf, fileBytes - o));
  }
  const chunk = chunkKib ? { chunkBytes: Number(chunkKib) * 1024 } : {};
  for (const io of ['mmap', 'pread']) {
    for (const k of kernels) {
      const out = new Uint8Array(32 * paths.length);
      rows.push({
        what: `file, ${fileLeaf / MIB} MiB leaves, ${io}${io === 'mmap' ? ' (default)' : ''}`,
        kernel: k,
        ...gbps(fileBytes, () => addon.sha256Leaves(paths, offsets, lengths, out, k, { ...chunk, io })),
      });
    }
  }
  // One stream over the whole file: pread against mmap(MADV_SEQUENTIAL), on the best one-stream kernel.
  const single = kernels.includes('shani') ? 'shani' : kernels[kernels.length - 1];
  for (const io of ['pread', 'mmap']) {
    const out = new Uint8Array(32);
    rows.push({
      what: `file, one ${fileBytes / MIB} MiB stream, ${io}`,
      kernel: single,
      ...gbps(fileBytes, () => addon.sha256Leaves([file], [0], [fileBytes], out, single, { ...chunk, io })),
    });
  }
  rmSync(dir, { recursive: true, force: true });
}

let openssl;
if (!flag('no-openssl')) {
  const r = spawnSync('openssl', ['speed', '-evp', 'sha256', '-bytes', '16777216', '-seconds', '2'], { encoding: 'utf8' });
  // The last line reads "sha256  <k bytes per second for 16777216-byte blocks>k".
  const m = /(?:^|\n)sha256\s+([\d.]+)k\s*$/m.exec(r.stdout ?? '');
  openssl = m ? Number(m[1]) * 1000 / 1e9 : undefined;
  rows.push({ what: 'openssl speed -evp sha256 -bytes 16777216 -seconds 2', kernel: 'openssl', median: openssl, min: openssl, max: openssl });
}

if (json) {
  console.log(JSON.stringify({ machine, runs, rows }, null, 2));
} else {
  console.log(`${machine.cpu}, ${machine.cores} cores, Node ${machine.node}; median of ${runs} runs; GB/s = 1e9 B/s per CPU-second (min–max), then wall-clock GB/s`);
  for (const r of rows) {
    const rel = openssl && r.kernel !== 'openssl' ? `  ${(r.median / openssl).toFixed(2)}x openssl` : '';
    console.log(`${r.what.padEnd(44)} ${r.kernel.padEnd(9)} ${r.median?.toFixed(2) ?? 'n/a'} (${r.min?.toFixed(2)}–${r.max?.toFixed(2)})  wall ${r.wallMedian?.toFixed(2) ?? '-'}${rel}`);
  }
}
