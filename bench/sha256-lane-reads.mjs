#!/usr/bin/env node
// How the SHA-256 lanes read files, in-process, on the same bytes: mapped windows ('mmap', the
// default) or pread pieces into per-lane buffers ('pread'). User and sys CPU of each
// sha256LeavesAsync call (process.resourceUsage), one leaf per file as files/sha256 plans them (or
// --shard-mib N: shards), on --threads native threads (the CLI uses one per core), rounds
// interleaved, medians, digests cross-checked. Run it on a model whose page cache is in 4 KiB folios
// (written through a pipe, like /work/data/m2g-16f) and on a copy in large folios
// (bench/folio-copy.sh):
//
//   flock -x -w 900 /work/notes/bench.lock node bench/sha256-lane-reads.mjs [--dir D | --file F]
//        [--threads 2] [--rounds 5] [--shard-mib N] [--modes mmap,pread] [--out FILE]
//
// A third mode, 'auto' (each mapped window probed with BLAKE3's page-fault test and read by pread
// where its page cache is in small folios), exists only in the addon of commit 522a274 (branch
// s5-lanes), where it was measured and then removed: no gain on 4 KiB folios, a loss on large ones
// (bench/results/sha256-lane-reads-s5-lanes-*-2026-12-05.json). Modes this addon does not know are
// skipped with a line.
//
// MODELSEAL_MEMORY_POLICY is set to 'normal' unless given, so that a busy machine's low-memory
// rule (native/read_policy.h) does not turn every mode into pread.
import { closeSync, openSync, readSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, release } from 'node:os';
import { join } from 'node:path';
import { ROOT, cpuTimed, interleavedRounds, median, opt } from './lib.mjs';

process.env.MODELSEAL_MEMORY_POLICY ??= 'normal';
const single = opt('file', undefined);
const dir = opt('dir', '/work/data/m2g-16f');
const threads = Number(opt('threads', '2'));
const rounds = Number(opt('rounds', '5'));
const shard = opt('shard-mib', undefined) === undefined ? 0 : Number(opt('shard-mib')) * 2 ** 20;
const out = opt('out', undefined);
const addon = createRequire(import.meta.url)(process.env.MODELSEAL_NATIVE_PATH ?? join(ROOT, 'build', 'Release', 'modelseal.node'));
if (typeof addon.sha256LeavesAsync !== 'function') {
  console.error('this addon has no sha256LeavesAsync: run `npm run build:native`');
  process.exit(2);
}
const files = single ? [single] : readdirSync(dir).sort().map((f) => join(dir, f)).filter((f) => statSync(f).isFile());
const paths = [];
const offsets = [];
const lengths = [];
for (const f of files) {
  const size = statSync(f).size;
  const step = shard || size || 1;
  for (let o = 0; o < size || (o === 0 && size === 0); o += step) {
    paths.push(f);
    offsets.push(o);
    lengths.push(Math.min(step, size - o));
  }
}
const bytes = lengths.reduce((a, b) => a + b, 0);
const n = paths.length;
const outBuf = new Uint8Array(32 * n);

// Only the modes this addon knows.
const supported = (io) => {
  try {
    addon.sha256Leaves([files[0]], [0], [0], new Uint8Array(32), undefined, { io });
    return true;
  } catch {
    return false;
  }
};
const modes = opt('modes', 'mmap,pread').split(',').filter((m) => supported(m) || (console.error(`skipping io '${m}': not known to this addon`), false));

async function once(io) {
  const t = await cpuTimed(() => addon.sha256LeavesAsync(paths, offsets, lengths, outBuf, undefined, { io }, threads));
  return { ...t, digestsOf: Buffer.from(outBuf).toString('hex') };
}

// Page cache and code warm.
const buf = Buffer.allocUnsafe(8 << 20);
for (const f of files) {
  const fd = openSync(f, 'r');
  while (readSync(fd, buf, 0, buf.length, null) > 0);
  closeSync(fd);
}
await once(modes[0]);
const { samples, load } = await interleavedRounds(modes, rounds, once);
const per2g = 2 ** 31 / bytes;
const med = (xs, f) => +median(xs.map((x) => x[f])).toFixed(3);
const result = {
  benchmark: 'sha256 lane reads (mmap / pread, and auto in commit 522a274), in-process, sha256LeavesAsync',
  at: new Date().toISOString(),
  machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, kernel: release() },
  node: process.version,
  kernel: addon.sha256DefaultKernel(),
  source: single ?? dir,
  files: files.length,
  leaves: n,
  bytes,
  threads,
  rounds,
  memoryPolicy: process.env.MODELSEAL_MEMORY_POLICY,
  loadavg1: { min: Math.min(...load), max: Math.max(...load) },
  modes: Object.fromEntries(
    modes.map((m) => [m, { wall: med(samples[m], 'wall'), user: med(samples[m], 'user'), sys: med(samples[m], 'sys'), cpu: med(samples[m], 'cpu'), cpuPer2GiB: +(med(samples[m], 'cpu') * per2g).toFixed(3), minflt: med(samples[m], 'minflt'), runs: samples[m] }]),
  ),
};
console.log(`# ${result.machine.cpu} x${result.machine.cores}, ${result.machine.kernel}, ${result.kernel}, ${result.source} (${n} leaves, ${bytes} B), ${threads} thread(s), load ${result.loadavg1.min}-${result.loadavg1.max}, medians of ${rounds}`);
for (const m of modes) {
  const r = result.modes[m];
  console.log(`${m.padEnd(5)} wall ${r.wall}s  cpu ${r.cpu}s (user ${r.user}, sys ${r.sys})  per 2 GiB ${r.cpuPer2GiB}s  minflt ${r.minflt}`);
}
if (out) writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
