/**
 * GGUF (v2 and v3) header parser (hostile input): magic `GGUF`, u32 version, u64 tensor count, u64
 * metadata count, metadata key/values, tensor infos (name, rank, dims, ggml type, offset), then the
 * data region at the next multiple of `general.alignment` (default 32). Little-endian only (a
 * big-endian file reads as an absurd version and is refused).
 *
 * Every count, length and product is checked before use: strings and arrays are bounded by what is
 * left of the header, dims by GGML's 4, element counts by 2^63, tensor ranges by the file size, and
 * tensors must not overlap. Tensor types are ggml's block layouts (type size per block of elements).
 */
import { InputError } from '../errors.js';
import type { ByteSource, TensorIndex, TensorRange } from './types.js';

/** Bytes of header (metadata and tensor infos) the parser will read at most. */
export const GGUF_MAX_HEADER_BYTES = 256 * 1024 * 1024;
/** Most tensors / metadata entries one file may declare. */
export const GGUF_MAX_TENSORS = 1_000_000;
export const GGUF_MAX_METADATA = 1_000_000;
const GGML_MAX_DIMS = 4;
const MAX_ARRAY_DEPTH = 4;
const DEFAULT_ALIGNMENT = 32;

/** ggml_type → [name, elements per block, bytes per block] (ggml.c type_traits; removed types absent). */
const GGML_TYPES: Record<number, [string, number, number]> = {
  0: ['F32', 1, 4], 1: ['F16', 1, 2], 2: ['Q4_0', 32, 18], 3: ['Q4_1', 32, 20], 6: ['Q5_0', 32, 22], 7: ['Q5_1', 32, 24],
  8: ['Q8_0', 32, 34], 9: ['Q8_1', 32, 36], 10: ['Q2_K', 256, 84], 11: ['Q3_K', 256, 110], 12: ['Q4_K', 256, 144],
  13: ['Q5_K', 256, 176], 14: ['Q6_K', 256, 210], 15: ['Q8_K', 256, 292], 16: ['IQ2_XXS', 256, 66], 17: ['IQ2_XS', 256, 74],
  18: ['IQ3_XXS', 256, 98], 19: ['IQ1_S', 256, 50], 20: ['IQ4_NL', 32, 18], 21: ['IQ3_S', 256, 110], 22: ['IQ2_S', 256, 82],
  23: ['IQ4_XS', 256, 136], 24: ['I8', 1, 1], 25: ['I16', 1, 2], 26: ['I32', 1, 4], 27: ['I64', 1, 8], 28: ['F64', 1, 8],
  29: ['IQ1_M', 256, 56], 30: ['BF16', 1, 2], 34: ['TQ1_0', 256, 54], 35: ['TQ2_0', 256, 66], 39: ['MXFP4', 32, 17],
};

/** GGUF metadata value types. */
const T_UINT8 = 0, T_INT8 = 1, T_UINT16 = 2, T_INT16 = 3, T_UINT32 = 4, T_INT32 = 5, T_FLOAT32 = 6, T_BOOL = 7,
  T_STRING = 8, T_ARRAY = 9, T_UINT64 = 10, T_INT64 = 11, T_FLOAT64 = 12;
const FIXED_SIZE: Record<number, number> = {
  [T_UINT8]: 1, [T_INT8]: 1, [T_UINT16]: 2, [T_INT16]: 2, [T_UINT32]: 4, [T_INT32]: 4, [T_FLOAT32]: 4, [T_BOOL]: 1,
  [T_UINT64]: 8, [T_INT64]: 8, [T_FLOAT64]: 8,
};

function bad(what: string, detail: string): InputError {
  return new InputError('TENSOR_HEADER_INVALID', `${what}: ${detail}; the GGUF header is malformed or hostile.`);
}

/** A bounded cursor over header bytes that arrive in pieces from a ByteSource. */
class Cursor {
  private buf: Uint8Array = new Uint8Array(0);
  private bufStart = 0;
  pos = 0;
  constructor(
    private readonly read: ByteSource,
    private readonly limit: number,
    private readonly what: string,
  ) {}

  private async need(n: number): Promise<Uint8Array> {
    if (n < 0 || this.pos + n > this.limit) throw bad(this.what, `a field at byte ${this.pos} runs past the end of the header (${this.limit} bytes readable)`);
    const rel = this.pos - this.bufStart;
    if (rel + n > this.buf.length) {
      // Refill from pos: at least 64 KiB per read so small fields do not each cost a read.
      const len = Math.min(this.limit - this.pos, Math.max(n, 64 * 1024));
      this.buf = await this.read(this.pos, len);
      this.bufStart = this.pos;
      if (this.buf.length < n) throw bad(this.what, 'truncated');
    }
    const r = this.pos - this.bufStart;
    const out = this.buf.subarray(r, r + n);
    this.pos += n;
    return out;
  }
  async u32(): Promise<number> {
    const b = await this.need(4);
    return new DataView(b.buffer, b.byteOffset, 4).getUint32(0, true);
  }
  async u64(): Promise<bigint> {
    const b = await this.need(8);
    return new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true);
  }
  skip(n: bigint): void {
    if (n > BigInt(this.limit - this.pos)) throw bad(this.what, `a ${n}-byte value at byte ${this.pos} runs past the end of the header`);
    this.pos += Number(n); // bounded above; the next need() refills if this leaves the buffer
  }
  async string(maxBytes: number): Promise<string> {
    const n = await this.u64();
    if (n > BigInt(maxBytes)) throw bad(this.what, `a ${n}-byte string at byte ${this.pos - 8} exceeds ${maxBytes} bytes`);
    const b = await this.need(Number(n));
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(b);
    } catch {
      throw bad(this.what, `a string at byte ${this.pos - Number(n)} is not UTF-8`);
    }
  }
}

async function skipValue(c: Cursor, type: number, depth: number, what: string): Promise<void> {
  const fixed = FIXED_SIZE[type];
  if (fixed !== undefined) return c.skip(BigInt(fixed));
  if (type === T_STRING) {
    c.skip(await c.u64());
    return;
  }
  if (type !== T_ARRAY) throw bad(what, `unknown metadata value type ${type}`);
  if (depth >= MAX_ARRAY_DEPTH) throw bad(what, 'metadata arrays nested too deeply');
  const et = await c.u32();
  const count = await c.u64();
  const efixed = FIXED_SIZE[et];
  if (efixed !== undefined) return c.skip(count * BigInt(efixed)); // bounded by skip()
  // Every string or array element takes at least 8 bytes: bound the loop by the header left.
  if (et !== T_STRING && et !== T_ARRAY) throw bad(what, `unknown metadata array element type ${et}`);
  if (count * 8n > BigInt(GGUF_MAX_HEADER_BYTES)) throw bad(what, `a metadata array of ${count} elements exceeds the header cap`);
  for (let i = 0n; i < count; i++) await skipValue(c, et, depth + 1, what);
}

/**
 * Parses a GGUF header through `read` (which must return verified bytes) for a file of `fileSize`
 * bytes. Returns absolute file ranges of every tensor.
 */
export async function readGgufIndex(read: ByteSource, fileSize: number, what = 'GGUF file'): Promise<TensorIndex> {
  const c = new Cursor(read, Math.min(fileSize, GGUF_MAX_HEADER_BYTES), what);
  const magic = await c.u32();
  if (magic !== 0x46554747) throw bad(what, 'no GGUF magic');
  const version = await c.u32();
  if (version !== 2 && version !== 3) throw bad(what, `version ${version} (only GGUF v2 and v3 are read)`);
  const nTensors = await c.u64();
  const nKv = await c.u64();
  if (nTensors > BigInt(GGUF_MAX_TENSORS)) throw bad(what, `${nTensors} tensors declared (at most ${GGUF_MAX_TENSORS})`);
  if (nKv > BigInt(GGUF_MAX_METADATA)) throw bad(what, `${nKv} metadata entries declared (at most ${GGUF_MAX_METADATA})`);
  let alignment = DEFAULT_ALIGNMENT;
  for (let i = 0; i < Number(nKv); i++) {
    const key = await c.string(65535);
    const type = await c.u32();
    if (key === 'general.alignment') {
      if (type !== T_UINT32) throw bad(what, 'general.alignment is not a uint32');
      alignment = await c.u32();
      if (alignment === 0 || (alignment & (alignment - 1)) !== 0) throw bad(what, `general.alignment ${alignment} is not a power of two`);
    } else await skipValue(c, type, 0, what);
  }
  const infos: Array<{ name: string; dtype: string; shape: number[]; offset: bigint; bytes: bigint }> = [];
  const names = new Set<string>();
  for (let i = 0; i < Number(nTensors); i++) {
    const name = await c.string(65535);
    if (names.has(name)) throw bad(what, `tensor ${JSON.stringify(name)} is listed twice`);
    names.add(name);
    const rank = await c.u32();
    if (rank > GGML_MAX_DIMS) throw bad(what, `tensor ${JSON.stringify(name)} has ${rank} dimensions (at most ${GGML_MAX_DIMS})`);
    const shape: bigint[] = [];
    for (let d = 0; d < rank; d++) shape.push(await c.u64());
    const typeId = await c.u32();
    const t = GGML_TYPES[typeId];
    if (!t) throw bad(what, `tensor ${JSON.stringify(name)} has unknown ggml type ${typeId}`);
    const offset = await c.u64();
    let elems = 1n;
    for (const d of shape) {
      elems *= d;
      if (elems >= 1n << 63n) throw bad(what, `tensor ${JSON.stringify(name)} has more than 2^63 elements`);
    }
    const [tname, block, typeSize] = t;
    if (rank > 0 && shape[0]! % BigInt(block) !== 0n) throw bad(what, `tensor ${JSON.stringify(name)}: first dimension ${shape[0]} is not a multiple of the ${tname} block (${block})`);
    if (elems % BigInt(block) !== 0n) throw bad(what, `tensor ${JSON.stringify(name)}: ${elems} elements are not whole ${tname} blocks`);
    if (offset % BigInt(alignment) !== 0n) throw bad(what, `tensor ${JSON.stringify(name)} offset ${offset} is not aligned to ${alignment}`);
    infos.push({ name, dtype: tname, shape: shape.map(Number), offset, bytes: (elems / BigInt(block)) * BigInt(typeSize) });
  }
  const dataStart = BigInt(c.pos) + ((BigInt(alignment) - (BigInt(c.pos) % BigInt(alignment))) % BigInt(alignment));
  if (nTensors > 0n && dataStart > BigInt(fileSize)) throw bad(what, 'the data region starts past the end of the file');
  const tensors: TensorRange[] = [];
  for (const t of infos) {
    const start = dataStart + t.offset;
    const end = start + t.bytes;
    if (end > BigInt(fileSize)) throw bad(what, `tensor ${JSON.stringify(t.name)} ends at byte ${end}, past the ${fileSize}-byte file`);
    tensors.push({ name: t.name, dtype: t.dtype, shape: t.shape, start: Number(start), end: Number(end) });
  }
  const sorted = [...tensors].sort((a, b) => a.start - b.start || a.end - b.end);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.start < sorted[i - 1]!.end) throw bad(what, `tensors ${JSON.stringify(sorted[i - 1]!.name)} and ${JSON.stringify(sorted[i]!.name)} overlap`);
  }
  return { format: 'gguf', headerBytes: Number(dataStart > BigInt(fileSize) ? BigInt(fileSize) : dataStart), tensors };
}
