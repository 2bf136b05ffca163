import { describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { walkModel } from '../../src/plan/walk.js';
import { makePlan } from '../../src/plan/plan.js';
import { compareCodePoints, compareResourceNames, parseShardName, rootDigestOf } from '../../src/manifest/oms.js';
import { hashModel } from '../../src/engine/hash-model.js';
import { tempDir } from '../helpers.js';

describe('walk order and ignores', () => {
  it('orders by path components, not by string (the tokenizer trap)', () => {
    const d = tempDir();
    try {
      mkdirSync(join(d.path, 'tokenizer'));
      for (const f of ['tokenizer/vocab.txt', 'tokenizer-extra.txt', 'tokenizer.json', 'Zeta.txt', 'a.bin']) writeFileSync(join(d.path, f), f);
      expect(walkModel(d.path).files.map((f) => f.rel)).toEqual(['Zeta.txt', 'a.bin', 'tokenizer/vocab.txt', 'tokenizer-extra.txt', 'tokenizer.json']);
    } finally {
      d.cleanup();
    }
  });

  it('applies the OMS default git ignores only at the root, and user ignores by component prefix', () => {
    const d = tempDir();
    try {
      for (const p of ['.git', '.github', 'sub', 'skipme', 'skipme2']) mkdirSync(join(d.path, p));
      for (const f of ['.git/HEAD', '.github/ci.yml', '.gitignore', '.gitattributes', 'sub/.gitignore', '.gitmodules', 'skipme/x', 'skipme2/y', 'w.bin']) {
        writeFileSync(join(d.path, f), f);
      }
      const w = walkModel(d.path, { ignorePaths: ['skipme'] });
      expect(w.files.map((f) => f.rel)).toEqual(['.gitmodules', 'skipme2/y', 'sub/.gitignore', 'w.bin']);
      expect(w.ignorePaths).toEqual(['.git', '.gitattributes', '.github', '.gitignore', 'skipme']);
      expect(walkModel(d.path, { ignoreGitPaths: false }).files.length).toBe(9);
    } finally {
      d.cleanup();
    }
  });

  it('keeps Unicode names and compares them by code point', async () => {
    const d = tempDir();
    try {
      const names = ['modèle-ü.bin', '日本語.safetensors', '\u{1F600}.bin', '\uFF5E.bin', 'plain.bin'];
      for (const n of names) writeFileSync(join(d.path, n), n);
      const rels = walkModel(d.path).files.map((f) => f.rel);
      expect(rels).toEqual(['modèle-ü.bin', 'plain.bin', '日本語.safetensors', '\uFF5E.bin', '\u{1F600}.bin']);
      const res = await hashModel(d.path, { backend: 'js', workers: 1 });
      expect(res.manifest.resources.map((r) => r.name)).toEqual(rels);
    } finally {
      d.cleanup();
    }
  });

  it('refuses names that are not valid UTF-8 (OMS names are UTF-8)', () => {
    const d = tempDir();
    try {
      writeFileSync(Buffer.concat([Buffer.from(join(d.path, 'bad')), Buffer.from([0xff]), Buffer.from('.bin')]), 'x');
      expect(() => walkModel(d.path)).toThrow(expect.objectContaining({ code: 'NAME_NOT_UTF8' }));
    } finally {
      d.cleanup();
    }
  });

  it('code-point order differs from UTF-16 order for astral characters', () => {
    expect(compareCodePoints('\u{1F600}', '\uFF5E')).toBe(1);
    expect('\u{1F600}' < '\uFF5E').toBe(true); // what a naive JS sort would do
  });
});

describe('plan', () => {
  const files = [
    { rel: 'a', abs: '/m/a', size: 10 },
    { rel: 'empty', abs: '/m/empty', size: 0 },
    { rel: 'big', abs: '/m/big', size: 2 ** 33 + 5 },
  ];

  it('is JSON-serialisable data with offsets beyond 4 GiB', () => {
    const p = makePlan(files, { hash: 'sha256', method: 'shards', shardSize: 2 ** 32 });
    expect(JSON.parse(JSON.stringify(p))).toEqual(p);
    expect(p.resources.map((r) => r.name)).toEqual(['a:0:10', 'big:0:4294967296', 'big:4294967296:8589934592', 'big:8589934592:8589934597']);
    expect(p.resources.every((r) => r.algorithm === 'sha256-sharded-4294967296')).toBe(true);
    expect(p.totalBytes).toBe(10 + 2 ** 33 + 5);
  });

  it('omits empty files in shards mode and keeps them in files mode', () => {
    expect(makePlan(files, { hash: 'sha256', method: 'files' }).resources.map((r) => r.name)).toEqual(['a', 'empty', 'big']);
  });

  it('splits big BLAKE3 files into aligned power-of-two subtrees', () => {
    const p = makePlan([{ rel: 'w', abs: '/w', size: 5 * 8 * 2 ** 20 + 1 }], { hash: 'blake3', method: 'files' });
    expect(p.resources[0]!.leaves.length).toBe(6);
    expect(p.leaves.every((l) => l.output === 'cv' && l.offset % (8 * 2 ** 20) === 0)).toBe(true);
  });

  it('groups leaves into tasks of several MiB, keeping multi-buffer lanes together', () => {
    const many = Array.from({ length: 100 }, (_, i) => ({ rel: `f${i}`, abs: `/f${i}`, size: 2 ** 20 }));
    const p = makePlan(many, { hash: 'sha256', method: 'files', taskTargetBytes: 16 * 2 ** 20 });
    expect(p.tasks.length).toBe(7);
    const big = Array.from({ length: 4 }, (_, i) => ({ rel: `g${i}`, abs: `/g${i}`, size: 2 ** 30 }));
    expect(makePlan(big, { hash: 'sha256', method: 'files', minLeavesPerTask: 2 }).tasks).toEqual([[0, 1], [2, 3]]);
  });

  it('rejects sharded BLAKE3, bad shard sizes and colons in shard names', () => {
    expect(() => makePlan(files, { hash: 'blake3', method: 'shards', shardSize: 8 })).toThrow(expect.objectContaining({ code: 'BLAKE3_NOT_SHARDED' }));
    expect(() => makePlan(files, { hash: 'sha256', method: 'shards', shardSize: 0 })).toThrow(expect.objectContaining({ code: 'BAD_SHARD_SIZE' }));
    expect(() => makePlan([{ rel: 'a:b', abs: '/a', size: 1 }], { hash: 'sha256', method: 'shards', shardSize: 8 })).toThrow(expect.objectContaining({ code: 'NAME_HAS_COLON' }));
  });
});

describe('OMS manifest rules', () => {
  it('orders shards numerically and parses names from the right', () => {
    const names = ['w:10000000:15000000', 'w:0:5000000', 'w:5000000:10000000'];
    expect([...names].sort((a, b) => compareResourceNames(a, b, true))).toEqual(['w:0:5000000', 'w:5000000:10000000', 'w:10000000:15000000']);
    expect(parseShardName('dir/a:b:0:8')).toEqual({ path: 'dir/a:b', start: 0, end: 8 });
    expect(parseShardName('nocolon')).toBeUndefined();
  });

  it('root digest is SHA-256 of the concatenated raw digests', () => {
    expect(rootDigestOf([])).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });
});
