/**
 * Kernel microbenchmarks with tinybench: each CPU backend's kernels by name (native kernels forced one
 * at a time), in memory (no I/O, one thread), at each size. Every kernel's digest is checked against
 * node:crypto / the BLAKE3 reference before it is timed: a wrong kernel is a failure, not a figure.
 */
import { createHash } from 'node:crypto';
import { blake3Digest } from '../backends/js/blake3.js';
import { loadCpuBackend } from '../backends/registry.js';
import type { BackendName, HashAlgorithm, ProbeResult } from '../backends/types.js';
import type { BenchFailure, MicroResult } from './types.js';

function reference(algorithm: HashAlgorithm, data: Uint8Array): string {
  if (algorithm === 'blake3') return Buffer.from(blake3Digest(data)).toString('hex');
  return createHash(algorithm === 'sha256' ? 'sha256' : 'blake2b512').update(data).digest('hex');
}

/** The kernels to time: native ones by name (`sha256=shani-x2`), one default per other backend. */
export function microTargets(probes: readonly ProbeResult[], algorithms: readonly HashAlgorithm[]): Array<{ backend: BackendName; algorithm: HashAlgorithm; kernel: string }> {
  const out: Array<{ backend: BackendName; algorithm: HashAlgorithm; kernel: string }> = [];
  for (const p of probes) {
    if (!p.ok || p.name === 'webgpu') continue;
    for (const algorithm of algorithms) {
      if (!p.capabilities.algorithms.includes(algorithm)) continue;
      const named = (p.capabilities.kernels ?? []).filter((k) => k.startsWith(`${algorithm}=`)).map((k) => k.slice(algorithm.length + 1));
      if (named.length) for (const k of named) out.push({ backend: p.name, algorithm, kernel: k });
      else out.push({ backend: p.name, algorithm, kernel: 'default' });
    }
  }
  return out;
}

/** Runs the microbenchmarks; slow portable kernels are skipped above `slowMaxBytes` (recorded as notes by the caller). */
export async function runMicro(
  probes: readonly ProbeResult[],
  algorithms: readonly HashAlgorithm[],
  sizes: readonly number[],
  opts: { timeMs: number; signal?: AbortSignal; onTask?: (name: string) => void; slowMaxBytes: number },
): Promise<{ results: MicroResult[]; failures: BenchFailure[] }> {
  const results: MicroResult[] = [];
  const failures: BenchFailure[] = [];
  const data = new Map<number, Uint8Array>();
  for (const size of sizes) {
    const d = new Uint8Array(size);
    for (let i = 0; i < size; i++) d[i] = i % 251;
    data.set(size, d);
  }
  // loaded here, not at module load: importing the library should not pay for the microbenchmark harness
  const { Bench } = await import('tinybench');
  const refs = new Map<string, string>();
  for (const t of microTargets(probes, algorithms)) {
    for (const size of sizes) {
      if (opts.signal?.aborted) return { results, failures };
      if (t.backend === 'js' && size > opts.slowMaxBytes) continue;
      const name = `${t.backend} ${t.algorithm} ${t.kernel} ${size} B`;
      opts.onTask?.(name);
      const mod = await loadCpuBackend(t.backend);
      const hasher = mod.createLeafHasher(t.kernel === 'default' ? {} : { kernels: { [t.algorithm]: t.kernel } });
      const bytes = data.get(size)!;
      const key = `${t.algorithm}/${size}`;
      if (!refs.has(key)) refs.set(key, reference(t.algorithm, bytes));
      const got = Buffer.from(hasher.hashBytes(t.algorithm, bytes, 'digest')).toString('hex');
      if (got !== refs.get(key)) {
        failures.push({ kind: 'digest', what: `micro ${name}`, message: `digest ${got} differs from the reference ${refs.get(key)}` });
        results.push({ backend: t.backend, algorithm: t.algorithm, kernel: t.kernel, bytes: size, bytesPerSecond: null, samples: 0, rme: null });
        continue;
      }
      const bench = new Bench({ time: opts.timeMs, iterations: 3, warmupIterations: 1, warmupTime: Math.min(50, opts.timeMs), ...(opts.signal ? { signal: opts.signal } : {}) });
      bench.add(name, () => {
        hasher.hashBytes(t.algorithm, bytes, 'digest');
      });
      await bench.run();
      const r = bench.tasks[0]?.result;
      const p50 = r && !r.error ? r.latency.p50 : undefined;
      results.push({
        backend: t.backend,
        algorithm: t.algorithm,
        kernel: t.kernel,
        bytes: size,
        bytesPerSecond: p50 && p50 > 0 ? size / (p50 / 1000) : null,
        samples: r?.latency.samples?.length ?? 0,
        rme: r && Number.isFinite(r.latency.rme) ? Math.round(r.latency.rme * 100) / 100 : null,
      });
    }
  }
  return { results, failures };
}
