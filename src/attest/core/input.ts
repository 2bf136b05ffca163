/**
 * Input decoding shared by every evidence parser: raw binary, ASCII hex, base64, and the JSON
 * envelopes found in the public vectors and produced by modelseal itself.
 *
 * The decoder never guesses inside binary data: text encodings are recognised only when the whole
 * input (after surrounding whitespace and NUL padding) is made of that encoding's alphabet, which a
 * real report or quote (full of 0x00 bytes) never is.
 */
import { InputError } from '../../errors.js';
import type { EvidenceKind } from './types.js';
import { decodeBase64Text } from '../../crypto/base64.js';
import { ByteReader, decodeHexText, isAllZero, toHex } from '../../crypto/bytes.js';

/** How the evidence bytes were found in the input. */
export type InputEncoding = 'binary' | 'hex' | 'base64' | 'json';

/** The result of {@link decodeEvidenceInput}. */
export interface DecodedEvidenceInput {
  /** The evidence itself (for JSON envelopes that only a platform parser understands: the input). */
  bytes: Uint8Array;
  encoding: InputEncoding;
  /** Name of the JSON envelope recognised (e.g. `modelseal`, `virtee-snp-serde`, `nvidia-json`). */
  envelope?: string;
  /** Certificates carried by the envelope (DER or PEM bytes, one entry per item). */
  certs: Uint8Array[];
  /** The kind the envelope declares or implies. */
  kindHint?: EvidenceKind;
  /** `platform` field of a modelseal envelope, e.g. `simulated`. */
  platform?: string;
  /** Other envelope fields (provider, kernel version, ...) kept for display. */
  meta?: Record<string, unknown>;
}

const MIN_TEXT_CHARS = 64;

/**
 * The largest TDX quote read from a `Quote: <base64>` text or a `{"tdx":{"quote":...}}` JSON wrapper.
 * Real quotes are 5–8 KiB (the PCK chain is most of it); the cap bounds the base64 text before it
 * is decoded. docs/limits.md.
 */
export const TDX_QUOTE_WRAPPER_MAX_BYTES = 256 << 10;

/** Base64 of a wrapped TDX quote: one alphabet, canonical, padded in whole groups, line breaks allowed. */
const TDX_QUOTE_BASE64 = { alphabet: 'standard-or-url', whitespace: true, canonical: true, nonEmpty: true, strictPadding: true } as const;

/** Decodes the base64 of a wrapped TDX quote, bounded by {@link TDX_QUOTE_WRAPPER_MAX_BYTES}. */
function decodeWrappedQuote(text: string, where: string): Uint8Array {
  const maxChars = Math.ceil(TDX_QUOTE_WRAPPER_MAX_BYTES / 3) * 4;
  // Whitespace is allowed between the characters, so count only the others before decoding anything.
  let chars = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09 && ++chars > maxChars) {
      throw new InputError('EVIDENCE_MALFORMED', `The TDX quote in ${where} is longer than ${TDX_QUOTE_WRAPPER_MAX_BYTES / 1024} KiB (real quotes are under 16 KiB); check that it is the right file.`);
    }
  }
  const bytes = decodeBase64Text(text, TDX_QUOTE_BASE64);
  if (!bytes) throw new InputError('EVIDENCE_ENCODING', `The TDX quote in ${where} is not valid base64 (one alphabet, canonical, whole padded groups).`);
  return bytes;
}

/** Strict hex decoding (whitespace allowed between digits); throws EVIDENCE_ENCODING. */
export function decodeHexStrict(text: string, what = 'hex input'): Uint8Array {
  const bytes = decodeHexText(text);
  if (!bytes) throw new InputError('EVIDENCE_ENCODING', `${what} is not valid hex (odd length or a non-hex character).`);
  return bytes;
}

/**
 * Strict base64 / base64url decoding: only the alphabet, `=` padding at the end and line breaks
 * are allowed (Node's own decoder silently skips garbage, which would let a corrupted PEM pass).
 */
export function decodeBase64Strict(text: string, what = 'base64 input'): Uint8Array {
  const bytes = decodeBase64Text(text, { alphabet: 'mixed', whitespace: true });
  if (!bytes) throw new InputError('EVIDENCE_ENCODING', `${what} is not valid base64.`);
  return bytes;
}

function stripTextPadding(input: Uint8Array): string | undefined {
  let start = 0;
  let end = input.length;
  const isPad = (c: number) => c === 0 || c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
  while (start < end && isPad(input[start]!)) start++;
  while (end > start && isPad(input[end - 1]!)) end--;
  if (end - start < 2) return undefined;
  for (let i = start; i < end; i++) {
    const c = input[i]!;
    // Printable ASCII plus line breaks: anything else means binary.
    if (!((c >= 0x20 && c < 0x7f) || c === 0x0a || c === 0x0d || c === 0x09)) return undefined;
  }
  return Buffer.from(input.buffer, input.byteOffset + start, end - start).toString('latin1');
}

/** Decodes a string value of an envelope field that holds bytes (base64 or hex). */
function decodeBytesField(v: unknown, field: string): Uint8Array {
  if (Array.isArray(v)) {
    if (!v.every((x) => Number.isInteger(x) && x >= 0 && x <= 255)) {
      throw new InputError('EVIDENCE_ENCODING', `Envelope field ${field} is an array but not of byte values 0..255.`);
    }
    return Uint8Array.from(v as number[]);
  }
  if (typeof v !== 'string') throw new InputError('EVIDENCE_ENCODING', `Envelope field ${field} must be a string (base64 or hex).`);
  const s = v.trim();
  if (/^(0x)?[0-9a-fA-F\s]+$/.test(s) && s.replace(/\s/g, '').length % 2 === 0) return decodeHexStrict(s, `field ${field}`);
  return decodeBase64Strict(s, `field ${field}`);
}

function certEntry(v: unknown, field: string): Uint8Array {
  if (typeof v === 'string' && v.includes('-----BEGIN')) return new Uint8Array(Buffer.from(v, 'utf8'));
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    if ('data' in o) return certEntry(o.data, `${field}.data`);
    if ('pem' in o) return certEntry(o.pem, `${field}.pem`);
    if ('der' in o) return certEntry(o.der, `${field}.der`);
  }
  // A base64 field may itself hold PEM text (NVIDIA's JSON does this); the certificate parser
  // accepts both forms, so the bytes are passed on as they are.
  return decodeBytesField(v, field);
}

const KINDS: readonly EvidenceKind[] = ['sev-snp', 'tdx', 'nvidia-gpu', 'tdisp'];

function decodeJson(text: string, json: unknown): DecodedEvidenceInput {
  const certs: Uint8Array[] = [];
  // NVIDIA PPCIe / nvtrust JSON: an entry or a list of entries with evidence + certificate; only the
  // NVIDIA parser understands it, so the original text goes there unchanged.
  const looksNvidia = (o: unknown): boolean =>
    typeof o === 'object' && o !== null && 'evidence' in o && ('certificate' in o || 'arch' in o);
  if (Array.isArray(json) && json.length > 0 && json.every(looksNvidia)) {
    return { bytes: new Uint8Array(Buffer.from(text, 'utf8')), encoding: 'json', envelope: 'nvidia-json', certs, kindHint: 'nvidia-gpu' };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new InputError('EVIDENCE_UNRECOGNIZED', 'The input is JSON but not an evidence envelope (expected an object).');
  }
  const o = json as Record<string, unknown>;
  // {"tdx": {"quote": "<base64>"}}: a TDX quote as several attestation agents and KBS clients send it.
  if (typeof o.tdx === 'object' && o.tdx !== null && !Array.isArray(o.tdx) && 'quote' in o.tdx) {
    const q = (o.tdx as Record<string, unknown>).quote;
    if (typeof q !== 'string') throw new InputError('EVIDENCE_ENCODING', 'The JSON field tdx.quote must be a base64 string.');
    return { bytes: decodeWrappedQuote(q, 'the JSON field tdx.quote'), encoding: 'json', envelope: 'tdx-quote-json', certs, kindHint: 'tdx' };
  }
  if ((looksNvidia(o) && !('kind' in o)) || (Array.isArray(o.evidence_list) && o.evidence_list.every(looksNvidia))) {
    return { bytes: new Uint8Array(Buffer.from(text, 'utf8')), encoding: 'json', envelope: 'nvidia-json', certs, kindHint: 'nvidia-gpu' };
  }
  // virtee `sev` serde form (trustee KBS evidence): attestation_report as an object.
  if (typeof o.attestation_report === 'object' && o.attestation_report !== null && !Array.isArray(o.attestation_report)) {
    const chain = o.cert_chain;
    if (Array.isArray(chain)) chain.forEach((c, i) => certs.push(certEntry(c, `cert_chain[${i}]`)));
    return {
      bytes: encodeSnpReportFromSerde(o.attestation_report as Record<string, unknown>),
      encoding: 'json',
      envelope: 'virtee-snp-serde',
      certs,
      kindHint: 'sev-snp',
    };
  }
  // modelseal's own envelope (and close relatives): {kind?, platform?, evidence|report|quote|outblob, certs?, auxblob?}
  const evidenceField = ['evidence', 'report', 'quote', 'outblob', 'attestation_report'].find((k) => k in o);
  if (!evidenceField) {
    throw new InputError(
      'EVIDENCE_UNRECOGNIZED',
      'The JSON input has no evidence field (expected one of evidence, report, quote, outblob, attestation_report).',
    );
  }
  const bytes = decodeBytesField(o[evidenceField], evidenceField);
  for (const key of ['certs', 'cert_chain', 'certificates', 'certificate', 'vcek', 'chain']) {
    const v = o[key];
    if (v === undefined || v === null) continue;
    if (Array.isArray(v) && !v.every((x) => typeof x === 'number')) v.forEach((c, i) => certs.push(certEntry(c, `${key}[${i}]`)));
    else certs.push(certEntry(v, key));
  }
  let kindHint: EvidenceKind | undefined;
  if (typeof o.kind === 'string') {
    if (!(KINDS as readonly string[]).includes(o.kind)) {
      throw new InputError('EVIDENCE_UNRECOGNIZED', `The envelope declares kind "${o.kind}", which is not one of ${KINDS.join(', ')}.`);
    }
    kindHint = o.kind as EvidenceKind;
  }
  if (o.auxblob !== undefined && o.auxblob !== null) {
    // SNP configfs auxblob / SNP_GET_EXT_REPORT certs: the GHCB certificate table.
    certs.push(...parseSnpCertTable(decodeBytesField(o.auxblob, 'auxblob')).map((e) => e.der));
  }
  const meta: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    if (k === evidenceField || k === 'auxblob' || ['certs', 'cert_chain', 'certificates', 'certificate', 'vcek', 'chain'].includes(k)) continue;
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') meta[k] = v;
  }
  const out: DecodedEvidenceInput = { bytes, encoding: 'json', envelope: 'modelseal', certs, meta };
  if (kindHint) out.kindHint = kindHint;
  if (typeof o.platform === 'string') out.platform = o.platform;
  return out;
}

/**
 * Decodes evidence input in any of the supported encodings.
 * @throws InputError EVIDENCE_EMPTY, EVIDENCE_ENCODING or EVIDENCE_UNRECOGNIZED
 */
export function decodeEvidenceInput(input: Uint8Array): DecodedEvidenceInput {
  if (!(input instanceof Uint8Array)) throw new TypeError('input must be a Uint8Array');
  if (input.length === 0) throw new InputError('EVIDENCE_EMPTY', 'The evidence input is empty.');
  const text = stripTextPadding(input);
  if (text !== undefined) {
    const first = text[0];
    if (first === '{' || first === '[') {
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (e) {
        throw new InputError('EVIDENCE_ENCODING', `The input looks like JSON but does not parse: ${(e as Error).message}.`);
      }
      return decodeJson(text, json);
    }
    // `Quote: <base64>`: a TDX quote as text, the form some guest tools print.
    const labelled = /^quote:/i.exec(text);
    if (labelled) {
      return { bytes: decodeWrappedQuote(text.slice(labelled[0].length), 'the "Quote:" text'), encoding: 'base64', envelope: 'tdx-quote-text', certs: [], kindHint: 'tdx' };
    }
    const compact = text.replace(/\s/g, '');
    if (compact.length >= MIN_TEXT_CHARS && /^(0x)?[0-9a-fA-F]+$/.test(compact) && compact.length % 2 === 0) {
      return { bytes: decodeHexStrict(compact), encoding: 'hex', certs: [] };
    }
    if (compact.length >= MIN_TEXT_CHARS && /^[A-Za-z0-9+/_-]+={0,2}$/.test(compact)) {
      return { bytes: decodeBase64Strict(compact), encoding: 'base64', certs: [] };
    }
    if (text.includes('-----BEGIN')) {
      throw new InputError('EVIDENCE_UNRECOGNIZED', 'The input is a PEM file (certificates), not evidence; pass certificates with --certs.');
    }
  }
  return { bytes: input, encoding: 'binary', certs: [] };
}

// ---------------------------------------------------------------------------------------------
// SNP GHCB certificate table (configfs auxblob, SNP_GET_EXT_REPORT certs buffer)

/** GUIDs of the GHCB certificate table (RFC 4122 text form). */
const SNP_CERT_TABLE_GUIDS: Record<string, string> = {
  '63da758d-e664-4564-adc5-f4b93be8accd': 'VCEK',
  'a8074bc2-a25a-483e-aae6-39c045a0b8a1': 'VLEK',
  '4ab7b379-bbac-4fe4-a02f-05aef327c782': 'ASK',
  'c0b406a4-a803-4952-9743-3fb6014cd0ae': 'ARK',
  '92f81bc3-5811-4d3d-97ff-d19f88dc67ea': 'CRL',
};

function guidToString(b: Uint8Array): string {
  // RFC 4122 byte order, as used by go-sev-guest and virtee for this table.
  const h = toHex(b);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** Parses the GHCB certificate table: 24-byte entries {GUID, offset, length}, zero-terminated. */
export function parseSnpCertTable(buf: Uint8Array): Array<{ guid: string; type: string; der: Uint8Array }> {
  const r = new ByteReader(buf, 'SNP certificate table');
  const out: Array<{ guid: string; type: string; der: Uint8Array }> = [];
  for (let off = 0; ; off += 24) {
    if (out.length > 64) throw new InputError('EVIDENCE_MALFORMED', 'SNP certificate table has more than 64 entries.');
    const guid = r.slice(off, 16, `cert_table[${out.length}].guid`);
    const offset = r.u32(off + 16, `cert_table[${out.length}].offset`);
    const length = r.u32(off + 20, `cert_table[${out.length}].length`);
    if (isAllZero(guid) && offset === 0 && length === 0) break;
    const der = r.slice(offset, length, `cert_table[${out.length}].data`);
    const g = guidToString(guid);
    out.push({ guid: g, type: SNP_CERT_TABLE_GUIDS[g] ?? 'unknown', der });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// virtee `sev` serde JSON → ATTESTATION_REPORT ABI bytes

function serdeBytes(o: Record<string, unknown>, key: string, len: number): Uint8Array {
  const v = o[key];
  if (v === undefined) return new Uint8Array(len);
  const b = decodeBytesField(v, `attestation_report.${key}`);
  if (b.length !== len) throw new InputError('EVIDENCE_MALFORMED', `attestation_report.${key} has ${b.length} bytes; expected ${len}.`);
  return b;
}

function serdeInt(o: Record<string, unknown>, key: string, max: number): number {
  const v = o[key];
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) {
    throw new InputError('EVIDENCE_MALFORMED', `attestation_report.${key} must be an integer in 0..${max}.`);
  }
  return v;
}

/**
 * Re-encodes the virtee `sev` crate's serde JSON form of an ATTESTATION_REPORT into the 0x4A0-byte
 * ABI layout (the form the signature covers). The TCB layout (Turin has an FMC byte) is taken from
 * the presence of a non-null `fmc` or from CPUID family 0x1A.
 */
export function encodeSnpReportFromSerde(r: Record<string, unknown>): Uint8Array {
  const out = new Uint8Array(0x4a0);
  const dv = new DataView(out.buffer);
  const family = serdeInt(r, 'cpuid_fam_id', 0xff);
  const tcb = (key: string, off: number) => {
    const t = r[key];
    if (t === undefined || t === null) return;
    if (typeof t !== 'object' || Array.isArray(t)) throw new InputError('EVIDENCE_MALFORMED', `attestation_report.${key} must be an object.`);
    const o = t as Record<string, unknown>;
    const turin = family === 0x1a || (o.fmc !== null && o.fmc !== undefined);
    const g = (k: string) => serdeInt(o, k, 0xff);
    if (turin) {
      out[off] = g('fmc');
      out[off + 1] = g('bootloader');
      out[off + 2] = g('tee');
      out[off + 3] = g('snp');
    } else {
      out[off] = g('bootloader');
      out[off + 1] = g('tee');
      out[off + 6] = g('snp');
    }
    out[off + 7] = g('microcode');
  };
  dv.setUint32(0x00, serdeInt(r, 'version', 0xffffffff), true);
  dv.setUint32(0x04, serdeInt(r, 'guest_svn', 0xffffffff), true);
  const policy = r.policy;
  if (typeof policy !== 'number' || !Number.isSafeInteger(policy) || policy < 0) {
    throw new InputError('EVIDENCE_MALFORMED', 'attestation_report.policy must be a non-negative integer.');
  }
  dv.setBigUint64(0x08, BigInt(policy), true);
  out.set(serdeBytes(r, 'family_id', 16), 0x10);
  out.set(serdeBytes(r, 'image_id', 16), 0x20);
  dv.setUint32(0x30, serdeInt(r, 'vmpl', 0xffffffff), true);
  dv.setUint32(0x34, serdeInt(r, 'sig_algo', 0xffffffff), true);
  tcb('current_tcb', 0x38);
  dv.setBigUint64(0x40, BigInt(serdeInt(r, 'plat_info', Number.MAX_SAFE_INTEGER)), true);
  dv.setUint32(0x48, serdeInt(r, 'key_info', 0xffffffff), true);
  out.set(serdeBytes(r, 'report_data', 64), 0x50);
  out.set(serdeBytes(r, 'measurement', 48), 0x90);
  out.set(serdeBytes(r, 'host_data', 32), 0xc0);
  out.set(serdeBytes(r, 'id_key_digest', 48), 0xe0);
  out.set(serdeBytes(r, 'author_key_digest', 48), 0x110);
  out.set(serdeBytes(r, 'report_id', 32), 0x140);
  out.set(serdeBytes(r, 'report_id_ma', 32), 0x160);
  tcb('reported_tcb', 0x180);
  out[0x188] = family;
  out[0x189] = serdeInt(r, 'cpuid_mod_id', 0xff);
  out[0x18a] = serdeInt(r, 'cpuid_step', 0xff);
  out.set(serdeBytes(r, 'chip_id', 64), 0x1a0);
  tcb('committed_tcb', 0x1e0);
  const ver = (key: string, off: number) => {
    const v = r[key];
    if (v === undefined || v === null) return;
    if (typeof v !== 'object' || Array.isArray(v)) throw new InputError('EVIDENCE_MALFORMED', `attestation_report.${key} must be an object.`);
    const o = v as Record<string, unknown>;
    out[off] = serdeInt(o, 'build', 0xff);
    out[off + 1] = serdeInt(o, 'minor', 0xff);
    out[off + 2] = serdeInt(o, 'major', 0xff);
  };
  ver('current', 0x1e8);
  ver('committed', 0x1ec);
  tcb('launch_tcb', 0x1f0);
  if (r.launch_mit_vector !== undefined) dv.setBigUint64(0x1f8, BigInt(serdeInt(r, 'launch_mit_vector', Number.MAX_SAFE_INTEGER)), true);
  if (r.current_mit_vector !== undefined) dv.setBigUint64(0x200, BigInt(serdeInt(r, 'current_mit_vector', Number.MAX_SAFE_INTEGER)), true);
  const sig = r.signature;
  if (typeof sig !== 'object' || sig === null || Array.isArray(sig)) {
    throw new InputError('EVIDENCE_MALFORMED', 'attestation_report.signature must be an object with r and s.');
  }
  const so = sig as Record<string, unknown>;
  out.set(serdeBytes(so, 'r', 72), 0x2a0);
  out.set(serdeBytes(so, 's', 72), 0x2e8);
  return out;
}
