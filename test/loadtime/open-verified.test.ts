/**
 * Verified reads (openVerified) over generated safetensors and GGUF models signed with --merkle:
 * tampering with one tensor fails exactly the reads that touch its leaves; header tampering is
 * refused before any tensor; streams cut at every leaf boundary ±1 return the file's bytes.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { ModelsealError, openVerified, signModel, verifyModel, verifyTensors, type VerifiedModel } from '../../src/index.js';
import { f32, ggufBytes, keyedTempDir, safetensorsBytes, writeKeys } from './fixtures.js';

const LEAF = 1024;
const { t, keys } = keyedTempDir();

const ST_TENSORS = [f32('embed', 300), f32('layer.0.w', 1000), f32('layer.1.w', 2000), f32('head', 17), f32('tail', 700)];
const GGUF_TENSORS = [
  { name: 'token_embd.weight', type: 'F32' as const, dims: [64, 10] },
  { name: 'blk.0.attn_q.weight', type: 'Q8_0' as const, dims: [64, 8] },
  { name: 'blk.0.ffn.weight', type: 'F32' as const, dims: [32, 33] },
];

async function signed(name: string, hash: 'sha256' | 'blake3' = 'sha256', merkle = true): Promise<{ dir: string; sig: string }> {
  const dir = join(t.path, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'model.safetensors'), safetensorsBytes(ST_TENSORS, { format: 'pt' }));
  writeFileSync(join(dir, 'model.gguf'), ggufBytes(GGUF_TENSORS));
  writeFileSync(join(dir, 'config.json'), '{"a": 1}');
  const sig = join(t.path, `${name}.sig`);
  await signModel(dir, { privateKey: keys.priv, output: sig, hash, ...(merkle ? { merkle: { leafSize: LEAF } } : {}) });
  return { dir, sig };
}

function flip(path: string, offset: number): void {
  const b = readFileSync(path);
  b[offset] ^= 0x40;
  writeFileSync(path, b);
}

async function open(m: { dir: string; sig: string }, extra: Record<string, unknown> = {}): Promise<VerifiedModel> {
  return openVerified(m.dir, { signature: m.sig, publicKey: keys.pub, ...extra });
}

async function rejection(p: Promise<unknown>): Promise<ModelsealError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ModelsealError);
    return e as ModelsealError;
  }
  throw new Error('expected a rejection');
}

describe.each(['sha256', 'blake3'] as const)('openVerified with a %s companion', (hash) => {
  it('lists files and tensors and returns each tensor as the file holds it', async () => {
    const m = await signed(`ok-${hash}`, hash);
    const v = await open(m);
    try {
      expect(v.granularity).toBe('leaf');
      expect(v.files().map((f) => f.path).sort()).toEqual(['config.json', 'model.gguf', 'model.safetensors']);
      for (const file of ['model.safetensors', 'model.gguf']) {
        const bytes = readFileSync(join(m.dir, file));
        const ts = await v.tensors(file);
        expect(ts.length).toBe(file.endsWith('gguf') ? GGUF_TENSORS.length : ST_TENSORS.length);
        for (const x of ts) expect((await v.readTensor(file, x.name)).equals(bytes.subarray(x.start, x.end))).toBe(true);
      }
      expect(v.stats.unitsFailed).toBe(0);
    } finally {
      await v.close();
    }
  });

  it('one flipped byte fails exactly the tensors sharing its leaf; the others still read', async () => {
    const m = await signed(`flip-${hash}`, hash);
    const file = join(m.dir, 'model.safetensors');
    const pre = await open(m);
    const ts = await pre.tensors('model.safetensors');
    await pre.close();
    const target = ts.find((x) => x.name === 'layer.1.w')!;
    const at = target.start + 1500;
    flip(file, at);
    const badLeaf = Math.floor(at / LEAF);
    const v = await open(m);
    try {
      for (const x of await v.tensors('model.safetensors')) {
        const touches = Math.floor(x.start / LEAF) <= badLeaf && Math.floor((x.end - 1) / LEAF) >= badLeaf;
        if (touches) {
          const e = await rejection(v.readTensor('model.safetensors', x.name));
          expect(e.code).toBe('RANGE_MISMATCH');
          expect(e.details).toMatchObject({ file: 'model.safetensors', start: badLeaf * LEAF, end: (badLeaf + 1) * LEAF });
          expect((e.details as { tensors: string[] }).tensors).toContain('layer.1.w');
        } else {
          expect((await v.readTensor('model.safetensors', x.name)).equals(readFileSync(file).subarray(x.start, x.end))).toBe(true);
        }
      }
      // the bytes of the flipped tensor's other leaves still read
      const okStart = (badLeaf + 1) * LEAF;
      expect((await v.read('model.safetensors', okStart, 100)).equals(readFileSync(file).subarray(okStart, okStart + 100))).toBe(true);
    } finally {
      await v.close();
    }
    // verify --tensor: the flipped tensor fails, an untouched one verifies
    const r1 = await verifyTensors(m.dir, ['embed'], { signature: m.sig, publicKey: keys.pub, files: ['model.safetensors'] });
    expect(r1.verified).toBe(true);
    expect(r1.summary).toBe(`tensors verified: 1 of ${ST_TENSORS.length}`);
    const r2 = await verifyTensors(m.dir, ['layer.*'], { signature: m.sig, publicKey: keys.pub, files: ['model.safetensors'] });
    expect(r2.verified).toBe(false);
    expect(r2.selected.find((x) => x.name === 'layer.1.w')).toMatchObject({ verified: false, code: 'RANGE_MISMATCH' });
  });

  it('header tampering is refused before any tensor is returned', async () => {
    const m = await signed(`hdr-${hash}`, hash);
    flip(join(m.dir, 'model.gguf'), 40); // inside the metadata
    const v = await open(m);
    try {
      expect((await rejection(v.tensors('model.gguf'))).code).toBe('RANGE_MISMATCH');
      expect((await rejection(v.readTensor('model.gguf', 'token_embd.weight'))).code).toBe('RANGE_MISMATCH');
      // the other file is unaffected
      expect((await v.tensors('model.safetensors')).length).toBe(ST_TENSORS.length);
    } finally {
      await v.close();
    }
  });
});

describe('streams', () => {
  it('cut at every leaf boundary ±1 return exactly the file bytes (Node and web streams)', async () => {
    const m = await signed('streams');
    const file = readFileSync(join(m.dir, 'model.safetensors'));
    const v = await open(m);
    try {
      const cuts = new Set<number>([0, file.length - 1]);
      for (let b = LEAF; b < file.length; b += LEAF) for (const d of [-1, 0, 1]) cuts.add(b + d);
      const list = [...cuts].filter((c) => c >= 0 && c < file.length).sort((a, b) => a - b);
      for (const start of list) {
        for (const end of [start, Math.min(file.length - 1, start + LEAF), file.length - 1]) {
          const chunks: Buffer[] = [];
          await pipeline(v.createReadStream('model.safetensors', { start, end }), new Writable({ write: (c, _e, cb) => (chunks.push(c), cb()) }));
          expect(Buffer.concat(chunks).equals(file.subarray(start, end + 1))).toBe(true);
        }
        const web: Uint8Array[] = [];
        for await (const c of v.createWebStream('model.safetensors', { start }) as unknown as AsyncIterable<Uint8Array>) web.push(c);
        expect(Buffer.concat(web).equals(file.subarray(start))).toBe(true);
      }
    } finally {
      await v.close();
    }
  });

  it('a stream stops before the first byte of a failing leaf', async () => {
    const m = await signed('stream-fail');
    const path = join(m.dir, 'model.safetensors');
    flip(path, 3 * LEAF + 5);
    const v = await open(m);
    const got: Buffer[] = [];
    const e = await rejection(pipeline(v.createReadStream('model.safetensors'), new Writable({ write: (c, _e, cb) => (got.push(c), cb()) })));
    expect(e.code).toBe('RANGE_MISMATCH');
    expect(Buffer.concat(got).length).toBe(3 * LEAF);
    await v.close();
  });
});

describe('granularity without a companion', () => {
  it('whole files, and says so; a flipped byte fails the file', async () => {
    const m = await signed('no-companion', 'sha256', false);
    const v = await open(m);
    expect(v.granularity).toBe('file');
    expect(v.notes.join(' ')).toMatch(/no Merkle companion/);
    expect((await v.tensors('model.safetensors')).length).toBe(ST_TENSORS.length);
    await v.close();
    flip(join(m.dir, 'model.safetensors'), 5000);
    const w = await open(m);
    expect((await rejection(w.read('model.safetensors', 0, 8))).code).toBe('RANGE_MISMATCH');
    expect((await w.read('config.json', 0, 8)).toString()).toBe('{"a": 1}');
    await w.close();
  });

  it('OMS shards when the bundle was signed with --method shards', async () => {
    const dir = join(t.path, 'shards');
    mkdirSync(dir);
    writeFileSync(join(dir, 'model.safetensors'), safetensorsBytes(ST_TENSORS));
    const sig = join(t.path, 'shards.sig');
    await signModel(dir, { privateKey: keys.priv, output: sig, method: 'shards', shardSize: 4096 });
    const v = await openVerified(dir, { signature: sig, publicKey: keys.pub });
    expect(v.granularity).toBe('shard');
    const bytes = readFileSync(join(dir, 'model.safetensors'));
    expect((await v.read('model.safetensors', 4000, 200)).equals(bytes.subarray(4000, 4200))).toBe(true);
    await v.close();
  });
});

describe('companion refusals', () => {
  it('signed by another key, made for another model, truncated or altered sidecar: specific codes', async () => {
    const a = await signed('cmp-a');
    // another model (same key, other OMS root)
    const c = join(t.path, 'cmp-c');
    mkdirSync(c);
    writeFileSync(join(c, 'x.bin'), Buffer.alloc(5000, 1));
    const cs = join(t.path, 'cmp-c.sig');
    await signModel(c, { privateKey: keys.priv, output: cs, merkle: { leafSize: LEAF } });
    expect((await rejection(open(a, { companion: `${cs}.merkle` }))).code).toBe('COMPANION_SUBJECT_MISMATCH');

    const other = writeKeys(t.path, 'other');
    const o = join(t.path, 'cmp-other.sig');
    await signModel(a.dir, { privateKey: other.priv, output: o, merkle: { leafSize: LEAF } });
    expect((await rejection(open(a, { companion: `${o}.merkle` }))).code).toBe('COMPANION_SIGNATURE_INVALID');

    const fresh = await signed('cmp-d');
    const tree = `${fresh.sig}.merkle.tree`;
    const full = readFileSync(tree);
    writeFileSync(tree, full.subarray(0, full.length - 32));
    expect((await rejection(open(fresh))).code).toBe('SIDECAR_TRUNCATED');
    const altered = Buffer.from(full);
    altered[8 + 5] ^= 1;
    writeFileSync(tree, altered);
    const v = await open(fresh);
    const first = v.files()[0]!.path;
    expect((await rejection(v.read(first, 0, 1))).code).toBe('SIDECAR_MISMATCH');
    await v.close();
    const r = await verifyModel(fresh.dir, fresh.sig, { publicKey: keys.pub, companion: false });
    expect(r.verified).toBe(true);
  });
});

describe('sign --merkle and the OMS bundle', () => {
  it('the OMS statement is byte-for-byte the one signed without --merkle, and verify checks the companion', async () => {
    const m = await signed('oms-same');
    const plain = join(t.path, 'oms-same-plain.sig');
    await signModel(m.dir, { privateKey: keys.priv, output: plain });
    const payload = (p: string) => (JSON.parse(readFileSync(p, 'utf8')) as { dsseEnvelope: { payload: string } }).dsseEnvelope.payload;
    expect(payload(m.sig)).toBe(payload(plain));
    const r = await verifyModel(m.dir, m.sig, { publicKey: keys.pub });
    expect(r.verified).toBe(true);
    expect(r.companion).toMatchObject({ verified: true, files: 3, leafSize: LEAF, tree: 'rfc9162-sha256' });
    expect(r.summary).toBe('model verified');
  });
});

describe('a single-file model', () => {
  it('answers to "." and to its basename, leaf by leaf', async () => {
    const dir = join(t.path, 'single');
    mkdirSync(dir);
    const file = join(dir, 'one.safetensors');
    writeFileSync(file, safetensorsBytes(ST_TENSORS));
    const sig = join(t.path, 'single.sig');
    await signModel(file, { privateKey: keys.priv, output: sig, merkle: { leafSize: LEAF } });
    const v = await openVerified(file, { signature: sig, publicKey: keys.pub });
    try {
      expect(v.granularity).toBe('leaf');
      const bytes = readFileSync(file);
      for (const name of ['.', 'one.safetensors']) {
        const ts = await v.tensors(name);
        expect(ts.map((x) => x.name)).toEqual(ST_TENSORS.map((x) => x.name));
        const h = ts.find((x) => x.name === 'head')!;
        expect((await v.readTensor(name, 'head')).equals(bytes.subarray(h.start, h.end))).toBe(true);
      }
      expect((await rejection(v.read('other.bin', 0, 1))).code).toBe('FILE_NOT_SIGNED');
      expect((await rejection(v.read('.', bytes.length - 1, 2))).code).toBe('RANGE_INVALID');
    } finally {
      await v.close();
    }
    expect((await verifyModel(file, sig, { publicKey: keys.pub })).companion).toMatchObject({ verified: true, files: 1 });
  });
});
