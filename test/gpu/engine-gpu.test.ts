/**
 * The engine on the GPU: `hashModel({backend:'webgpu'})`, hybrid CPU+GPU work stealing, and
 * `modelseal hash --backend webgpu` end to end — each equal to the portable reference.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hashModel } from '../../src/engine/hash-model.js';
import { REPO_ROOT, fill251, tempDir } from '../helpers.js';
import { skipReason } from './gpu-env.js';

const MiB = 2 ** 20;
let d: { path: string; cleanup: () => void };

beforeAll(() => {
  d = tempDir();
  mkdirSync(join(d.path, 'tokenizer'));
  writeFileSync(join(d.path, 'config.json'), '{"a":1}');
  writeFileSync(join(d.path, 'tokenizer', 'vocab.txt'), 'a\nb\n');
  writeFileSync(join(d.path, 'empty.bin'), '');
  writeFileSync(join(d.path, 'w1.bin'), fill251(20 * MiB + 777, 1)); // > 2 BLAKE3 subtrees of 8 MiB
  writeFileSync(join(d.path, 'w2.bin'), fill251(3 * MiB + 5, 2));
});
afterAll(() => d?.cleanup());

describe.skipIf(skipReason !== null)('engine on WebGPU', () => {
  for (const [hash, method, shardSize] of [
    ['sha256', 'shards', MiB],
    ['sha256', 'files', undefined],
    ['blake3', 'files', undefined],
  ] as const) {
    it(`${hash}/${method}: webgpu alone and hybrid equal the reference`, async () => {
      const base = { hash, method, ...(shardSize ? { shardSize } : {}) } as const;
      const ref = await hashModel(d.path, { ...base, backend: 'js', workers: 2 });
      const gpu = await hashModel(d.path, { ...base, backend: 'webgpu' });
      expect(gpu.backend).toBe('webgpu');
      expect(gpu.manifest).toEqual(ref.manifest);
      const hybrid = await hashModel(d.path, { ...base, hybrid: true, workers: 1 });
      expect(hybrid.backend).toBe('hybrid');
      expect(hybrid.manifest).toEqual(ref.manifest);
      expect(Object.values(hybrid.backendBytes).reduce((a, b) => a + (b ?? 0), 0)).toBe(ref.bytes);
    });
  }

  it('hybrid: the CPU lanes start at once and the GPU takes work when it is ready; one manifest', async () => {
    // A slow CPU backend (the JS BLAKE3 reference, tens of MB/s) and small tasks: the CPU lane takes
    // the first task before the GPU exists, and the GPU, once its device and pipelines are up,
    // takes what is left. Both must have hashed something, and the result equals the reference.
    const big = tempDir();
    try {
      writeFileSync(join(big.path, 'w.bin'), fill251(96 * MiB + 3, 5));
      const base = { hash: 'blake3', method: 'files', taskTargetBytes: 4 * MiB } as const;
      const ref = await hashModel(big.path, { ...base, backend: 'wasm', workers: 2 });
      const t0 = performance.now();
      const hybrid = await hashModel(big.path, { ...base, backend: 'js', hybrid: true, workers: 1 });
      const secs = (performance.now() - t0) / 1000;
      expect(hybrid.backend).toBe('hybrid');
      expect(hybrid.manifest).toEqual(ref.manifest);
      expect(hybrid.backendBytes.js, 'the CPU lane hashed nothing').toBeGreaterThan(0);
      expect(hybrid.backendBytes.webgpu, `the GPU joined no work in ${secs.toFixed(1)} s`).toBeGreaterThan(0);
      expect((hybrid.backendBytes.js ?? 0) + (hybrid.backendBytes.webgpu ?? 0)).toBe(ref.bytes);
    } finally {
      big.cleanup();
    }
  });

  it('modelseal hash --backend webgpu end to end', () => {
    const run = (backend: string) => {
      const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'modelseal.js'), 'hash', d.path, '--hash', 'blake3', '--backend', backend, '--json'], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      return JSON.parse(r.stdout.trim().split('\n').pop()!);
    };
    const gpu = run('webgpu');
    expect(gpu.backend).toBe('webgpu');
    const ref = run('js');
    expect(gpu.rootDigest).toBe(ref.rootDigest);
    // --hybrid: the CPU backend chosen by auto plus the GPU; off without the flag
    const h = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'modelseal.js'), 'hash', d.path, '--hash', 'blake3', '--hybrid', '--json'], { encoding: 'utf8' });
    expect(h.status, h.stderr).toBe(0);
    const hybrid = JSON.parse(h.stdout.trim().split('\n').pop()!);
    expect(hybrid.backend).toBe('hybrid');
    expect(hybrid.rootDigest).toBe(ref.rootDigest);
    expect(run('auto').backend).not.toBe('hybrid');
  });
});
