/**
 * hashModel: walk → plan → map over the pool (or the GPU) → pure reduce into the OMS manifest.
 */
import { statSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { selectBackend } from '../backends/dispatch.js';
import { blake3MergeCvs } from '../backends/js/blake3.js';
import { HASH_ALGORITHMS, type BackendName, type HashAlgorithm, type HashBackend } from '../backends/types.js';
import { InputError, ModelsealError } from '../errors.js';
import { rootDigestOf } from '../manifest/oms.js';
import type { Manifest, Resource, SerializationMethod } from '../manifest/types.js';
import { makePlan, type ChunkPlan } from '../plan/plan.js';
import { walkModel, type WalkResult } from '../plan/walk.js';
import { HashPool, defaultWorkers } from './pool.js';
import { DEFAULT_SHARD_BYTES, type HashModelOptions, type HashResult, type ProgressEvent } from './types.js';

const WEBGPU_MODULE = '../backends/webgpu/index.js';

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

/** The serialization record and resources, in the reference order, from leaf outputs. Pure. */
export function reducePlan(plan: ChunkPlan, leafOutputs: Uint8Array[]): Resource[] {
  return plan.resources.map((r) => {
    const outs = r.leaves.map((i) => leafOutputs[i]!);
    const digest = outs.length === 1 ? outs[0]! : blake3MergeCvs(outs);
    return { name: r.name, algorithm: r.algorithm, digest: Buffer.from(digest).toString('hex') };
  });
}

function checkUnchanged(walk: WalkResult, plan: ChunkPlan): void {
  for (const f of walk.files) {
    if (!plan.files.some((p) => p.abs === f.abs)) continue;
    let st;
    try {
      st = statSync(f.abs);
    } catch (e) {
      throw new ModelsealError('FILE_CHANGED', `${f.rel} disappeared while the model was being hashed; hash again once the model is stable.`, { cause: e });
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
  const r = resolveOptions(options);
  const walkOpts: Parameters<typeof walkModel>[1] = { ignoreGitPaths: options.ignoreGitPaths !== false, allowSymlinks: options.allowSymlinks === true };
  if (options.ignorePaths) walkOpts.ignorePaths = options.ignorePaths;
  const walk = walkModel(modelPath, walkOpts);
  const files = options.only ? walk.files.filter((f) => options.only!(f.rel)) : walk.files;
  if (options.only && files.length === 0 && walk.files.length > 0) {
    throw new InputError('SUBSET_EMPTY', 'no file of the model matches the requested subset.');
  }

  const backend = await selectBackend(r.hash, options.backend, options.disableBackends);
  const plan = makePlan(
    files.map((f) => ({ rel: f.rel, abs: f.abs, size: f.size })),
    {
      hash: r.hash,
      method: r.method,
      ...(r.shardSize !== undefined ? { shardSize: r.shardSize } : {}),
      // multi-buffer native SHA-256 interleaves independent leaves: give each task a couple
      minLeavesPerTask: backend === 'native' && r.hash === 'sha256' ? 2 : 1,
    },
  );

  if (plan.resources.length === 0 && !options.allowEmpty) {
    throw new InputError('MODEL_EMPTY', `${modelPath} contains no data to hash (no files, or only empty files in shards mode, after ignores); check the path.`);
  }

  const leafOutputs: Uint8Array[] = new Array(plan.leaves.length);
  const progress: ProgressEvent = { phase: 'hash', bytesDone: 0, bytesTotal: plan.totalBytes, resourcesDone: 0, resourcesTotal: plan.resources.length };
  const report = options.onProgress;
  report?.({ ...progress });
  let workers = 1;

  const runTasks = async (hashTask: (leafIdx: number[]) => Promise<Uint8Array[]>, concurrency: number) => {
    let next = 0;
    const lane = async () => {
      while (next < plan.tasks.length) {
        options.signal?.throwIfAborted();
        const t = plan.tasks[next++]!;
        const outs = await hashTask(t);
        t.forEach((leaf, k) => (leafOutputs[leaf] = outs[k]!));
        for (const leaf of t) progress.bytesDone += plan.leaves[leaf]!.length;
        report?.({ ...progress });
      }
    };
    await Promise.all(Array.from({ length: concurrency }, lane));
  };

  if (backend === 'webgpu') {
    const m = (await import(WEBGPU_MODULE)) as { createWebGpuBackend: () => Promise<HashBackend> };
    const gpu = await m.createWebGpuBackend();
    try {
      // two batches in flight so the GPU backend can overlap reading, upload and hashing
      await runTasks((t) => gpu.hashLeaves({ algorithm: r.hash, leaves: t.map((i) => plan.leaves[i]!) }, options.signal), 2);
    } finally {
      await gpu.close();
    }
  } else if (plan.tasks.length > 0) {
    workers = Math.min(r.workers, plan.tasks.length);
    const pool = new HashPool(workers);
    try {
      // one task in flight per worker plus one queued
      await runTasks(
        (t) =>
          pool.run(
            { backend, ...(options.kernels ? { kernels: options.kernels } : {}), algorithm: r.hash, leaves: t.map((i) => plan.leaves[i]!) },
            options.signal,
          ),
        workers + 1,
      );
    } finally {
      await pool.close();
    }
  }

  checkUnchanged(walk, plan);
  const resources = reducePlan(plan, leafOutputs);
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
  return { manifest, bytes: plan.totalBytes, seconds: (performance.now() - t0) / 1000, backend: backend as BackendName, workers };
}
