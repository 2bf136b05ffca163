#!/usr/bin/env node
/**
 * Developer script (the user command is `modelseal bench`, src/bench/): whole-model hashing throughput of every available backend with 1 and 2 workers,
 * beside OpenSSL single-thread SHA-256 and b3sum measured in the same run, on page-cached files.
 * Writes bench/results/cpu-<timestamp>.json and prints a table. Medians over --runs (default 5).
 *
 *   node bench/run.mjs [--runs N] [--size 4GiB] [--quick] [--only sha256-shards,blake3-file,...]
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, statSync, writeFileSync, writeSync, readSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { median } from './lib.mjs';
const { machineInfo } = await import('../dist/bench/machine.js');
const { parseOpensslSpeed } = await import('../dist/bench/peers.js');

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const { hashModel, probeAll } = await import(join(ROOT, 'dist', 'index.js'));

const args = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const QUICK = args.includes('--quick');
const RUNS = Number(arg('--runs', QUICK ? '3' : '5'));
const GiB = 2 ** 30;
const MiB = 2 ** 20;
const BIG = Number(arg('--size-bytes', String(QUICK ? GiB : 4 * GiB)));
const ONLY = arg('--only', '')?.split(',').filter(Boolean) ?? [];
const WORK = join(ROOT, 'bench', 'work');
const want = (id) => ONLY.length === 0 || ONLY.some((o) => id.startsWith(o));


function ensureFile(path, bytes, seed) {
  if (existsSync(path) && statSync(path).size === bytes) return;
  mkdirSync(dirname(path), { recursive: true });
  const block = new Uint8Array(4 * MiB);
  for (let i = 0; i < block.length; i++) block[i] = (i * 31 + seed) % 251;
  const fd = openSync(path, 'w');
  for (let left = bytes; left > 0; left -= block.length) writeSync(fd, block, 0, Math.min(block.length, left));
  closeSync(fd);
}

function warm(path) {
  const fd = openSync(path, 'r');
  const buf = Buffer.allocUnsafeSlow(4 * MiB + 4096).subarray(48, 48 + 4 * MiB);
  let pos = 0;
  for (;;) {
    const n = readSync(fd, buf, 0, buf.length, pos);
    if (n === 0) break;
    pos += n;
  }
  closeSync(fd);
}

function machine() {
  const i = machineInfo(null);
  return { cpu: i.cpuModel, cores: i.cores, memGiB: +(i.memoryBytes / GiB).toFixed(1), cpuFlags: i.cpuFlags, node: i.node, kernel: i.kernel };
}

function timeCmd(cmd, argv) {
  const t0 = performance.now();
  const r = spawnSync(cmd, argv, { encoding: 'utf8', maxBuffer: 64 * MiB });
  const secs = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed: ${r.stderr}`);
  return { secs, stdout: r.stdout };
}

function opensslSpeed() {
  // single stream, 16 MiB blocks, in memory: the per-core SHA-NI ceiling
  const r = spawnSync('openssl', ['speed', '-evp', 'sha256', '-bytes', '16777216', '-seconds', QUICK ? '1' : '3'], { encoding: 'utf8' });
  return parseOpensslSpeed(r.stdout ?? '') ?? NaN;
}

const results = [];
function record(id, group, bytes, secsList, extra = {}) {
  const secs = median(secsList);
  const row = { id, group, bytes, runs: secsList.length, medianSeconds: +secs.toFixed(4), bytesPerSecond: Math.round(bytes / secs), gbps: +(bytes / secs / 1e9).toFixed(3), minSeconds: +Math.min(...secsList).toFixed(4), maxSeconds: +Math.max(...secsList).toFixed(4), ...extra };
  results.push(row);
  console.log(`${id.padEnd(46)} ${row.gbps.toFixed(2).padStart(7)} GB/s  (median of ${secsList.length}, ${secsList.map((s) => (bytes / s / 1e9).toFixed(2)).join(' ')})`);
  return row;
}

// The profile of a run: CPU seconds in user space (hashing, JS) and in the kernel (page-cache
// mapping or copying), process-wide so worker threads count. A kernel share of ~20% on a 1-worker
// native run is the cost of getting the bytes, which no hashing kernel can remove.
async function inProcess(id, group, model, opts, bytes) {
  const secs = [];
  const user = [];
  const sys = [];
  let res;
  for (let i = 0; i < RUNS; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    res = await hashModel(model, opts);
    secs.push((performance.now() - t0) / 1000);
    const c = process.cpuUsage(c0);
    user.push(c.user / 1e6);
    sys.push(c.system / 1e6);
  }
  const cpu = { userSeconds: +median(user).toFixed(3), sysSeconds: +median(sys).toFixed(3) };
  cpu.userGBps = +(bytes / cpu.userSeconds / 1e9).toFixed(3);
  cpu.sysShare = +(cpu.sysSeconds / (cpu.userSeconds + cpu.sysSeconds)).toFixed(3);
  return record(id, group, bytes, secs, { backend: res.backend, workers: res.workers, rootDigest: res.manifest.rootDigest, cpu });
}

// ---------------------------------------------------------------------------------------------
const m = machine();
const probes = await probeAll();
console.log(`machine: ${m.cpu}, ${m.cores} cores, ${m.memGiB} GiB, flags ${m.cpuFlags.join(' ')}, node ${m.node}`);
for (const p of probes) console.log(`  backend ${p.name.padEnd(12)} ${p.ok ? `ok  ${p.capabilities.algorithms.join(',')}  ${p.capabilities.detail}` : `unavailable: ${p.reason}`}`);
const available = Object.fromEntries(probes.map((p) => [p.name, p.ok ? p.capabilities.algorithms : []]));

const bigDir = join(WORK, `one-${BIG}`);
const bigFile = join(bigDir, 'w.bin');
ensureFile(bigFile, BIG, 1);
warm(bigFile);
const smallDir = join(WORK, 'one-512MiB');
ensureFile(join(smallDir, 'w.bin'), 512 * MiB, 2);
warm(join(smallDir, 'w.bin'));

// Peers in the same run
const ossl = [];
for (let i = 0; i < RUNS; i++) ossl.push(opensslSpeed());
const osslBps = median(ossl);
results.push({ id: 'peer:openssl-speed-sha256-16MiB-1thread', group: 'peer', bytesPerSecond: Math.round(osslBps), gbps: +(osslBps / 1e9).toFixed(3), runs: RUNS });
console.log(`${'peer: openssl speed -evp sha256 (1 thread)'.padEnd(46)} ${(osslBps / 1e9).toFixed(2).padStart(7)} GB/s`);
const haveB3sum = spawnSync('b3sum', ['--version']).status === 0;
let b3 = {};
if (haveB3sum) {
  for (const t of [1, 2]) {
    const secs = [];
    let out;
    for (let i = 0; i < RUNS; i++) {
      const r = timeCmd('b3sum', ['--num-threads', String(t), bigFile]);
      secs.push(r.secs);
      out = r.stdout.split(' ')[0];
    }
    b3[t] = record(`peer:b3sum-threads-${t}`, 'peer', BIG, secs, { digest: out });
  }
}

// sha256 shards of 16 MiB, 1 and 2 workers, every backend with sha256
for (const backend of ['native', 'node-crypto', 'wasm', 'js']) {
  if (!available[backend]?.includes('sha256')) continue;
  const slow = backend === 'js' || backend === 'wasm';
  for (const workers of [1, 2]) {
    const id = `sha256-shards16MiB:${backend}:w${workers}`;
    if (!want(id)) continue;
    await inProcess(id, 'sha256-shards', slow ? smallDir : bigDir, { hash: 'sha256', method: 'shards', shardSize: 16 * MiB, backend, workers }, slow ? 512 * MiB : BIG);
  }
}

// sha256 files over 4 files of BIG/4, 1 worker (multi-buffer across files)
const fourDir = join(WORK, `four-${BIG}`);
for (let i = 0; i < 4; i++) ensureFile(join(fourDir, `part-${i}.bin`), BIG / 4, 10 + i);
for (let i = 0; i < 4; i++) warm(join(fourDir, `part-${i}.bin`));
for (const backend of ['native', 'node-crypto']) {
  if (!available[backend]?.includes('sha256')) continue;
  for (const workers of [1, 2]) {
    const id = `sha256-files4:${backend}:w${workers}`;
    if (want(id)) await inProcess(id, 'sha256-files', fourDir, { hash: 'sha256', method: 'files', backend, workers }, BIG);
  }
}

// blake3 of one big file, 1 and 2 workers
for (const backend of ['native', 'wasm', 'js']) {
  if (!available[backend]?.includes('blake3')) continue;
  const slow = backend !== 'native';
  for (const workers of [1, 2]) {
    const id = `blake3-file:${backend}:w${workers}`;
    if (!want(id)) continue;
    if (backend === 'js' && !QUICK) continue; // 0.03 GB/s: minutes per run; the reference is for correctness
    await inProcess(id, 'blake3-file', slow ? smallDir : bigDir, { hash: 'blake3', method: 'files', backend, workers }, slow ? 512 * MiB : BIG);
  }
}

// the GPU through the same engine (on a software adapter such as lavapipe this is the CPU again:
// the number is reported, labelled, and means nothing about GPUs; bench/gpu/run.mjs is the GPU benchmark)
if (available.webgpu?.length) {
  const gp = probes.find((p) => p.name === 'webgpu');
  const software = gp?.capabilities?.software !== false;
  const dir = software ? smallDir : bigDir;
  const bytes = software ? 512 * MiB : BIG;
  for (const [id, opts] of [
    ['sha256-shards16MiB:webgpu', { hash: 'sha256', method: 'shards', shardSize: 16 * MiB }],
    ['blake3-file:webgpu', { hash: 'blake3', method: 'files' }],
  ]) {
    if (want(id)) await inProcess(id + (software ? ':software-adapter' : ''), 'webgpu', dir, { ...opts, backend: 'webgpu' }, bytes);
  }
}

// whole process: `modelseal hash` end to end (node start-up, walk, pool, reduce)
for (const [id, argv, bytes] of [
  ['e2e:modelseal-hash-sha256-shards16MiB:w2', ['hash', bigDir, '--method', 'shards', '--shard-size', '16MiB', '--workers', '2', '--json'], BIG],
  ['e2e:modelseal-hash-blake3:w2', ['hash', bigDir, '--hash', 'blake3', '--workers', '2', '--json'], BIG],
]) {
  if (!want(id)) continue;
  const secs = [];
  let backend;
  for (let i = 0; i < RUNS; i++) {
    const r = timeCmd(process.execPath, [join(ROOT, 'bin', 'modelseal.js'), ...argv]);
    secs.push(r.secs);
    backend = JSON.parse(r.stdout.trim().split('\n').pop()).backend;
  }
  record(id, 'e2e', bytes, secs, { backend });
}

// The fixed cost of a whole process, beside the e2e rows: Node alone, and `modelseal hash` of a
// 1-byte model (start-up, module loading, worker start, exit).
if (want('e2e:fixed-overhead')) {
  const tinyDir = join(WORK, 'one-byte');
  ensureFile(join(tinyDir, 'w.bin'), 1, 3);
  const nodeOnly = [];
  const tiny = [];
  const tinyIn = [];
  for (let i = 0; i < RUNS; i++) {
    nodeOnly.push(timeCmd(process.execPath, ['-e', '0']).secs);
    tiny.push(timeCmd(process.execPath, [join(ROOT, 'bin', 'modelseal.js'), 'hash', tinyDir, '--workers', '2', '--json']).secs);
    const t0 = performance.now();
    await hashModel(tinyDir, { workers: 2 });
    tinyIn.push((performance.now() - t0) / 1000);
  }
  const row = {
    id: 'e2e:fixed-overhead',
    group: 'e2e',
    nodeStartSeconds: +median(nodeOnly).toFixed(3),
    modelsealHashTinySeconds: +median(tiny).toFixed(3),
    inProcessTinySeconds: +median(tinyIn).toFixed(3),
    runs: RUNS,
  };
  results.push(row);
  console.log(`${'e2e: node -e 0 | modelseal hash 1 B | in-process 1 B'.padEnd(46)} ${row.nodeStartSeconds.toFixed(3)} s | ${row.modelsealHashTinySeconds.toFixed(3)} s | ${row.inProcessTinySeconds.toFixed(3)} s`);
}

// WebAssembly against its peer (hash-wasm), 1 thread, in the same run: bench/wasm.mjs
if (available.wasm?.length && want('wasm-vs-hash-wasm')) {
  const out = join(WORK, 'wasm-bench.json');
  const r = spawnSync(process.execPath, [join(ROOT, 'bench', 'wasm.mjs'), '--mib', QUICK ? '64' : '256', '--runs', String(RUNS), '--out', out], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status === 0) {
    process.stdout.write(r.stdout);
    results.push({ id: 'wasm-vs-hash-wasm', group: 'wasm', detail: JSON.parse(readFileSync(out, 'utf8')) });
  } else {
    console.log(`bench/wasm.mjs failed (exit ${r.status})`);
  }
}

// ratios against the peers
const find = (id) => results.find((r) => r.id === id);
const ratios = {};
const ratio = (name, a, b) => {
  if (a && b) ratios[name] = +(a.bytesPerSecond / b.bytesPerSecond).toFixed(3);
};
const osslRow = find('peer:openssl-speed-sha256-16MiB-1thread');
ratio('native sha256 shards w1 / openssl 1 thread', find('sha256-shards16MiB:native:w1'), osslRow);
ratio('native sha256 shards w2 / native w1', find('sha256-shards16MiB:native:w2'), find('sha256-shards16MiB:native:w1'));
ratio('node-crypto sha256 shards w2 / openssl 1 thread', find('sha256-shards16MiB:node-crypto:w2'), osslRow);
ratio('native sha256 files4 w1 / openssl 1 thread', find('sha256-files4:native:w1'), osslRow);
ratio('native blake3 w1 / b3sum 1 thread', find('blake3-file:native:w1'), b3[1]);
ratio('native blake3 w2 / b3sum 2 threads', find('blake3-file:native:w2'), b3[2]);
ratio('e2e sha256 shards w2 / in-process native w2', find('e2e:modelseal-hash-sha256-shards16MiB:w2'), find('sha256-shards16MiB:native:w2'));
ratio('e2e blake3 w2 / in-process native w2', find('e2e:modelseal-hash-blake3:w2'), find('blake3-file:native:w2'));
const w1 = find('sha256-shards16MiB:native:w1');
if (w1?.cpu && osslRow) {
  // the hashing alone (user CPU time) against OpenSSL, to separate the kernel from the I/O cost
  ratios['native sha256 shards w1 user-CPU rate / openssl 1 thread'] = +(w1.cpu.userGBps / osslRow.gbps).toFixed(3);
  ratios['native sha256 shards w1 kernel (sys) CPU share'] = w1.cpu.sysShare;
}
const fixed = find('e2e:fixed-overhead');
const e2eSha = find('e2e:modelseal-hash-sha256-shards16MiB:w2');
const inSha = find('sha256-shards16MiB:native:w2');
if (fixed && e2eSha && inSha) {
  // the per-byte part of each (a 1-byte model's time taken off both): what is left of the e2e gap
  // once the per-process constant (Node start, module loading, worker start, exit) is out
  ratios['e2e sha256 w2 / in-process native w2, per-byte part'] = +(
    (inSha.medianSeconds - fixed.inProcessTinySeconds) /
    (e2eSha.medianSeconds - fixed.modelsealHashTinySeconds)
  ).toFixed(3);
  ratios['e2e fixed per-process seconds (modelseal hash of 1 B)'] = fixed.modelsealHashTinySeconds;
}
console.log('\nratios');
for (const [k, v] of Object.entries(ratios)) console.log(`  ${k.padEnd(56)} ${/share|seconds/.test(k) ? v.toFixed(2) : `${v.toFixed(2)}x`}`);

mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const out = join(ROOT, 'bench', 'results', `cpu-${stamp}.json`);
writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), machine: m, load: readFileSync('/proc/loadavg', 'utf8').trim(), runs: RUNS, bigFileBytes: BIG, probes, results, ratios }, null, 2) + '\n');
console.log(`\nwrote ${out}`);
