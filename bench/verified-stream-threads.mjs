#!/usr/bin/env node
// Where an openVerified stream's CPU goes, per thread (/proc/self/task/*/stat utime+stime): the JS
// main thread vs the libuv pool threads that run the native hashing calls, for the per-file loop
// (`m.chunks(f.path)` per file, `perfile`) and one `m.chunksOfFiles()` (`files`), both with
// reuseBuffers, and `uvfiles` (as `files` with MODELSEAL_NATIVE_PIPELINE=0: a libuv work item per
// batch); `hash` (hashModel) for the ratios. Per-thread figures are taken before close() (which
// stops the pipeline's threads); "CPU" and "cores busy" are the whole process's (getrusage, exited
// threads included). Adapted from the coordinator's /work/notes/stream-threads.mjs. Needs `npx tsc`.
//
//   flock -x -w 900 /work/notes/bench.lock node bench/verified-stream-threads.mjs DIR [sha256|blake3] [RUNS=9]
// WORKERS=N (default 2): the workers of both hashModel and openVerified; WORKERS=1 on a 2-core host
// leaves the calling thread a core of its own, as on a many-core host.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, writeKeyPair } from './lib.mjs';

const ms = await import(join(ROOT, 'dist', 'index.js'));
const dir = process.argv[2];
if (!dir) throw new Error('usage: node bench/verified-stream-threads.mjs MODEL_DIR [sha256|blake3] [RUNS]');
const hash = process.argv[3] ?? 'blake3';
const N = Number(process.argv[4] ?? 9);
const tmp = mkdtempSync(join(tmpdir(), 'modelseal-vst-'));
writeKeyPair(join(tmp, 'k.pem'), join(tmp, 'p.pem'));
const sig = join(tmp, 's.sig');
await ms.signModel(dir, { privateKey: join(tmp, 'k.pem'), output: sig, hash, merkle: true });
const tasks = () => {
  const o = {};
  for (const t of readdirSync('/proc/self/task')) {
    try {
      const s = readFileSync(`/proc/self/task/${t}/stat`, 'utf8');
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      o[t] = { main: Number(t) === process.pid, cpu: (Number(f[11]) + Number(f[12])) * 10 };
    } catch {} // a thread that exited meanwhile
  }
  return o;
};
const split = (a, b) => {
  const r = { main: 0, other: 0 };
  for (const [t, v] of Object.entries(b)) r[v.main ? 'main' : 'other'] += v.cpu - (a[t]?.cpu ?? 0);
  return r;
};
const med = (x) => x.slice().sort((p, q) => p - q)[x.length >> 1];
const WORKERS = Number(process.env.WORKERS ?? 2);
const open = () => ms.openVerified(dir, { signature: sig, publicKey: join(tmp, 'p.pem'), workers: WORKERS, verifier: 'native' });
const variants = {
  hash: () => ms.hashModel(dir, { hash, workers: WORKERS }),
  perfile: async () => {
    const m = await open();
    for (const f of m.files()) for await (const c of m.chunks(f.path, 0, undefined, { reuseBuffers: true })) void c;
    const t = tasks(); // before close() stops the pipeline's threads
    await m.close();
    return t;
  },
  files: async () => {
    const m = await open();
    for await (const c of m.chunksOfFiles(undefined, { reuseBuffers: true })) void c;
    const t = tasks();
    await m.close();
    return t;
  },
  // as `files`, each batch a libuv work item (the path before the pipeline, and of addons without it)
  uvfiles: async () => {
    process.env.MODELSEAL_NATIVE_PIPELINE = '0';
    try {
      const m = await open();
      for await (const c of m.chunksOfFiles(undefined, { reuseBuffers: true })) void c;
      const t = tasks();
      await m.close();
      return t;
    } finally {
      delete process.env.MODELSEAL_NATIVE_PIPELINE;
    }
  },
};
const res = Object.fromEntries(Object.keys(variants).map((k) => [k, { wall: [], main: [], other: [], cpu: [] }]));
console.log(`# ${hash}, ${WORKERS} workers, load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
try {
  for (let i = 0; i < N; i++) {
    for (const [k, fn] of Object.entries(variants)) {
      const a = tasks();
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const before = await fn();
      const w = performance.now() - t0;
      const c = process.cpuUsage(c0); // every thread, those that exited too
      const s = split(a, before ?? tasks());
      res[k].cpu.push((c.user + c.system) / 1000);
      res[k].wall.push(w);
      res[k].main.push(s.main);
      res[k].other.push(s.other);
    }
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
const h = med(res.hash.wall);
for (const [k, v] of Object.entries(res)) {
  const threads = k === 'hash' ? '' : `, main thread ${med(v.main)} ms, other threads ${med(v.other)} ms`;
  console.log(`${k.padEnd(7)} wall ${med(v.wall).toFixed(0)} ms (${((h / med(v.wall)) * 100).toFixed(1)} % of hash), CPU ${med(v.cpu).toFixed(0)} ms, cores busy ${(med(v.cpu) / med(v.wall)).toFixed(2)}${threads}`);
}
console.log(`# load after ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
