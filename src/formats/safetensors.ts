/**
 * safetensors header parser (hostile input). Layout: u64 little-endian N, then N bytes of UTF-8 JSON
 * `{ name: { dtype, shape, data_offsets: [begin, end] }, "__metadata__"?: { string: string } }`, then
 * the data region; offsets are relative to the data region.
 *
 * As strict as the reference (huggingface/safetensors `validate`): header at most 100 MB, JSON object,
 * known dtypes, shape × dtype size equals the range length (overflow-checked), ranges contiguous from 0
 * and ending exactly at the end of the file, no duplicate names.
 */
import { InputError } from '../errors.js';
import type { ByteSource, TensorIndex, TensorRange } from './types.js';

/** The reference implementation's limit on the JSON header. */
export const SAFETENSORS_MAX_HEADER_BYTES = 100_000_000;
/** Most tensors one header may describe. */
export const SAFETENSORS_MAX_TENSORS = 1_000_000;
const MAX_RANK = 64;

/** Bytes per element of each safetensors dtype (sub-byte types are refused unless whole bytes). */
const DTYPE_BITS: Record<string, number> = {
  BOOL: 8, U8: 8, I8: 8, F8_E5M2: 8, F8_E4M3: 8, F8_E8M0: 8,
  I16: 16, U16: 16, F16: 16, BF16: 16,
  I32: 32, U32: 32, F32: 32,
  I64: 64, U64: 64, F64: 64,
  F4: 4, F6_E2M3: 6, F6_E3M2: 6,
};

function bad(what: string, detail: string): InputError {
  return new InputError('TENSOR_HEADER_INVALID', `${what}: ${detail}; the safetensors header is malformed or hostile.`);
}

/** The header length N from the first 8 bytes, checked against the cap and the file size. */
export function safetensorsHeaderLength(first8: Uint8Array, fileSize: number, what = 'safetensors file'): number {
  if (fileSize < 8 || first8.length < 8) throw bad(what, 'shorter than the 8-byte header length');
  const n = new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(SAFETENSORS_MAX_HEADER_BYTES)) throw bad(what, `header length ${n} exceeds ${SAFETENSORS_MAX_HEADER_BYTES} bytes`);
  if (8n + n > BigInt(fileSize)) throw bad(what, `header length ${n} runs past the end of the ${fileSize}-byte file`);
  return Number(n);
}

/** Finds a repeated key at the top level of a JSON object text (JSON.parse silently keeps the last). */
function duplicateTopLevelKey(text: string): string | undefined {
  const seen = new Set<string>();
  let depth = 0;
  let i = 0;
  let expectKey = false;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (depth === 1 && expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (seen.has(key)) return key;
        seen.add(key);
        expectKey = false;
      }
      i = j + 1;
      continue;
    }
    if (c === '{' || c === '[') {
      depth++;
      if (depth === 1 && c === '{') expectKey = true;
    } else if (c === '}' || c === ']') depth--;
    else if (c === ',' && depth === 1) expectKey = true;
    i++;
  }
  return undefined;
}

function safeInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/**
 * Parses a safetensors header. `header` is the N JSON bytes (after the 8-byte length); `fileSize`
 * bounds the data region. Returns absolute file ranges.
 */
export function parseSafetensorsHeader(header: Uint8Array, fileSize: number, what = 'safetensors file'): TensorIndex {
  const dataStart = 8 + header.length;
  if (dataStart > fileSize) throw bad(what, 'header runs past the end of the file');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(header);
  } catch {
    throw bad(what, 'header is not UTF-8');
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw bad(what, 'header is not JSON');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw bad(what, 'header is not a JSON object');
  const dup = duplicateTopLevelKey(text.trim());
  if (dup !== undefined) throw bad(what, `tensor ${JSON.stringify(dup)} is listed twice`);
  const entries = Object.entries(doc as Record<string, unknown>);
  if (entries.length > SAFETENSORS_MAX_TENSORS + 1) throw bad(what, `more than ${SAFETENSORS_MAX_TENSORS} tensors`);
  const dataBytes = fileSize - dataStart;
  const tensors: TensorRange[] = [];
  for (const [name, info] of entries) {
    if (name === '__metadata__') {
      if (typeof info !== 'object' || info === null || Array.isArray(info)) throw bad(what, '__metadata__ is not an object');
      for (const [k, v] of Object.entries(info)) if (typeof v !== 'string') throw bad(what, `__metadata__.${k} is not a string`);
      continue;
    }
    if (typeof info !== 'object' || info === null || Array.isArray(info)) throw bad(what, `tensor ${JSON.stringify(name)} is not an object`);
    const t = info as Record<string, unknown>;
    for (const k of Object.keys(t)) if (k !== 'dtype' && k !== 'shape' && k !== 'data_offsets') throw bad(what, `tensor ${JSON.stringify(name)} has unknown field ${k}`);
    const dtype = t.dtype;
    if (typeof dtype !== 'string' || !(dtype in DTYPE_BITS)) throw bad(what, `tensor ${JSON.stringify(name)} has unknown dtype ${JSON.stringify(dtype)}`);
    const shape = t.shape;
    if (!Array.isArray(shape) || shape.length > MAX_RANK || !shape.every(safeInt)) throw bad(what, `tensor ${JSON.stringify(name)} has an invalid shape`);
    const offs = t.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !safeInt(offs[0]) || !safeInt(offs[1]) || offs[0] > offs[1]) {
      throw bad(what, `tensor ${JSON.stringify(name)} has invalid data_offsets`);
    }
    const [b, e] = offs as [number, number];
    if (e > dataBytes) throw bad(what, `tensor ${JSON.stringify(name)} ends at ${e}, past the ${dataBytes}-byte data region`);
    let elems = 1n;
    for (const d of shape as number[]) elems *= BigInt(d);
    const bits = elems * BigInt(DTYPE_BITS[dtype]!);
    if (bits % 8n !== 0n || bits / 8n !== BigInt(e - b)) {
      throw bad(what, `tensor ${JSON.stringify(name)} (${dtype} ${JSON.stringify(shape)}) does not fill its ${e - b}-byte range`);
    }
    tensors.push({ name, dtype, shape: [...(shape as number[])], start: dataStart + b, end: dataStart + e });
  }
  // Contiguous from the data start to the end of the file: no gaps, no overlaps, no trailing bytes.
  const sorted = [...tensors].sort((x, y) => x.start - y.start || x.end - y.end);
  let at = dataStart;
  for (const t of sorted) {
    if (t.start !== at) throw bad(what, `tensor ${JSON.stringify(t.name)} starts at ${t.start - dataStart}, expected ${at - dataStart} (gap or overlap)`);
    at = t.end;
  }
  if (at !== fileSize) throw bad(what, `${fileSize - at} bytes after the last tensor are not described by the header`);
  return { format: 'safetensors', headerBytes: dataStart, tensors };
}

/** Reads and parses a safetensors header through `read` (which must return verified bytes). */
export async function readSafetensorsIndex(read: ByteSource, fileSize: number, what?: string): Promise<TensorIndex> {
  const n = safetensorsHeaderLength(await read(0, Math.min(8, fileSize)), fileSize, what);
  return parseSafetensorsHeader(await read(8, n), fileSize, what);
}
