/**
 * DMTF SPDM 1.1 (DSP0274) GET_MEASUREMENTS request ‖ MEASUREMENTS response, as NVIDIA GPUs and
 * NVSwitches return them through NVML, with NVIDIA's opaque-data TLVs. Every length field is checked
 * against the bytes actually present; nothing beyond the structure is accepted except where noted.
 */
import { ByteReader, ByteWriter, asciiText, concatBytes, toHex } from '../../crypto/bytes.js';
import { InputError } from '../../errors.js';

/** Size of an ECDSA P-384 r‖s signature (the only algorithm NVIDIA devices negotiate). */
const SPDM_P384_SIGNATURE_BYTES = 96;
const SPDM_NONCE_BYTES = 32;
export const SPDM_GET_MEASUREMENTS = 0xe0;
const SPDM_MEASUREMENTS = 0x60;
/** NVIDIA opaque-data TLV types (nvtrust `config.py`). */
export const NV_OPAQUE_TYPES: Readonly<Record<number, string>> = {
  1: 'CERT_ISSUER_NAME',
  2: 'CERT_AUTHORITY_KEY_IDENTIFIER',
  3: 'DRIVER_VERSION',
  4: 'GPU_INFO',
  5: 'SKU',
  6: 'VBIOS_VERSION',
  7: 'MANUFACTURER_ID',
  8: 'TAMPER_DETECTION',
  9: 'SMC',
  10: 'VPR',
  11: 'NVDEC0_STATUS',
  12: 'MSRSCNT',
  13: 'CPRINFO',
  14: 'BOARD_ID',
  15: 'CHIP_SKU',
  16: 'CHIP_SKU_MOD',
  17: 'PROJECT',
  18: 'PROJECT_SKU',
  19: 'PROJECT_SKU_MOD',
  20: 'FWID',
  21: 'PROTECTED_PCIE_STATUS',
  22: 'SWITCH_PDI',
  23: 'FLOORSWEPT_PORTS',
  24: 'POSITION_ID',
  25: 'LOCK_SWITCH_STATUS',
  32: 'GPU_LINK_CONN',
  33: 'SYS_ENABLE_STATUS',
  34: 'OPAQUE_DATA_VERSION',
  35: 'CHIP_INFO',
  36: 'FEATURE_FLAG',
};

export interface SpdmMeasurementBlock {
  index: number;
  /** MeasurementSpecification (bit 0 = DMTF). */
  specification: number;
  /** DMTF value type (bit 7 = raw bit stream), when specification is DMTF. */
  valueType?: number;
  value: Uint8Array;
}

export interface OpaqueTlv {
  type: number;
  name: string;
  value: Uint8Array;
}

/** A parsed GET_MEASUREMENTS request ‖ MEASUREMENTS response. */
export interface SpdmMeasurementReport {
  /** SPDM version of the request/response (0x11 = 1.1). */
  version: number;
  request: {
    param1: number;
    param2: number;
    /** The requester's nonce (ours), present when a signature was requested. */
    nonce?: Uint8Array;
    slotId?: number;
  };
  response: {
    param1: number;
    param2: number;
    numberOfBlocks: number;
    blocks: SpdmMeasurementBlock[];
    /** The responder's nonce. */
    nonce: Uint8Array;
    opaque: Uint8Array;
    tlvs: OpaqueTlv[];
  };
  /** ECDSA P-384 r‖s (big-endian), absent when no signature was requested. */
  signature?: Uint8Array;
  /** request ‖ response-without-signature: what the SPDM 1.1 signature covers. */
  signedBytes: Uint8Array;
  /** Total length consumed (request + response). */
  length: number;
  /** Bytes after the signature that were ignored (only with `allowTrailing`; otherwise always 0). */
  trailingBytes: number;
}

/** Options of {@link parseSpdmMeasurements}. */
export interface ParseSpdmOptions {
  /**
   * Parse by the report's own lengths and report, rather than refuse, bytes after its end (a report
   * in a padded buffer). Nothing after the end is covered by the signature. Default false.
   */
  allowTrailing?: boolean;
}

function truncated(what: string, cause?: unknown): InputError {
  return new InputError(
    'EVIDENCE_TRUNCATED',
    `The NVIDIA SPDM report is truncated or malformed: ${what}. Supply the complete report as returned by NVML (request ‖ response).`,
    cause === undefined ? {} : { cause },
  );
}

/**
 * Parses SPDM GET_MEASUREMENTS request ‖ MEASUREMENTS response bytes. Throws InputError with code
 * EVIDENCE_TRUNCATED (lengths do not fit) or NV_UNSUPPORTED_VERSION / NV_MALFORMED_REPORT.
 * Trailing bytes after the signature are refused unless `options.allowTrailing` (then counted in
 * `trailingBytes`): the signature covers an exact length.
 */
export function parseSpdmMeasurements(bytes: Uint8Array, options: ParseSpdmOptions = {}): SpdmMeasurementReport {
  const r = new ByteReader(bytes);
  try {
    const version = r.next8();
    if (version < 0x10 || version > 0x13) {
      throw new InputError('NV_UNSUPPORTED_VERSION', `SPDM version 0x${version.toString(16)} is not a known SPDM version (expected 0x10..0x13); this is not an NVIDIA attestation report.`);
    }
    const code = r.next8();
    if (code !== SPDM_GET_MEASUREMENTS) {
      throw new InputError('NV_MALFORMED_REPORT', `the report does not start with an SPDM GET_MEASUREMENTS request (code 0x${code.toString(16)}, expected 0xe0).`);
    }
    const param1 = r.next8();
    const param2 = r.next8();
    const signed = (param1 & 1) === 1;
    let nonce: Uint8Array | undefined;
    let slotId: number | undefined;
    if (signed) {
      nonce = r.take(SPDM_NONCE_BYTES);
      if (version >= 0x11) slotId = r.next8();
    }
    const rv = r.next8();
    if (rv !== version) throw new InputError('NV_MALFORMED_REPORT', `request SPDM version 0x${version.toString(16)} differs from the response's 0x${rv.toString(16)}.`);
    const rc = r.next8();
    if (rc !== SPDM_MEASUREMENTS) throw new InputError('NV_MALFORMED_REPORT', `the response is not SPDM MEASUREMENTS (code 0x${rc.toString(16)}, expected 0x60).`);
    const rp1 = r.next8();
    const rp2 = r.next8();
    const numberOfBlocks = r.next8();
    const recordLength = r.next24();
    const record = r.take(recordLength);
    const blocks = parseBlocks(record, numberOfBlocks);
    const rnonce = r.take(SPDM_NONCE_BYTES);
    const opaqueLength = r.next16();
    const opaque = r.take(opaqueLength);
    const tlvs = parseOpaque(opaque);
    let signature: Uint8Array | undefined;
    const signedEnd = r.off;
    if (signed) signature = r.take(SPDM_P384_SIGNATURE_BYTES);
    const trailingBytes = r.remaining;
    if (trailingBytes !== 0 && options.allowTrailing !== true) {
      throw new InputError('NV_MALFORMED_REPORT', `${r.remaining} unexpected bytes follow the SPDM MEASUREMENTS response (its lengths say it ends at ${r.off}).`);
    }
    return {
      version,
      request: { param1, param2, ...(nonce ? { nonce } : {}), ...(slotId !== undefined ? { slotId } : {}) },
      response: { param1: rp1, param2: rp2, numberOfBlocks, blocks, nonce: rnonce, opaque, tlvs },
      ...(signature ? { signature } : {}),
      signedBytes: bytes.subarray(0, signedEnd),
      length: r.off,
      trailingBytes,
    };
  } catch (e) {
    if (e instanceof RangeError) throw truncated(e.message, e);
    throw e;
  }
}

function parseBlocks(record: Uint8Array, count: number): SpdmMeasurementBlock[] {
  const r = new ByteReader(record);
  const out: SpdmMeasurementBlock[] = [];
  for (let i = 0; i < count; i++) {
    const index = r.next8();
    const specification = r.next8();
    const size = r.next16();
    const m = r.take(size);
    if (specification & 1) {
      if (m.length < 3) throw truncated(`measurement block ${index} is too short for a DMTF header`);
      const valueType = m[0]!;
      const valueSize = m[1]! | (m[2]! << 8);
      if (3 + valueSize !== m.length) {
        throw new InputError('NV_MALFORMED_REPORT', `measurement block ${index}: DMTF value size ${valueSize} does not match the block size ${size}.`);
      }
      out.push({ index, specification, valueType, value: m.subarray(3) });
    } else {
      out.push({ index, specification, value: m });
    }
  }
  if (r.remaining !== 0) {
    throw new InputError('NV_MALFORMED_REPORT', `the measurement record has ${r.remaining} bytes beyond its ${count} blocks.`);
  }
  return out;
}

/** Parses NVIDIA's opaque data: a sequence of {type u16, size u16, value} that must fill it exactly. */
export function parseOpaque(opaque: Uint8Array): OpaqueTlv[] {
  const r = new ByteReader(opaque);
  const out: OpaqueTlv[] = [];
  while (r.remaining > 0) {
    if (r.remaining < 4) throw truncated(`${r.remaining} stray bytes at the end of the opaque data`);
    const type = r.next16();
    const size = r.next16();
    const value = r.take(size);
    out.push({ type, name: NV_OPAQUE_TYPES[type] ?? `UNKNOWN_${type}`, value });
  }
  return out;
}

/** NVIDIA's VBIOS version text from the 8-byte TLV: bytes 3..0 then byte 4, dotted hex ("96.00.9f.00.01"). */
export function formatVbiosVersion(v: Uint8Array): string {
  if (v.length < 5) return toHex(v);
  const h = (x: number): string => x.toString(16).padStart(2, '0');
  return [h(v[3]!), h(v[2]!), h(v[1]!), h(v[0]!), h(v[4]!)].join('.');
}

/** Typed opaque fields (names as in trustee's expected-claims JSON for the same report). */
export function opaqueFields(tlvs: OpaqueTlv[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const text = (v: Uint8Array): string => asciiText(v) ?? toHex(v);
  for (const t of tlvs) {
    switch (t.type) {
      case 3:
        out.driver_version = text(t.value);
        break;
      case 6:
        // GPUs send 8 binary bytes; NVSwitches send the version as text.
        out.vbios_version = asciiText(t.value) ?? formatVbiosVersion(t.value);
        break;
      case 4:
        out.gpu_info = toHex(t.value);
        break;
      case 12: {
        const counts: Record<string, number> = {};
        const dv = new DataView(t.value.buffer, t.value.byteOffset, t.value.byteLength);
        for (let i = 0; i + 4 <= t.value.length; i += 4) counts[String(i / 4 + 1)] = dv.getUint32(i, true);
        out.measurement_count = counts;
        break;
      }
      case 13:
        out.cpr_info = toHex(t.value);
        break;
      case 14:
        out.board_id = toHex(t.value);
        break;
      case 15:
        out.chip_sku = text(t.value);
        break;
      case 16:
        out.chip_sku_mod = text(t.value);
        break;
      case 17:
        out.project = text(t.value);
        break;
      case 18:
        out.project_sku = text(t.value);
        break;
      case 19:
        // nvtrust prints the 2 raw bytes as hex ("0000").
        out.project_sku_mod = toHex(t.value);
        break;
      case 20:
        out.fwid = toHex(t.value);
        break;
      case 11:
        out.nvdec0_status = text(t.value);
        break;
      case 21:
        out.protected_pcie_status = text(t.value);
        break;
      case 22:
        out.switch_pdi = toHex(t.value);
        break;
      case 23:
        out.floorswept_ports = toHex(t.value);
        break;
      case 24:
        out.position_id = toHex(t.value);
        break;
      case 25:
        out.lock_switch_status = toHex(t.value);
        break;
      default:
        out[t.name.toLowerCase()] = toHex(t.value);
    }
  }
  return out;
}

/** Builds request ‖ response-without-signature (the simulated platform's SPDM responder). */
export function buildSpdmMeasurements(p: {
  version?: number;
  nonce: Uint8Array;
  responderNonce: Uint8Array;
  blocks: { index: number; valueType: number; value: Uint8Array }[];
  tlvs: { type: number; value: Uint8Array }[];
}): Uint8Array {
  const v = p.version ?? 0x11;
  if (p.nonce.length !== SPDM_NONCE_BYTES) throw new RangeError(`nonce must be ${SPDM_NONCE_BYTES} bytes, got ${p.nonce.length}`);
  const req = new ByteWriter().u8(v).u8(SPDM_GET_MEASUREMENTS).u8(1).u8(0xff).bytes(p.nonce).u8(0).finish();
  const rec = new ByteWriter();
  for (const b of p.blocks) rec.u8(b.index).u8(1).u16(3 + b.value.length).u8(b.valueType).u16(b.value.length).bytes(b.value);
  const opaque = new ByteWriter();
  for (const t of p.tlvs) opaque.u16(t.type).u16(t.value.length).bytes(t.value);
  const record = rec.finish();
  const op = opaque.finish();
  const resp = new ByteWriter().u8(v).u8(SPDM_MEASUREMENTS).u8(0).u8(0).u8(p.blocks.length).u24(record.length).bytes(record).bytes(p.responderNonce).u16(op.length).bytes(op).finish();
  return concatBytes(req, resp);
}
