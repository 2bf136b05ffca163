#!/usr/bin/env node
// Fixed start-up of the CLI (issue 13 target 3: `hash` of a 3-byte file within 0.10 s of `node -e 0`,
// and no more for a model big enough to start the worker pool), whole process, paired with `node -e 0`
// in one hyperfine call: medians of wall time, mean user+sys CPU, and each minus `node -e 0`'s.
//
//   node bench/startup.mjs [--runs 20] [--warmup 3] [--node PATH] [--unbundled] [--out FILE]
//
// Cases: `node -e 0`; `hash` of a 3-byte file (hashed in the calling thread); `hash` of two 4 MiB
// files (over the 1 MiB in-thread limit: walk + plan + worker-pool start + 8 MiB of hashing);
// `--version`; `sign --key` and `verify --key` of the 3-byte model. `--unbundled` adds `hash` of the
// tiny file through dist/cli/main.js (the CLI before bundling) for a before/after in the same run.
// `--node PATH` runs everything (baseline included) on another Node, e.g. Node 24 with its compile
// cache (the cache is warmed by hyperfine's warm-up runs). Needs `npm run build:ts` and hyperfine.
// On a shared machine take the benchmark lock: `flock -x -w 900 LOCKFILE node bench/startup.mjs`.
// Writes bench/results/startup-<cpu>-<date>.json (or --out). A benchmark, not a test: nothing asserts.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT, flag, opt, writeKeyPair } from './lib.mjs';

const RUNS = Number(opt('runs', '20'));
const WARMUP = Number(opt('warmup', '3'));
const NODE = opt('node', process.execPath);
const BIN = join(ROOT, 'bin', 'modelseal.js');

if (spawnSync('hyperfine', ['--version']).status !== 0) {
  console.error('bench/startup.mjs needs hyperfine (apt-get install hyperfine)');
  process.exit(2);
}
const nodeVersion = execFileSync(NODE, ['--version'], { encoding: 'utf8' }).trim();
const work = mkdtempSync(join(tmpdir(), 'modelseal-startup-'));
try {
  const tiny = join(work, 'tiny');
  mkdirSync(tiny);
  writeFileSync(join(tiny, 'w.bin'), 'abc');
  const pool = join(work, 'pool');
  mkdirSync(pool);
  const block = Buffer.alloc(4 << 20);
  for (let i = 0; i < block.length; i++) block[i] = i % 251;
  writeFileSync(join(pool, 'a.bin'), block);
  writeFileSync(join(pool, 'b.bin'), block);
  writeKeyPair(join(work, 'key.pem'), join(work, 'pub.pem'));
  const sig = join(work, 'tiny.sig');
  execFileSync(NODE, [BIN, 'sign', tiny, '--key', join(work, 'key.pem'), '--output', sig]);
  const unbundled = join(work, 'unbundled.mjs');
  writeFileSync(unbundled, `const { main } = await import(${JSON.stringify(pathToFileURL(join(ROOT, 'dist', 'cli', 'main.js')).href)});\nprocess.exitCode = await main(process.argv);\n`);

  const cases = [
    ['node -e 0', [NODE, '-e', '0']],
    ['hash 3 B', [NODE, BIN, 'hash', tiny]],
    ['hash 2 x 4 MiB (worker pool)', [NODE, BIN, 'hash', pool]],
    ['--version', [NODE, BIN, '--version']],
    ['sign --key 3 B', [NODE, BIN, 'sign', tiny, '--key', join(work, 'key.pem'), '--output', join(work, 'again.sig'), '--force']],
    ['verify --key 3 B', [NODE, BIN, 'verify', tiny, '--sig', sig, '--key', join(work, 'pub.pem')]],
    ...(flag('unbundled') ? [['hash 3 B, unbundled dist/cli', [NODE, unbundled, 'hash', tiny]]] : []),
  ];
  for (const [name, argv] of cases) {
    const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${name} failed (exit ${r.status}): ${r.stderr}`);
  }
  const signed = (x) => `${x < 0 ? "-" : "+"}${Math.abs(x).toFixed(3)}`;
  const quote = (s) => (/^[\w./=:+-]+$/.test(s) ? s : `'${s.replaceAll("'", "'\\''")}'`);
  const exported = join(work, 'hyperfine.json');
  const load0 = loadavg();
  execFileSync('hyperfine', ['-N', '-w', String(WARMUP), '-r', String(RUNS), '--export-json', exported, ...cases.flatMap(([name, argv]) => [`--command-name=${name}`, argv.map(quote).join(' ')])], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const load1 = loadavg();
  const h = JSON.parse(readFileSync(exported, 'utf8')).results;
  const cpu = (x) => x.user + x.system;
  const base = h[0];
  const results = h.map((x, i) => ({
    name: cases[i][0],
    command: x.command,
    medianSeconds: x.median,
    meanSeconds: x.mean,
    minSeconds: x.min,
    cpuSeconds: cpu(x),
    overNodeMedianSeconds: x.median - base.median,
    overNodeCpuSeconds: cpu(x) - cpu(base),
    runs: x.times.length,
  }));
  const report = {
    bench: 'startup',
    target: 'hash of a 3-byte file: median wall time <= node -e 0 + 0.10 s; no more for a model that starts the worker pool (issue 13 target 3)',
    date: new Date().toISOString(),
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    node: nodeVersion,
    loadavg: { before: load0, after: load1 },
    commit: spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).stdout.trim() || undefined,
    runs: RUNS,
    warmup: WARMUP,
    results,
  };
  for (const r of results) {
    console.log(`${r.name.padEnd(32)} median ${r.medianSeconds.toFixed(3)} s (${signed(r.overNodeMedianSeconds)})  cpu ${r.cpuSeconds.toFixed(3)} s (${signed(r.overNodeCpuSeconds)})`);
  }
  console.log(`load average ${load0.map((l) => l.toFixed(2)).join(' ')} -> ${load1.map((l) => l.toFixed(2)).join(' ')}; ${report.cpu}, ${report.cores} cores, Node ${nodeVersion}`);
  const slug = report.cpu.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
  const out = opt('out', join(ROOT, 'bench', 'results', `startup-${slug}-${nodeVersion}-${report.date.slice(0, 19).replaceAll(':', '-')}.json`));
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`wrote ${out}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
