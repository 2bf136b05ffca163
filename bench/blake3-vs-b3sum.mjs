#!/usr/bin/env node
// Issue 13 target 2, whole process (start to exit): `modelseal hash --hash blake3` against `b3sum`
// at equal threads, page-cached, paired runs interleaved round by round (so load from other
// processes hits both alike), medians. Each run is timed by GNU time, so user and sys CPU come
// beside the wall figure (on a loaded machine CPU time is the steadier one).
//
//   node bench/blake3-vs-b3sum.mjs [--runs 7] [--one FILE] [--model DIR|none] [--bin CLI] [--out bench/results/NAME.json]
//   (or: npm run bench:b3sum -- --runs 7)
//
// Pairs: FILE with `--workers 1` vs `b3sum --num-threads 1`, FILE with `--workers 2` vs `b3sum
// --num-threads 2`, and DIR (every regular file in it) with `--workers 2` vs `b3sum --num-threads 2
// FILES...`. Defaults: /work/data/one2g/weights.bin and /work/data/m8g-4f (2 GiB, 4 x 2 GiB).
// The digests are cross-checked: modelseal's per-file resource digests must equal b3sum's lines.
// Take it under the shared lock: flock -x -w 900 /work/notes/bench.lock node bench/blake3-vs-b3sum.mjs
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release } from 'node:os';
import { join } from 'node:path';
import { ROOT, median, opt } from './lib.mjs';

const RUNS = Number(opt('runs', '7'));
const one = opt('one', '/work/data/one2g/weights.bin');
const modelDir = opt('model', '/work/data/m8g-4f');
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const out = opt('out', join(ROOT, 'bench', 'results', `blake3-vs-b3sum-${stamp}.json`));
// --bin: another CLI entry (e.g. an older build's) for a before/after in the same conditions
const cli = opt('bin', join(ROOT, 'bin', 'modelseal.js'));

// --model none: only the one-file pairs (the 8 GiB model does not stay page-cached beside a 2 GiB file on a small VM)
const modelFiles = modelDir === 'none' ? [] : readdirSync(modelDir)
  .map((f) => join(modelDir, f))
  .filter((f) => statSync(f).isFile())
  .sort();

/** One timed run: wall, user and sys seconds from GNU time (its last stderr line), and stdout. */
function timed(argv) {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S', ...argv], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status}): ${r.stderr}`);
  const [wall, user, sys] = r.stderr.trim().split('\n').at(-1).split(/\s+/).map(Number);
  return { wall, user, sys, cpu: +(user + sys).toFixed(3), stdout: r.stdout };
}

const ms = (path, workers) => ['node', cli, 'hash', '--hash', 'blake3', '--workers', String(workers), '--json', path];
const b3 = (paths, threads) => ['b3sum', '--num-threads', String(threads), ...paths];

const pairs = [
  { name: '2 GiB file, 1 thread', ours: ms(one, 1), theirs: b3([one], 1), bytes: statSync(one).size },
  { name: '2 GiB file, 2 threads', ours: ms(one, 2), theirs: b3([one], 2), bytes: statSync(one).size },
  { name: `${modelFiles.length}-file model, 2 threads`, ours: ms(modelDir, 2), theirs: b3(modelFiles, 2), bytes: modelFiles.reduce((a, f) => a + statSync(f).size, 0) },
].filter((p) => p.bytes > 0);

/** modelseal's resource digests (from its --json result line) must equal b3sum's. */
function checkDigests(pair, oursStdout, theirsStdout) {
  const result = JSON.parse(oursStdout.trim().split('\n').at(-1));
  const ours = result.resources.map((r) => r.digest).sort();
  const theirs = theirsStdout.trim().split('\n').map((l) => l.slice(0, 64)).sort();
  if (JSON.stringify(ours) !== JSON.stringify(theirs)) throw new Error(`${pair.name}: digests differ: ${ours} vs ${theirs}`);
}

// Warm the page cache and both programs once.
for (const p of pairs) {
  const a = timed(p.ours);
  const b = timed(p.theirs);
  checkDigests(p, a.stdout, b.stdout);
}

const load = [loadavg()[0]];
const samples = pairs.map(() => ({ ours: [], theirs: [] }));
for (let i = 0; i < RUNS; i++) {
  pairs.forEach((p, k) => {
    // alternate which goes first, so neither always runs right after the other
    const order = i % 2 === 0 ? ['ours', 'theirs'] : ['theirs', 'ours'];
    for (const who of order) {
      const { stdout: _s, ...t } = timed(p[who]);
      samples[k][who].push(t);
    }
  });
  load.push(loadavg()[0]);
}

const summary = (xs) => ({
  wallMedian: +median(xs.map((x) => x.wall)).toFixed(3),
  userMedian: +median(xs.map((x) => x.user)).toFixed(3),
  sysMedian: +median(xs.map((x) => x.sys)).toFixed(3),
  cpuMedian: +median(xs.map((x) => x.cpu)).toFixed(3),
  runs: xs,
});
const flags = (readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:\s*(.*)$/m)?.[1] ?? '').split(' ');
const result = {
  benchmark: 'blake3-vs-b3sum (issue 13 target 2), whole process, page-cached',
  at: new Date().toISOString(),
  machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, simd: flags.filter((f) => /^(sse4_1|avx2|avx512f|avx512vl|sha_ni)$/.test(f)), kernel: release() },
  node: process.version,
  b3sum: execFileSync('b3sum', ['--version'], { encoding: 'utf8' }).trim(),
  runs: RUNS,
  loadavg1: { min: Math.min(...load), max: Math.max(...load) },
  pairs: pairs.map((p, k) => {
    const ours = summary(samples[k].ours);
    const theirs = summary(samples[k].theirs);
    return {
      name: p.name,
      bytes: p.bytes,
      ours: { command: p.ours.join(' '), ...ours },
      theirs: { command: p.theirs.join(' '), ...theirs },
      // > 1: modelseal faster (target: >= 1.0)
      wallRatio: +(theirs.wallMedian / ours.wallMedian).toFixed(3),
      cpuRatio: +(theirs.cpuMedian / ours.cpuMedian).toFixed(3),
    };
  }),
};
mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
console.log(`# ${result.machine.cpu} x${result.machine.cores}, ${result.machine.kernel}, node ${result.node}, ${result.b3sum}; load ${result.loadavg1.min}-${result.loadavg1.max}; medians of ${RUNS}`);
for (const p of result.pairs) {
  console.log(
    `${p.name.padEnd(28)} modelseal wall ${p.ours.wallMedian}s cpu ${p.ours.cpuMedian}s (u ${p.ours.userMedian} s ${p.ours.sysMedian}) | b3sum wall ${p.theirs.wallMedian}s cpu ${p.theirs.cpuMedian}s (u ${p.theirs.userMedian} s ${p.theirs.sysMedian}) | ratio wall ${p.wallRatio}x cpu ${p.cpuRatio}x`,
  );
}
console.log(`written ${out}`);
