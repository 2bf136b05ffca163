/**
 * hashModel: walk → plan → map over the pool (or the GPU) → pure reduce into the OMS manifest.
 */
import { lstatSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { disabledBackends, probeBackend, selectBackend } from '../backends/dispatch.js';
import { blake3MergeCvs } from '../backends/js/blake3.js';
import { loadCpuBackend } from '../backends/registry.js';
import type { BackendName, HashBackend, LeafHasher } from '../backends/types.js';
import { InputError, ModelsealError, UnavailableError, reviveError } from '../errors.js';
import { DEFAULT_SHARD_BYTES, HASH_ALGORITHMS, type HashAlgorithm, type SerializationMethod } from '../hash/vocabulary.js';
import { rootDigestOf } from '../manifest/oms.js';
import type { Manifest, Resource } from '../manifest/types.js';
import { makePlan, type ChunkPlan } from '../plan/plan.js';
import { walkModel, type WalkResult } from '../plan/walk.js';
import { LOW_MEMORY_IN_THREAD_MAX_BYTES, lowMemoryWorkers, memoryPolicy } from './memory.js';
import { HashPool, defaultWorkers } from './pool.js';
import type { HashModelOptions, HashPhases, HashResult, MerkleLeaves, ProgressEvent } from './types.js';
import { isValidLeafSize } from '../manifest/companion.js';
import type { MerkleLeafSpec } from '../backends/types.js';

const WEBGPU_MODULE = '../backends/webgpu/index.js';

/** How often progress inside running tasks is sampled (a bar redraw rate; cheap: a few atomic loads). */
const PROGRESS_INTERVAL_MS = 200;

/**
 * A CPU plan this small is hashed in the calling thread: starting a worker thread (a fresh isolate
 * that loads the backend and the addon again) costs 50-150 ms, more than hashing 1 MiB takes many
 * times over. The same backend and kernels run either way, so the digests are identical.
 */
const IN_THREAD_MAX_BYTES = 2 ** 20;

/**
 * Most companion leaves per native-thread call with `merkleLeafBytes` (32 MiB of leaf hashes): one
 * call for any model at the default 1 MiB leaves up to 1 TiB; smaller leaves cut the plan into calls
 * of leafBytes × 2^20 bytes, whose start costs microseconds.
 */
const MERKLE_CALL_LEAVES = 2 ** 20;

interface Resolved {
  hash: HashAlgorithm;
  method: SerializationMethod;
  shardSize: number | undefined;
  workers: number;
}

function resolveOptions(o: HashModelOptions): Resolved {
  const hash = o.hash ?? 'sha256';
  if (!HASH_ALGORITHMS.includes(hash)) throw new InputError('BAD_HASH', `unknown hash "${String(hash)}"; choose sha256, blake2b or blake3.`);
  const method = o.method ?? 'files';
  if (method !== 'files' && method !== 'shards') throw new InputError('BAD_METHOD', `unknown method "${String(method)}"; choose files or shards.`);
  const shardSize = method === 'shards' ? (o.shardSize ?? DEFAULT_SHARD_BYTES) : undefined;
  if (o.shardSize !== undefined && method !== 'shards') {
    throw new InputError('SHARD_SIZE_WITHOUT_SHARDS', '--shard-size only applies with --method shards.');
  }
  const workers = o.workers ?? defaultWorkers();
  if (!Number.isInteger(workers) || workers < 1 || workers > 256) throw new InputError('BAD_WORKERS', `workers must be an integer from 1 to 256 (got ${String(o.workers)}).`);
  return { hash, method, shardSize, workers };
}

/** How many SHA-256 leaves a plan will have (one per file, or one per shard of a non-empty file). */
function sha256LeafCount(files: readonly { size: number }[], r: Resolved): number {
  if (r.method !== 'shards') return files.length;
  return files.reduce((n, f) => n + Math.ceil(f.size / r.shardSize!), 0);
}

/**
 * Fewest leaves per pool task. Multi-buffer native SHA-256 interleaves independent leaves, so each
 * task gets a couple as soon as there are more leaves than workers. Up to as many leaves as workers,
 * one stream each (2 big files on 2 workers: two single streams beat one x2 task and an idle worker).
 * Beyond that, pairs even if a worker then idles: a SHA-NI x2 task takes ~1.1x one stream's time on
 * Zen 3 (2.5 GB/s for two streams against 1.4 for one), while leaves taken one by one make some worker
 * hash two streams in a row (3 files on 2 workers: 2 stream-times one by one, ~1.1 as [pair, single]).
 */
export function minLeavesPerTask(backend: BackendName, hash: HashAlgorithm, leaves: number, workers: number): number {
  return backend === 'native' && hash === 'sha256' && leaves > workers ? 2 : 1;
}

/** Hands out plan tasks in order; `take(maxBytes)` groups consecutive tasks up to maxBytes (at least one). */
class TaskQueue {
  private next = 0;
  constructor(private readonly plan: ChunkPlan) {}

  take(maxBytes: number): number[] | undefined {
    const tasks = this.plan.tasks;
    if (this.next >= tasks.length) return undefined;
    const leaves = [...tasks[this.next++]!];
    let bytes = leaves.reduce((a, i) => a + this.plan.leaves[i]!.length, 0);
    while (this.next < tasks.length) {
      const t = tasks[this.next]!;
      const tb = t.reduce((a, i) => a + this.plan.leaves[i]!.length, 0);
      if (bytes + tb > maxBytes) break;
      leaves.push(...t);
      bytes += tb;
      this.next++;
    }
    return leaves;
  }
}

/**
 * The backend's own threads, when it has them for this algorithm (native SHA-256 and BLAKE3): they
 * replace the worker pool. A pool worker is a fresh isolate that loads the modules and the addon again, measured
 * ~0.13 s CPU per worker on the 2-vCPU EPYC Milan host before the first byte is hashed; the native
 * threads start in microseconds and hash the same leaves into the same outputs.
 */
async function threadedHasher(backend: BackendName, hash: HashAlgorithm, kernels: Record<string, string> | undefined, merkle: boolean): Promise<LeafHasher | undefined> {
  if (backend !== 'native' || (hash !== 'blake3' && hash !== 'sha256')) return undefined;
  // RFC 9162 leaves in the same read exist natively for SHA-256 only (BLAKE3 files need none: their
  // subtree CVs are the outboard; BLAKE3 shards with a companion keep the pool's second read)
  if (merkle && hash !== 'sha256') return undefined;
  const h = (await loadCpuBackend(backend)).createLeafHasher(kernels ? { kernels } : {});
  if (merkle) return h.hashLeavesMerkleThreaded ? h : undefined;
  return h.hashLeavesThreaded && h.threadedAlgorithm?.(hash) ? h : undefined;
}

/** Waits for every lane; the first failure wins, but only after all lanes stopped (no orphaned I/O). */
async function settleAll(lanes: Promise<void>[]): Promise<void> {
  const results = await Promise.allSettled(lanes);
  const failed = results.find((x): x is PromiseRejectedResult => x.status === 'rejected');
  if (failed) throw failed.reason;
}

/**
 * Whether the GPU joins the CPU workers on this plan ('hybrid'), or stays out ('off'). Only when asked
 * (`hybrid: true`): on the H200 host measured (16 Xeon cores with AVX-512; bench/results/
 * gpu-nvidia-h200-2026-11-26-engine-run*), the cores alone hashed a 32 GiB model at 31 GB/s (BLAKE3)
 * and 14 GB/s (SHA-256 1 MiB shards), the GPU alone at 13 / 8 GB/s including its 1-1.5 s start, and
 * both together at 15 / 10 GB/s: feeding the GPU (reading the file into mapped staging) takes the same
 * cores and memory bandwidth. It pays where the host is weak against its GPU.
 */
async function hybridWanted(options: HashModelOptions, hash: HashAlgorithm): Promise<'hybrid' | 'off'> {
  if (options.hybrid !== true || options.backend === 'webgpu') return 'off';
  const p = await probeBackend('webgpu', disabledBackends(options.disableBackends));
  if (!p.ok || !p.capabilities.algorithms.includes(hash)) {
    throw new UnavailableError('BACKEND_UNAVAILABLE', `hybrid hashing needs a WebGPU adapter: ${p.ok ? `no ${hash} on the GPU` : p.reason}`);
  }
  return 'hybrid';
}

/**
 * The serialization record and resources, in the reference order, from leaf outputs. Pure.
 * `mergeCvs` merges a split file's subtree CVs (default: the JS reference; a native hasher passes
 * its own, the same bytes).
 */
export function reducePlan(plan: ChunkPlan, leafOutputs: Uint8Array[], mergeCvs: (cvs: Uint8Array[]) => Uint8Array = blake3MergeCvs): Resource[] {
  return plan.resources.map((r) => {
    const outs = r.leaves.map((i) => leafOutputs[i]!);
    const digest = outs.length === 1 ? outs[0]! : mergeCvs(outs);
    return { name: r.name, algorithm: r.algorithm, digest: Buffer.from(digest).toString('hex') };
  });
}

function checkUnchanged(walk: WalkResult, plan: ChunkPlan): void {
  for (const f of walk.files) {
    if (!plan.files.some((p) => p.abs === f.abs)) continue;
    let st;
    try {
      // lstat: a file swapped for a link after hashing is a change, not something to follow
      st = lstatSync(f.abs);
    } catch (e) {
      throw new ModelsealError('FILE_CHANGED', `${f.rel} disappeared while the model was being hashed; hash again once the model is stable.`, { cause: e });
    }
    if (!st.isFile() || st.dev !== f.dev || st.ino !== f.ino) {
      throw new ModelsealError('FILE_CHANGED', `${f.rel} was replaced while it was being hashed; hash again once the model is stable.`);
    }
    if (st.size !== f.size || st.mtimeMs !== f.mtimeMs) {
      throw new ModelsealError('FILE_CHANGED', `${f.rel} changed while it was being hashed (size ${f.size} → ${st.size}, or modified); hash again once the model is stable.`);
    }
  }
}

/**
 * Hashes a model directory (or a single file) into an OMS manifest.
 *
 * @example
 * const { manifest, bytes, seconds } = await hashModel('./my-model', { hash: 'sha256', method: 'shards', shardSize: 16 << 20 });
 */
export async function hashModel(modelPath: string, options: HashModelOptions = {}): Promise<HashResult> {
  const t0 = performance.now();
  // library misuse is a ModelsealError with a code, like bad CLI input, never a bare TypeError
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new ModelsealError('BAD_OPTION', 'hashModel options must be an object (or omitted).', { kind: 'usage' });
  }
  if (options.only !== undefined && typeof options.only !== 'function') {
    throw new ModelsealError('BAD_OPTION', 'hashModel option only must be a function (relPath) => boolean.', { kind: 'usage' });
  }
  const r = resolveOptions(options);
  // Memory short (memory.ts): fewer workers unless the caller chose, and small plans in this thread.
  const memory = memoryPolicy();
  if (memory.low && options.workers === undefined) r.workers = lowMemoryWorkers(r.workers, memory.availableBytes);
  const inThreadMaxBytes = memory.low ? LOW_MEMORY_IN_THREAD_MAX_BYTES : IN_THREAD_MAX_BYTES;
  const walkOpts: Parameters<typeof walkModel>[1] = { ignoreGitPaths: options.ignoreGitPaths !== false, allowSymlinks: options.allowSymlinks === true };
  if (options.ignorePaths) walkOpts.ignorePaths = options.ignorePaths;
  const walk = walkModel(modelPath, walkOpts);
  const files = options.only ? walk.files.filter((f) => options.only!(f.rel)) : walk.files;
  const tWalk = performance.now();
  if (options.only && files.length === 0 && walk.files.length > 0) {
    throw new InputError('SUBSET_EMPTY', 'no file of the model matches the requested subset.');
  }

  const merkleBytes = options.merkleLeafBytes;
  if (merkleBytes !== undefined && !isValidLeafSize(merkleBytes)) {
    throw new InputError('LEAF_SIZE_INVALID', `leaf size ${String(merkleBytes)} is not a power of two between 1 KiB and 1 GiB; pass e.g. --leaf-size 1MiB.`);
  }
  // BLAKE3 files: subtrees of the companion's leaf size, so their CVs are the outboard (no second hash)
  const blake3Outboard = merkleBytes !== undefined && r.hash === 'blake3' && r.method === 'files';

  const backend = await selectBackend(r.hash, options.backend, options.disableBackends);
  const plan = makePlan(
    files.map((f) => ({ rel: f.rel, abs: f.abs, size: f.size, dev: f.dev, ino: f.ino })),
    {
      hash: r.hash,
      method: r.method,
      ...(r.shardSize !== undefined ? { shardSize: r.shardSize } : {}),
      minLeavesPerTask: minLeavesPerTask(backend, r.hash, sha256LeafCount(files, r), r.workers),
      ...(options.taskTargetBytes !== undefined ? { taskTargetBytes: options.taskTargetBytes } : {}),
      ...(blake3Outboard ? { blake3SubtreeBytes: merkleBytes } : {}),
    },
  );
  const merkle = merkleBytes !== undefined && !blake3Outboard ? merklePlan(plan, merkleBytes) : undefined;

  if (plan.resources.length === 0 && !options.allowEmpty) {
    throw new InputError('MODEL_EMPTY', `${modelPath} contains no data to hash (no files, or only empty files in shards mode, after ignores); check the path.`);
  }

  const tPlan = performance.now();
  let tFirst = 0;
  const leafOutputs: Uint8Array[] = new Array(plan.leaves.length);
  const progress: ProgressEvent = { phase: 'hash', bytesDone: 0, bytesTotal: plan.totalBytes, resourcesDone: 0, resourcesTotal: plan.resources.length };
  const report = options.onProgress;
  report?.({ ...progress });

  const gpuMode = backend === 'webgpu' ? 'alone' : await hybridWanted(options, r.hash);
  const queue = new TaskQueue(plan);
  const backendBytes: Partial<Record<BackendName, number>> = {};
  const done = (name: BackendName, leafIdx: number[], outs: Uint8Array[]) => {
    if (tFirst === 0) tFirst = performance.now();
    let bytes = 0;
    leafIdx.forEach((leaf, k) => {
      leafOutputs[leaf] = outs[k]!;
      bytes += plan.leaves[leaf]!.length;
    });
    progress.bytesDone += bytes;
    backendBytes[name] = (backendBytes[name] ?? 0) + bytes;
    if (progress.bytesDone > lastReported) {
      lastReported = progress.bytesDone;
      report?.({ ...progress });
    }
  };
  // A lane takes work from the shared queue until it is empty: CPU lanes one task at a time, the
  // GPU lane bigger batches. With both, whoever is faster simply takes more (work stealing).
  // CPU lanes share counters with their worker: slot 0 is the abort flag, slot k the bytes lane k has
  // hashed of its current task. A timer adds them to the finished bytes, so progress moves inside one
  // large file too (every CPU backend reports per read block), and an abort stops a worker mid-file.
  // slots: 0 abort, 1 .. workers + 1 the CPU lanes, then the two GPU lanes
  const counters = new BigInt64Array(new SharedArrayBuffer(8 * (r.workers + 4)));
  const gpuSlot = r.workers + 2;
  let lastReported = progress.bytesDone;
  const tick = () => {
    let inFlight = 0;
    for (let k = 1; k < counters.length; k++) inFlight += Number(Atomics.load(counters, k));
    const bytesDone = Math.min(progress.bytesTotal, progress.bytesDone + inFlight);
    if (bytesDone <= lastReported) return;
    lastReported = bytesDone;
    report?.({ ...progress, bytesDone });
  };
  const timer = report ? setInterval(tick, PROGRESS_INTERVAL_MS) : undefined;
  timer?.unref();
  const onAbort = () => Atomics.store(counters, 0, 1n);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const lane = async (name: BackendName, maxBytes: number, hash: (leaves: number[]) => Promise<Uint8Array[]>, slot?: number) => {
    for (;;) {
      options.signal?.throwIfAborted();
      const leaves = queue.take(maxBytes);
      if (!leaves) return;
      const outs = await hash(leaves);
      // the task's bytes move from its slot to the finished count in one step
      if (slot !== undefined) Atomics.store(counters, slot, 0n);
      done(name, leaves, outs);
    }
  };

  const lanes: Promise<void>[] = [];
  const closers: Array<() => Promise<void>> = [];
  let workers = 0;
  let tHashed = 0;
  let threaded: LeafHasher | undefined;
  const cpuBackend: BackendName | undefined = backend === 'webgpu' ? undefined : backend;
  try {
    if (gpuMode !== 'off') {
      // The GPU lanes start as soon as the device and pipelines are ready. In hybrid mode the CPU lanes
      // below do not wait for that (it takes 1-1.5 s on an H200 host): they take tasks meanwhile.
      const ready = (async () => {
        const m = (await import(WEBGPU_MODULE)) as { createWebGpuBackend: () => Promise<HashBackend> };
        const gpu = await m.createWebGpuBackend();
        closers.push(() => gpu.close());
        return gpu;
      })();
      // two calls in flight so the GPU backend overlaps reading, upload and hashing
      for (let k = 0; k < 2; k++) {
        lanes.push(
          ready.then((gpu) => {
            const batch = (gpu as HashBackend & { preferredBatchBytes?: number }).preferredBatchBytes ?? gpu.capabilities.preferredBatchBytes ?? 64 * 2 ** 20;
            const control = { counters, slot: gpuSlot + k };
            return lane('webgpu', batch, (t) => gpu.hashLeaves({ algorithm: r.hash, leaves: t.map((i) => plan.leaves[i]!), control }, options.signal), gpuSlot + k);
          }),
        );
      }
    }
    if (cpuBackend && plan.tasks.length > 0 && gpuMode === 'off' && plan.totalBytes <= inThreadMaxBytes) {
      const { default: hashTask } = await import('./worker.js');
      const cpu = cpuBackend;
      const kernels = options.kernels ? { kernels: options.kernels } : {};
      const control = { counters, slot: 1 };
      lanes.push(
        lane(cpu, 0, async (t) => {
          const reply = await hashTask({ backend: cpu, ...kernels, algorithm: r.hash, leaves: t.map((i) => plan.leaves[i]!), control, ...(merkle ? { merkle: merkle.spec(t) } : {}) });
          if ('error' in reply) throw reviveError(reply.error);
          if (merkle && reply.leafHashes) merkle.store(t, reply.leafHashes);
          return reply.digests;
        }, 1),
      );
    } else if (cpuBackend && plan.tasks.length > 0 && gpuMode === 'off' && (threaded = await threadedHasher(cpuBackend, r.hash, options.kernels, merkle !== undefined))) {
      // one call for the whole plan: the threads take leaves from a shared counter until none is left
      workers = Math.min(r.workers, plan.leaves.length);
      const cpu = cpuBackend;
      const h = threaded;
      const threads = workers;
      const control = { counters, slot: 1 };
      const batch = (t: number[]) => ({ algorithm: r.hash, leaves: t.map((i) => plan.leaves[i]!), control });
      // with Merkle leaves, calls of at most MERKLE_CALL_LEAVES leaves: one call's leaf hashes are one
      // Uint8Array (Node 20 caps those at 4 GiB, 134 M leaves: a 128 GiB model at 1 KiB leaves)
      lanes.push(
        lane(cpu, merkle ? MERKLE_CALL_LEAVES * merkleBytes! : Infinity, merkle
          ? async (t) => {
              // the companion's RFC 9162 leaves in the same read, on the same threads (no worker pool to start)
              const reply = await h.hashLeavesMerkleThreaded!(batch(t), merkle.spec(t), threads);
              merkle.store(t, reply.leafHashes);
              return reply.digests;
            }
          : (t) => h.hashLeavesThreaded!(batch(t), threads), 1),
      );
    } else if (cpuBackend && plan.tasks.length > 0) {
      workers = Math.min(r.workers, plan.tasks.length);
      const pool = new HashPool(workers);
      closers.push(() => pool.close());
      const cpu = cpuBackend;
      const kernels = options.kernels ? { kernels: options.kernels } : {};
      // one task in flight per worker plus one queued keeps every core busy
      for (let k = 0; k < workers + 1; k++) {
        const control = { counters, slot: k + 1 };
        const task = (t: number[]) => ({ backend: cpu, ...kernels, algorithm: r.hash, leaves: t.map((i) => plan.leaves[i]!), control });
        lanes.push(
          lane(cpu, 0, merkle
            ? async (t) => {
                const reply = await pool.runWithLeaves({ ...task(t), merkle: merkle.spec(t) }, options.signal);
                if (reply.leafHashes) merkle.store(t, reply.leafHashes);
                return reply.digests;
              }
            : (t) => pool.run(task(t), options.signal), k + 1),
        );
      }
    }
    await settleAll(lanes);
  } finally {
    tHashed = performance.now();
    if (timer) clearInterval(timer);
    options.signal?.removeEventListener('abort', onAbort);
    for (const close of closers.reverse()) await close();
  }
  const tClosed = performance.now();
  checkUnchanged(walk, plan);
  // After a threaded hash, the threads' backend merges: the JS reference, cold in a fresh process,
  // took 7-12 ms on the main thread for the 256 CVs of a 2 GiB file (2-vCPU EPYC Milan VM), all of it
  // between the last byte hashed and the exit.
  const merger = threaded?.mergeCvs ? threaded : undefined;
  const resources = reducePlan(plan, leafOutputs, merger ? (cvs) => merger.mergeCvs!(cvs) : blake3MergeCvs);
  progress.resourcesDone = resources.length;
  report?.({ ...progress, phase: 'done' });
  const manifest: Manifest = {
    modelName: walk.modelName,
    serialization: {
      method: r.method,
      hashType: r.hash,
      ...(r.shardSize !== undefined ? { shardSize: r.shardSize } : {}),
      allowSymlinks: options.allowSymlinks === true,
      ignorePaths: walk.ignorePaths,
    },
    resources,
    rootDigest: rootDigestOf(resources),
  };
  const tEnd = performance.now();
  const phases: HashPhases = {
    walk: (tWalk - t0) / 1000,
    plan: (tPlan - tWalk) / 1000,
    hash: (tHashed - tPlan) / 1000,
    firstResult: tFirst === 0 ? 0 : (tFirst - tPlan) / 1000,
    close: (tClosed - tHashed) / 1000,
    reduce: (tEnd - tClosed) / 1000,
  };
  return {
    manifest,
    bytes: plan.totalBytes,
    seconds: (tEnd - t0) / 1000,
    phases,
    backend: gpuMode === 'hybrid' ? 'hybrid' : backend,
    workers,
    backendBytes,
    ...(merkleBytes === undefined ? {} : { merkle: blake3Outboard ? blake3MerkleLeaves(plan, leafOutputs, merkleBytes) : merkle!.result }),
  };
}

/**
 * Which RFC 9162 companion leaves each plan leaf carries (those wholly inside its range: a leaf cut by
 * a shard edge is left to the companion builder), and where the workers' leaf hashes go.
 */
function merklePlan(plan: ChunkPlan, leafBytes: number): { spec(t: number[]): MerkleLeafSpec; store(t: number[], hashes: Uint8Array): void; result: MerkleLeaves } {
  const fileOf = new Array<number>(plan.leaves.length);
  for (const res of plan.resources) for (const li of res.leaves) fileOf[li] = res.file;
  const first = new Array<number>(plan.leaves.length);
  const count = new Array<number>(plan.leaves.length);
  plan.leaves.forEach((l, li) => {
    const size = plan.files[fileOf[li]!]!.size;
    const end = l.offset + l.length;
    const a = Math.ceil(l.offset / leafBytes);
    // leaf i is whole inside [offset, end) when it ends by `end`, or `end` is the file's end
    const b = end === size ? Math.ceil(size / leafBytes) : Math.floor(end / leafBytes);
    first[li] = a;
    count[li] = Math.max(0, b - a);
  });
  const result: MerkleLeaves = {
    leafBytes,
    tree: 'rfc9162-sha256',
    files: plan.files.map((f) => ({ rel: f.rel, size: f.size, entries: new Array<Uint8Array | undefined>(Math.ceil(f.size / leafBytes)).fill(undefined) })),
  };
  return {
    spec: (t) => ({ leafBytes, first: t.map((i) => first[i]!), count: t.map((i) => count[i]!) }),
    store: (t, hashes) => {
      let k = 0;
      for (const li of t) {
        const entries = result.files[fileOf[li]!]!.entries;
        for (let j = 0; j < count[li]!; j++, k++) entries[first[li]! + j] = hashes.subarray(32 * k, 32 * k + 32);
      }
    },
    result,
  };
}

/** BLAKE3 files planned at the leaf size: the subtree CVs are the outboard (a one-leaf file has none). Pure. */
function blake3MerkleLeaves(plan: ChunkPlan, leafOutputs: Uint8Array[], leafBytes: number): MerkleLeaves {
  const files: MerkleLeaves['files'] = plan.files.map((f) => ({ rel: f.rel, size: f.size, entries: [] }));
  for (const res of plan.resources) {
    if (res.leaves.length > 1 || plan.leaves[res.leaves[0]!]?.output === 'cv') files[res.file]!.entries = res.leaves.map((li) => leafOutputs[li]);
  }
  return { leafBytes, tree: 'blake3-outboard', files };
}
