#!/usr/bin/env node
/**
 * One measured run for bench/pressure.mjs and test/pressure/ (started inside a memory-limited
 * cgroup): hashes or verifies a model with the library from dist/, then prints one JSON line with the
 * result and this process's resource usage (all threads): bytes read from storage (ru_inblock × 512),
 * major page faults, user and system CPU seconds.
 *
 *   node bench/pressure-child.mjs hash MODEL [SHARD_BYTES]      (files method without SHARD_BYTES)
 *   node bench/pressure-child.mjs hash-blake3 MODEL             (files method, BLAKE3, 2 workers)
 *   node bench/pressure-child.mjs verify MODEL BUNDLE PUBKEY
 */
import { hashModel, verifyModel } from '../dist/index.js';

const [what, model, a, b] = process.argv.slice(2);
const t0 = performance.now();
let out;
if (what === 'hash') {
  const r = await hashModel(model, a ? { method: 'shards', shardSize: Number(a) } : {});
  out = { ok: true, rootDigest: r.manifest.rootDigest, workers: r.workers, bytes: r.bytes };
} else if (what === 'hash-blake3') {
  // two workers asked for, so the native threaded path (one shared mapping per file) is the one tried
  const r = await hashModel(model, { hash: 'blake3', workers: 2 });
  out = { ok: true, rootDigest: r.manifest.rootDigest, workers: r.workers, bytes: r.bytes };
} else if (what === 'verify') {
  const r = await verifyModel(model, a, { publicKey: b });
  out = { ok: r.verified, rootDigest: r.rootDigest, workers: r.hashing.workers, bytes: r.hashing.bytes };
} else {
  console.error('usage: pressure-child.mjs hash MODEL [SHARD_BYTES] | hash-blake3 MODEL | verify MODEL BUNDLE PUBKEY');
  process.exit(2);
}
const ru = process.resourceUsage();
console.log(
  JSON.stringify({
    ...out,
    wallSeconds: (performance.now() - t0) / 1000,
    readBytes: ru.fsRead * 512,
    majorFaults: ru.majorPageFault,
    userSeconds: ru.userCPUTime / 1e6,
    systemSeconds: ru.systemCPUTime / 1e6,
    maxRssBytes: ru.maxRSS * 1024,
  }),
);
