#!/usr/bin/env node
/**
 * Benchmark of the wasm backend against hash-wasm (the WebAssembly peer), 1 thread, same run.
 *
 *   npm run build:ts && node bench/wasm.mjs [--mib 256] [--runs 5] [--file PATH] [--out bench/results/wasm.json]
 *
 * In memory: one 256 MiB buffer of random bytes hashed as one message (copies into each module's
 * memory included, for both). From a file: the same size, page-cached (read once before timing),
 * read by each backend with fs.readSync (ours straight into wasm memory; hash-wasm through a
 * page-offset-safe 1 MiB buffer). SHA-256 is measured as one stream (our scalar kernel) and as
 * 16 MiB shards (our 4-lane kernel: SHA-256 can only be vectorised across messages). Reports the
 * median GB/s (10^9 bytes/s) of --runs runs, interleaved so that load drifts hit every variant, both
 * by wall clock and by the process's CPU time (user + system). On a shared machine the CPU-time
 * figure is the steadier one for a 1-thread kernel (time spent descheduled is not counted), so the
 * ratios use it; the wall-clock figures are printed beside them.
 */
import { createHash, randomFillSync } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createBLAKE3, createSHA256 } from 'hash-wasm';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    mib: { type: 'string', default: '256' },
    runs: { type: 'string', default: '5' },
    file: { type: 'string' },
    out: { type: 'string', default: join(ROOT, 'bench', 'results', 'wasm.json') },
  },
});
const BYTES = Number(args.mib) * 2 ** 20;
const RUNS = Number(args.runs);
const SHARD = 16 * 2 ** 20;

let wasm;
try {
  wasm = await import(join(ROOT, 'dist', 'backends', 'wasm.js'));
} catch (e) {
  console.error(`bench/wasm: cannot load dist/backends/wasm.js (${e.message}); run \`npm run build:ts\` first.`);
  process.exit(2);
}
const probe = wasm.wasmBackend.probe();
if (!probe.ok) {
  console.error(`bench/wasm: the wasm backend is unavailable here: ${probe.reason}`);
  process.exit(2);
}

// ---------------------------------------------------------------- inputs
const data = new Uint8Array(BYTES);
for (let o = 0; o < BYTES; o += 65536) randomFillSync(data, o, Math.min(65536, BYTES - o));

const file = args.file ?? join(ROOT, 'bench', 'work', `wasm-${args.mib}m.bin`);
if (!args.file && (!existsSync(file) || statSync(file).size !== BYTES)) {
  mkdirSync(dirname(file), { recursive: true });
  const fd = openSync(file, 'w');
  for (let o = 0; o < BYTES; o += 2 ** 20) writeSync(fd, data, o, Math.min(2 ** 20, BYTES - o));
  closeSync(fd);
}
const FILE_BYTES = statSync(file).size;
const readBuf = Buffer.allocUnsafeSlow(2 ** 20 + 4096).subarray(48, 48 + 2 ** 20); // page offset 48: fast copy-out

/** Streams the file through `update` (for the peers that take bytes, not file ranges). */
function streamFile(update) {
  const fd = openSync(file, 'r');
  try {
    for (let pos = 0; pos < FILE_BYTES; ) {
      const n = readSync(fd, readBuf, 0, readBuf.length, pos);
      update(readBuf.subarray(0, n));
      pos += n;
    }
  } finally {
    closeSync(fd);
  }
}
streamFile(() => {}); // into the page cache

const wholeLeaf = [{ path: file, offset: 0, length: FILE_BYTES, output: 'digest' }];
const shardLeaves = (output) => {
  const leaves = [];
  for (let o = 0; o < FILE_BYTES; o += SHARD) leaves.push({ path: file, offset: o, length: Math.min(SHARD, FILE_BYTES - o), output });
  return leaves;
};

// ---------------------------------------------------------------- variants
const ours = wasm.wasmBackend.createLeafHasher();
const hwSha = await createSHA256();
const hwB3 = await createBLAKE3();
const hex = (b) => Buffer.from(b).toString('hex');

const VARIANTS = [
  { id: 'mem.sha256.wasm', bytes: BYTES, run: () => hex(ours.hashBytes('sha256', data, 'digest')) },
  { id: 'mem.sha256.hash-wasm', bytes: BYTES, run: () => hwSha.init().update(data).digest('hex') },
  { id: 'mem.blake3.wasm', bytes: BYTES, run: () => hex(ours.hashBytes('blake3', data, 'digest')) },
  { id: 'mem.blake3.hash-wasm', bytes: BYTES, run: () => hwB3.init().update(data).digest('hex') },
  { id: 'file.sha256.wasm.stream', bytes: FILE_BYTES, run: () => hex(ours.hashLeaves({ algorithm: 'sha256', leaves: wholeLeaf })[0]) },
  { id: 'file.sha256.wasm.shards16M', bytes: FILE_BYTES, run: () => ours.hashLeaves({ algorithm: 'sha256', leaves: shardLeaves('digest') }).length },
  { id: 'file.sha256.hash-wasm', bytes: FILE_BYTES, run: () => { hwSha.init(); streamFile((b) => hwSha.update(b)); return hwSha.digest('hex'); } },
  { id: 'file.sha256.hash-wasm.shards16M', bytes: FILE_BYTES, run: () => {
    // the same 16 MiB shards, one after another: hash-wasm has no multi-message API
    const fd = openSync(file, 'r');
    try {
      for (let s = 0; s < FILE_BYTES; s += SHARD) {
        hwSha.init();
        for (let pos = s; pos < Math.min(FILE_BYTES, s + SHARD); ) {
          const n = readSync(fd, readBuf, 0, Math.min(readBuf.length, s + SHARD - pos), pos);
          hwSha.update(readBuf.subarray(0, n));
          pos += n;
        }
        hwSha.digest('binary');
      }
    } finally {
      closeSync(fd);
    }
    return 0;
  } },
  { id: 'file.sha256.node-crypto', bytes: FILE_BYTES, run: () => { const h = createHash('sha256'); streamFile((b) => h.update(b)); return h.digest('hex'); } },
  { id: 'file.blake3.wasm', bytes: FILE_BYTES, run: () => hex(ours.hashLeaves({ algorithm: 'blake3', leaves: wholeLeaf })[0]) },
  { id: 'file.blake3.wasm.cv16M', bytes: FILE_BYTES, run: () => ours.hashLeaves({ algorithm: 'blake3', leaves: shardLeaves('cv') }).length },
  { id: 'file.blake3.hash-wasm', bytes: FILE_BYTES, run: () => { hwB3.init(); streamFile((b) => hwB3.update(b)); return hwB3.digest('hex'); } },
];

// Same answers before timing: a fast wrong hash is no result.
const check = (a, b, what) => {
  if (a !== b) {
    console.error(`bench/wasm: ${what} differs from hash-wasm (${a} vs ${b})`);
    process.exit(1);
  }
};
const byId = Object.fromEntries(VARIANTS.map((v) => [v.id, v]));
check(byId['mem.sha256.wasm'].run(), byId['mem.sha256.hash-wasm'].run(), 'in-memory SHA-256');
check(byId['mem.blake3.wasm'].run(), byId['mem.blake3.hash-wasm'].run(), 'in-memory BLAKE3');
check(byId['file.sha256.wasm.stream'].run(), byId['file.sha256.hash-wasm'].run(), 'file SHA-256');
check(byId['file.blake3.wasm'].run(), byId['file.blake3.hash-wasm'].run(), 'file BLAKE3');

const loadStart = loadavg();
const wall = Object.fromEntries(VARIANTS.map((v) => [v.id, []]));
const cpu = Object.fromEntries(VARIANTS.map((v) => [v.id, []]));
for (let r = 0; r < RUNS; r++) {
  for (const v of VARIANTS) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    v.run();
    wall[v.id].push(Number(process.hrtime.bigint() - t0) / 1e9);
    const c = process.cpuUsage(c0);
    cpu[v.id].push((c.user + c.system) / 1e6);
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const results = VARIANTS.map((v) => {
  const gw = wall[v.id].map((t) => v.bytes / 1e9 / t);
  const gc = cpu[v.id].map((t) => v.bytes / 1e9 / t);
  return {
    id: v.id,
    bytes: v.bytes,
    runs: RUNS,
    cpu_gbps_median: median(gc),
    cpu_gbps_min: Math.min(...gc),
    cpu_gbps_max: Math.max(...gc),
    wall_gbps_median: median(gw),
    wall_gbps_min: Math.min(...gw),
    wall_gbps_max: Math.max(...gw),
  };
});
const g = Object.fromEntries(results.map((r) => [r.id, r.cpu_gbps_median]));
const ratios = {
  'mem.sha256 wasm/hash-wasm': g['mem.sha256.wasm'] / g['mem.sha256.hash-wasm'],
  'file.sha256 stream wasm/hash-wasm': g['file.sha256.wasm.stream'] / g['file.sha256.hash-wasm'],
  'file.sha256 shards16M wasm(4 lanes)/hash-wasm': g['file.sha256.wasm.shards16M'] / g['file.sha256.hash-wasm.shards16M'],
  'mem.blake3 wasm/hash-wasm': g['mem.blake3.wasm'] / g['mem.blake3.hash-wasm'],
  'file.blake3 wasm/hash-wasm': g['file.blake3.wasm'] / g['file.blake3.hash-wasm'],
};
const targets = {
  'sha256 >= 1.0x hash-wasm (stream, in memory)': ratios['mem.sha256 wasm/hash-wasm'] >= 1.0,
  'sha256 >= 1.0x hash-wasm (shards, file)': ratios['file.sha256 shards16M wasm(4 lanes)/hash-wasm'] >= 1.0,
  'blake3 >= 1.5x hash-wasm (in memory)': ratios['mem.blake3 wasm/hash-wasm'] >= 1.5,
  'blake3 >= 1.5x hash-wasm (file)': ratios['file.blake3 wasm/hash-wasm'] >= 1.5,
};

const machine = { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version, v8: process.versions.v8, loadavg_start: loadStart, loadavg_end: loadavg() };
const out = { bench: 'wasm', date: new Date().toISOString(), machine, mib: Number(args.mib), file, ratios_basis: 'cpu-time medians', results, ratios, targets };

const fmt = (xs) => xs.map((x) => x.toFixed(1)).join(' ');
console.log(`wasm backend vs hash-wasm, 1 thread, ${args.mib} MiB, median of ${RUNS} (${machine.cpu}, ${machine.cores} cores, Node ${process.version}; load ${fmt(loadStart)} -> ${fmt(machine.loadavg_end)})`);
console.log(`  ${'variant'.padEnd(34)} GB/s by CPU time (min-max)   GB/s by wall clock`);
for (const r of results) {
  console.log(`  ${r.id.padEnd(34)} ${r.cpu_gbps_median.toFixed(3)} (${r.cpu_gbps_min.toFixed(3)}-${r.cpu_gbps_max.toFixed(3)})      ${r.wall_gbps_median.toFixed(3)} (${r.wall_gbps_min.toFixed(3)}-${r.wall_gbps_max.toFixed(3)})`);
}
for (const [k, v] of Object.entries(ratios)) console.log(`  ${k.padEnd(48)} ${v.toFixed(2)}x`);
for (const [k, v] of Object.entries(targets)) console.log(`  target ${k}: ${v ? 'met' : 'NOT met'}`);
mkdirSync(dirname(args.out), { recursive: true });
writeFileSync(args.out, JSON.stringify(out, null, 2) + '\n');
console.log(`  results: ${args.out}`);
