#!/usr/bin/env node
// Owned verified streams (every chunk stays valid: createReadStream, createWebStream, chunksOfFiles
// without reuseBuffers) against `hash` (hashModel) and the reuseBuffers stream, on the native path.
// Each run of each variant is its own child process, so that its peak RSS (getrusage maxRSS) and
// its garbage collections are its own; variants (and configurations) alternate within each round.
// Wall and CPU (user + sys) cover the stream only (open and close included, node's start not);
// medians of RUNS. Adapted from the coordinator's /work/notes/s6-crs.mjs. Needs `npx tsc`.
//
//   flock -x -w 900 /work/notes/bench.lock node bench/verified-stream-owned.mjs DIR [sha256|blake3] [RUNS=5] [OUT.json]
//
// VARIANTS (default hash,crs,web,owned,reuse) picks variants; CONFIGS='name:K=V,K=V;name2:...'
// runs every variant under each set of extra environment variables (default one config, `cur`),
// e.g. a before/after of the addon: CONFIGS='before:MODELSEAL_NATIVE_PATH=/tmp/old/modelseal.node;after:'.
// Variants: hash (hashModel), crs (createReadStream per file), web (createWebStream per file),
// owned (chunksOfFiles()), reuse (chunksOfFiles with reuseBuffers: the ≥ 90 % reference).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { ROOT, writeKeyPair } from './lib.mjs';

const ms = await import(join(ROOT, 'dist', 'index.js'));

if (process.argv[2] === '--child') {
  const [, , , variant, dir, sig, pub, hash] = process.argv;
  let gcMajor = 0;
  let gcMinor = 0;
  let gcMs = 0;
  const obs = new PerformanceObserver((l) => {
    for (const e of l.getEntries()) {
      gcMs += e.duration;
      // perf_hooks.constants: NODE_PERFORMANCE_GC_MINOR 1 (scavenge), _MAJOR 4 (mark-compact)
      if (e.detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) gcMinor++;
      else if (e.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) gcMajor++;
    }
  });
  obs.observe({ entryTypes: ['gc'] });
  const open = () => ms.openVerified(dir, { signature: sig, publicKey: pub, workers: 2, verifier: 'native' });
  let bytes = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  if (variant === 'hash') {
    await ms.hashModel(dir, { hash });
  } else {
    const m = await open();
    if (variant === 'crs') {
      for (const f of m.files()) for await (const b of m.createReadStream(f.path)) bytes += b.length;
    } else if (variant === 'web') {
      for (const f of m.files()) {
        const r = m.createWebStream(f.path).getReader();
        for (let x = await r.read(); !x.done; x = await r.read()) bytes += x.value.byteLength;
      }
    } else if (variant === 'owned') {
      for await (const c of m.chunksOfFiles()) bytes += c.bytes.length;
    } else if (variant === 'reuse') {
      for await (const c of m.chunksOfFiles(undefined, { reuseBuffers: true })) bytes += c.bytes.length;
    } else throw new Error(`unknown variant ${variant}`);
    await m.close();
  }
  const wall = performance.now() - t0;
  const d = process.cpuUsage(c0);
  await new Promise((r) => setImmediate(r)); // the last gc entries
  obs.disconnect();
  process.stdout.write(JSON.stringify({ wall, cpu: (d.user + d.system) / 1000, user: d.user / 1000, sys: d.system / 1000, maxRssMiB: process.resourceUsage().maxRSS / 1024, gcMajor, gcMinor, gcMs, bytes }) + '\n');
  process.exit(0);
}

const dir = process.argv[2];
if (!dir) throw new Error('usage: node bench/verified-stream-owned.mjs MODEL_DIR [sha256|blake3] [RUNS] [OUT.json]');
const hash = process.argv[3] ?? 'sha256';
const N = Number(process.argv[4] ?? 5);
const outFile = process.argv[5];
const variants = (process.env.VARIANTS ?? 'hash,crs,web,owned,reuse').split(',');
const configs = (process.env.CONFIGS ?? 'cur:').split(';').map((c) => {
  const [name, kv = ''] = c.split(':');
  return { name, env: Object.fromEntries(kv.split(',').filter(Boolean).map((p) => p.split('='))) };
});
const tmp = mkdtempSync(join(tmpdir(), 'modelseal-vso-'));
writeKeyPair(join(tmp, 'k.pem'), join(tmp, 'p.pem'));
const sig = join(tmp, 's.sig');
await ms.signModel(dir, { privateKey: join(tmp, 'k.pem'), output: sig, hash, merkle: true });
const loadBefore = readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
const runs = {};
for (let i = 0; i < N; i++) {
  for (const c of configs) {
    for (const v of variants) {
      const key = `${c.name}/${v}`;
      const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', v, dir, sig, join(tmp, 'p.pem'), hash], { env: { ...process.env, ...c.env }, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`${key}: exit ${r.status}\n${r.stderr}`);
      (runs[key] ??= []).push(JSON.parse(r.stdout.trim().split('\n').pop()));
    }
  }
}
const loadAfter = readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
rmSync(tmp, { recursive: true, force: true });
const med = (a) => a.slice().sort((x, y) => x - y)[a.length >> 1];
const summary = {};
for (const [key, rs] of Object.entries(runs)) {
  const hashKey = `${key.split('/')[0]}/hash`;
  const hw = runs[hashKey] ? med(runs[hashKey].map((r) => r.wall)) : undefined;
  const s = Object.fromEntries(['wall', 'cpu', 'user', 'sys', 'maxRssMiB', 'gcMajor', 'gcMinor', 'gcMs'].map((f) => [f, med(rs.map((r) => r[f]))]));
  s.pctOfHash = hw ? (100 * hw) / s.wall : undefined;
  s.bytes = rs[0].bytes;
  summary[key] = s;
  console.log(
    `${hash} ${key.padEnd(18)} wall ${s.wall.toFixed(0)} ms${s.pctOfHash ? ` (${s.pctOfHash.toFixed(1)} % of hash)` : ''}, CPU ${s.cpu.toFixed(0)} ms (user ${s.user.toFixed(0)}, sys ${s.sys.toFixed(0)}), peak RSS ${s.maxRssMiB.toFixed(0)} MiB, GCs major ${s.gcMajor} minor ${s.gcMinor} (${s.gcMs.toFixed(0)} ms)`,
  );
}
const cpu = cpus()[0]?.model ?? 'unknown';
console.log(`CPU ${cpu} x ${cpus().length}, load ${loadBefore} -> ${loadAfter}, medians of ${N}`);
if (outFile) {
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, JSON.stringify({ bench: 'verified-stream-owned', dir, hash, runs: N, cpu, cores: cpus().length, load: [loadBefore, loadAfter], configs, date: new Date().toISOString(), node: process.version, summary, raw: runs }, null, 2) + '\n');
}
