#!/usr/bin/env node
/**
 * Hashing and verifying under memory pressure (issue 11 item 15): each case runs in a cgroup of its
 * own with a memory limit (bench/cgroup.mjs; root or a delegated cgroup subtree), once with the
 * low-memory policy forced off (MODELSEAL_MEMORY_POLICY=normal: the engine before the fix) and once
 * as shipped (auto), from a cold page cache every time. Records whole-process wall and CPU seconds,
 * bytes read from storage (÷ the bytes hashed: the read amplification; for the small `verify` it is
 * mostly the program's own text read back after eviction), major faults and the cgroup's peak charge.
 *
 * Pressure falls on the program's code too: the runs use a private copy of the node binary, dropped
 * from the cache before each run, so its text pages are charged to (and evicted within) the cgroup,
 * as when another process holds most of the machine's RAM (--shared-node to run the system's node).
 *
 *   sudo node bench/pressure.mjs [--file-mib 1536] [--hash-limits 2048,512,256,160,100]
 *        [--verify-limits 256,64,56,52] [--policies normal,auto] [--runs 1] [--timeout-s 300]
 *        [--dir DIR] [--out bench/results/pressure-DATE.json] [--shared-node]
 *
 * Cases: `hash` with 16 MiB SHA-256 shards of one --file-mib file; `verify` of a 2.7 MB model
 * (three files) signed with a fresh P-256 key. Digests must agree across every run.
 */
import { execFileSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { closeSync, copyFileSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync, chmodSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { ROOT, flag, median, opt, writeKeyPair } from './lib.mjs';
import { cgroupSupport, dropFromCache, runLimited } from './cgroup.mjs';

const MIB = 2 ** 20;
const fileMib = Number(opt('file-mib', '1536'));
const hashLimits = opt('hash-limits', '2048,512,256,160,100').split(',').map(Number);
const verifyLimits = opt('verify-limits', '256,64,56,52').split(',').map(Number);
const policies = opt('policies', 'normal,auto').split(',');
const runs = Number(opt('runs', '1'));
const timeoutMs = Number(opt('timeout-s', '300')) * 1000;
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const out = opt('out', join(ROOT, 'bench', 'results', `pressure-${stamp}.json`));

const support = cgroupSupport();
if (!support.ok) {
  console.error(`bench/pressure.mjs needs a writable cgroup memory controller: ${support.reason}`);
  process.exit(2);
}

const work = opt('dir', undefined) ?? mkdtempSync(join(tmpdir(), 'modelseal-pressure-'));
mkdirSync(work, { recursive: true });
const keep = opt('dir', undefined) !== undefined;

function fill(path, bytes) {
  const fd = openSync(path, 'w');
  const buf = Buffer.allocUnsafe(16 * MIB);
  for (let left = bytes; left > 0; left -= buf.length) {
    randomFillSync(buf);
    writeSync(fd, buf, 0, Math.min(left, buf.length));
  }
  closeSync(fd);
}

// the data: one big file for `hash`, a small signed model for `verify`
const bigDir = join(work, 'big');
const bigFile = join(bigDir, 'weights.bin');
mkdirSync(bigDir, { recursive: true });
fill(bigFile, fileMib * MIB);
const smallDir = join(work, 'small');
mkdirSync(smallDir, { recursive: true });
fill(join(smallDir, 'model.safetensors'), 2_000_000);
fill(join(smallDir, 'extra.bin'), 700_000);
writeFileSync(join(smallDir, 'config.json'), '{"a":1}\n');
const keyPem = join(work, 'key.pem');
const pubPem = join(work, 'pub.pem');
writeKeyPair(keyPem, pubPem);
const bundle = join(work, 'small.sig');
execFileSync(process.execPath, [join(ROOT, 'bin', 'modelseal.js'), 'sign', smallDir, '--key', keyPem, '-o', bundle, '--force', '-q'], { stdio: ['ignore', 'ignore', 'inherit'] });

let node = process.execPath;
if (!flag('shared-node')) {
  node = join(work, 'node');
  copyFileSync(process.execPath, node);
  chmodSync(node, 0o755);
}
const child = join(ROOT, 'bench', 'pressure-child.mjs');
const cases = [
  { name: 'hash-shards-16MiB', limits: hashLimits, argv: ['hash', bigDir, String(16 * MIB)], drop: [bigFile], bytes: fileMib * MIB },
  { name: 'verify-2.7MB', limits: verifyLimits, argv: ['verify', smallDir, bundle, pubPem], drop: [join(smallDir, 'model.safetensors'), join(smallDir, 'extra.bin'), join(smallDir, 'config.json')], bytes: 2_700_008 },
];

const cpu = (readFileSync('/proc/cpuinfo', 'latin1').match(/^model name\s*:\s*(.*)$/m) ?? [])[1] ?? cpus()[0]?.model ?? 'unknown';
const results = [];
const digests = new Map();
console.log(`# modelseal under a cgroup memory limit (cgroup v${support.version}); ${cpu}, ${cpus().length} CPUs, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM; load ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
console.log('| case | limit MiB | policy | wall s (whole process) | user+sys s | read from storage MiB | ÷ bytes hashed | major faults | peak MiB | workers | result |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|');
for (const c of cases) {
  for (const limitMib of c.limits) {
    for (const policy of policies) {
      const samples = [];
      for (let i = 0; i < runs; i++) {
        for (const f of [...c.drop, ...(node === process.execPath ? [] : [node])]) await dropFromCache(f);
        const load = loadavg()[0];
        const r = await runLimited({ limitBytes: limitMib * MIB, argv: [node, child, ...c.argv], env: { ...process.env, MODELSEAL_MEMORY_POLICY: policy }, cwd: ROOT, timeoutMs });
        let j;
        try {
          j = JSON.parse(r.stdout.trim().split('\n').pop());
        } catch {
          j = undefined;
        }
        const outcome = j?.ok ? 'ok' : r.signal ? `killed (${r.signal}${r.oomKills ? ', OOM' : r.wallMs >= timeoutMs ? ', timeout' : ''})` : `exit ${r.status}: ${r.stderr.trim().split('\n').pop() ?? ''}`;
        if (j?.rootDigest) {
          const prev = digests.get(c.name);
          if (prev && prev !== j.rootDigest) throw new Error(`${c.name}: digest ${j.rootDigest} differs from ${prev}`);
          digests.set(c.name, j.rootDigest);
        }
        samples.push({ load, outcome, ...(j ?? {}), hashSeconds: j?.wallSeconds, wallSeconds: r.wallMs / 1000, peakBytes: r.peakBytes, oomKills: r.oomKills });
      }
      const ok = samples.filter((s) => s.outcome === 'ok');
      const med = (k) => (ok.length ? median(ok.map((s) => s[k])) : NaN);
      const row = {
        case: c.name,
        limitMiB: limitMib,
        policy,
        runs: samples.length,
        completed: ok.length,
        wallSeconds: med('wallSeconds'),
        cpuSeconds: ok.length ? median(ok.map((s) => s.userSeconds + s.systemSeconds)) : NaN,
        systemSeconds: med('systemSeconds'),
        readMiB: ok.length ? median(ok.map((s) => s.readBytes / MIB)) : NaN,
        readAmplification: ok.length ? median(ok.map((s) => s.readBytes / c.bytes)) : NaN,
        majorFaults: med('majorFaults'),
        peakMiB: ok.length ? median(ok.map((s) => (s.peakBytes ?? NaN) / MIB)) : NaN,
        workers: ok[0]?.workers,
        samples,
      };
      results.push(row);
      const f = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '—');
      console.log(`| ${c.name} | ${limitMib} | ${policy} | ${f(row.wallSeconds)} | ${f(row.cpuSeconds)} | ${f(row.readMiB, 0)} | ${f(row.readAmplification)} | ${f(row.majorFaults, 0)} | ${f(row.peakMiB, 0)} | ${row.workers ?? '—'} | ${ok.length}/${samples.length} ${samples.find((s) => s.outcome !== 'ok')?.outcome ?? 'ok'} |`);
    }
  }
}
mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
writeFileSync(out, `${JSON.stringify({ date: new Date().toISOString(), cpu, cpus: cpus().length, totalMemBytes: totalmem(), cgroup: support.version, sharedNode: node === process.execPath, fileMiB: fileMib, results }, null, 2)}\n`);
console.log(`\nwritten ${out}`);
if (!keep) rmSync(work, { recursive: true, force: true });
