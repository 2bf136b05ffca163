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

  it('modelseal hash --backend webgpu end to end', () => {
    const run = (backend: string) => {
      const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'modelseal.js'), 'hash', d.path, '--hash', 'blake3', '--backend', backend, '--json'], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      return JSON.parse(r.stdout.trim().split('\n').pop()!);
    };
    const gpu = run('webgpu');
    expect(gpu.backend).toBe('webgpu');
    expect(gpu.rootDigest).toBe(run('js').rootDigest);
  });
});
