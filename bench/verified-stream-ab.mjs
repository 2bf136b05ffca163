#!/usr/bin/env node
// Streaming a whole model through openVerified against hashModel: `native` (the addon's native
// threads, verifier 'native', with `chunks(…, { reuseBuffers: true })`: the ring of reused buffers),
// `owned` (native threads, a fresh buffer per batch: what createReadStream and cat get), `pool`
// and `reuse` (pool workers, verifier 'pool', without and with reuseBuffers) and `thread`
// (workers: 0), `npread` (as `native`, with MODELSEAL_MEMORY_POLICY=low: the native threads pread
// into the ring instead of copying from the mapped file as they hash, SHA-256's default since the
// s5-fused branch; BLAKE3 preads either way), `files` (as `native`, through one
// `chunksOfFiles(undefined, { reuseBuffers: true })` over the whole model: the next file's first
// batches go out while the current file's last ones run; `native` is the per-file loop), same
// algorithm and cores, alternating in one process (a loaded machine drifts between separate runs):
// median wall and CPU (user + system, all threads) seconds, GB/s, and reads per model byte
// (/proc/self/io rchar). Signs DIR with --merkle (1 MiB leaves) first, per hash, into a temp dir.
// Needs `npm run build:ts`.
//
//   flock -x -w 900 /work/notes/bench.lock node bench/verified-stream-ab.mjs DIR [RUNS=3] [OUT.json]
// VARIANTS=hash,native,files,npread (comma list) runs only those (hash is always run: the ratios need it).
// reads/byte is /proc/self/io rchar, which counts read()/pread() bytes only: a mapped file's page
// faults are not in it (hash's 0, and the mapped native path's ~0), so the bench also reports the
// process's major faults (pages a mapping had to bring in from storage; 0 for a page-cached model)
// and minor faults per MiB; docs/companion.md says how "each byte read once" is shown for mappings.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, writeKeyPair } from './lib.mjs';

const ms = await import(join(ROOT, 'dist', 'index.js'));
const dir = process.argv[2];
if (!dir) throw new Error('usage: node bench/verified-stream-ab.mjs MODEL_DIR [RUNS]');
const RUNS = Number(process.argv[3] ?? 3);
const tmp = mkdtempSync(join(tmpdir(), 'modelseal-vs-ab-'));
writeKeyPair(join(tmp, 'k.pem'), join(tmp, 'p.pem'));
const rchar = () => Number(/rchar:\s*(\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))[1]);
const med = (a) => a.slice().sort((x, y) => x - y)[a.length >> 1];
const cores = availableParallelism();
const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
const report = { bench: 'verified-stream-ab', dir, runs: RUNS, node: process.version, cpu: cpus()[0]?.model, cores, loadBefore: loadavg(), results: [] };
console.log(`# ${cores} cores, load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
try {
  for (const hash of ['sha256', 'blake3']) {
    const sig = join(tmp, `${hash}.sig`);
    const signed = await ms.signModel(dir, { privateKey: join(tmp, 'k.pem'), output: sig, hash, merkle: true });
    const bytes = signed.hashing.bytes;
    const wanted = new Set(['hash', ...(process.env.VARIANTS ?? 'native,files,npread,owned,pool,reuse,thread').split(',')]);
    const runs = Object.fromEntries(['hash', 'native', 'files', 'npread', 'owned', 'pool', 'reuse', 'thread'].filter((k) => wanted.has(k)).map((k) => [k, []]));
    const time = async (k, fn) => {
      if (!runs[k]) return;
      const c0 = process.cpuUsage();
      const f0 = process.resourceUsage();
      const r0 = rchar();
      const t0 = performance.now();
      await fn();
      const c = process.cpuUsage(c0);
      const f1 = process.resourceUsage();
      runs[k].push({ s: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6, user: c.user / 1e6, sys: c.system / 1e6, reads: (rchar() - r0) / bytes, majflt: f1.majorPageFault - f0.majorPageFault, minfltPerMiB: ((f1.minorPageFault - f0.minorPageFault) * 2 ** 20) / bytes });
    };
    const stream = (workers, reuseBuffers = false, verifier = 'pool') => async () => {
      const m = await ms.openVerified(dir, { signature: sig, publicKey: join(tmp, 'p.pem'), workers, verifier });
      for (const f of m.files()) for await (const c of m.chunks(f.path, 0, undefined, { reuseBuffers })) void c;
      await m.close();
    };
    for (let i = 0; i < RUNS; i++) {
      await time('hash', () => ms.hashModel(dir, { hash }));
      await time('native', stream(cores, true, 'native'));
      await time('files', async () => {
        const m = await ms.openVerified(dir, { signature: sig, publicKey: join(tmp, 'p.pem'), workers: cores, verifier: 'native' });
        for await (const c of m.chunksOfFiles(undefined, { reuseBuffers: true })) void c;
        await m.close();
      });
      await time('npread', async () => {
        process.env.MODELSEAL_MEMORY_POLICY = 'low';
        try {
          await stream(cores, true, 'native')();
        } finally {
          delete process.env.MODELSEAL_MEMORY_POLICY;
        }
      });
      await time('owned', stream(cores, false, 'native'));
      await time('pool', stream(cores));
      await time('reuse', stream(cores, true));
      await time('thread', stream(0));
    }
    const h = med(runs.hash.map((x) => x.s));
    for (const [k, v] of Object.entries(runs)) {
      const s = med(v.map((x) => x.s));
      report.results.push({ hash, variant: k, bytes, wallS: s, gbPerS: bytes / s / 1e9, percentOfHash: (h / s) * 100, cpuS: med(v.map((x) => x.cpu)), userS: med(v.map((x) => x.user)), sysS: med(v.map((x) => x.sys)), majflt: med(v.map((x) => x.majflt)), readsPerByte: med(v.map((x) => x.reads)), runs: v });
      console.log(`${hash} ${k.padEnd(6)} ${(bytes / s / 1e9).toFixed(3)} GB/s (${((h / s) * 100).toFixed(0)} % of hash), wall ${s.toFixed(3)} s, cpu ${med(v.map((x) => x.cpu)).toFixed(3)} s (user ${med(v.map((x) => x.user)).toFixed(3)}, sys ${med(v.map((x) => x.sys)).toFixed(3)}), reads/byte ${med(v.map((x) => x.reads)).toFixed(4)}, majflt ${med(v.map((x) => x.majflt))}, minflt/MiB ${med(v.map((x) => x.minfltPerMiB)).toFixed(1)}`);
    }
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
report.loadAfter = loadavg();
if (process.argv[4]) writeFileSync(process.argv[4], `${JSON.stringify(report, null, 2)}\n`);
console.log(`# load after ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
