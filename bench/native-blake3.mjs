#!/usr/bin/env node
// Native BLAKE3 throughput, one thread: every runnable kernel over an in-memory buffer, then a
// page-cached file hashed through blake3Leaves (pread blocks of several sizes, and mmap), beside
// `b3sum --num-threads 1` on the same file in the same run. Prints GB/s (10^9 bytes/s), medians.
//
//   node bench/native-blake3.mjs [--mem-mib 256] [--file-mib 1024] [--runs 5] [--file PATH] [--json OUT]
//
// The file is created (random bytes) under the OS temp dir unless --file is given, read once so it
// sits in the page cache, and deleted afterwards. The whole-file digest is checked against b3sum.
import { spawnSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROOT as root, flag, median, opt } from './lib.mjs';

const MEM_BYTES = Number(opt('mem-mib', '256')) * 2 ** 20;
const FILE_BYTES = Number(opt('file-mib', '1024')) * 2 ** 20;
const RUNS = Number(opt('runs', '5'));
const jsonOut = opt('json', undefined);

const addonPath = process.env.MODELSEAL_NATIVE_PATH ?? join(root, 'build', 'Release', 'modelseal.node');
if (!existsSync(addonPath)) {
  console.error(`no native addon at ${addonPath}: run \`npm run build:native\` first`);
  process.exit(2);
}
const addon = createRequire(import.meta.url)(addonPath);
if (typeof addon.blake3Leaves !== 'function') {
  console.error('this addon build has no BLAKE3 (blake3Leaves missing): rebuild with `npm run build:native`');
  process.exit(2);
}

const gbps = (bytes, ns) => bytes / ns;  // bytes per nanosecond == GB/s

/** Wall and CPU time of one call; `fn` may report its own CPU time (a child process) as { cpuNs }. */
function time(fn) {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const r = fn();
  const ns = Number(process.hrtime.bigint() - t0);
  const c = process.cpuUsage(c0);
  return { ns, cpuNs: r && typeof r.cpuNs === 'number' ? r.cpuNs : (c.user + c.system) * 1000 };
}

/**
 * Runs each variant once per round, round-robin, so that load from other processes hits all alike.
 * Reports wall GB/s and CPU GB/s (bytes per CPU-second: on a shared, loaded machine the fairer
 * figure, since it does not count time spent waiting for a core).
 */
function measure(variants, bytes) {
  const samples = new Map(variants.map((v) => [v.name, { wall: [], cpu: [] }]));
  for (const v of variants) v.fn();  // warm-up
  for (let i = 0; i < RUNS; i++) {
    for (const v of variants) {
      const t = time(v.fn);
      samples.get(v.name).wall.push(gbps(bytes, t.ns));
      samples.get(v.name).cpu.push(gbps(bytes, t.cpuNs));
    }
  }
  return variants.map((v) => {
    const s = samples.get(v.name);
    return {
      name: v.name,
      gbps: +median(s.wall).toFixed(3),
      min: +Math.min(...s.wall).toFixed(3),
      max: +Math.max(...s.wall).toFixed(3),
      cpuGbps: +median(s.cpu).toFixed(3),
    };
  });
}

const line = (r, what) =>
  `${r.name.padEnd(32)} wall ${r.gbps.toFixed(2)} GB/s (${r.min.toFixed(2)}–${r.max.toFixed(2)})  cpu ${r.cpuGbps.toFixed(2)} GB/s  ${what}`;

const results = {
  machine: `${cpus()[0]?.model ?? 'unknown CPU'} x${cpus().length}`,
  node: process.version,
  kernels: addon.blake3Kernels(),
  defaultKernel: addon.blake3DefaultKernel(),
  runs: RUNS,
  memory: [],
  cached: [],
  file: [],
};
console.log(`# native BLAKE3, 1 thread — ${results.machine}, node ${process.version}`);
console.log(`# kernels here: ${results.kernels.join(', ')} (default ${results.defaultKernel}); median of ${RUNS}, GB/s = 10^9 B/s`);

// 1. Compute only: the same in-memory buffer, each kernel forced.
const mem = new Uint8Array(MEM_BYTES);
for (let off = 0; off < mem.length; off += 65536) randomFillSync(mem, off, Math.min(65536, mem.length - off));
results.memory = measure(
  results.kernels.map((k) => ({ name: `memory ${k}`, fn: () => addon.blake3Bytes(mem, 0, 'digest', k) })),
  MEM_BYTES,
);
for (const r of results.memory) console.log(line(r, `${MEM_BYTES / 2 ** 20} MiB`));

// 1b. Compute only, cache-resident: a 256 KiB piece (fits L2) hashed over and over, so that
// memory bandwidth is out of the picture (includes one addon call per 256 KiB, ~1-2%).
const PIECE = 256 * 1024;
const REPEAT = 512;
const piece = mem.subarray(0, PIECE);
results.cached = measure(
  results.kernels.map((k) => ({
    name: `L2-resident ${k}`,
    fn: () => {
      for (let i = 0; i < REPEAT; i++) addon.blake3Bytes(piece, 0, 'digest', k);
    },
  })),
  PIECE * REPEAT,
);
for (const r of results.cached) console.log(line(r, `256 KiB x ${REPEAT}`));

// 2. A page-cached file: blake3Leaves (one 'digest' leaf = the whole file) vs b3sum.
let file = opt('file', undefined);
const created = !file;
if (!file) {
  file = join(tmpdir(), `modelseal-bench-blake3-${process.pid}.bin`);
  const fd = openSync(file, 'w');
  const block = Buffer.alloc(8 << 20);
  for (let done = 0; done < FILE_BYTES; done += block.length) {
    randomFillSync(block);
    writeSync(fd, block, 0, Math.min(block.length, FILE_BYTES - done));
  }
  closeSync(fd);
}
try {
  const size = Number(spawnSync('stat', ['-c', '%s', file], { encoding: 'utf8' }).stdout.trim());
  readFileSync(file).length;  // into the page cache (also warms b3sum)
  const out = new Uint8Array(32);
  const defaults = addon.blake3IoOptions();
  results.defaultIo = defaults;
  const leaf = () => addon.blake3Leaves([file], [0], [size], new Uint8Array([0]), out);
  const variants = [];
  for (const [mode, block] of [['pread', 256 << 10], ['pread', 1 << 20], ['mmap', 1 << 20], ['mmap', 4 << 20]]) {
    variants.push({
      name: `file ${mode === 'mmap' ? 'mmap (POPULATE windows)' : 'pread'} ${block >> 10} KiB`,
      fn: () => {
        addon.blake3IoOptions(mode, block);
        leaf();
      },
    });
  }
  const b3 = spawnSync('b3sum', ['--version'], { encoding: 'utf8' });
  const haveB3 = b3.status === 0;
  if (haveB3) {
    for (const extra of [[], ['--no-mmap']]) {
      variants.push({
        name: `b3sum --num-threads 1 ${extra.join(' ')}`.trim(),
        fn: () => {
          // bash's `time` gives the child's CPU time (user + sys), which spawnSync does not.
          const cmd = `TIMEFORMAT='%U %S'; time b3sum --num-threads 1 ${extra.join(' ')} "$0" >/dev/null`;
          const r = spawnSync('bash', ['-c', cmd, file], { encoding: 'utf8' });
          if (r.status !== 0) throw new Error(`b3sum failed: ${r.stderr}`);
          const [u, sy] = r.stderr.trim().split(/\s+/).slice(-2).map(Number);
          return { cpuNs: (u + sy) * 1e9 };
        },
      });
    }
  }
  results.file = measure(variants, size);
  addon.blake3IoOptions('pread', defaults.preadBlockBytes);
  addon.blake3IoOptions('mmap', defaults.mmapWindowBytes);
  addon.blake3IoOptions(defaults.mode);
  leaf();
  const ours = Buffer.from(out).toString('hex');
  let agree = 'b3sum not installed: digest not cross-checked';
  if (haveB3) {
    const theirs = spawnSync('b3sum', ['--num-threads', '1', file], { encoding: 'utf8' }).stdout.slice(0, 64);
    agree = theirs === ours ? 'digest equals b3sum' : `DIGEST MISMATCH: ours ${ours}, b3sum ${theirs}`;
  }
  results.fileBytes = size;
  results.digestCheck = agree;
  results.b3sum = haveB3 ? b3.stdout.trim() : null;
  for (const r of results.file) console.log(line(r, `${(size / 2 ** 20).toFixed(0)} MiB page-cached`));
  const b3r = results.file.find((r) => r.name === 'b3sum --num-threads 1');
  const best = results.file.filter((r) => r.name.startsWith('file')).sort((a, b) => b.gbps - a.gbps)[0];
  if (b3r && best) {
    results.ratioBestFileOverB3sum = +(best.gbps / b3r.gbps).toFixed(3);
    results.cpuRatioBestFileOverB3sum = +(best.cpuGbps / b3r.cpuGbps).toFixed(3);
    console.log(
      `best file variant (${best.name}) / b3sum 1 thread: wall ${results.ratioBestFileOverB3sum}x, cpu ${results.cpuRatioBestFileOverB3sum}x (b3sum's figures include its process start-up)`,
    );
  }
  console.log(agree);
} finally {
  if (created) rmSync(file, { force: true });
}
if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ ...results, at: new Date().toISOString() }, null, 2) + '\n');
