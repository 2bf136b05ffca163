#!/usr/bin/env node
// Streaming a whole model through openVerified against hashModel: `native` (the addon's native
// threads, verifier 'native', with `chunks(…, { reuseBuffers: true })`: the ring of reused buffers),
// `owned` (native threads, a fresh buffer per batch: what createReadStream and cat get), `pool`
// and `reuse` (pool workers, verifier 'pool', without and with reuseBuffers) and `thread`
// (workers: 0), same
// algorithm and cores, alternating in one process (a loaded machine drifts between separate runs):
// median wall and CPU (user + system, all threads) seconds, GB/s, and reads per model byte
// (/proc/self/io rchar). Signs DIR with --merkle (1 MiB leaves) first, per hash, into a temp dir.
// Needs `npm run build:ts`.
//
//   flock -x -w 900 /work/notes/bench.lock node bench/verified-stream-ab.mjs DIR [RUNS=3] [OUT.json]
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './lib.mjs';

const ms = await import(join(ROOT, 'dist', 'index.js'));
const dir = process.argv[2];
if (!dir) throw new Error('usage: node bench/verified-stream-ab.mjs MODEL_DIR [RUNS]');
const RUNS = Number(process.argv[3] ?? 3);
const tmp = mkdtempSync(join(tmpdir(), 'modelseal-vs-ab-'));
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
writeFileSync(join(tmp, 'k.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
writeFileSync(join(tmp, 'p.pem'), publicKey.export({ type: 'spki', format: 'pem' }));
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
    const runs = { hash: [], native: [], owned: [], pool: [], reuse: [], thread: [] };
    const time = async (k, fn) => {
      const c0 = process.cpuUsage();
      const r0 = rchar();
      const t0 = performance.now();
      await fn();
      const c = process.cpuUsage(c0);
      runs[k].push({ s: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6, reads: (rchar() - r0) / bytes });
    };
    const stream = (workers, reuseBuffers = false, verifier = 'pool') => async () => {
      const m = await ms.openVerified(dir, { signature: sig, publicKey: join(tmp, 'p.pem'), workers, verifier });
      for (const f of m.files()) for await (const c of m.chunks(f.path, 0, undefined, { reuseBuffers })) void c;
      await m.close();
    };
    for (let i = 0; i < RUNS; i++) {
      await time('hash', () => ms.hashModel(dir, { hash }));
      await time('native', stream(cores, true, 'native'));
      await time('owned', stream(cores, false, 'native'));
      await time('pool', stream(cores));
      await time('reuse', stream(cores, true));
      await time('thread', stream(0));
    }
    const h = med(runs.hash.map((x) => x.s));
    for (const [k, v] of Object.entries(runs)) {
      const s = med(v.map((x) => x.s));
      report.results.push({ hash, variant: k, bytes, wallS: s, gbPerS: bytes / s / 1e9, percentOfHash: (h / s) * 100, cpuS: med(v.map((x) => x.cpu)), readsPerByte: med(v.map((x) => x.reads)), runs: v });
      console.log(`${hash} ${k.padEnd(6)} ${(bytes / s / 1e9).toFixed(3)} GB/s (${((h / s) * 100).toFixed(0)} % of hash), wall ${s.toFixed(3)} s, cpu ${med(v.map((x) => x.cpu)).toFixed(3)} s, reads/byte ${med(v.map((x) => x.reads)).toFixed(4)}`);
    }
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
report.loadAfter = loadavg();
if (process.argv[4]) writeFileSync(process.argv[4], `${JSON.stringify(report, null, 2)}\n`);
console.log(`# load after ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
