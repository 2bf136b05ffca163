#!/usr/bin/env node
// Issue 13 target 5, the part of `verify`'s overhead over `hash` that lies before the hashing: for each
// command, the time from execve to the first open of a model *file* (the hashing threads starting) and
// to exit_group, from `strace -f -ttt --seccomp-bpf -e trace=execve,openat,exit_group` (only those
// calls are traced: the rest of the run is not slowed). Whole-process wall figures swing by several
// per cent on a loaded 2-vCPU VM; this start offset is read off one timeline per run and is steadier.
// Runs alternate between the commands; medians (and minima: fixed costs under load) of --runs (default 15).
//
//   node bench/verify-critical-path.mjs [--model /work/data/m2g-16f] [--runs 15] [--bin bin/modelseal.js ...]
//
// Each --bin (default this checkout's bin/modelseal.js) runs `hash MODEL -q` and `verify MODEL --sig S
// --key P -q` (S signed once here with a fresh key). Needs strace. Take the benchmark lock on a shared machine.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { binsOpt, opt, median, writeKeyPair } from './lib.mjs';

const model = resolve(opt('model', '/work/data/m2g-16f'));
const runs = Number(opt('runs', '15'));
const bins = binsOpt();
const tmp = mkdtempSync(join(tmpdir(), 'modelseal-critical-'));
writeKeyPair(join(tmp, 'key.pem'), join(tmp, 'pub.pem'));
const sig = join(tmp, 'm.sig');
execFileSync('node', [bins[0], 'sign', model, '--key', join(tmp, 'key.pem'), '-o', sig, '-q']);

function trace(args) {
  const log = join(tmp, 'log');
  const r = spawnSync('strace', ['-f', '-ttt', '--seccomp-bpf', '-e', 'trace=execve,openat,exit_group', '-o', log, 'node', ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${args.join(' ')}: ${r.status} ${r.stderr.slice(-500)}`);
  const lines = readFileSync(log, 'utf8').split('\n');
  const at = (re) => Number(lines.find((l) => re.test(l))?.trim().split(/\s+/)[1]);
  const t0 = at(/ execve\(/);
  const esc = model.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const first = at(new RegExp(`openat\\([^"]*"${esc}/[^"]+"`));
  const end = at(/ exit_group\(/);
  return { start: first - t0, total: end - t0 };
}

const cmds = [];
for (const b of bins) {
  cmds.push({ name: `${b} hash`, args: [b, 'hash', model, '-q'] });
  cmds.push({ name: `${b} verify`, args: [b, 'verify', model, '--sig', sig, '--key', join(tmp, 'pub.pem'), '-q'] });
}
const load0 = loadavg()[0];
for (const c of cmds) trace(c.args); // warm-up (and page cache)
const samples = cmds.map(() => []);
for (let i = 0; i < runs; i++) {
  const order = i % 2 ? [...cmds.keys()].reverse() : [...cmds.keys()];
  for (const k of order) samples[k].push(trace(cmds[k].args));
}
for (const [k, c] of cmds.entries()) {
  const s = samples[k];
  const ms = (v) => (v * 1000).toFixed(1);
  const st = s.map((x) => x.start);
  const tt = s.map((x) => x.total);
  console.log(`${c.name.padEnd(60)} hashing starts ${ms(median(st))} ms (min ${ms(Math.min(...st))})   exit ${ms(median(tt))} ms (min ${ms(Math.min(...tt))})`);
}
console.log(`runs ${runs}, load ${load0.toFixed(2)} -> ${loadavg()[0].toFixed(2)}, model ${model}`);
rmSync(tmp, { recursive: true, force: true });
