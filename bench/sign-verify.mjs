#!/usr/bin/env node
// End-to-end sign and verify beside hash alone, on a generated model: what do statement building,
// DSSE signing, bundle writing / reading, signature checking and the manifest comparison add to
// the hashing time? Target: under 1 %.
//
//   node bench/sign-verify.mjs [--size 1GiB] [--files 4] [--method files|shards] [--shard-size 16MiB]
//        [--hash sha256|blake2b|blake3] [--curve P-256|P-384|P-521] [--backend auto|native|...] [--runs 3]
//        [--dir DIR] [--keep] [--json OUT]
//
// Needs `npm run build` (it imports dist/). The model is written once (prime-period fill, not sparse,
// so every byte is really read), hashed once to warm the page cache, then each run does, round-robin:
// hashModel, signModel (writes the bundle), verifyModel (reads it). Reported per phase: median wall
// seconds, and the non-hashing part measured inside sign/verify (sign: statement + DSSE + write;
// verify: total minus its own hashing time). Overhead % = that non-hashing part / hash-alone median.
import { closeSync, mkdirSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { ROOT as root, flag, median, opt, writeKeyPair } from './lib.mjs';


function parseSize(s) {
  const m = /^(\d+(?:\.\d+)?)\s*(b|kib|mib|gib|kb|mb|gb)?$/i.exec(s);
  if (!m) throw new Error(`bad size ${s}`);
  const unit = { b: 1, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, kb: 1e3, mb: 1e6, gb: 1e9 }[(m[2] ?? 'b').toLowerCase()];
  return Math.round(Number(m[1]) * unit);
}

const SIZE = parseSize(opt('size', '1GiB'));
const FILES = Number(opt('files', '4'));
const METHOD = opt('method', 'files');
const SHARD = METHOD === 'shards' ? parseSize(opt('shard-size', '16MiB')) : undefined;
const HASH = opt('hash', 'sha256');
const CURVE = opt('curve', 'P-256');
const RUNS = Number(opt('runs', '3'));
const BACKEND = opt('backend', 'auto');
const jsonOut = opt('json', undefined);

const { hashModel } = await import(join(root, 'dist', 'engine', 'hash-model.js'));
const { signModel } = await import(join(root, 'dist', 'sign', 'sign-model.js'));
const { verifyModel } = await import(join(root, 'dist', 'verify', 'verify-model.js'));

const base = opt('dir', join(tmpdir(), `modelseal-bench-sv-${process.pid}`));
const model = join(base, 'model');
mkdirSync(model, { recursive: true });

// Prime-period fill (i % 251), written in 4 MiB blocks.
const BLOCK = 4 * 2 ** 20;
const block = Buffer.alloc(BLOCK + 251);
for (let i = 0; i < block.length; i++) block[i] = i % 251;
const per = Math.floor(SIZE / FILES);
for (let f = 0; f < FILES; f++) {
  const size = f === FILES - 1 ? SIZE - per * (FILES - 1) : per;
  const fd = openSync(join(model, `model-${String(f).padStart(5, '0')}-of-${String(FILES).padStart(5, '0')}.safetensors`), 'w');
  let off = 0;
  while (off < size) {
    const n = Math.min(BLOCK, size - off);
    const phase = off % 251;
    writeSync(fd, block, phase, n);
    off += n;
  }
  closeSync(fd);
}
writeFileSync(join(model, 'config.json'), JSON.stringify({ architectures: ['Bench'], hidden_size: 4096 }));

const keyPath = join(base, 'key.pem');
const pubPath = join(base, 'key.pub.pem');
writeKeyPair(keyPath, pubPath, CURVE);
const bundlePath = join(base, 'model.sig');
const hashOpts = { hash: HASH, method: METHOD, backend: BACKEND, ...(SHARD ? { shardSize: SHARD } : {}) };


try {
  const warm = await hashModel(model, hashOpts); // page cache
  const t = { hash: [], sign: [], signExtra: [], signCore: [], signWrite: [], verify: [], verifyExtra: [] };
  let resources = warm.manifest.resources.length;
  let backend = warm.backend;
  let bundleBytes = 0;
  for (let r = 0; r < RUNS; r++) {
    let t0 = performance.now();
    const h = await hashModel(model, hashOpts);
    t.hash.push((performance.now() - t0) / 1000);
    backend = h.backend;

    t0 = performance.now();
    const s = await signModel(model, { ...hashOpts, privateKey: keyPath, output: bundlePath, force: true });
    t.sign.push((performance.now() - t0) / 1000);
    t.signExtra.push(t.sign.at(-1) - s.hashing.seconds);
    t.signCore.push(s.signSeconds - s.writeSeconds);
    t.signWrite.push(s.writeSeconds);
    bundleBytes = JSON.stringify(s.bundle).length;

    t0 = performance.now();
    const v = await verifyModel(model, bundlePath, { publicKey: pubPath, backend: BACKEND });
    const total = (performance.now() - t0) / 1000;
    if (!v.verified) throw new Error(`verification failed: ${v.summary}`);
    t.verify.push(total);
    t.verifyExtra.push(total - v.hashing.seconds);
    resources = v.total;
  }
  const hashMed = median(t.hash);
  const result = {
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version },
    model: { bytes: SIZE, files: FILES + 1, resources, method: METHOD, hash: HASH, shardSize: SHARD ?? null },
    curve: CURVE,
    backend,
    runs: RUNS,
    bundleBytes,
    seconds: {
      hash: hashMed,
      sign: median(t.sign),
      verify: median(t.verify),
      signNonHashing: median(t.signExtra),
      signStatementAndDsse: median(t.signCore),
      signWriteWithFsync: median(t.signWrite),
      verifyNonHashing: median(t.verifyExtra),
    },
    overheadPercent: {
      sign: (100 * median(t.signExtra)) / hashMed,
      verify: (100 * median(t.verifyExtra)) / hashMed,
      signWallDelta: (100 * (median(t.sign) - hashMed)) / hashMed,
      verifyWallDelta: (100 * (median(t.verify) - hashMed)) / hashMed,
    },
  };
  const gb = SIZE / 1e9;
  console.log(`sign/verify vs hash: ${(SIZE / 2 ** 30).toFixed(2)} GiB in ${FILES + 1} files, ${resources} resources (${METHOD}/${HASH}${SHARD ? `, shard ${SHARD}` : ''}), ${CURVE}, backend=${backend}, ${RUNS} runs, ${result.machine.cpus} CPUs (${result.machine.cpu})`);
  console.log(`  hash   ${hashMed.toFixed(3)} s  (${(gb / hashMed).toFixed(2)} GB/s)`);
  console.log(`  sign   ${result.seconds.sign.toFixed(3)} s  non-hashing ${(result.seconds.signNonHashing * 1000).toFixed(2)} ms = ${result.overheadPercent.sign.toFixed(3)} % of hash (wall delta ${result.overheadPercent.signWallDelta.toFixed(2)} %)`);
  console.log(`         of which statement + DSSE ${(result.seconds.signStatementAndDsse * 1000).toFixed(2)} ms, bundle write with fsync ${(result.seconds.signWriteWithFsync * 1000).toFixed(2)} ms`);
  console.log(`  verify ${result.seconds.verify.toFixed(3)} s  non-hashing ${(result.seconds.verifyNonHashing * 1000).toFixed(2)} ms = ${result.overheadPercent.verify.toFixed(3)} % of hash (wall delta ${result.overheadPercent.verifyWallDelta.toFixed(2)} %)`);
  console.log(`  bundle ${bundleBytes} bytes`);
  if (jsonOut) writeFileSync(jsonOut, JSON.stringify(result, null, 2) + '\n');
} finally {
  if (!flag('keep')) rmSync(base, { recursive: true, force: true });
}
