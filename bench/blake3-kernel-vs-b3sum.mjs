#!/usr/bin/env node
// The BLAKE3 kernel against b3sum's, in user CPU time, with mapping costs out of the picture: a
// 256 MiB file in /dev/shm hashed 8 times (2 GiB) in one call by the native threads path (one
// thread; the 8 leaves share one mapping, so the pages fault once) and by
// `b3sum --num-threads 1 FILE x8` (which maps the file 8 times: its sys time is faults, its user time
// is the kernel). Rounds alternate; medians of user seconds per 2 GiB. GNU time gives b3sum's CPU.
//
//   flock -x -w 900 /work/notes/bench.lock node bench/blake3-kernel-vs-b3sum.mjs [--rounds 5] [--kernel avx2] [--out FILE]
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, release } from 'node:os';
import { join } from 'node:path';
import { randomFillSync } from 'node:crypto';
import { ROOT, median, opt } from './lib.mjs';

const ROUNDS = Number(opt('rounds', '5'));
const kernel = opt('kernel', undefined);
const out = opt('out', undefined);
const addon = createRequire(import.meta.url)(process.env.MODELSEAL_NATIVE_PATH ?? join(ROOT, 'build', 'Release', 'modelseal.node'));
if (typeof addon.blake3LeavesAsync !== 'function') {
  console.error('this addon has no blake3LeavesAsync: run `npm run build:native`');
  process.exit(2);
}
const S = 256 << 20;
const N = 8;
const file = `/dev/shm/modelseal-b3k-${process.pid}.bin`;
const buf = Buffer.alloc(S);
randomFillSync(buf);
writeFileSync(file, buf);
const outBuf = new Uint8Array(32 * N);
const ours = () => addon.blake3LeavesAsync(Array(N).fill(file), Array(N).fill(0), Array(N).fill(S), new Uint8Array(N), outBuf, kernel, undefined, undefined, 1);
const samples = { ours: [], oursSys: [], b3sum: [], b3sumSys: [] };
try {
  await ours();
  for (let i = 0; i < ROUNDS; i++) {
    const r0 = process.resourceUsage();
    await ours();
    const r1 = process.resourceUsage();
    samples.ours.push((r1.userCPUTime - r0.userCPUTime) / 1e6);
    samples.oursSys.push((r1.systemCPUTime - r0.systemCPUTime) / 1e6);
    const r = spawnSync('/usr/bin/time', ['-f', '%U %S', 'b3sum', '--num-threads', '1', ...Array(N).fill(file)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`b3sum failed: ${r.stderr}`);
    const [u, s] = r.stderr.trim().split('\n').at(-1).split(/\s+/).map(Number);
    samples.b3sum.push(u);
    samples.b3sumSys.push(s);
    if (r.stdout.slice(0, 64) !== Buffer.from(outBuf.subarray(0, 32)).toString('hex')) throw new Error('digest differs from b3sum');
  }
} finally {
  rmSync(file, { force: true });
}
const flags = (spawnSync('grep', ['-m1', '^flags', '/proc/cpuinfo'], { encoding: 'utf8' }).stdout.match(/\b(sse4_1|avx2|avx512f|avx512vl)\b/g) ?? []);
const result = {
  benchmark: 'BLAKE3 kernel user time per 2 GiB vs b3sum --num-threads 1 (256 MiB tmpfs file x8)',
  at: new Date().toISOString(),
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, simd: flags, kernel: release() },
  node: process.version,
  kernel: kernel ?? addon.blake3DefaultKernel(),
  rounds: ROUNDS,
  oursUserMedian: +median(samples.ours).toFixed(3),
  b3sumUserMedian: +median(samples.b3sum).toFixed(3),
  oursSysMedian: +median(samples.oursSys).toFixed(3),
  b3sumSysMedian: +median(samples.b3sumSys).toFixed(3),
  samples,
};
console.log(`${result.machine.cpu} x${result.machine.cores}: ${result.kernel} user ${result.oursUserMedian} s (sys ${result.oursSysMedian}) vs b3sum user ${result.b3sumUserMedian} s (sys ${result.b3sumSysMedian}) per 2 GiB; user ratio ${(result.b3sumUserMedian / result.oursUserMedian).toFixed(3)}x`);
if (out) writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
