#!/usr/bin/env node
// First verified byte of a large file through openVerified (issue 14's target: within the time to
// hash one leaf plus the header). Makes a FILE_GIB GiB safetensors file (an 8-byte length, a JSON
// header, one U8 tensor over the rest; page-cached), signs it with --merkle (1 MiB leaves) per hash,
// then per run: opens it (signature + companion checks, timed apart), reads and verifies the header
// through tensors() (on a second open), and takes the first chunk of a whole-file stream (on a
// fresh open, nothing cached); against the time to hash one
// 1 MiB leaf on this thread (native addon, or node:crypto for SHA-256). Medians. Needs `npm run build:ts`.
//
//   flock -x -w 900 /work/notes/bench.lock node bench/verified-first-byte.mjs [RUNS=7] [FILE_GIB=1] [OUT.json]
import { createHash } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, writeKeyPair } from './lib.mjs';

const ms = await import(join(ROOT, 'dist', 'index.js'));
const { loadNative } = await import(join(ROOT, 'dist', 'native', 'addon.js'));
const RUNS = Number(process.argv[2] ?? 7);
const GIB = Number(process.argv[3] ?? 1);
const tmp = mkdtempSync(join(tmpdir(), 'modelseal-first-byte-'));
const med = (a) => a.slice().sort((x, y) => x - y)[a.length >> 1];
const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
const report = { bench: 'verified-first-byte', fileBytes: GIB * 2 ** 30, runs: RUNS, node: process.version, cpu: cpus()[0]?.model, cores: cpus().length, loadBefore: loadavg(), results: [] };
try {
  writeKeyPair(join(tmp, 'k.pem'), join(tmp, 'p.pem'));
  const dir = join(tmp, 'model');
  (await import('node:fs')).mkdirSync(dir);
  const size = Math.round(GIB * 2 ** 30);
  // the header's length decides the tensor's, which is in the header: a few rounds settle it
  const pad = (h) => h + ' '.repeat((8 - (h.length % 8)) % 8);
  let json = '';
  for (let i = 0; i < 4; i++) json = pad(JSON.stringify({ w: { dtype: 'U8', shape: [size - 8 - json.length], data_offsets: [0, size - 8 - json.length] } }));
  const body = (h) => size - 8 - h;
  const fd = openSync(join(dir, 'model.safetensors'), 'w');
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(json.length));
  writeSync(fd, head);
  writeSync(fd, json);
  const block = Buffer.alloc(16 << 20);
  for (let i = 0; i < block.length; i++) block[i] = (i * 2654435761) >>> 24;
  for (let left = body(json.length); left > 0; left -= Math.min(left, block.length)) writeSync(fd, block, 0, Math.min(left, block.length));
  closeSync(fd);
  const leaf = block.subarray(0, 1 << 20);
  const addon = loadNative();
  for (const hash of ['sha256', 'blake3']) {
    const sig = join(tmp, `${hash}.sig`);
    await ms.signModel(dir, { privateKey: join(tmp, 'k.pem'), output: sig, hash, merkle: true });
    const leafHash = () => (hash === 'sha256' ? createHash('sha256').update(Buffer.of(0)).update(leaf).digest() : addon.addon.blake3Bytes(leaf, 0, 'cv'));
    const runs = [];
    for (let i = 0; i < RUNS; i++) {
      let t = performance.now();
      leafHash();
      const leafS = (performance.now() - t) / 1000;
      t = performance.now();
      const m = await ms.openVerified(dir, { signature: sig, publicKey: join(tmp, 'p.pem') });
      const openS = (performance.now() - t) / 1000;
      // the file's state: open, size check, its sidecar entries checked against the signed root
      t = performance.now();
      m.fileInfo('model.safetensors');
      const stateS = (performance.now() - t) / 1000;
      // the first chunk of a whole-file stream, on a fresh open (nothing cached)
      t = performance.now();
      const it = m.chunks('model.safetensors', 0, undefined, { reuseBuffers: true });
      await it.next();
      const firstS = (performance.now() - t) / 1000;
      await it.return(undefined);
      await m.close();
      // the header, verified and parsed, on another fresh open
      const m2 = await ms.openVerified(dir, { signature: sig, publicKey: join(tmp, 'p.pem') });
      t = performance.now();
      await m2.tensors('model.safetensors');
      const headerS = (performance.now() - t) / 1000;
      await m2.close();
      runs.push({ leafS, openS, stateS, headerS, firstS });
    }
    const r = { hash, leafMs: med(runs.map((x) => x.leafS)) * 1e3, openMs: med(runs.map((x) => x.openS)) * 1e3, fileStateMs: med(runs.map((x) => x.stateS)) * 1e3, headerMs: med(runs.map((x) => x.headerS)) * 1e3, firstChunkMs: med(runs.map((x) => x.firstS)) * 1e3, runs };
    report.results.push(r);
    console.log(`${hash}: one leaf ${r.leafMs.toFixed(2)} ms; open ${r.openMs.toFixed(1)} ms; file state (open + sidecar check) ${r.fileStateMs.toFixed(2)} ms; header (verified, parsed; includes the file state) ${r.headerMs.toFixed(2)} ms; first chunk of a stream after the file state ${r.firstChunkMs.toFixed(2)} ms (target: one leaf + header)`);
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
report.loadAfter = loadavg();
if (process.argv[4]) writeFileSync(process.argv[4], `${JSON.stringify(report, null, 2)}\n`);
console.log(`# load ${report.loadBefore.join(' ')} -> ${report.loadAfter.join(' ')}`);
