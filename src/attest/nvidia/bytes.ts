/**
 * Small byte, text-encoding and DER helpers shared by the NVIDIA, TDISP, simulated and acquire
 * modules. Kept private to these modules (not re-exported from the package); they are deliberately
 * tiny so that every parser reads its input defensively without a general ASN.1 library.
 */
import { timingSafeEqual } from 'node:crypto';

/** Node Buffer view of a Uint8Array without copying. */
export function buf(b: Uint8Array): Buffer {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

export function toHex(b: Uint8Array): string {
  return buf(b).toString('hex');
}

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

/** Constant-time equality (lengths are public). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(buf(a), buf(b));
}

const HEX_RE = /^[0-9a-fA-F\s]+$/;
const B64_RE = /^[A-Za-z0-9+/=\s_-]+$/;

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

/** Decodes a hex string (whitespace ignored); undefined if it is not even-length hex. */
export function fromHexText(text: string): Uint8Array | undefined {
  const t = text.replace(/\s+/g, '');
  if (t.length === 0 || t.length % 2 !== 0 || !HEX_RE.test(t)) return undefined;
  return new Uint8Array(Buffer.from(t, 'hex'));
}

/** Decodes standard or URL-safe base64 (whitespace ignored); undefined if malformed. */
export function fromBase64Text(text: string): Uint8Array | undefined {
  const t = text.replace(/\s+/g, '');
  if (t.length === 0 || !B64_RE.test(t)) return undefined;
  const std = t.replace(/-/g, '+').replace(/_/g, '/');
  const out = Buffer.from(std, 'base64');
  // Node's decoder silently skips garbage; re-encode to make sure nothing was dropped.
  if (out.toString('base64').replace(/=+$/, '') !== std.replace(/=+$/, '')) return undefined;
  return new Uint8Array(out);
}

/** DER certificates from PEM text (every CERTIFICATE block, in order). */
export function pemCertificates(text: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  const re = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    const der = fromBase64Text(m[1]!);
    if (der) out.push(der);
  }
  return out;
}

/** PEM text of one DER certificate. */
export function derToPem(der: Uint8Array): string {
  const b64 = buf(der).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

/**
 * Certificates from one input: PEM text (one or many), one DER certificate, or a concatenation of
 * DER certificates. NULs after PEM (NVML pads its buffer) are ignored.
 */
export function certificatesFromBytes(bytes: Uint8Array): Uint8Array[] {
  if (bytes.length > 0 && bytes[0] === 0x30) {
    const out: Uint8Array[] = [];
    let off = 0;
    while (off < bytes.length && bytes[off] === 0x30) {
      const node = readDer(bytes, off);
      if (!node) break;
      out.push(bytes.slice(off, node.end));
      off = node.end;
    }
    if (out.length > 0) return out;
  }
  const text = buf(bytes).toString('latin1');
  return pemCertificates(text);
}

/** One DER TLV: tag byte, content range and end offset. Undefined when the lengths do not fit. */
export interface DerNode {
  tag: number;
  start: number;
  contentStart: number;
  end: number;
}

/** Reads the DER TLV at `off` (definite lengths up to 4 length bytes). */
export function readDer(b: Uint8Array, off: number, limit = b.length): DerNode | undefined {
  if (off + 2 > limit) return undefined;
  const tag = b[off]!;
  if ((tag & 0x1f) === 0x1f) return undefined; // multi-byte tags do not occur in what we read
  let len = b[off + 1]!;
  let p = off + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || p + n > limit) return undefined;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[p + i]!;
    p += n;
  }
  if (p + len > limit) return undefined;
  return { tag, start: off, contentStart: p, end: p + len };
}

/** Children of a constructed DER node. Undefined when a child does not fit. */
export function derChildren(b: Uint8Array, node: DerNode): DerNode[] | undefined {
  const out: DerNode[] = [];
  let off = node.contentStart;
  while (off < node.end) {
    const c = readDer(b, off, node.end);
    if (!c) return undefined;
    out.push(c);
    off = c.end;
  }
  return out;
}

/** Dotted OID of an OBJECT IDENTIFIER node's content. */
export function derOid(b: Uint8Array, node: DerNode): string {
  const c = b.subarray(node.contentStart, node.end);
  const arcs: number[] = [];
  let v = 0;
  for (let i = 0; i < c.length; i++) {
    v = v * 128 + (c[i]! & 0x7f);
    if ((c[i]! & 0x80) === 0) {
      arcs.push(v);
      v = 0;
    }
  }
  if (arcs.length === 0) return '';
  // The first subidentifier packs the first two arcs (X.690 §8.19.4).
  const a0 = arcs[0]!;
  const head = a0 < 40 ? [0, a0] : a0 < 80 ? [1, a0 - 40] : [2, a0 - 80];
  return [...head, ...arcs.slice(1)].join('.');
}

/** Encodes a dotted OID as DER content bytes. */
export function oidContent(oid: string): Uint8Array {
  const arcs = oid.split('.').map((x) => Number(x));
  const out: number[] = [];
  const enc = (n: number): void => {
    const tmp: number[] = [n & 0x7f];
    n = Math.floor(n / 128);
    while (n > 0) {
      tmp.unshift((n & 0x7f) | 0x80);
      n = Math.floor(n / 128);
    }
    out.push(...tmp);
  };
  enc(arcs[0]! * 40 + arcs[1]!);
  for (const a of arcs.slice(2)) enc(a);
  return new Uint8Array(out);
}

/** DER TLV with a definite length. */
export function derTlv(tag: number, content: Uint8Array): Uint8Array {
  const n = content.length;
  let head: number[];
  if (n < 0x80) head = [tag, n];
  else if (n < 0x100) head = [tag, 0x81, n];
  else if (n < 0x10000) head = [tag, 0x82, n >> 8, n & 0xff];
  else head = [tag, 0x83, n >> 16, (n >> 8) & 0xff, n & 0xff];
  return concatBytes(new Uint8Array(head), content);
}

/** Converts a raw big-endian r‖s ECDSA signature to DER (for node:crypto's verify). */
export function rawEcdsaToDer(sig: Uint8Array): Uint8Array {
  const half = sig.length / 2;
  const int = (x: Uint8Array): Uint8Array => {
    let i = 0;
    while (i < x.length - 1 && x[i] === 0) i++;
    let v = x.subarray(i);
    if (v[0]! & 0x80) v = concatBytes(new Uint8Array([0]), v);
    return derTlv(0x02, v);
  };
  return derTlv(0x30, concatBytes(int(sig.subarray(0, half)), int(sig.subarray(half))));
}

/** Little-endian reads that throw a RangeError past the end (callers check lengths first). */
export class ByteReader {
  off = 0;
  constructor(readonly b: Uint8Array) {}
  get remaining(): number {
    return this.b.length - this.off;
  }
  need(n: number): void {
    if (n < 0 || this.off + n > this.b.length) throw new RangeError(`need ${n} bytes at offset ${this.off}, have ${this.remaining}`);
  }
  u8(): number {
    this.need(1);
    return this.b[this.off++]!;
  }
  u16(): number {
    this.need(2);
    const v = this.b[this.off]! | (this.b[this.off + 1]! << 8);
    this.off += 2;
    return v;
  }
  u24(): number {
    this.need(3);
    const v = this.b[this.off]! | (this.b[this.off + 1]! << 8) | (this.b[this.off + 2]! << 16);
    this.off += 3;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = new DataView(this.b.buffer, this.b.byteOffset + this.off, 4).getUint32(0, true);
    this.off += 4;
    return v;
  }
  u64(): bigint {
    this.need(8);
    const v = new DataView(this.b.buffer, this.b.byteOffset + this.off, 8).getBigUint64(0, true);
    this.off += 8;
    return v;
  }
  bytes(n: number): Uint8Array {
    this.need(n);
    const v = this.b.subarray(this.off, this.off + n);
    this.off += n;
    return v;
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
