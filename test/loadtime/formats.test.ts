/**
 * safetensors and GGUF header parsers as hostile input: real layouts parse to the right ranges;
 * every malformed or oversized field is refused with TENSOR_HEADER_INVALID; random mutations
 * (fuzz, deterministic seed) never crash, never hang and never yield a range outside the file.
 */
import { describe, expect, it } from 'vitest';
import { ModelsealError } from '../../src/errors.js';
import { parseSafetensorsHeader, readGgufIndex, readSafetensorsIndex, type TensorIndex } from '../../src/formats/index.js';
import { f32, ggufBytes, safetensorsBytes } from './fixtures.js';

const src = (b: Buffer) => async (o: number, l: number) => b.subarray(o, o + l);

async function st(b: Buffer): Promise<TensorIndex> {
  return readSafetensorsIndex(src(b), b.length);
}
async function gg(b: Buffer): Promise<TensorIndex> {
  return readGgufIndex(src(b), b.length);
}
async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ModelsealError) return e.code;
    throw e;
  }
  return 'OK';
}
function header(json: string, dataBytes: number): Buffer {
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  return Buffer.concat([len, Buffer.from(json), Buffer.alloc(dataBytes)]);
}

describe('safetensors', () => {
  it('maps tensor names to absolute byte ranges', async () => {
    const b = safetensorsBytes([f32('a', 2, 3), f32('b', 5), { name: 'c', dtype: 'BF16', shape: [4], bytes: 8 }], { format: 'pt' });
    const idx = await st(b);
    const n = b.readUInt32LE(0);
    expect(idx.headerBytes).toBe(8 + n);
    expect(idx.tensors.map((t) => [t.name, t.start - idx.headerBytes, t.end - idx.headerBytes, t.dtype])).toEqual([
      ['a', 0, 24, 'F32'],
      ['b', 24, 44, 'F32'],
      ['c', 44, 52, 'BF16'],
    ]);
  });

  it.each([
    ['header length past the end', (() => { const b = safetensorsBytes([f32('a', 2)]); b.writeBigUInt64LE(10_000n); return b; })()],
    ['header length over the 100 MB cap', (() => { const b = Buffer.alloc(16); b.writeBigUInt64LE(2n ** 62n); return b; })()],
    ['shorter than 8 bytes', Buffer.alloc(5)],
    ['not JSON', header('{"a": ', 0)],
    ['a JSON array', header('[]', 0)],
    ['not UTF-8', header('{"\xff": 1}'.replace('\xff', '\udcff'), 0)],
    ['unknown dtype', header('{"a":{"dtype":"F33","shape":[1],"data_offsets":[0,4]}}', 4)],
    ['shape × dtype ≠ range', header('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}', 4)],
    ['shape product overflowing 2^64', header('{"a":{"dtype":"F32","shape":[4294967296,4294967296,4],"data_offsets":[0,4]}}', 4)],
    ['negative shape', header('{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}', 4)],
    ['offsets reversed', header('{"a":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}}', 4)],
    ['offsets past the data', header('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}', 4)],
    ['a gap before a tensor', header('{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', 8)],
    ['overlapping tensors', header('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', 8)],
    ['trailing bytes', header('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', 8)],
    ['a duplicate tensor name', header('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', 8)],
    ['an unknown field', header('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":1}}', 4)],
    ['non-string metadata', header('{"__metadata__":{"k":1}}', 0)],
    ['offsets as floats', header('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4.5]}}', 4)],
  ])('refuses %s', async (_what, b) => {
    expect(await code(st(b))).toBe('TENSOR_HEADER_INVALID');
  });

  it('fuzz: mutated headers parse in bounds or are refused, never crash', async () => {
    const base = safetensorsBytes([f32('a', 3), f32('bb', 7, 2), f32('c', 1)], { k: 'v' });
    let seed = 12345;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    for (let i = 0; i < 3000; i++) {
      const b = Buffer.from(base);
      const edits = 1 + Math.floor(rnd() * 4);
      for (let k = 0; k < edits; k++) b[Math.floor(rnd() * Math.min(b.length, 8 + b.readUInt32LE(0) + 8))] = Math.floor(rnd() * 256);
      const cut = rnd() < 0.2 ? b.subarray(0, Math.floor(rnd() * b.length)) : b;
      try {
        const idx = await st(cut);
        for (const t of idx.tensors) expect(t.start >= idx.headerBytes && t.end <= cut.length && t.start <= t.end).toBe(true);
      } catch (e) {
        expect((e as ModelsealError).code).toBe('TENSOR_HEADER_INVALID');
      }
    }
  });

  it('parses a header given directly', () => {
    const h = Buffer.from('{"w":{"dtype":"U8","shape":[3],"data_offsets":[0,3]}}');
    expect(parseSafetensorsHeader(h, 8 + h.length + 3).tensors[0]).toMatchObject({ name: 'w', start: 8 + h.length, end: 8 + h.length + 3 });
  });
});

describe('GGUF', () => {
  const TENSORS = [
    { name: 'tok_embd', type: 'F32' as const, dims: [64, 10] },
    { name: 'q', type: 'Q8_0' as const, dims: [64, 8] },
    { name: 'odd', type: 'F32' as const, dims: [3] },
  ];

  it.each([2, 3])('maps tensor names to aligned absolute ranges (v%i)', async (version) => {
    for (const alignment of [32, 64]) {
      const b = ggufBytes(TENSORS, alignment, version);
      const idx = await gg(b);
      expect(idx.headerBytes % alignment).toBe(0);
      expect(idx.tensors.map((t) => [t.name, t.dtype, t.end - t.start])).toEqual([
        ['tok_embd', 'F32', 2560],
        ['q', 'Q8_0', 16 * 34],
        ['odd', 'F32', 12],
      ]);
      for (const t of idx.tensors) expect((t.start - idx.headerBytes) % alignment).toBe(0);
    }
  });

  function patched(fn: (b: Buffer) => void): Buffer {
    const b = ggufBytes(TENSORS);
    fn(b);
    return b;
  }
  const tensorInfoAt = (b: Buffer, name: string) => b.indexOf(Buffer.from(name)) + name.length; // → n_dims

  it.each([
    ['bad magic', patched((b) => b.write('GGUG', 0))],
    ['version 1', patched((b) => b.writeUInt32LE(1, 4))],
    ['a huge tensor count', patched((b) => b.writeBigUInt64LE(2n ** 40n, 8))],
    ['a huge metadata count', patched((b) => b.writeBigUInt64LE(2n ** 40n, 16))],
    ['a string length past the header', patched((b) => b.writeBigUInt64LE(2n ** 50n, 24))],
    ['an unknown value type', patched((b) => b.writeUInt32LE(99, 24 + 8 + 'general.architecture'.length))],
    ['five dimensions', patched((b) => b.writeUInt32LE(5, tensorInfoAt(b, 'tok_embd')))],
    ['an unknown ggml type', patched((b) => b.writeUInt32LE(4, tensorInfoAt(b, 'tok_embd') + 4 + 16))],
    ['a Q8_0 row not a whole block', patched((b) => b.writeBigUInt64LE(65n, tensorInfoAt(b, 'q') + 4))],
    ['a misaligned offset', patched((b) => b.writeBigUInt64LE(3n, tensorInfoAt(b, 'tok_embd') + 4 + 16 + 4))],
    ['a tensor past the end', patched((b) => b.writeBigUInt64LE(2n ** 40n, tensorInfoAt(b, 'odd') + 4 + 8 + 4))],
    ['overlapping tensors', patched((b) => b.writeBigUInt64LE(0n, tensorInfoAt(b, 'q') + 4 + 16 + 4))],
    ['an element count over 2^63', patched((b) => { b.writeBigUInt64LE(2n ** 62n, tensorInfoAt(b, 'tok_embd') + 4); b.writeBigUInt64LE(2n ** 62n, tensorInfoAt(b, 'tok_embd') + 12); })],
    ['a truncated file', ggufBytes(TENSORS).subarray(0, 100)],
    ['a non-power-of-two alignment', patched((b) => b.writeUInt32LE(48, b.indexOf(Buffer.from('general.alignment')) + 'general.alignment'.length + 4))],
  ])('refuses %s', async (_what, b) => {
    expect(await code(gg(b))).toBe('TENSOR_HEADER_INVALID');
  });

  it('fuzz: mutated headers parse in bounds or are refused, never crash', async () => {
    const base = ggufBytes(TENSORS);
    const headerEnd = (await gg(base)).headerBytes;
    let seed = 777;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    for (let i = 0; i < 3000; i++) {
      const b = Buffer.from(base);
      const edits = 1 + Math.floor(rnd() * 4);
      for (let k = 0; k < edits; k++) b[Math.floor(rnd() * headerEnd)] = rnd() < 0.5 ? 0xff : Math.floor(rnd() * 256);
      const cut = rnd() < 0.2 ? b.subarray(0, Math.floor(rnd() * b.length)) : b;
      try {
        const idx = await gg(cut);
        for (const t of idx.tensors) expect(t.start >= idx.headerBytes && t.end <= cut.length && t.start <= t.end).toBe(true);
      } catch (e) {
        expect((e as ModelsealError).code).toBe('TENSOR_HEADER_INVALID');
      }
    }
  });
});
