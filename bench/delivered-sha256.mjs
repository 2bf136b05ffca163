#!/usr/bin/env node
// Delivered SHA-256 speed, whole process (start to exit), paired with its yardstick in the same
// rounds (issue 13 targets 1, 4 and 5). Each round runs A then B (the order alternates between
// rounds), under /usr/bin/time for user and system CPU seconds; the ratio is the median of the
// per-round wall-time ratios (pairedRatio), so load shared by a round cancels out.
//
//   case           A (modelseal)                                          B (yardstick)                                   target
//   files-8g       hash MODEL_8G (4 x 2 GiB, files/sha256)                 ls files | xargs -P<cores> -n1 openssl dgst -sha256  ≥ 1.7x
//   files-2g-16f   hash MODEL_16F (16 x 128 MiB)                           same                                           ≥ 1.7x
//   shards-2g-w1   hash --method shards --shard-size 16MiB --workers 1 F   openssl dgst -sha256 F                         ≥ 1.7x
//   verify-2g-16f  verify MODEL_16F (key-signed once, bundle in a temp dir) hash MODEL_16F                                 ≤ +2 %
//   verify-8g      verify MODEL_8G                                         hash MODEL_8G                                  ≤ +2 %
//   blake3-8g      hash --hash blake3 MODEL_8G  (the alternative, shown in the docs)  b3sum MODEL_8G/*                  (info)
//   shards-8g      hash --method shards --shard-size 16MiB MODEL_8G  (alternative)    xargs openssl                     (info)
//   one2g-files    hash F (one 2 GiB file: files/sha256 is one stream, one core)       openssl dgst -sha256 F           (info)
//   one2g-shards   hash --method shards --shard-size 16MiB F (all cores, x2 streams)   openssl dgst -sha256 F           (info)
//   one2g-blake3   hash --hash blake3 F (all cores)                                   b3sum F                          (info)
//   verify-merkle-2g-16f        verify MODEL_16F with its Merkle companion (sign --merkle, 1 MiB leaves)   verify --no-companion   (info, issue 14)
//   verify-merkle-blake3-2g-16f the same, signed --hash blake3 --merkle (subtree CVs: no second hash)    verify --no-companion   (info, issue 14)
//
//   node bench/delivered-sha256.mjs [--case all|files-8g,verify-2g-16f,...] [--runs 5]
//        [--model-8g /work/data/m8g-4f] [--model-16f /work/data/m2g-16f] [--file-2g /work/data/one2g/weights.bin]
//        [--out bench/results/delivered-sha256-<host>-<date>.json]
//
// Run it on a quiet machine under the benchmark lock: flock -x -w 900 /work/notes/bench.lock node bench/delivered-sha256.mjs
// Needs `npm run build` (bin/modelseal.js runs dist/), openssl, /usr/bin/time, and b3sum for blake3-8g.
// Every file is read once before the rounds (page-cached runs). Each result records the machine (CPU
// model, flags, Linux kernel), the SHA-256 kernel the addon chose, Node's version, the load average
// before and after, the raw samples and, for modelseal, the `hash --json` phases of its last run.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, openSync, readSync, closeSync, statSync } from 'node:fs';
import { availableParallelism, hostname, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT as root, opt, median, pairedRatio, writeKeyPair } from './lib.mjs';

const runs = Number(opt('runs', '5'));
const model8g = opt('model-8g', '/work/data/m8g-4f');
const model16f = opt('model-16f', '/work/data/m2g-16f');
const file2g = opt('file-2g', '/work/data/one2g/weights.bin');
const cores = availableParallelism();
// --bin: another CLI entry (e.g. an older build's) for a before/after in the same conditions
const bin = opt('bin', join(root, 'bin', 'modelseal.js'));
const ALL = ['files-8g', 'files-2g-16f', 'shards-2g-w1', 'verify-2g-16f', 'verify-8g'];
const EXTRA = ['blake3-8g', 'shards-8g', 'one2g-files', 'one2g-shards', 'one2g-blake3', 'verify-merkle-2g-16f', 'verify-merkle-blake3-2g-16f'];
const wanted = opt('case', 'all');
const cases = wanted === 'all' ? ALL : wanted.split(',');
for (const c of cases) if (![...ALL, ...EXTRA].includes(c)) throw new Error(`unknown case ${c} (one of ${[...ALL, ...EXTRA].join(', ')})`);

const tmp = mkdtempSync(join(tmpdir(), 'modelseal-delivered-'));
const sh = (s) => `'${s.replace(/'/g, `'\\''`)}'`;
const filesOf = (dir) => readdirSync(dir).sort().map((f) => join(dir, f));
const bytesOf = (dir) => filesOf(dir).reduce((n, f) => n + statSync(f).size, 0);

function warm(paths) {
  const buf = Buffer.allocUnsafe(8 << 20);
  for (const p of paths) {
    const fd = openSync(p, 'r');
    while (readSync(fd, buf, 0, buf.length, null) > 0);
    closeSync(fd);
  }
}

/** One timed whole-process run: wall seconds (around the child), user and sys CPU seconds (time -o). */
function timed(cmd) {
  const tf = join(tmp, 'time.txt');
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S', '-o', tf, 'sh', '-c', cmd], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd} failed (${r.status}): ${r.stderr.slice(-2000)}`);
  const [user, sys] = readFileSync(tf, 'utf8').trim().split('\n').pop().split(' ').map(Number);
  return { wall, user, sys, stdout: r.stdout };
}

function machine() {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const field = (k) => (new RegExp(`^${k}\\s*:\\s*(.*)$`, 'm').exec(cpuinfo) ?? [])[1];
  const flags = (field('flags') ?? '').split(' ');
  let kernel = 'unknown';
  try {
    kernel = JSON.parse(execFileSync('node', [bin, 'doctor', '--json'], { encoding: 'utf8' })).native?.sha256Kernel?.kernel ?? kernel;
  } catch {
    kernel = execFileSync('node', [bin, 'doctor'], { encoding: 'utf8' }).match(/^sha256\s+(\S+)/m)?.[1] ?? kernel;
  }
  return {
    host: hostname(),
    cpu: field('model name'),
    family: Number(field('cpu family')),
    model: Number(field('model')),
    cores,
    flags: ['sha_ni', 'avx2', 'avx512f', 'avx512vl'].filter((f) => flags.includes(f)),
    linux: readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim(),
    node: process.version,
    openssl: execFileSync('openssl', ['version'], { encoding: 'utf8' }).trim(),
    sha256Kernel: kernel,
  };
}

function signOnce(model, extra = [], tag = '') {
  const key = join(tmp, `key${tag}.pem`);
  const pub = join(tmp, `pub${tag}.pem`);
  writeKeyPair(key, pub);
  const sig = join(tmp, `${model.split('/').pop()}${tag}.sig`);
  execFileSync('node', [bin, 'sign', model, '--key', key, '-o', sig, '-q', ...extra]);
  return { sig, pub };
}

const xargsOpenssl = (dir) => `ls ${sh(dir)}/* | xargs -P${cores} -n1 openssl dgst -sha256 > /dev/null`;
const ms = (args) => `node ${sh(bin)} ${args} > /dev/null`;
const msJson = (args) => `node ${sh(bin)} ${args} --json`;

function define(name) {
  switch (name) {
    case 'files-8g':
      return { bytes: bytesOf(model8g), files: filesOf(model8g), a: msJson(`hash ${sh(model8g)}`), b: xargsOpenssl(model8g), bName: `xargs -P${cores} openssl dgst -sha256`, target: '>= 1.7x' };
    case 'files-2g-16f':
      return { bytes: bytesOf(model16f), files: filesOf(model16f), a: msJson(`hash ${sh(model16f)}`), b: xargsOpenssl(model16f), bName: `xargs -P${cores} openssl dgst -sha256`, target: '>= 1.7x' };
    case 'shards-2g-w1':
      return { bytes: statSync(file2g).size, files: [file2g], a: msJson(`hash --method shards --shard-size 16MiB --workers 1 ${sh(file2g)}`), b: `openssl dgst -sha256 ${sh(file2g)} > /dev/null`, bName: 'openssl dgst -sha256', target: '>= 1.7x' };
    case 'shards-8g':
      return { bytes: bytesOf(model8g), files: filesOf(model8g), a: msJson(`hash --method shards --shard-size 16MiB ${sh(model8g)}`), b: xargsOpenssl(model8g), bName: `xargs -P${cores} openssl dgst -sha256`, target: 'info' };
    case 'one2g-files':
      return { bytes: statSync(file2g).size, files: [file2g], a: msJson(`hash ${sh(file2g)}`), b: `openssl dgst -sha256 ${sh(file2g)} > /dev/null`, bName: 'openssl dgst -sha256', target: 'info' };
    case 'one2g-shards':
      return { bytes: statSync(file2g).size, files: [file2g], a: msJson(`hash --method shards --shard-size 16MiB ${sh(file2g)}`), b: `openssl dgst -sha256 ${sh(file2g)} > /dev/null`, bName: 'openssl dgst -sha256', target: 'info' };
    case 'one2g-blake3':
      return { bytes: statSync(file2g).size, files: [file2g], a: msJson(`hash --hash blake3 ${sh(file2g)}`), b: `b3sum ${sh(file2g)} > /dev/null`, bName: 'b3sum', target: 'info' };
    case 'blake3-8g':
      return { bytes: bytesOf(model8g), files: filesOf(model8g), a: msJson(`hash --hash blake3 ${sh(model8g)}`), b: `b3sum ${sh(model8g)}/* > /dev/null`, bName: 'b3sum', target: 'info' };
    case 'verify-2g-16f':
    case 'verify-8g': {
      const model = name === 'verify-8g' ? model8g : model16f;
      const { sig, pub } = signOnce(model);
      return { bytes: bytesOf(model), files: filesOf(model), a: ms(`verify ${sh(model)} --sig ${sh(sig)} --key ${sh(pub)} -q`), b: ms(`hash ${sh(model)} -q`), aName: 'modelseal verify', bName: 'modelseal hash', target: '<= +2 %' };
    }
    case 'verify-merkle-2g-16f':
    case 'verify-merkle-blake3-2g-16f': {
      // the companion lies beside the bundle (<sig>.merkle, <sig>.merkle.tree): verify finds it
      const blake3 = name.includes('blake3');
      const { sig, pub } = signOnce(model16f, ['--merkle', ...(blake3 ? ['--hash', 'blake3'] : [])], blake3 ? '-b3m' : '-m');
      const v = `verify ${sh(model16f)} --sig ${sh(sig)} --key ${sh(pub)} -q`;
      return { bytes: bytesOf(model16f), files: filesOf(model16f), a: ms(v), b: ms(`${v} --no-companion`), aName: 'modelseal verify (companion)', bName: 'modelseal verify --no-companion', target: 'info' };
    }
  }
  throw new Error(name);
}

const results = [];
const m = machine();
for (const name of cases) {
  const c = define(name);
  warm(c.files);
  const load0 = loadavg()[0];
  timed(c.a);
  timed(c.b); // one warm-up each
  const A = [];
  const B = [];
  let phases;
  for (let i = 0; i < runs; i++) {
    const order = i % 2 ? ['b', 'a'] : ['a', 'b'];
    for (const o of order) {
      const t = timed(c[o]);
      (o === 'a' ? A : B).push({ wall: t.wall, user: t.user, sys: t.sys });
      if (o === 'a' && c.a.endsWith('--json')) {
        const last = t.stdout.trim().split('\n').pop();
        try {
          phases = JSON.parse(last).phases;
        } catch {
          /* not JSON: no phases */
        }
      }
    }
  }
  const wallA = A.map((x) => x.wall);
  const wallB = B.map((x) => x.wall);
  // verify cases: A/B - 1 is the overhead; throughput cases: B/A is the speed-up
  const verifyCase = name.startsWith('verify');
  const ratio = verifyCase ? pairedRatio(wallA, wallB) : pairedRatio(wallB, wallA);
  const r = {
    case: name,
    target: c.target,
    bytes: c.bytes,
    a: { name: c.aName ?? 'modelseal', command: c.a, wallMedian: median(wallA), cpuMedian: median(A.map((x) => x.user + x.sys)), userMedian: median(A.map((x) => x.user)), sysMedian: median(A.map((x) => x.sys)), GBps: c.bytes / median(wallA) / 1e9, samples: A, phases },
    b: { name: c.bName, command: c.b, wallMedian: median(wallB), cpuMedian: median(B.map((x) => x.user + x.sys)), userMedian: median(B.map((x) => x.user)), sysMedian: median(B.map((x) => x.sys)), GBps: c.bytes / median(wallB) / 1e9, samples: B },
    ...(verifyCase ? { overheadPercent: (ratio - 1) * 100 } : { speedup: ratio }),
    loadavg: [load0, loadavg()[0]],
  };
  results.push(r);
  const fig = verifyCase ? `verify overhead ${r.overheadPercent.toFixed(1)} % (target ${c.target})` : `speed-up ${ratio.toFixed(2)}x (target ${c.target})`;
  console.log(
    `${name.padEnd(14)} modelseal ${r.a.wallMedian.toFixed(3)} s (cpu ${r.a.cpuMedian.toFixed(2)} = user ${r.a.userMedian.toFixed(2)} + sys ${r.a.sysMedian.toFixed(2)})  ` +
      `${c.bName} ${r.b.wallMedian.toFixed(3)} s (cpu ${r.b.cpuMedian.toFixed(2)})  ${fig}  load ${load0.toFixed(2)}→${loadavg()[0].toFixed(2)}`,
  );
}
rmSync(tmp, { recursive: true, force: true });
const out = opt('out', join(root, 'bench', 'results', `delivered-sha256-${m.host}-${new Date().toISOString().slice(0, 10)}.json`));
mkdirSync(join(out, '..'), { recursive: true });
writeFileSync(out, JSON.stringify({ bench: 'delivered-sha256', at: new Date().toISOString(), runs, machine: m, results }, null, 2) + '\n');
console.log(`written ${out}`);
