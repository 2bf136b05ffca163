/**
 * The one DER reader (X.690 distinguished encoding, definite lengths), for certificates, CRLs, the
 * vendor extensions of VCEK / PCK / NVIDIA device certificates and ECDSA signatures, plus the few
 * DER writers the simulated platform needs. Every length is checked against the data it came from;
 * a malformed encoding is an InputError DER_MALFORMED (or `undefined` from the `try*` forms, for
 * callers that scan data which may not be DER at all).
 *
 * Why not a package: @sigstore/core's ASN1Obj (already a dependency) re-encodes nodes instead of
 * exposing the bytes it read (a signature must be checked over the exact TBS bytes), has no CRLs and
 * verifies certificate signatures by OID name, which cannot express the RSASSA-PSS parameters of
 * AMD's ARK/ASK; @peculiar/x509 and pkijs would add asn1js, pvtsutils, tslib and reflect-metadata
 * for what node:crypto's X509Certificate already checks. The certificate *signatures* are always
 * checked by node:crypto (OpenSSL); this module only finds fields.
 */
import { InputError } from '../errors.js';
import { concatBytes } from './bytes.js';

/** One DER TLV: `tag` is the full identifier octet, `value` its contents. */
export interface DerNode {
  tag: number;
  constructed: boolean;
  /** Offset of the identifier octet in the buffer it was read from. */
  start: number;
  /** Offset just past the value. */
  end: number;
  value: Uint8Array;
  /** The whole TLV (identifier, length and value). */
  raw: Uint8Array;
}

export function derError(what: string): InputError {
  return new InputError('DER_MALFORMED', `Malformed DER: ${what}.`);
}

/** Reads one TLV at `offset` (definite lengths only, as DER requires). */
export function readDer(buf: Uint8Array, offset = 0): DerNode {
  if (offset + 2 > buf.length) throw derError('truncated header');
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw derError('multi-byte tags are not used in certificates');
  let len = buf[offset + 1]!;
  let hdr = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw derError('indefinite or oversized length');
    if (offset + 2 + n > buf.length) throw derError('truncated length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[offset + 2 + i]!;
    hdr += n;
  }
  const end = offset + hdr + len;
  if (end > buf.length) throw derError(`length ${len} runs past the end of the data`);
  return {
    tag,
    constructed: (tag & 0x20) !== 0,
    start: offset,
    end,
    value: buf.subarray(offset + hdr, end),
    raw: buf.subarray(offset, end),
  };
}

/** The children of a constructed node. */
export function derChildren(node: DerNode): DerNode[] {
  if (!node.constructed) throw derError('expected a constructed value');
  const out: DerNode[] = [];
  let off = 0;
  while (off < node.value.length) {
    const c = readDer(node.value, off);
    out.push(c);
    off = c.end;
  }
  return out;
}

export function expectTag(n: DerNode | undefined, tag: number, what: string): DerNode {
  if (!n || n.tag !== tag) throw derError(`expected ${what}`);
  return n;
}

/** Decodes an OBJECT IDENTIFIER value to dotted form. */
export function decodeOid(v: Uint8Array): string {
  if (v.length === 0) throw derError('empty OID');
  const parts: number[] = [];
  let acc = 0;
  for (let i = 0; i < v.length; i++) {
    acc = acc * 128 + (v[i]! & 0x7f);
    if (!(v[i]! & 0x80)) {
      parts.push(acc);
      acc = 0;
    } else if (i === v.length - 1) throw derError('truncated OID');
  }
  const first = parts.shift()!;
  const a = first < 80 ? Math.floor(first / 40) : 2;
  return [a, first - a * 40, ...parts].join('.');
}

/** Decodes a non-negative DER INTEGER value that fits a JS number (SVNs, versions). */
export function decodeSmallInt(v: Uint8Array): number {
  if (v.length === 0 || v.length > 7) throw derError('INTEGER out of range');
  if (v[0]! & 0x80) throw derError('negative INTEGER');
  let n = 0;
  for (const b of v) n = n * 256 + b;
  return n;
}

export function decodeTime(n: DerNode): Date {
  const s = Buffer.from(n.value).toString('latin1');
  let m: RegExpMatchArray | null;
  if (n.tag === 0x17 && (m = s.match(/^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/))) {
    const yy = Number(m[1]);
    return new Date(Date.UTC(yy < 50 ? 2000 + yy : 1900 + yy, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
  }
  if (n.tag === 0x18 && (m = s.match(/^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/))) {
    return new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
  }
  throw derError('unsupported time encoding');
}

/**
 * The text of a DirectoryString / attribute value: BMPString (tag 0x1e) is UTF-16 **big**-endian
 * (X.680 §41), everything else we meet is UTF-8 or an ASCII subset of it.
 */
export function decodeDirectoryString(val: DerNode | undefined): string {
  const v = val?.value ?? new Uint8Array();
  if (val?.tag !== 0x1e) return Buffer.from(v).toString('utf8');
  const le = Buffer.from(v.subarray(0, v.length - (v.length % 2)));
  le.swap16(); // big-endian on the wire, little-endian for Node's decoder
  return le.toString('utf16le');
}

/** {@link readDer}, or undefined where it would throw. */
export function tryReadDer(buf: Uint8Array, offset = 0): DerNode | undefined {
  try {
    return readDer(buf, offset);
  } catch {
    return undefined;
  }
}

/** {@link derChildren}, or undefined where it would throw. */
export function tryDerChildren(node: DerNode): DerNode[] | undefined {
  try {
    return derChildren(node);
  } catch {
    return undefined;
  }
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
