/**
 * The chunk plan: pure, JSON-serialisable data. Resources (files or shards) are split into leaves
 * (units a backend hashes; BLAKE3 files become aligned subtrees), and leaves are grouped into tasks
 * of several MiB (a piscina round trip measured 85-105 µs per task on a 2-vCPU host: tasks of one
 * 64 KiB leaf lost 65-80 % of throughput, 4-16 MiB tasks 3-9 %). No I/O here, and
 * nothing here knows which backend will run the plan.
 */
import { InputError } from '../errors.js';
import { BLAKE3_CHUNK_BYTES, BLAKE3_SUBTREE_BYTES, checkShardBytes, type HashAlgorithm, type Leaf, type SerializationMethod } from '../hash/vocabulary.js';
import { resourceAlgorithm, shardName } from '../manifest/oms.js';
/** Target bytes per pool task. */
const TASK_TARGET_BYTES = 32 * 1024 * 1024;
/** At most this many leaves per task (multi-buffer kernels interleave a few of them). */
const TASK_MAX_LEAVES = 256;

/** A file to plan: its path relative to the model root (resource names), its absolute path (reads) and size. */
export interface PlanFile {
  rel: string;
  abs: string;
  size: number;
  /** Identity recorded by the walk, copied into every leaf (readers compare it with what they open). */
  dev?: number;
  ino?: number;
}

/** One OMS resource of a plan (a file, or a shard of one) and the leaves whose outputs make its digest. */
export interface PlannedResource {
  name: string;
  algorithm: string;
  /** Index into plan.files. */
  file: number;
  start: number;
  end: number;
  /** Indices into plan.leaves: one 'digest' leaf, or BLAKE3 'cv' subtrees merged in tree order. */
  leaves: number[];
}

/** The whole plan: files, resources, leaves and the leaves grouped into pool tasks. */
export interface ChunkPlan {
  hash: HashAlgorithm;
  method: SerializationMethod;
  shardSize?: number;
  files: PlanFile[];
  resources: PlannedResource[];
  leaves: Leaf[];
  /** Leaf indices per task, in plan order. */
  tasks: number[][];
  totalBytes: number;
}

/** What shapes a plan (every field that changes a digest is recorded in the manifest's serialization). */
export interface PlanOptions {
  hash: HashAlgorithm;
  method: SerializationMethod;
  shardSize?: number;
  /** Override the BLAKE3 subtree size (tests); a power of two >= 1024. */
  blake3SubtreeBytes?: number;
  taskTargetBytes?: number;
  /**
   * Keep at least this many leaves in a task even past the byte target, so that multi-buffer
   * kernels have independent streams to interleave (e.g. several whole files). Default 1.
   */
  minLeavesPerTask?: number;
}

function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && 2 ** Math.round(Math.log2(n)) === n;
}

/**
 * Checks the options that shape a plan: the one check of them, made by `makePlan` (which `hashModel`
 * calls after its walk, so a walk error still comes first); nothing below re-checks them.
 * @throws InputError `BAD_SHARD_SIZE`, `BLAKE3_NOT_SHARDED`; RangeError for a bad `blake3SubtreeBytes`.
 */
function checkPlanOptions(options: Pick<PlanOptions, 'hash' | 'method' | 'shardSize' | 'blake3SubtreeBytes'>): void {
  if (options.method === 'shards') {
    checkShardBytes(options.shardSize);
    if (options.hash === 'blake3') {
      throw new InputError('BLAKE3_NOT_SHARDED', 'BLAKE3 is never sharded in OMS (it is a tree hash already): use --method files with --hash blake3.');
    }
  }
  const subtree = options.blake3SubtreeBytes;
  if (subtree !== undefined && (!isPowerOfTwo(subtree) || subtree < BLAKE3_CHUNK_BYTES)) throw new RangeError('blake3SubtreeBytes must be a power of two >= 1024');
}

/**
 * Splits files into resources, leaves and tasks.
 * @throws InputError for options {@link checkPlanOptions} refuses, and `NAME_HAS_COLON` for a file
 * name that a shard resource name cannot carry.
 */
export function makePlan(files: PlanFile[], options: PlanOptions): ChunkPlan {
  checkPlanOptions(options);
  const { hash, method } = options;
  const subtree = options.blake3SubtreeBytes ?? BLAKE3_SUBTREE_BYTES;

  const resources: PlannedResource[] = [];
  const leaves: Leaf[] = [];
  let totalBytes = 0;
  files.forEach((f, fi) => {
    const id = f.dev !== undefined && f.ino !== undefined ? { dev: f.dev, ino: f.ino } : {};
    if (method === 'shards') {
      const s = options.shardSize!;
      if (f.rel.includes(':')) {
        throw new InputError('NAME_HAS_COLON', `${f.rel} contains ':' which shard resource names (path:start:end) cannot carry reliably; rename it or use --method files.`);
      }
      for (let start = 0; start < f.size; start += s) {
        const end = Math.min(f.size, start + s);
        leaves.push({ path: f.abs, offset: start, length: end - start, output: 'digest', ...id });
        resources.push({ name: shardName(f.rel, start, end), algorithm: resourceAlgorithm(hash, s), file: fi, start, end, leaves: [leaves.length - 1] });
      }
    } else {
      const r: PlannedResource = { name: f.rel, algorithm: resourceAlgorithm(hash), file: fi, start: 0, end: f.size, leaves: [] };
      if (hash === 'blake3' && f.size > subtree) {
        for (let o = 0; o < f.size; o += subtree) {
          leaves.push({ path: f.abs, offset: o, length: Math.min(subtree, f.size - o), output: 'cv', ...id });
          r.leaves.push(leaves.length - 1);
        }
      } else {
        leaves.push({ path: f.abs, offset: 0, length: f.size, output: 'digest', ...id });
        r.leaves.push(leaves.length - 1);
      }
      resources.push(r);
    }
    totalBytes += f.size;
  });

  // Tasks: consecutive leaves up to the byte target; a leaf bigger than the target is a task alone.
  const target = options.taskTargetBytes ?? TASK_TARGET_BYTES;
  const minLeaves = Math.max(1, options.minLeavesPerTask ?? 1);
  const tasks: number[][] = [];
  let cur: number[] = [];
  let curBytes = 0;
  leaves.forEach((l, i) => {
    if ((cur.length >= minLeaves && curBytes + l.length > target) || cur.length >= TASK_MAX_LEAVES) {
      tasks.push(cur);
      cur = [];
      curBytes = 0;
    }
    cur.push(i);
    curBytes += l.length;
  });
  if (cur.length > 0) tasks.push(cur);

  const plan: ChunkPlan = { hash, method, files, resources, leaves, tasks, totalBytes };
  if (method === 'shards') plan.shardSize = options.shardSize!;
  return plan;
}
