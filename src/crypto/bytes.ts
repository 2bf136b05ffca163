/**
 * The one byte layer every binary parser and builder uses (evidence reports, quotes, SPDM transcripts,
 * TDISP reports, ioctl buffers, certificates): views, hex, constant-time comparison, the byte reader
 * and the byte writer. Everything here is little-endian, as the TEE formats are; DER (big-endian,
 * TLV) has its own module, der.ts.
 */
import { timingSafeEqual } from 'node:crypto';
import { InputError } from '../errors.js';

/** Node Buffer view of a Uint8Array without copying. */
export function buf(b: Uint8Array): Buffer {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/** Lower-case hex of bytes. */
export function toHex(b: Uint8Array): string {
  return buf(b).toString('hex');
}

/** The bytes of `parts`, one after the other. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Constant-time equality of two byte strings (lengths are public). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(buf(a), buf(b));
}

/** True when every byte is zero. */
export function isAllZero(b: Uint8Array): boolean {
  for (const x of b) if (x !== 0) return false;
  return true;
}

/** Trimmed ASCII text of `bytes`, or undefined if it contains non-printable bytes (NULs at the end allowed). */
export function asciiText(bytes: Uint8Array): string | undefined {
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end--;
  for (let i = 0; i < end; i++) {
    const c = bytes[i]!;
    if (c === 9 || c === 10 || c === 13) continue;
    if (c < 0x20 || c > 0x7e) return undefined;
  }
  return buf(bytes.subarray(0, end)).toString('latin1').trim();
}

/**
 * The one hex decoder: whitespace between digits and a leading `0x` are allowed; undefined when the
 * rest is not an even number of hex digits (or is empty and `nonEmpty`).
 */
export function decodeHexText(text: string, o: { nonEmpty?: boolean } = {}): Uint8Array | undefined {
  const clean = text.replace(/\s+/g, '').replace(/^0x/i, '');
  if ((o.nonEmpty && clean.length === 0) || clean.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(clean)) return undefined;
  return new Uint8Array(Buffer.from(clean, 'hex'));
}

/**
 * Reads little-endian integers and byte ranges from `bytes`, bounds-checked. Two ways to read:
 *
 * - at a fixed offset with a field name, for fixed layouts (SNP report, TDX quote): reading past the
 *   end is an InputError EVIDENCE_TRUNCATED that names the field and `what`;
 * - from a cursor (`next8` … `take`), for variable records (SPDM, TDISP, ioctl replies): reading past
 *   the end is a RangeError that the record's parser turns into its own truncation error.
 */
export class ByteReader {
  readonly view: DataView;
  /** The cursor of the `next*` / `take` reads. */
  off = 0;
  constructor(readonly bytes: Uint8Array, private readonly what = 'The input') {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  /** Throws EVIDENCE_TRUNCATED unless [off, off+len) lies inside the buffer. */
  need(off: number, len: number, field: string): void {
    if (!Number.isInteger(off) || !Number.isInteger(len) || off < 0 || len < 0 || off + len > this.bytes.length) {
      throw new InputError(
        'EVIDENCE_TRUNCATED',
        `${this.what} is truncated: field ${field} needs bytes ${off}..${off + len} but only ${this.bytes.length} are present. Pass the complete evidence file.`,
        { details: { field, offset: off, length: len, available: this.bytes.length } },
      );
    }
  }
  u8(off: number, field: string): number {
    this.need(off, 1, field);
    return this.bytes[off]!;
  }
  u16(off: number, field: string): number {
    this.need(off, 2, field);
    return this.view.getUint16(off, true);
  }
  u32(off: number, field: string): number {
    this.need(off, 4, field);
    return this.view.getUint32(off, true);
  }
  u64(off: number, field: string): bigint {
    this.need(off, 8, field);
    return this.view.getBigUint64(off, true);
  }
  slice(off: number, len: number, field: string): Uint8Array {
    this.need(off, len, field);
    return this.bytes.subarray(off, off + len);
  }

  /** Bytes after the cursor. */
  get remaining(): number {
    return this.bytes.length - this.off;
  }
  private advance(n: number): number {
    if (n < 0 || this.off + n > this.bytes.length) throw new RangeError(`need ${n} bytes at offset ${this.off}, have ${this.remaining}`);
    const at = this.off;
    this.off += n;
    return at;
  }
  next8(): number {
    return this.bytes[this.advance(1)]!;
  }
  next16(): number {
    return this.view.getUint16(this.advance(2), true);
  }
  next24(): number {
    const at = this.advance(3);
    return this.bytes[at]! | (this.bytes[at + 1]! << 8) | (this.bytes[at + 2]! << 16);
  }
  next32(): number {
    return this.view.getUint32(this.advance(4), true);
  }
  next64(): bigint {
    return this.view.getBigUint64(this.advance(8), true);
  }
  /** The next `n` bytes (a view, not a copy). */
  take(n: number): Uint8Array {
    const at = this.advance(n);
    return this.bytes.subarray(at, at + n);
  }
}

/** Little-endian writer for building structures (simulated platform, ioctl marshalling). */
export class ByteWriter {
  private parts: number[] = [];
  u8(v: number): this {
    this.parts.push(v & 0xff);
    return this;
  }
  u16(v: number): this {
    this.parts.push(v & 0xff, (v >>> 8) & 0xff);
    return this;
  }
  u24(v: number): this {
    this.parts.push(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff);
    return this;
  }
  u32(v: number): this {
    this.parts.push(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
    return this;
  }
  u64(v: bigint): this {
    for (let i = 0n; i < 8n; i++) this.parts.push(Number((v >> (8n * i)) & 0xffn));
    return this;
  }
  bytes(b: Uint8Array): this {
    for (const x of b) this.parts.push(x);
    return this;
  }
  zeros(n: number): this {
    for (let i = 0; i < n; i++) this.parts.push(0);
    return this;
  }
  get length(): number {
    return this.parts.length;
  }
  finish(): Uint8Array {
    return new Uint8Array(this.parts);
  }
}
