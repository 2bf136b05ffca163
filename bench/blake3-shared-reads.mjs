#!/usr/bin/env node
// How blake3LeavesAsync reads a file that several leaves share, in-process, on the same bytes: the
// whole file mapped once ('map'), 1 MiB pread blocks ('read'), or the default per-leaf choice
// ('auto': mapped where one fault maps two pages 1 MiB apart, i.e. PMD-mapped large folios). User and
// sys CPU of each call (process.resourceUsage), 8 MiB subtree leaves as the engine plans them,
// rounds interleaved, medians. Run it on a file whose page cache is in 4 KiB folios (written through
// a pipe, like /work/data/one2g) and on a copy in large folios (bench/folio-copy.sh):
//
//   flock -x -w 900 /work/notes/bench.lock node bench/blake3-shared-reads.mjs [--file F] [--threads 1] [--rounds 5] [--out FILE]
import { statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, release } from 'node:os';
import { join } from 'node:path';
import { ROOT, cpuTimed, interleavedRounds, median, opt } from './lib.mjs';

const file = opt('file', '/work/data/one2g/weights.bin');
const threads = Number(opt('threads', '1'));
const rounds = Number(opt('rounds', '5'));
const out = opt('out', undefined);
const addon = createRequire(import.meta.url)(process.env.MODELSEAL_NATIVE_PATH ?? join(ROOT, 'build', 'Release', 'modelseal.node'));
if (typeof addon.blake3LeavesAsync !== 'function' || addon.blake3IoOptions().sharedFiles === undefined) {
  console.error('this addon has no sharedFiles option: run `npm run build:native`');
  process.exit(2);
}
const size = statSync(file).size;
const LEAF = 8 << 20;
const n = Math.ceil(size / LEAF);
const offsets = Array.from({ length: n }, (_, i) => i * LEAF);
const lengths = offsets.map((o) => Math.min(LEAF, size - o));
const outBuf = new Uint8Array(32 * n);
const modes = ['map', 'read', 'auto'];

async function once(mode) {
  addon.blake3IoOptions(undefined, undefined, mode);
  const t = await cpuTimed(() => addon.blake3LeavesAsync(Array(n).fill(file), offsets, lengths, new Uint8Array(n).fill(1), outBuf, undefined, undefined, undefined, threads));
  addon.blake3IoOptions(undefined, undefined, 'auto');
  return { ...t, digestsOf: Buffer.from(outBuf).toString('hex') };
}

await once('auto');  // page cache and code warm
const { samples, load } = await interleavedRounds(modes, rounds, once);
const med = (xs, f) => +median(xs.map((x) => x[f])).toFixed(3);
const result = {
  benchmark: 'blake3 shared-file reads (map / pread / auto), in-process',
  at: new Date().toISOString(),
  machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, kernel: release() },
  node: process.version,
  file,
  bytes: size,
  threads,
  rounds,
  loadavg1: { min: Math.min(...load), max: Math.max(...load) },
  modes: Object.fromEntries(modes.map((m) => [m, { wall: med(samples[m], 'wall'), user: med(samples[m], 'user'), sys: med(samples[m], 'sys'), cpu: med(samples[m], 'cpu'), runs: samples[m] }])),
};
console.log(`# ${result.machine.cpu} x${result.machine.cores}, ${result.machine.kernel}, ${file} (${size} B), ${threads} thread(s), load ${result.loadavg1.min}-${result.loadavg1.max}, medians of ${rounds}`);
for (const m of modes) console.log(`${m.padEnd(5)} wall ${result.modes[m].wall}s  cpu ${result.modes[m].cpu}s (user ${result.modes[m].user}, sys ${result.modes[m].sys})`);
if (out) writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
