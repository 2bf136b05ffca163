/** Generated tensor files in the real formats (small), and keys, for the load-time tests. */
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { openVerified, signModel, type VerifiedModel } from '../../src/index.js';
import { fill251, tempDir } from '../helpers.js';

export interface GenTensor {
  name: string;
  dtype: string;
  shape: number[];
  bytes: number;
}

/** A safetensors file: tensors stored in the listed order, data filled with the i % 251 pattern. */
export function safetensorsBytes(tensors: GenTensor[], metadata?: Record<string, string>): Buffer {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let off = 0;
  for (const t of tensors) {
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [off, off + t.bytes] };
    off += t.bytes;
  }
  let json = JSON.stringify(header);
  while ((8 + json.length) % 8 !== 0) json += ' '; // the reference pads the header with spaces
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([len, Buffer.from(json, 'utf8'), Buffer.from(fill251(off, 7))]);
}

/** F32 tensors of `elems` elements each. */
export function f32(name: string, ...shape: number[]): GenTensor {
  return { name, dtype: 'F32', shape, bytes: shape.reduce((a, b) => a * b, 1) * 4 };
}

function ggufString(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(b.length));
  return Buffer.concat([len, b]);
}

/** A GGUF v3 file with a few metadata entries and F32 / Q8_0 tensors, aligned to `alignment`. */
export function ggufBytes(tensors: Array<{ name: string; type: 'F32' | 'Q8_0'; dims: number[] }>, alignment = 32, version = 3): Buffer {
  const parts: Buffer[] = [];
  const u32 = (v: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    return b;
  };
  const u64 = (v: number | bigint) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(v));
    return b;
  };
  const kvs: Buffer[] = [
    Buffer.concat([ggufString('general.architecture'), u32(8), ggufString('llama')]),
    Buffer.concat([ggufString('general.alignment'), u32(4), u32(alignment)]),
    Buffer.concat([ggufString('tokenizer.ggml.tokens'), u32(9), u32(8), u64(3), ggufString('a'), ggufString('b'), ggufString('<s>')]),
    Buffer.concat([ggufString('llama.rope.scale'), u32(6), Buffer.from(new Float32Array([1.5]).buffer)]),
  ];
  parts.push(Buffer.from('GGUF', 'ascii'), u32(version), u64(tensors.length), u64(kvs.length), ...kvs);
  let off = 0;
  const sizes: number[] = [];
  for (const t of tensors) {
    const elems = t.dims.reduce((a, b) => a * b, 1);
    const bytes = t.type === 'F32' ? elems * 4 : (elems / 32) * 34;
    parts.push(ggufString(t.name), u32(t.dims.length), ...t.dims.map((d) => u64(d)), u32(t.type === 'F32' ? 0 : 8), u64(off));
    sizes.push(bytes);
    off += Math.ceil(bytes / alignment) * alignment;
  }
  let head = Buffer.concat(parts);
  const pad = (alignment - (head.length % alignment)) % alignment;
  head = Buffer.concat([head, Buffer.alloc(pad)]);
  const data = Buffer.alloc(off);
  Buffer.from(fill251(off, 3)).copy(data);
  return Buffer.concat([head, data]);
}

/** A P-256 key pair written as PEM files; returns their paths. */
export function writeKeys(dir: string, name = 'key'): { priv: string; pub: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const priv = join(dir, `${name}.pem`);
  const pub = join(dir, `${name}.pub.pem`);
  writeFileSync(priv, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  writeFileSync(pub, publicKey.export({ type: 'spki', format: 'pem' }));
  return { priv, pub };
}

/**
 * A temp dir with a fresh P-256 key pair written into it, made before a test file's tests and removed
 * after them (registers the file's beforeAll/afterAll): `t.path` and `keys.priv` / `keys.pub` read
 * what the hook made.
 */
export function keyedTempDir(): { t: { readonly path: string }; keys: { readonly priv: string; readonly pub: string } } {
  let dir: { path: string; cleanup: () => void } | undefined;
  let pair: { priv: string; pub: string } | undefined;
  beforeAll(() => {
    dir = tempDir();
    pair = writeKeys(dir.path);
  });
  afterAll(() => dir?.cleanup());
  return {
    t: {
      get path() {
        return dir!.path;
      },
    },
    keys: {
      get priv() {
        return pair!.priv;
      },
      get pub() {
        return pair!.pub;
      },
    },
  };
}

/** A signed one-file safetensors model (tensors a, b, c) with a Merkle companion, opened for verified reads. */
export interface SignedTensorModel {
  v: VerifiedModel;
  /** The bytes of model.safetensors. */
  file: Buffer;
  close(): Promise<void>;
}

/** Writes, signs (`hash`, companion leaves of `leafSize`) and opens the model of {@link SignedTensorModel}. */
export async function openSignedTensorModel(hash: 'sha256' | 'blake3', leafSize: number): Promise<SignedTensorModel> {
  const t = tempDir();
  const keys = writeKeys(t.path);
  const dir = join(t.path, 'model');
  mkdirSync(dir);
  const file = safetensorsBytes([f32('a', 1000), f32('b', 10_000), f32('c', 3)]);
  writeFileSync(join(dir, 'model.safetensors'), file);
  const sig = join(t.path, 'model.sig');
  await signModel(dir, { privateKey: keys.priv, output: sig, hash, merkle: { leafSize } });
  const v = await openVerified(dir, { signature: sig, publicKey: keys.pub });
  return {
    v,
    file,
    close: async () => {
      await v.close();
      t.cleanup();
    },
  };
}

/**
 * A model of generated files (`sizes`: name → bytes, each filled from its own salt, counting up
 * from `salt`) in a fresh folder under `t`, signed with a companion of `leaf`-byte leaves; the
 * files' bytes by name, for comparing what a stream returns.
 */
let modelSeq = 0;
export async function signedFilesModel(
  t: { readonly path: string },
  keys: { readonly priv: string },
  sizes: Record<string, number>,
  options: { hash: 'sha256' | 'blake3'; leaf: number; salt: number },
): Promise<{ dir: string; sig: string; bytes: Map<string, Buffer> }> {
  const dir = join(t.path, `m-${options.hash}-${++modelSeq}`);
  mkdirSync(dir, { recursive: true });
  const bytes = new Map<string, Buffer>();
  let salt = options.salt;
  for (const [name, size] of Object.entries(sizes)) {
    const b = Buffer.from(fill251(size, salt++));
    writeFileSync(join(dir, name), b);
    bytes.set(name, b);
  }
  const sig = join(t.path, `m-${options.hash}-${modelSeq}.sig`);
  await signModel(dir, { privateKey: keys.priv, output: sig, hash: options.hash, merkle: { leafSize: options.leaf } });
  return { dir, sig, bytes };
}
