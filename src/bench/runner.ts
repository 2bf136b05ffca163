/**
 * `runBench`: the whole benchmark as one library call. Every available backend × algorithm × method ×
 * worker count hashes the same model in rounds, beside the peers and the machine's ceilings measured
 * in the same run; every run's digests are checked against every other's (a disagreeing backend is a
 * failure, never a figure). An aborted signal ends the run early with a report marked partial.
 */
import { spawn } from 'node:child_process';
import { setMaxListeners } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { probeAll } from '../backends/dispatch.js';
import type { BackendName, HashAlgorithm, ProbeResult } from '../backends/types.js';
import { hashModel } from '../engine/hash-model.js';
import { createSampleModel } from '../engine/sample-model.js';
import type { HashModelOptions, HashResult } from '../engine/types.js';
import { InputError } from '../errors.js';
import type { SerializationMethod } from '../manifest/types.js';
import { PACKAGE_ROOT } from '../native/addon.js';
import { walkModel } from '../plan/walk.js';
import { openGpuCeilings, timeMemcpy, timePageCacheRead, type GpuCeilingProbe } from './ceilings.js';
import { machineInfo } from './machine.js';
import { runMicro } from './micro.js';
import { findPeers, peerCommands, runPeer, type PeerCommand } from './peers.js';
import { median, medianRatio, pairedRatio, ratesOf, round, summarise } from './stats.js';
import {
  BENCH_BACKENDS,
  BENCH_SCHEMA,
  type BenchBackend,
  type BenchProgress,
  type BenchReport,
  type BenchSettings,
  type BreakdownResult,
  type CeilingResult,
  type GpuInfo,
  type PeerRun,
  type RatioResult,
  type RunResult,
} from './types.js';

const MiB = 2 ** 20;
const GiB = 2 ** 30;
/** Shards of a generated model: enough that the slow backends' subset is one or two of them. */
const GENERATED_SHARDS = 8;

/** Options of {@link runBench}; everything has a default. */
export interface RunBenchOptions {
  /** The model to hash (directory or file); a generated model of safetensors shards when absent. */
  model?: string;
  /** Size of the generated model in bytes (default 1 GiB, 64 MiB with `quick`). */
  size?: number;
  algorithms?: HashAlgorithm[];
  methods?: SerializationMethod[];
  backends?: BenchBackend[];
  /** Worker counts for the CPU backends (default 1 and every power of two up to the core count, and the core count). */
  workers?: number[];
  /** Timed rounds per configuration (default 3, 2 with `quick`). */
  runs?: number;
  /** Shard size of the `shards` method (default 16 MiB: many shards, as a GPU needs). */
  shardSize?: number;
  /** A short run for CI and a first look: small model, fewer rounds and sizes. */
  quick?: boolean;
  peers?: boolean;
  micro?: boolean;
  processRuns?: boolean;
  /**
   * Bytes hashed by the slow backends (js, wasm, a software GPU adapter): a whole-file subset of the
   * model, labelled as such, whose resource digests are still checked (default 64 MiB, 16 MiB with `quick`).
   */
  slowBackendBytes?: number;
  /** Where the generated model goes (default the OS temporary directory); it is removed afterwards. */
  workDir?: string;
  /** PATH searched for peers (default process.env.PATH). */
  path?: string;
  signal?: AbortSignal;
  onProgress?: (p: BenchProgress) => void;
}

function defaultWorkers(): number[] {
  const n = Math.max(1, cpus().length);
  const set = new Set<number>([1]);
  for (let w = 2; w < n; w *= 2) set.add(w);
  set.add(n);
  return [...set].sort((a, b) => a - b);
}

function check(ok: boolean, name: string, what: string): void {
  if (!ok) throw new InputError('USAGE', `${name} ${what}.`);
}

/** Validates the options once, into settings (the CLI has already parsed its strings). */
export function benchSettings(o: RunBenchOptions): BenchSettings {
  const quick = o.quick === true;
  const s: BenchSettings = {
    algorithms: o.algorithms ?? ['sha256', 'blake3'],
    methods: o.methods ?? ['files', 'shards'],
    backends: o.backends ?? [...BENCH_BACKENDS],
    workers: [...new Set(o.workers ?? defaultWorkers())].sort((a, b) => a - b),
    runs: o.runs ?? (quick ? 2 : 3),
    shardSize: o.shardSize ?? 16 * MiB,
    quick,
    slowBackendBytes: o.slowBackendBytes ?? (quick ? 16 * MiB : 64 * MiB),
    peers: o.peers ?? true,
    micro: o.micro ?? true,
    processRuns: o.processRuns ?? !quick,
  };
  check(s.algorithms.length > 0 && s.algorithms.every((a) => ['sha256', 'blake3', 'blake2b'].includes(a)), 'algorithms', 'must name sha256, blake3 or blake2b');
  check(s.methods.length > 0 && s.methods.every((m) => m === 'files' || m === 'shards'), 'methods', 'must be files and/or shards');
  check(s.backends.length > 0 && s.backends.every((b) => BENCH_BACKENDS.includes(b)), 'backends', `must be among ${BENCH_BACKENDS.join(', ')}`);
  check(s.workers.length > 0 && s.workers.every((w) => Number.isInteger(w) && w >= 1 && w <= 256), 'workers', 'must be integers from 1 to 256');
  check(Number.isInteger(s.runs) && s.runs >= 1 && s.runs <= 100, 'runs', 'must be an integer from 1 to 100');
  check(Number.isSafeInteger(s.shardSize) && s.shardSize >= 4096, 'shard size', 'must be at least 4096 bytes');
  check(Number.isSafeInteger(s.slowBackendBytes) && s.slowBackendBytes > 0, 'slowBackendBytes', 'must be a positive number of bytes');
  if (o.size !== undefined) check(Number.isSafeInteger(o.size) && o.size >= MiB && o.size <= 1024 * GiB, 'size', 'must be from 1 MiB to 1 TiB');
  return s;
}

function version(): string {
  try {
    return (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

class Aborted extends Error {}

/** One configuration of a group, with its state across rounds. */
interface Config {
  run: RunResult;
  options: HashModelOptions;
  /** When set, the run hashes only these relative paths (slow backends). */
  subset?: Set<string>;
  rounds: number;
}

function kernelOf(probes: readonly ProbeResult[], backend: BenchBackend, algorithm: HashAlgorithm): string | undefined {
  const p = probes.find((x) => x.name === (backend === 'hybrid' ? 'native' : backend));
  if (!p?.ok) return undefined;
  // the native detail reads "sha256=shani-x2, blake3=avx2 (x86_64: ...)": the chosen kernel per algorithm
  if (p.name === 'native') return p.capabilities.detail.split(' (')[0]!.split(', ').find((k) => k.startsWith(`${algorithm}=`));
  if (p.name === 'webgpu') return p.capabilities.software ? 'software adapter' : 'hardware adapter';
  return undefined;
}

/** Runs the benchmark and returns its report (partial when the signal aborted it). */
export async function runBench(options: RunBenchOptions = {}): Promise<BenchReport> {
  const settings = benchSettings(options);
  const started = performance.now();
  const signal = options.signal;
  // One signal spans every run of the bench; the pool and child processes each listen on it for the
  // length of a task, more than Node's default of 10 at once over a long run.
  if (signal) setMaxListeners(0, signal);
  const progress = options.onProgress ?? (() => {});
  const notes: string[] = [];
  const failures: BenchReport['failures'] = [];
  const probes = await probeAll();
  const probeOf = (n: BackendName) => probes.find((p) => p.name === n);
  const gpuProbe = probeOf('webgpu');
  const wantGpu = settings.backends.includes('webgpu') || settings.backends.includes('hybrid');

  const report: BenchReport = {
    schema: BENCH_SCHEMA,
    modelsealVersion: version(),
    date: new Date().toISOString(),
    durationSeconds: 0,
    partial: false,
    settings,
    machine: machineInfo(null, gpuProbe && !gpuProbe.ok ? gpuProbe.reason : wantGpu ? undefined : 'not asked for (--backends)'),
    backends: probes,
    model: { path: '', generated: false, files: 0, bytes: 0 },
    ceilings: [],
    runs: [],
    peers: { found: [], missing: [], runs: [] },
    ratios: [],
    micro: [],
    breakdown: [],
    failures,
    notes,
  };
  const aborted = () => signal?.aborted === true;
  const stop = () => {
    if (aborted()) throw new Aborted();
  };
  /** Records a run or peer that threw: failed, or interrupted (ending the benchmark) when the signal aborted it. */
  const runFailed = (target: RunResult | PeerRun, kind: BenchReport['failures'][number]['kind'], e: unknown): void => {
    if (aborted()) {
      target.status = 'interrupted';
      throw new Aborted();
    }
    target.status = 'failed';
    target.error = (e as Error).message;
    failures.push({ kind, what: target.id, message: target.error });
  };

  let generatedDir: string | undefined;
  let gpuCeil: GpuCeilingProbe | undefined;
  try {
    // The model: the user's, or generated safetensors shards.
    let modelPath = options.model;
    if (modelPath === undefined) {
      const size = options.size ?? (settings.quick ? 64 * MiB : GiB);
      const base = options.workDir ?? tmpdir();
      mkdirSync(base, { recursive: true });
      generatedDir = mkdtempSync(join(base, 'modelseal-bench-'));
      modelPath = join(generatedDir, 'model');
      progress({ step: 'model', done: 0, total: 1, detail: `generating ${Math.round(size / MiB)} MiB of safetensors shards` });
      createSampleModel(modelPath, { shards: GENERATED_SHARDS, shardBytes: Math.floor(size / GENERATED_SHARDS) });
      report.model.generated = true;
    }
    const walked = walkModel(modelPath);
    const files = walked.files;
    const totalBytes = files.reduce((n, f) => n + f.size, 0);
    report.model = { path: report.model.generated ? '(generated)' : walked.root, generated: report.model.generated, files: files.length, bytes: totalBytes };
    if (files.length === 0 || totalBytes === 0) throw new InputError('MODEL_EMPTY', `${modelPath} holds no bytes to hash; give a model directory with weights, or omit it to benchmark a generated model.`);
    stop();

    // Warm the page cache: every figure below is a page-cache figure, read against the read ceiling.
    progress({ step: 'warm', done: 0, total: 1, detail: 'reading the model into the page cache' });
    timePageCacheRead(files.map((f) => f.abs));
    stop();

    // Ceilings, in rounds.
    const ceil = (id: CeilingResult['id'], label: string, software?: boolean): CeilingResult => {
      const c: CeilingResult = { id, label, bytes: 0, samples: [], bytesPerSecond: null, ...(software !== undefined ? { software } : {}) };
      report.ceilings.push(c);
      return c;
    };
    const pageCache = ceil('page-cache-read', 'page-cache read, 1 thread, 8 MiB reads');
    const memcpy = ceil('memcpy', 'memory copy, 1 thread, 64 MiB blocks');
    let gpuUpload: CeilingResult | undefined;
    let gpuSha: CeilingResult | undefined;
    let gpuB3: CeilingResult | undefined;
    if (wantGpu && gpuProbe?.ok) {
      try {
        const software = gpuProbe.capabilities.software === true;
        const gpu = await import('../backends/webgpu/index.js');
        const { description, device } = await gpu.acquireDevice('modelseal bench probe');
        device.destroy();
        const info: GpuInfo = {
          adapter: gpu.adapterLine(description),
          vendor: description.vendor,
          architecture: description.architecture,
          device: description.device,
          description: description.description,
          software,
          maxBufferSize: description.maxBufferSize,
          maxStorageBufferBindingSize: description.maxStorageBufferBindingSize,
        };
        report.machine.gpu = info;
        if (software) notes.push(`The GPU adapter is a software adapter (${info.adapter}): its figures measure the CPU emulating a GPU; correctness only.`);
        gpuCeil = await openGpuCeilings(software ? 64 * MiB : settings.quick ? 256 * MiB : GiB);
        gpuUpload = ceil('gpu-upload', 'host→GPU upload (queue.writeBuffer)', software);
        if (settings.algorithms.includes('sha256')) gpuSha = ceil('gpu-resident-sha256', 'GPU-resident SHA-256, 1 MiB leaves (hashGpuBuffer)', software);
        if (settings.algorithms.includes('blake3')) gpuB3 = ceil('gpu-resident-blake3', 'GPU-resident BLAKE3 (hashGpuBuffer)', software);
      } catch (e) {
        failures.push({ kind: 'ceiling', what: 'GPU ceilings', message: (e as Error).message });
      }
    }
    for (let r = 0; r < settings.runs; r++) {
      stop();
      progress({ step: 'ceilings', done: r, total: settings.runs });
      const a = timePageCacheRead(files.map((f) => f.abs));
      pageCache.bytes = a.bytes;
      pageCache.samples.push(a.bytes / a.seconds);
      const b = timeMemcpy(Math.min(totalBytes, GiB));
      memcpy.bytes = b.bytes;
      memcpy.samples.push(b.bytes / b.seconds);
      if (gpuCeil) {
        try {
          for (const [c, f] of [
            [gpuUpload, () => gpuCeil!.upload()],
            [gpuSha, () => gpuCeil!.resident('sha256')],
            [gpuB3, () => gpuCeil!.resident('blake3')],
          ] as const) {
            if (!c) continue;
            const x = await f();
            c.bytes = x.bytes;
            c.samples.push(x.bytes / x.seconds);
          }
        } catch (e) {
          failures.push({ kind: 'ceiling', what: 'GPU ceilings', message: (e as Error).message });
          gpuCeil.close();
          gpuCeil = undefined;
        }
      }
    }
    gpuCeil?.close();
    gpuCeil = undefined;
    for (const c of report.ceilings) c.bytesPerSecond = round(median(c.samples), 0);

    // Peers.
    if (settings.peers) {
      report.peers = { ...findPeers(options.path), runs: [] };
      if (files.length > 4096) notes.push(`Whole-file peers skipped: ${files.length} files is too many for one command line.`);
    } else {
      notes.push('Peers not run (--no-peers).');
    }

    // The matrix, group by group (algorithm × method).
    const relOf = new Map(files.map((f) => [f.abs, f.rel] as const));
    const groups: Array<{ algorithm: HashAlgorithm; method: SerializationMethod }> = [];
    for (const algorithm of settings.algorithms) {
      for (const method of settings.methods) {
        if (algorithm === 'blake3' && method === 'shards') {
          notes.push('blake3 × shards skipped: BLAKE3 is never sharded in OMS (it is a tree hash already).');
          continue;
        }
        groups.push({ algorithm, method });
      }
    }
    // Smallest files first, up to the cap, but never only the small ones: at least half the cap or one weights file.
    const slowSubset = (() => {
      const pick = new Set<string>();
      let bytes = 0;
      for (const f of [...files].sort((a, b) => a.size - b.size)) {
        if (bytes + f.size > settings.slowBackendBytes && bytes >= settings.slowBackendBytes / 2) continue;
        pick.add(f.rel);
        bytes += f.size;
      }
      return { pick, bytes, files: pick.size };
    })();
    const softwareGpu = gpuProbe?.ok === true && gpuProbe.capabilities.software === true;
    const maxWorkers = Math.max(...settings.workers);
    const unavailable = new Set<string>();
    let quickGpuNoted = false;
    const totalSteps = groups.length * settings.runs;
    let step = 0;
    for (const g of groups) {
      const gid = `${g.algorithm}/${g.method}${g.method === 'shards' ? `-${settings.shardSize}` : ''}`;
      const configs: Config[] = [];
      for (const b of settings.backends) {
        const probe = probeOf(b === 'hybrid' ? 'webgpu' : b);
        if (!probe?.ok) {
          if (!unavailable.has(b)) notes.push(`${b}: not run (${probe && !probe.ok ? probe.reason : 'unknown backend'}).`);
          unavailable.add(b);
          continue;
        }
        if (!probe.capabilities.algorithms.includes(g.algorithm)) continue;
        if (b === 'hybrid' && !probeOf('native')?.ok && !probeOf('node-crypto')?.ok) continue;
        // A quick run on a software adapter keeps the GPU to the groups it is built for (many shards, BLAKE3):
        // each GPU run there costs seconds of device start-up on the CPU.
        if (settings.quick && softwareGpu && (b === 'webgpu' || b === 'hybrid') && g.algorithm === 'sha256' && g.method === 'files' && settings.methods.includes('shards')) {
          if (!quickGpuNoted) notes.push('--quick on a software GPU adapter: webgpu and hybrid skip sha256 / files (they run on sha256 shards and blake3).');
          quickGpuNoted = true;
          continue;
        }
        const slow = b === 'js' || b === 'wasm' || ((b === 'webgpu' || b === 'hybrid') && softwareGpu);
        const subset = slow && slowSubset.bytes < totalBytes ? slowSubset.pick : undefined;
        const workerCounts = b === 'webgpu' ? [1] : b === 'hybrid' ? [maxWorkers] : settings.workers;
        for (const w of workerCounts) {
          const id = `${gid}:${b}:w${w}`;
          const opts: HashModelOptions = { hash: g.algorithm, method: g.method, workers: w, ...(g.method === 'shards' ? { shardSize: settings.shardSize } : {}) };
          if (b === 'hybrid') opts.hybrid = true;
          else opts.backend = b;
          if (subset) opts.only = (rel) => subset.has(rel);
          if (signal) opts.signal = signal;
          const kernel = kernelOf(probes, b, g.algorithm);
          const run: RunResult = {
            id,
            group: gid,
            algorithm: g.algorithm,
            method: g.method,
            ...(g.method === 'shards' ? { shardSize: settings.shardSize } : {}),
            backend: b,
            ...(kernel ? { kernel } : {}),
            workers: b === 'webgpu' ? 0 : w,
            timing: 'in-process',
            bytes: subset ? slowSubset.bytes : totalBytes,
            files: subset ? slowSubset.files : files.length,
            subset: subset !== undefined,
            status: 'ok',
            seconds: [],
            samples: [],
            bytesPerSecond: null,
            spread: null,
            cpuUserSeconds: [],
            cpuSystemSeconds: [],
            digestCheck: 'unchecked',
          };
          // a software adapter takes seconds per device: one round in a quick run
          const rounds = settings.quick && softwareGpu && (b === 'webgpu' || b === 'hybrid') ? 1 : settings.runs;
          configs.push({ run, options: opts, rounds, ...(subset ? { subset } : {}) });
          report.runs.push(run);
        }
      }
      const peerCmds: PeerCommand[] = settings.peers
        ? peerCommands(report.peers.found, { algorithm: g.algorithm, method: g.method, files: files.map((f) => f.abs), model: walked.root, threads: settings.workers, speedSeconds: settings.quick ? 1 : 2 })
        : [];
      const peerRuns = peerCmds.map((c): PeerRun => {
        const pr: PeerRun = { id: `${gid}:peer:${c.id}`, group: gid, peer: c.peer, command: [c.command.split('/').pop(), ...c.args.slice(0, c.parse === 'sum' || c.parse === 'openssl-dgst' ? c.args.length - files.length : c.args.length), c.source === 'file' ? '<files>' : ''].filter(Boolean).join(' '), algorithm: c.algorithm, method: c.method, threads: c.threads, source: c.source, bytes: c.source === 'memory' ? 16 * MiB : totalBytes, status: 'ok', seconds: [], samples: [], bytesPerSecond: null, digestCheck: c.source === 'memory' ? 'unchecked' : 'unchecked' };
        report.peers.runs.push(pr);
        return pr;
      });

      // Digest agreement: every resource digest seen in this group, by name, with who produced it first.
      const seen = new Map<string, { digest: string; by: string }>();
      let rootSeen: { digest: string; by: string } | undefined;
      const agree = (by: string, digests: Iterable<[string, string]>, root?: string): boolean => {
        let ok = true;
        let compared = 0;
        for (const [name, digest] of digests) {
          const prev = seen.get(name);
          if (!prev) seen.set(name, { digest, by });
          else {
            compared++;
            if (prev.digest !== digest) {
              ok = false;
              failures.push({ kind: 'digest', what: `${by}: digest of ${name}`, message: `${digest} differs from ${prev.digest} (${prev.by}); a backend that disagrees is a bug, not a result.` });
            }
          }
        }
        if (root !== undefined) {
          if (!rootSeen) rootSeen = { digest: root, by };
          else if (rootSeen.digest !== root) {
            ok = false;
            failures.push({ kind: 'digest', what: `${by}: root digest`, message: `${root} differs from ${rootSeen.digest} (${rootSeen.by}).` });
          }
        }
        return ok && (compared > 0 || root !== undefined);
      };

      for (let r = 0; r < settings.runs; r++) {
        for (const c of configs) {
          stop();
          if (c.run.status === 'failed' || r >= c.rounds) continue;
          progress({ step: 'run', done: step, total: totalSteps, detail: `round ${r + 1}/${settings.runs} ${c.run.id}` });
          const c0 = process.cpuUsage();
          const t0 = performance.now();
          let res: HashResult;
          try {
            res = await hashModel(walked.root, c.options);
          } catch (e) {
            runFailed(c.run, 'run', e);
            continue;
          }
          const secs = (performance.now() - t0) / 1000;
          const cu = process.cpuUsage(c0);
          if (res.bytes !== c.run.bytes) {
            c.run.status = 'failed';
            c.run.error = `hashed ${res.bytes} bytes, expected ${c.run.bytes} (the model changed during the run?)`;
            failures.push({ kind: 'run', what: c.run.id, message: c.run.error });
            continue;
          }
          const first = c.run.seconds.length === 0;
          if (first) {
            c.run.rootDigest = res.manifest.rootDigest;
            if (res.backend === 'hybrid') c.run.backendBytes = res.backendBytes;
            const digests: Array<[string, string]> = res.manifest.resources.map((x) => [x.name, x.digest]);
            const hadAny = seen.size > 0 || rootSeen !== undefined;
            const ok = agree(c.run.id, digests, c.subset ? undefined : res.manifest.rootDigest);
            c.run.digestCheck = ok ? 'ok' : hadAny ? 'mismatch' : 'reference';
            if (!ok && hadAny) {
              c.run.status = 'failed';
              continue;
            }
          } else if (res.manifest.rootDigest !== c.run.rootDigest) {
            c.run.status = 'failed';
            c.run.digestCheck = 'mismatch';
            failures.push({ kind: 'digest', what: c.run.id, message: `round ${r + 1} gave root ${res.manifest.rootDigest}, round 1 gave ${c.run.rootDigest}.` });
            continue;
          }
          c.run.seconds.push(secs);
          c.run.cpuUserSeconds!.push(cu.user / 1e6);
          c.run.cpuSystemSeconds!.push(cu.system / 1e6);
        }
        for (let i = 0; i < peerCmds.length; i++) {
          stop();
          const cmd = peerCmds[i]!;
          const pr = peerRuns[i]!;
          if (pr.status === 'failed') continue;
          progress({ step: 'peer', done: step, total: totalSteps, detail: `round ${r + 1}/${settings.runs} ${pr.id}` });
          try {
            const s = await runPeer(cmd, signal);
            if (cmd.parse === 'openssl-speed') {
              pr.seconds.push(pr.bytes / s.rate!);
            } else {
              if (pr.seconds.length === 0) {
                let digests: Array<[string, string]> | undefined;
                if (s.digests) {
                  digests = [];
                  for (const [p, d] of s.digests) {
                    const rel = relOf.get(p);
                    if (rel !== undefined) digests.push([walked.singleFile ? '__single__' : rel, d]);
                  }
                  if (walked.singleFile) {
                    const name = [...seen.keys()][0];
                    digests = digests.map(([, d]) => [name ?? '__single__', d]);
                  }
                  if (digests.length !== files.length) digests = undefined;
                }
                if (digests || s.root) {
                  const hadAny = seen.size > 0 || rootSeen !== undefined;
                  const ok = agree(pr.id, digests ?? [], s.root);
                  pr.digestCheck = ok ? 'ok' : hadAny ? 'mismatch' : 'reference';
                  if (!ok && hadAny) pr.status = 'failed';
                }
              }
              if (pr.status !== 'failed') pr.seconds.push(s.seconds);
            }
          } catch (e) {
            runFailed(pr, 'peer', e);
          }
        }
        step++;
      }
    }

    // Whole processes: `modelseal hash` end to end (Node start-up, module loading, workers, exit).
    if (settings.processRuns) {
      for (const g of groups) {
        const gid = `${g.algorithm}/${g.method}${g.method === 'shards' ? `-${settings.shardSize}` : ''}`;
        const args = [join(PACKAGE_ROOT, 'bin', 'modelseal.js'), 'hash', walked.root, '--json', '--no-progress', '--hash', g.algorithm, '--method', g.method, '--workers', String(maxWorkers)];
        if (g.method === 'shards') args.push('--shard-size', String(settings.shardSize));
        const run: RunResult = {
          id: `${gid}:process:auto:w${maxWorkers}`, group: gid, algorithm: g.algorithm, method: g.method, ...(g.method === 'shards' ? { shardSize: settings.shardSize } : {}),
          backend: 'native', workers: maxWorkers, timing: 'process', bytes: totalBytes, files: files.length, subset: false, status: 'ok', seconds: [], samples: [], bytesPerSecond: null, spread: null, digestCheck: 'unchecked',
        };
        report.runs.push(run);
        for (let r = 0; r < settings.runs; r++) {
          stop();
          progress({ step: 'process', done: r, total: settings.runs, detail: run.id });
          try {
            const { seconds, stdout } = await timeProcess(process.execPath, args, signal);
            const last = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as { rootDigest?: string; backend?: BenchBackend };
            if (last.backend) run.backend = last.backend;
            const ref = report.runs.find((x) => x.group === gid && x.timing === 'in-process' && !x.subset && x.rootDigest);
            if (run.seconds.length === 0) {
              run.rootDigest = last.rootDigest ?? '';
              run.digestCheck = ref ? (ref.rootDigest === last.rootDigest ? 'ok' : 'mismatch') : 'unchecked';
              if (run.digestCheck === 'mismatch') {
                run.status = 'failed';
                failures.push({ kind: 'digest', what: run.id, message: `root ${last.rootDigest} differs from ${ref!.rootDigest} (${ref!.id}).` });
                break;
              }
            }
            run.seconds.push(seconds);
          } catch (e) {
            runFailed(run, 'run', e);
            break;
          }
        }
      }
    }

    // Start-up: each in-process configuration on a 1-byte model, for the time breakdown.
    const tinyBase = generatedDir ?? mkdtempSync(join(options.workDir ?? tmpdir(), 'modelseal-bench-'));
    if (!generatedDir) generatedDir = tinyBase;
    const tiny = join(tinyBase, 'tiny');
    mkdirSync(tiny, { recursive: true });
    writeFileSync(join(tiny, 'w.bin'), 'x');
    // Keyed by backend and workers: start-up does not depend on the algorithm or the method.
    const startupKey = (x: RunResult) => `${x.backend}:${x.workers}`;
    const startupBy = new Map<string, number>();
    const inProc = report.runs.filter((x) => x.timing === 'in-process' && x.status === 'ok' && x.seconds.length > 0);
    const keys = [...new Map(inProc.map((x) => [startupKey(x), x] as const)).values()];
    for (let i = 0; i < keys.length; i++) {
      stop();
      const run = keys[i]!;
      progress({ step: 'startup', done: i, total: keys.length, detail: `${run.backend}, ${run.workers} workers` });
      const cfg: HashModelOptions = { hash: run.algorithm, method: run.method, workers: Math.max(1, run.workers), ...(run.shardSize ? { shardSize: run.shardSize } : {}) };
      if (run.backend === 'hybrid') cfg.hybrid = true;
      else cfg.backend = run.backend;
      const t: number[] = [];
      for (let r = 0; r < (settings.quick ? 1 : Math.min(settings.runs, 3)); r++) {
        const t0 = performance.now();
        try {
          await hashModel(tiny, cfg);
        } catch {
          break;
        }
        t.push((performance.now() - t0) / 1000);
      }
      if (t.length) startupBy.set(startupKey(run), median(t));
    }
    const startup = new Map<string, number>();
    for (const x of inProc) {
      const v = startupBy.get(startupKey(x));
      if (v !== undefined) startup.set(x.id, v);
    }

    // Kernel microbenchmarks.
    if (settings.micro) {
      stop();
      const sizes = settings.quick ? [MiB] : [64 * 1024, MiB, 16 * MiB];
      const m = await runMicro(probes, settings.algorithms, sizes, {
        timeMs: settings.quick ? 100 : 400,
        slowMaxBytes: MiB,
        ...(signal ? { signal } : {}),
        onTask: (name) => progress({ step: 'micro', done: 0, total: 1, detail: name }),
      });
      report.micro = m.results;
      failures.push(...m.failures);
      if (sizes.some((s) => s > MiB)) notes.push('js kernels are timed up to 1 MiB only (the portable reference is slow).');
      notes.push('Kernels are timed on one buffer, one stream: the multi-buffer kernels (native shani-x2/x4, avx2-x8; wasm x4) run a single stream there, and their gain over several streams shows only in the whole-model runs.');
      stop();
    } else {
      notes.push('Kernel microbenchmarks not run (--no-micro).');
    }

    finish(report, startup);
  } catch (e) {
    if (!(e instanceof Aborted) && !aborted()) throw e;
    report.partial = true;
    notes.push('Interrupted: this report is partial; configurations that had not run are absent or marked interrupted.');
    finish(report, new Map());
  } finally {
    gpuCeil?.close();
    if (generatedDir) rmSync(generatedDir, { recursive: true, force: true });
    report.durationSeconds = round((performance.now() - started) / 1000, 3) ?? 0;
    report.machine.loadEnd = loadavg().map((x) => Math.round(x * 100) / 100);
  }
  return report;
}

function timeProcess(cmd: string, args: string[], signal?: AbortSignal): Promise<{ seconds: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], signal });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      if (out.length < 64 * MiB) out += d.toString('utf8');
    });
    child.stderr.on('data', (d: Buffer) => {
      if (err.length < 4096) err += d.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve({ seconds: (performance.now() - t0) / 1000, stdout: out });
      else reject(new Error(`modelseal hash exited with ${code}: ${err.trim().split('\n').pop() ?? ''}`));
    });
  });
}

/** Medians, spreads, ratios and the time breakdown from the raw samples (also for partial reports). */
function finish(report: BenchReport, startup: Map<string, number>): void {
  for (const r of [...report.runs, ...report.peers.runs]) {
    r.samples = ratesOf(r.bytes, r.seconds).map((x) => round(x, 0) ?? 0);
    r.seconds = r.seconds.map((s) => round(s, 6) ?? 0);
    const ok = r.status !== 'failed' && r.digestCheck !== 'mismatch';
    r.bytesPerSecond = ok ? round(median(r.samples), 0) : null;
    if ('spread' in r) r.spread = ok ? round(summarise(r.samples).spread, 3) : null;
  }
  for (const r of report.runs) {
    if (r.cpuUserSeconds) r.cpuUserSeconds = r.cpuUserSeconds.map((s) => round(s, 4) ?? 0);
    if (r.cpuSystemSeconds) r.cpuSystemSeconds = r.cpuSystemSeconds.map((s) => round(s, 4) ?? 0);
  }
  const ratios: RatioResult[] = [];
  const ceilingOf = (id: CeilingResult['id']) => report.ceilings.find((c) => c.id === id && c.samples.length > 0);
  for (const r of report.runs) {
    if (r.bytesPerSecond === null) continue;
    // peers of the same group, same rounds: paired (file peers only against whole-model runs)
    for (const p of report.peers.runs) {
      if (p.group !== r.group || p.bytesPerSecond === null || r.timing !== 'in-process') continue;
      ratios.push({ run: r.id, to: p.id, kind: 'peer', ratio: round(pairedRatio(r.samples, p.samples), 3), paired: true });
    }
    const pc = ceilingOf('page-cache-read');
    if (pc) ratios.push({ run: r.id, to: 'page-cache-read', kind: 'ceiling', ratio: round(medianRatio(r.samples, pc.samples), 3), paired: false });
    const up = ceilingOf('gpu-upload');
    if (up && (r.backend === 'webgpu' || r.backend === 'hybrid')) ratios.push({ run: r.id, to: 'gpu-upload', kind: 'ceiling', ratio: round(medianRatio(r.samples, up.samples), 3), paired: false });
    if (r.workers > 1 && r.timing === 'in-process') {
      const one = report.runs.find((x) => x.group === r.group && x.backend === r.backend && x.workers === 1 && x.timing === 'in-process' && x.bytesPerSecond !== null);
      if (one) ratios.push({ run: r.id, to: one.id, kind: 'workers', ratio: round(pairedRatio(r.samples, one.samples), 3), paired: true });
    }
  }
  report.ratios = ratios;
  report.breakdown = breakdown(report, startup);
}

/**
 * Where the time of each whole-model run goes, estimated: start-up is measured (the same
 * configuration on a 1-byte model); the rest is split by the run's kernel vs user CPU time for the CPU
 * backends (kernel time ≈ getting bytes out of the page cache), or by the page-cache read and upload
 * ceilings for the GPU alone.
 */
export function breakdown(report: BenchReport, startup: Map<string, number>): BreakdownResult[] {
  const out: BreakdownResult[] = [];
  const pc = report.ceilings.find((c) => c.id === 'page-cache-read')?.bytesPerSecond ?? null;
  const up = report.ceilings.find((c) => c.id === 'gpu-upload')?.bytesPerSecond ?? null;
  for (const r of report.runs) {
    const st = startup.get(r.id);
    if (r.bytesPerSecond === null || st === undefined) continue;
    const total = median(r.seconds);
    const startupSeconds = Math.min(st, total);
    const rest = total - startupSeconds;
    let io = 0;
    let upload = 0;
    if (r.backend === 'webgpu') {
      io = pc ? Math.min(rest, r.bytes / pc) : 0;
      upload = up ? Math.min(rest - io, r.bytes / up) : 0;
    } else {
      const user = median(r.cpuUserSeconds ?? []);
      const sys = median(r.cpuSystemSeconds ?? []);
      io = user + sys > 0 ? (rest * sys) / (user + sys) : 0;
    }
    const b = (x: number) => round(x, 4) ?? 0;
    out.push({ run: r.id, startupSeconds: b(startupSeconds), ioSeconds: b(io), uploadSeconds: b(upload), hashSeconds: b(Math.max(0, rest - io - upload)), totalSeconds: b(total) });
  }
  return out;
}
