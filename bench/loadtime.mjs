#!/usr/bin/env node
// Load-time verification (issue 14) against its four targets, on a generated safetensors model:
//   1. streaming the whole model through openVerified vs `hashModel` (same algorithm, same machine),
//      and bytes read from storage per model byte (/proc/self/io rchar: every read syscall counts);
//   2. verify --tensor on 1 % of the tensors: bytes hashed / model bytes;
//   3. first verified byte of a tensor in the big file: open + header + one leaf, beside the time to
//      hash one leaf;
//   4. peak RSS growth while streaming the whole model.
// Plus the cost of the companion when signing (sign --merkle minus sign), per hash.
//
//   node bench/loadtime.mjs [--size 1GiB] [--tensors 400] [--leaf 1MiB] [--hash sha256,blake3] [--runs 3] [--dir DIR] [--json OUT]
//
// Needs `npm run build` (imports dist/). The model is written once and hashed once to warm the page
// cache, so the figures are CPU-bound, not disk-bound. Benchmarks, not tests: nothing here asserts.
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ROOT, flag, median, opt, writeKeyPair } from './lib.mjs';

const ms = await import(join(ROOT, 'dist', 'index.js'));
const parseSize = (s) => {
  const m = /^(\d+(?:\.\d+)?)\s*(b|kib|mib|gib)?$/i.exec(s);
  return Math.round(Number(m[1]) * { b: 1, kib: 1024, mib: 2 ** 20, gib: 2 ** 30 }[(m[2] ?? 'b').toLowerCase()]);
};
const SIZE = parseSize(opt('size', '1GiB'));
const NT = Number(opt('tensors', '400'));
const LEAF = parseSize(opt('leaf', '1MiB'));
const HASHES = opt('hash', 'sha256,blake3').split(',');
const RUNS = Number(opt('runs', '3'));
const base = opt('dir', join(tmpdir(), `modelseal-loadtime-${process.pid}`));
const rchar = () => Number(/rchar:\s*(\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))[1]);
const gbps = (bytes, s) => bytes / s / 1e9;

mkdirSync(join(base, 'model'), { recursive: true });
const file = join(base, 'model', 'model.safetensors');
// NT F32 tensors of (nearly) equal size filling SIZE
const per = Math.floor(SIZE / NT / 4) * 4;
const header = {};
for (let i = 0; i < NT; i++) header[`layers.${i}.weight`] = { dtype: 'F32', shape: [per / 4], data_offsets: [i * per, (i + 1) * per] };
let json = JSON.stringify(header);
while ((8 + json.length) % 8) json += ' ';
{
  const fd = openSync(file, 'w');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  writeSync(fd, len);
  writeSync(fd, Buffer.from(json));
  const block = Buffer.alloc(16 << 20);
  for (let i = 0; i < block.length; i++) block[i] = i % 251;
  for (let left = per * NT; left > 0; left -= Math.min(left, block.length)) writeSync(fd, block, 0, Math.min(left, block.length));
  closeSync(fd);
}
const bytes = 8 + json.length + per * NT;
const priv = join(base, 'key.pem');
const pub = join(base, 'pub.pem');
writeKeyPair(priv, pub);

const cpu = cpus()[0]?.model ?? 'unknown';
console.log(`# loadtime bench: ${(bytes / 2 ** 20).toFixed(0)} MiB safetensors, ${NT} tensors, leaf ${LEAF}, ${cpus().length} cores (${cpu}), Node ${process.version}`);
const results = { cpu, cores: cpus().length, node: process.version, bytes, tensors: NT, leaf: LEAF, date: new Date().toISOString(), hashes: {} };

for (const hash of HASHES) {
  const r = {};
  await ms.hashModel(join(base, 'model'), { hash }); // warm the page cache
  const hashT = [];
  for (let i = 0; i < RUNS; i++) hashT.push((await ms.hashModel(join(base, 'model'), { hash })).seconds);
  r.hashGBps = gbps(bytes, median(hashT));

  // companion cost: sign vs sign --merkle
  const signT = [];
  const merkleT = [];
  let sig;
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await ms.signModel(join(base, 'model'), { privateKey: priv, hash, output: join(base, `plain-${hash}.sig`), force: true });
    signT.push((performance.now() - t0) / 1000);
    const t1 = performance.now();
    const s = await ms.signModel(join(base, 'model'), { privateKey: priv, hash, output: join(base, `m-${hash}.sig`), force: true, merkle: { leafSize: LEAF } });
    merkleT.push((performance.now() - t1) / 1000);
    sig = s.bundlePath;
    r.companionBuilderBytes = s.companion.bytes; // bytes the builder read itself (0: all leaves came from the hashing pass)
  }
  r.signSeconds = median(signT);
  r.signMerkleSeconds = median(merkleT);
  r.companionOverheadPct = ((r.signMerkleSeconds - r.signSeconds) / r.signSeconds) * 100;

  // 1 + 4: stream everything through openVerified; rchar per model byte; peak RSS growth
  const streamT = [];
  let amplification = 0;
  let rssGrowth = 0;
  for (let i = 0; i < RUNS; i++) {
    const m = await ms.openVerified(join(base, 'model'), { signature: sig, publicKey: pub });
    global.gc?.();
    const rss0 = process.memoryUsage().rss;
    let peak = rss0;
    const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
    const c0 = rchar();
    const t0 = performance.now();
    for (const f of m.files()) await pipeline(m.createReadStream(f.path), new Writable({ write: (_c, _e, cb) => cb() }));
    streamT.push((performance.now() - t0) / 1000);
    clearInterval(timer);
    amplification = (rchar() - c0) / bytes;
    rssGrowth = Math.max(rssGrowth, peak - rss0);
    await m.close();
  }
  r.streamGBps = gbps(bytes, median(streamT));
  r.streamPctOfHash = (r.streamGBps / r.hashGBps) * 100;
  r.readsPerModelByte = amplification;
  r.peakRssGrowthMiB = rssGrowth / 2 ** 20;

  // 2: 1 % of the tensors
  const pick = [];
  for (let i = 0; i < NT; i += 100) pick.push(`layers.${i}.weight`);
  const vt = await ms.verifyTensors(join(base, 'model'), pick, { signature: sig, publicKey: pub });
  r.onePctTensors = { verified: vt.verified, summary: vt.summary, bytesHashedPct: (vt.bytesHashed / bytes) * 100, tensorBytesPct: (pick.length * per / bytes) * 100 };

  // 3: first verified byte of a tensor in the middle, from open
  const firstT = [];
  const mid = `layers.${Math.floor(NT / 2)}.weight`;
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    const m = await ms.openVerified(join(base, 'model'), { signature: sig, publicKey: pub });
    const t = (await m.tensors('model.safetensors')).find((x) => x.name === mid);
    await m.read('model.safetensors', t.start, 1);
    firstT.push((performance.now() - t0) / 1000);
    await m.close();
  }
  // one leaf read + verified through the same path, on an already open model (no header, no cache)
  const leafT = [];
  for (let i = 0; i < RUNS; i++) {
    const m = await ms.openVerified(join(base, 'model'), { signature: sig, publicKey: pub });
    const at = Math.floor(bytes / LEAF / 3) * LEAF + i * LEAF;
    const t0 = performance.now();
    await m.verifyRange('model.safetensors', at, at + 1);
    leafT.push((performance.now() - t0) / 1000);
    await m.close();
  }
  r.firstByteMs = median(firstT) * 1000;
  r.oneLeafHashMs = median(leafT) * 1000;
  results.hashes[hash] = r;
  console.log(JSON.stringify({ hash, ...r }, null, 1));
}
if (opt('json')) writeFileSync(opt('json'), JSON.stringify(results, null, 2));
if (!flag('keep')) rmSync(base, { recursive: true, force: true });
