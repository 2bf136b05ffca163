/**
 * The backends the shared suite runs against, each behind one async leaf interface. A backend that
 * is not available here is skipped with its probe reason, except where CI requires it
 * (MODELSEAL_REQUIRE_NATIVE=1, MODELSEAL_REQUIRE_WASM=1, MODELSEAL_REQUIRE_GPU=1): then the suite fails.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { probeBackend } from '../../src/backends/dispatch.js';
import { loadCpuBackend } from '../../src/backends/registry.js';
import { loadNative } from '../../src/native/addon.js';
import type { BackendName, HashAlgorithm, HashBackend, Leaf } from '../../src/backends/types.js';

export interface Target {
  name: BackendName | (typeof THREADED_TARGETS)[number];
  algorithms: HashAlgorithm[];
  hashLeaves(algorithm: HashAlgorithm, leaves: Leaf[]): Promise<Uint8Array[]>;
  close(): Promise<void>;
}

const REQUIRED: Partial<Record<BackendName, string>> = {
  native: 'MODELSEAL_REQUIRE_NATIVE',
  wasm: 'MODELSEAL_REQUIRE_WASM',
  webgpu: 'MODELSEAL_REQUIRE_GPU',
};

export const ALL_TARGETS: BackendName[] = ['js', 'node-crypto', 'native', 'wasm', 'webgpu'];

/**
 * Targets that are a backend's other path to the same outputs: `native-threads` is the native
 * backend's hashLeavesThreaded (BLAKE3 leaves on 3 native threads, files with several leaves mapped
 * once and shared; SHA-256 leaves grouped natively, pairs for the x2 kernel, taken by 3 native
 * threads), which the engine uses instead of the worker pool. `native-merkle-threads` is
 * hashLeavesMerkleThreaded (SHA-256 ranges with the RFC 9162 leaves of 1 KiB inside them, on 3
 * native threads: `hashModel(…, { merkleLeafBytes })`'s path): its digests go through the suite, and
 * each call also checks its leaf hashes against the pool's call (hashLeavesMerkle) and node:crypto.
 * `native-threads` leaves the addon's choice for a shared file (mapped where its page cache maps
 * cheaply, by pread blocks where not: blake3IoOptions sharedFiles 'auto'); `native-threads-read`
 * forces the pread blocks ('read'), so both read paths of shared files go through the suite.
 */
export const THREADED_TARGETS = ['native-threads', 'native-threads-read', 'native-merkle-threads'] as const;

const MERKLE_LEAF = 1024;

/** RFC 9162 leaf hash SHA-256(0x00 ‖ bytes) of [offset, offset + length) of `path`, read with node:fs. */
function leafHashByRead(path: string, offset: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  const fd = openSync(path, 'r');
  try {
    let done = 0;
    while (done < length) {
      const n = readSync(fd, buf, done, length - done, offset + done);
      if (n === 0) throw new Error(`${path} ends before ${offset + length}`);
      done += n;
    }
  } finally {
    closeSync(fd);
  }
  return createHash('sha256').update(Buffer.from([0])).update(buf).digest();
}

async function openMerkleThreadedTarget(name: 'native-merkle-threads'): Promise<Target | { skip: string }> {
  const opened = await openTarget('native');
  if ('skip' in opened) return opened;
  const h = (await loadCpuBackend('native')).createLeafHasher();
  if (!h.hashLeavesMerkleThreaded || !h.hashLeavesMerkle) {
    if (process.env.MODELSEAL_REQUIRE_NATIVE === '1') throw new Error('MODELSEAL_REQUIRE_NATIVE=1 but this addon build has no sha256LeavesMerkleAsync');
    return { skip: 'this addon build has no threaded SHA-256 Merkle leaves (sha256LeavesMerkleAsync): run `npm run build:native`' };
  }
  return {
    name,
    algorithms: ['sha256'],
    hashLeaves: async (algorithm, leaves) => {
      // the 1 KiB leaves wholly inside each range
      const first = leaves.map((l) => Math.ceil(l.offset / MERKLE_LEAF));
      const count = leaves.map((l, k) => Math.max(0, Math.floor((l.offset + l.length) / MERKLE_LEAF) - first[k]!));
      const spec = { leafBytes: MERKLE_LEAF, first, count };
      const got = await h.hashLeavesMerkleThreaded!({ algorithm, leaves }, spec, 3);
      const pool = h.hashLeavesMerkle!({ algorithm, leaves }, spec);
      if (Buffer.compare(got.leafHashes, pool.leafHashes) !== 0) throw new Error('threaded Merkle leaf hashes differ from the pool call');
      let k = 0;
      leaves.forEach((l, r) => {
        for (let i = first[r]!; i < first[r]! + count[r]!; i++, k++) {
          const want = leafHashByRead(l.path, i * MERKLE_LEAF, MERKLE_LEAF);
          if (!want.equals(got.leafHashes.subarray(32 * k, 32 * k + 32))) throw new Error(`Merkle leaf ${i} of range ${r} (${l.path}) differs from node:crypto`);
        }
      });
      return got.digests;
    },
    close: async () => {},
  };
}

export async function openThreadedTarget(name: (typeof THREADED_TARGETS)[number]): Promise<Target | { skip: string }> {
  if (name === 'native-merkle-threads') return openMerkleThreadedTarget(name);
  const opened = await openTarget('native');
  if ('skip' in opened) return opened;
  const h = (await loadCpuBackend('native')).createLeafHasher();
  const algorithms = opened.algorithms.filter((a) => h.threadedAlgorithm?.(a) === true);
  if (!h.hashLeavesThreaded || algorithms.length === 0) {
    if (process.env.MODELSEAL_REQUIRE_NATIVE === '1') throw new Error('MODELSEAL_REQUIRE_NATIVE=1 but this addon build has no threaded BLAKE3 (blake3LeavesAsync)');
    return { skip: 'this addon build has no threaded BLAKE3 (blake3LeavesAsync): run `npm run build:native`' };
  }
  if (name === 'native-threads') return { name, algorithms, hashLeaves: (algorithm, leaves) => h.hashLeavesThreaded!({ algorithm, leaves }, 3), close: async () => {} };
  const load = loadNative();
  if (!load.ok) return { skip: load.reason };
  const io = (load.addon as unknown as { blake3IoOptions(m?: string, b?: number, shared?: string): { sharedFiles?: string } }).blake3IoOptions;
  if (io().sharedFiles === undefined) return { skip: 'this addon build has no sharedFiles option (run `npm run build:native`)' };
  return {
    name,
    // sharedFiles is BLAKE3's (SHA-256's threads read their own way): only BLAKE3 runs twice
    algorithms: algorithms.filter((a) => a === 'blake3'),
    // the worker copies the calling thread's read options when the call is made, before its first await
    hashLeaves: async (algorithm, leaves) => {
      io(undefined, undefined, 'read');
      try {
        return await h.hashLeavesThreaded!({ algorithm, leaves }, 3);
      } finally {
        io(undefined, undefined, 'auto');
      }
    },
    close: async () => {},
  };
}

export async function openTarget(name: BackendName): Promise<Target | { skip: string }> {
  const p = await probeBackend(name, new Set());
  if (!p.ok) {
    const env = REQUIRED[name];
    if (env && process.env[env] === '1') throw new Error(`${name} backend required by ${env}=1 but unavailable: ${p.reason}`);
    return { skip: p.reason };
  }
  if (name === 'webgpu') {
    const m = (await import('../../src/backends/webgpu/index.js' as string)) as { createWebGpuBackend: () => Promise<HashBackend> };
    const gpu = await m.createWebGpuBackend();
    return {
      name,
      algorithms: p.capabilities.algorithms,
      hashLeaves: (algorithm, leaves) => gpu.hashLeaves({ algorithm, leaves }),
      close: () => gpu.close(),
    };
  }
  const h = (await loadCpuBackend(name)).createLeafHasher();
  return {
    name,
    algorithms: p.capabilities.algorithms,
    hashLeaves: async (algorithm, leaves) => h.hashLeaves({ algorithm, leaves }),
    close: async () => {},
  };
}
