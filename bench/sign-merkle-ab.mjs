#!/usr/bin/env node
// The companion's cost in the hashing pass: hashModel with and without merkleLeafBytes (1 MiB), in one
// process, alternating, 4 runs each; prints median wall and CPU (user + system) seconds per hash.
// Needs `npm run build:ts`. DIR: a model directory (page cache warmed by the first hash).
//
//   flock -x -w 900 /work/notes/bench.lock node bench/sign-merkle-ab.mjs DIR
import { join } from 'node:path';
import { ROOT } from './lib.mjs';

const { hashModel } = await import(join(ROOT, 'dist', 'index.js'));
const dir = process.argv[2];
if (!dir) throw new Error('usage: node bench/sign-merkle-ab.mjs MODEL_DIR');
for (const hash of ['sha256', 'blake3']) {
  await hashModel(dir, { hash });
  const res = { plain: [], merkle: [] };
  for (let i = 0; i < 4; i++) for (const k of ['plain', 'merkle']) {
    const c0 = process.cpuUsage(); const t0 = performance.now();
    await hashModel(dir, { hash, ...(k === 'merkle' ? { merkleLeafBytes: 1 << 20 } : {}) });
    const c = process.cpuUsage(c0);
    res[k].push([(performance.now() - t0) / 1000, (c.user + c.system) / 1e6]);
  }
  const med = (a) => a.slice().sort((x, y) => x - y)[a.length >> 1];
  for (const k of ['plain', 'merkle']) console.log(hash, k, 'wall', med(res[k].map((x) => x[0])).toFixed(3), 'cpu', med(res[k].map((x) => x[1])).toFixed(3));
}
console.log((await import('node:fs')).readFileSync('/proc/loadavg', 'utf8'));
