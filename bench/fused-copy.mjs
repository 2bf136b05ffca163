#!/usr/bin/env node
// The I/O paths of verifiedUnitsAsync (native/verified_units_napi.cc) on their own, without
// openVerified's JS: every file of DIR as 1 MiB units (RFC 9162 leaves for SHA-256, CVs for BLAKE3),
// 2 units per call on 1 thread, CALLS calls in flight (what openVerified issues per batch on 2 cores),
// into a ring of reused page-aligned buffers. One child process per (io, algorithm, run), the
// variants interleaved run by run; user and system CPU seconds of the whole child (getrusage) and
// wall, medians. io: 'pread' (pread a piece, hash it in L2), 'map-memcpy' (map the range, memcpy a
// piece, hash the copy), 'map' (map; SHA-256 through the copy-out kernels: one load feeds the hash
// and the store).
//   flock -x -w 900 /work/notes/bench.lock node bench/fused-copy.mjs [DIR=/work/data/m2g-16f] [RUNS=5] [OUT.json]
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './lib.mjs';

const UNIT = 1 << 20;
const CALLS = 4;
if (process.argv[2] === '--child') {
  const [, , , dir, alg, io] = process.argv;
  const { createRequire } = await import('node:module');
  const addon = createRequire(import.meta.url)(join(ROOT, 'build', 'Release', 'modelseal.node'));
  const files = readdirSync(dir).sort().map((f) => join(dir, f)).filter((p) => statSync(p).isFile());
  const ring = Array.from({ length: CALLS }, () => new Uint8Array(addon.alignedBuffer(2 * UNIT)));
  const out = Array.from({ length: CALLS }, () => new Uint8Array(64));
  const r0 = process.resourceUsage();
  const t0 = process.hrtime.bigint();
  let bytes = 0;
  const mode = alg === 'sha256' ? 2 : 1;
  for (const f of files) {
    const size = statSync(f).size;
    const fd = openSync(f, 'r');
    const jobs = [];
    for (let off = 0; off < size; off += 2 * UNIT) jobs.push(off);
    let next = 0;
    const lane = async (k) => {
      for (let j; (j = next++) < jobs.length; ) {
        const off = jobs[j];
        const offs = [], lens = [];
        for (let o = off; o < Math.min(size, off + 2 * UNIT); o += UNIT) { offs.push(o); lens.push(Math.min(UNIT, size - o)); }
        await addon.verifiedUnitsAsync(fd, Float64Array.from(offs), Float64Array.from(lens), new Uint8Array(offs.length).fill(mode), alg, ring[k], out[k].subarray(0, 32 * offs.length), 1, undefined, io);
        bytes += lens.reduce((a, b) => a + b, 0);
      }
    };
    await Promise.all(Array.from({ length: CALLS }, (_, k) => lane(k)));
    closeSync(fd);
  }
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const r1 = process.resourceUsage();
  const io5 = readFileSync('/proc/self/io', 'utf8');
  console.log(JSON.stringify({ wall, user: (r1.userCPUTime - r0.userCPUTime) / 1e6, sys: (r1.systemCPUTime - r0.systemCPUTime) / 1e6, bytes, majflt: r1.majorPageFault - r0.majorPageFault, minflt: r1.minorPageFault - r0.minorPageFault, rchar: Number(/rchar:\s*(\d+)/.exec(io5)[1]) }));
  process.exit(0);
}
const dir = process.argv[2] ?? '/work/data/m2g-16f';
const RUNS = Number(process.argv[3] ?? 5);
const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
const report = { bench: 'fused-copy', dir, runs: RUNS, cpu: cpus()[0]?.model, cores: cpus().length, loadBefore: loadavg(), results: {} };
const variants = [];
for (const alg of ['sha256', 'blake3']) for (const io of ['pread', 'map-memcpy', 'map']) variants.push([alg, io]);
const runs = Object.fromEntries(variants.map(([a, i]) => [`${a} ${i}`, []]));
for (let r = 0; r < RUNS; r++)
  for (const [alg, io] of variants) {
    const res = JSON.parse(execFileSync(process.execPath, [process.argv[1], '--child', dir, alg, io], { encoding: 'utf8', env: { ...process.env, MODELSEAL_MEMORY_POLICY: 'normal' } }));
    runs[`${alg} ${io}`].push(res);
  }
const med = (a) => a.slice().sort((x, y) => x - y)[a.length >> 1];
for (const [k, rs] of Object.entries(runs)) {
  const m = (f) => med(rs.map(f));
  const row = { wall: m((r) => r.wall), user: m((r) => r.user), sys: m((r) => r.sys), cpu: m((r) => r.user + r.sys), gbps: m((r) => r.bytes / r.wall / 1e9), minflt: m((r) => r.minflt), rcharPerByte: m((r) => r.rchar / r.bytes) };
  report.results[k] = { ...row, runs: rs };
  console.log(`${k.padEnd(18)} wall ${row.wall.toFixed(3)} s  ${row.gbps.toFixed(2)} GB/s  user ${row.user.toFixed(3)}  sys ${row.sys.toFixed(3)}  cpu ${row.cpu.toFixed(3)}  minflt ${row.minflt}  rchar/B ${row.rcharPerByte.toFixed(4)}`);
}
report.loadAfter = loadavg();
console.log(`# load ${report.loadBefore.join(' ')} -> ${report.loadAfter.join(' ')}`);
if (process.argv[4]) writeFileSync(process.argv[4], JSON.stringify(report, null, 2) + '\n');
