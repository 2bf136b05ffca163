#!/usr/bin/env node
// Issue 13 target 5 (`verify` adds ≤ 2 % to `hash` of the same model), whole process, interleaved:
// each round runs `hash MODEL -q` and `verify MODEL --sig S --key P -q` of every --bin (the order
// rotates between rounds, so load drifting over the run falls on all commands alike). Per command:
// median wall (spawn to exit) and median user+sys CPU of the process itself, read by a preload
// (-r) from process.resourceUsage() at exit (microseconds, all threads; /usr/bin/time and
// hyperfine round to 10 ms). Per bin: verify over hash as the median of per-round ratios (pairedRatio)
// and as the ratio of medians, and the CPU difference.
//
//   node bench/verify-overhead.mjs [--model /work/data/m2g-16f] [--runs 21] [--bin bin/modelseal.js ...]
//        [--no-ca] [--out bench/results/verify-overhead-<date>.json]
//
// --no-ca runs the commands without NODE_EXTRA_CA_CERTS (Node's default; a sandbox may set it, and
// Node then reads the CA file at start, ~7 ms). S is signed once here with a fresh P-256 key by the
// first --bin. Take the benchmark lock on a shared machine:
//   flock -x -w 900 /work/notes/bench.lock node bench/verify-overhead.mjs --runs 21 --bin OLD/bin/modelseal.js --bin bin/modelseal.js
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { binsOpt, flag, median, opt, pairedRatio, writeKeyPair } from './lib.mjs';

const model = resolve(opt('model', '/work/data/m2g-16f'));
const runs = Number(opt('runs', '21'));
const bins = binsOpt();
const env = { ...process.env };
delete env.NODE_OPTIONS;
if (flag('no-ca')) delete env.NODE_EXTRA_CA_CERTS;

const tmp = mkdtempSync(join(tmpdir(), 'modelseal-verify-overhead-'));
writeKeyPair(join(tmp, 'key.pem'), join(tmp, 'pub.pem'));
const sig = join(tmp, 'm.sig');
execFileSync('node', [bins[0], 'sign', model, '--key', join(tmp, 'key.pem'), '-o', sig, '-q'], { env });
// the preload: CPU of the whole process (every thread), written when it exits
const preload = join(tmp, 'rusage.cjs');
const usage = join(tmp, 'usage.json');
writeFileSync(preload, `process.on('exit', () => { const u = process.resourceUsage(); require('node:fs').writeFileSync(${JSON.stringify(usage)}, JSON.stringify([u.userCPUTime, u.systemCPUTime])); });\n`);

function run(args) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('node', ['-r', preload, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${args.join(' ')}: exit ${r.status} ${r.stderr.slice(-500)}`);
  const [user, sys] = JSON.parse(readFileSync(usage, 'utf8'));
  return { wall, user: user / 1e6, sys: sys / 1e6, cpu: (user + sys) / 1e6 };
}

const cmds = bins.flatMap((b) => [
  { bin: b, kind: 'hash', args: [b, 'hash', model, '-q'] },
  { bin: b, kind: 'verify', args: [b, 'verify', model, '--sig', sig, '--key', join(tmp, 'pub.pem'), '-q'] },
]);
const load0 = loadavg();
for (const c of cmds) run(c.args); // warm-up and page cache
const samples = cmds.map(() => []);
for (let i = 0; i < runs; i++) {
  const order = [...cmds.keys()];
  for (let k = 0; k < i % order.length; k++) order.push(order.shift());
  if (i % 2) order.reverse();
  for (const k of order) samples[k].push(run(cmds[k].args));
}
const load1 = loadavg();
const cpuModel = (/^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8')) ?? [])[1];
const ms = (s) => (s * 1000).toFixed(1);
const result = { date: new Date().toISOString(), cpu: cpuModel, cores: availableParallelism(), node: process.version, model, runs, caCerts: env.NODE_EXTRA_CA_CERTS ?? null, load: [load0, load1], bins: [] };
for (const b of bins) {
  const h = samples[cmds.findIndex((c) => c.bin === b && c.kind === 'hash')];
  const v = samples[cmds.findIndex((c) => c.bin === b && c.kind === 'verify')];
  const med = (xs, f) => median(xs.map(f));
  const r = {
    bin: b,
    hash: { wallMedian: med(h, (x) => x.wall), cpuMedian: med(h, (x) => x.cpu), samples: h },
    verify: { wallMedian: med(v, (x) => x.wall), cpuMedian: med(v, (x) => x.cpu), samples: v },
    pairedRatio: pairedRatio(v.map((x) => x.wall), h.map((x) => x.wall)),
  };
  result.bins.push(r);
  console.log(
    `${b}\n  hash   ${ms(r.hash.wallMedian)} ms (cpu ${ms(r.hash.cpuMedian)})   verify ${ms(r.verify.wallMedian)} ms (cpu ${ms(r.verify.cpuMedian)})\n` +
      `  verify/hash: paired ${((r.pairedRatio - 1) * 100).toFixed(2)} %, medians ${((r.verify.wallMedian / r.hash.wallMedian - 1) * 100).toFixed(2)} % (+${ms(r.verify.wallMedian - r.hash.wallMedian)} ms), cpu +${ms(r.verify.cpuMedian - r.hash.cpuMedian)} ms`,
  );
}
console.log(`${cpuModel}, ${availableParallelism()} cores, ${process.version}, NODE_EXTRA_CA_CERTS ${env.NODE_EXTRA_CA_CERTS ? 'set' : 'unset'}, runs ${runs}, load ${load0[0].toFixed(2)} -> ${load1[0].toFixed(2)}`);
const out = opt('out', undefined);
if (out) writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
rmSync(tmp, { recursive: true, force: true });
