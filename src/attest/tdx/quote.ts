/**
 * Intel TDX quote v4 / v5 parser (DCAP quote library API, appendices 4 and 5): header, TD report
 * body (TDX 1.0, 584 bytes; TDX 1.5, 648 bytes), ECDSA signature data, QE report certification data
 * (type 6) with the QE report, its signature, the QE authentication data and the PCK certificate
 * chain (type 5). Offsets as in the DCAP appendices, in the constants below.
 *
 * Quotes often arrive in a zero-padded buffer (5006 or 8000 bytes): the parser honours
 * `signature_data_len` and reports, but otherwise ignores, trailing bytes.
 */
import { InputError } from '../../errors.js';
import { ByteReader, toHex } from '../../crypto/bytes.js';

export const TDX_QUOTE_HEADER_BYTES = 48;
export const TDX_BODY_V10_BYTES = 584;
export const TDX_BODY_V15_BYTES = 648;
const SGX_QE_REPORT_BYTES = 384;
/** Intel's QE vendor id. */
export const INTEL_QE_VENDOR_ID = '939a7233f79c4ca9940a0db3957f0607';
const TDX_TEE_TYPE = 0x81;

/** The TD's measurements and configuration, as both the quote body and a TDREPORT's TDINFO carry them (hex). */
export interface TdMeasurements {
  xfam: string;
  mrTd: string;
  mrConfigId: string;
  mrOwner: string;
  mrOwnerConfig: string;
  rtmrs: [string, string, string, string];
}

/** TD report body fields (TDX 1.0 and 1.5). Byte strings are lower-case hex. */
export interface TdReportBody extends TdMeasurements {
  /** 2 = TDX 1.0 (584 bytes), 3 = TDX 1.5 (648 bytes). */
  bodyType: 2 | 3;
  teeTcbSvn: string;
  mrSeam: string;
  mrSignerSeam: string;
  seamAttributes: string;
  tdAttributes: string;
  reportData: string;
  /** TDX 1.5 only. */
  teeTcbSvn2?: string;
  mrServiceTd?: string;
  /** Decoded TD_ATTRIBUTES bits. */
  attributes: { debug: boolean; septVeDisable: boolean; pks: boolean; kl: boolean; perfmon: boolean; value: string };
}

/** SGX REPORT BODY of the quoting enclave. */
export interface QeReport {
  cpuSvn: string;
  miscSelect: number;
  attributes: string;
  mrEnclave: string;
  mrSigner: string;
  isvProdId: number;
  isvSvn: number;
  reportData: string;
  raw: Uint8Array;
}

/** A parsed TDX quote. */
export interface TdxQuote {
  version: 4 | 5;
  attestationKeyType: number;
  teeType: number;
  /** Bytes 8..11 of the header (reserved in TDX quotes; QE/PCE SVN in old SGX quotes), hex. */
  headerReserved: string;
  qeVendorId: string;
  userData: string;
  body: TdReportBody;
  /** Bytes covered by the quote signature (header ‖ [v5: type ‖ size] ‖ body). */
  signedBytes: Uint8Array;
  /** ECDSA P-256 r‖s (big-endian) over SHA-256(signedBytes). */
  signature: Uint8Array;
  /** Attestation public key x‖y (P-256). */
  attestationKey: Uint8Array;
  /** Outer certification data type (6 = QE report certification data). */
  certDataType: number;
  qeReport: QeReport;
  qeReportSignature: Uint8Array;
  qeAuthData: Uint8Array;
  /** Inner certification data type (5 = PCK chain PEM). */
  pckCertDataType: number;
  /** The PCK chain as it appears in the quote (PEM text, possibly NUL-terminated). */
  pckChainData: Uint8Array;
  /** Length of the quote proper (bytes after this are padding / trailer). */
  quoteLength: number;
  trailingBytes: number;
  trailingAllZero: boolean;
}

function parseBody(r: ByteReader, off: number, bodyType: 2 | 3): TdReportBody {
  const h = (o: number, n: number, f: string) => toHex(r.slice(off + o, n, f));
  const attr = r.u64(off + 120, 'TD_ATTRIBUTES');
  const bit = (n: number) => ((attr >> BigInt(n)) & 1n) === 1n;
  const body: TdReportBody = {
    bodyType,
    teeTcbSvn: h(0, 16, 'TEE_TCB_SVN'),
    mrSeam: h(16, 48, 'MRSEAM'),
    mrSignerSeam: h(64, 48, 'MRSIGNERSEAM'),
    seamAttributes: h(112, 8, 'SEAM_ATTRIBUTES'),
    tdAttributes: h(120, 8, 'TD_ATTRIBUTES'),
    xfam: h(128, 8, 'XFAM'),
    mrTd: h(136, 48, 'MRTD'),
    mrConfigId: h(184, 48, 'MRCONFIGID'),
    mrOwner: h(232, 48, 'MROWNER'),
    mrOwnerConfig: h(280, 48, 'MROWNERCONFIG'),
    rtmrs: [h(328, 48, 'RTMR0'), h(376, 48, 'RTMR1'), h(424, 48, 'RTMR2'), h(472, 48, 'RTMR3')],
    reportData: h(520, 64, 'REPORTDATA'),
    attributes: { debug: bit(0), septVeDisable: bit(28), pks: bit(30), kl: bit(31), perfmon: bit(63), value: '0x' + attr.toString(16).padStart(16, '0') },
  };
  if (bodyType === 3) {
    body.teeTcbSvn2 = h(584, 16, 'TEE_TCB_SVN2');
    body.mrServiceTd = h(600, 48, 'MRSERVICETD');
  }
  return body;
}

/** Parses the 384-byte SGX REPORT BODY of the QE. */
export function parseQeReport(raw: Uint8Array): QeReport {
  const r = new ByteReader(raw, 'QE report');
  r.need(0, SGX_QE_REPORT_BYTES, 'QE report');
  return {
    cpuSvn: toHex(r.slice(0, 16, 'CPUSVN')),
    miscSelect: r.u32(16, 'MISCSELECT'),
    attributes: toHex(r.slice(48, 16, 'ATTRIBUTES')),
    mrEnclave: toHex(r.slice(64, 32, 'MRENCLAVE')),
    mrSigner: toHex(r.slice(128, 32, 'MRSIGNER')),
    isvProdId: r.u16(256, 'ISVPRODID'),
    isvSvn: r.u16(258, 'ISVSVN'),
    reportData: toHex(r.slice(320, 64, 'REPORTDATA')),
    raw: raw.subarray(0, SGX_QE_REPORT_BYTES),
  };
}

/**
 * Parses a TDX quote (v4 or v5).
 * @throws InputError EVIDENCE_TRUNCATED, EVIDENCE_UNSUPPORTED_VERSION, EVIDENCE_MALFORMED
 */
export function parseTdxQuote(bytes: Uint8Array): TdxQuote {
  const r = new ByteReader(bytes, 'TDX quote');
  const version = r.u16(0, 'version');
  if (version !== 4 && version !== 5) {
    throw new InputError('EVIDENCE_UNSUPPORTED_VERSION', `TDX quote version ${version} is not supported (supported: 4, 5).`, { details: { version } });
  }
  const attestationKeyType = r.u16(2, 'att_key_type');
  const teeType = r.u32(4, 'tee_type');
  if (teeType !== TDX_TEE_TYPE) {
    throw new InputError(
      'EVIDENCE_UNSUPPORTED_VERSION',
      `Quote tee_type is 0x${teeType.toString(16)}; only TDX quotes (0x81) are supported (SGX quotes are not).`,
    );
  }
  r.need(0, TDX_QUOTE_HEADER_BYTES, 'header');
  let bodyOff = TDX_QUOTE_HEADER_BYTES;
  let bodyType: 2 | 3 = 2;
  if (version === 5) {
    const t = r.u16(48, 'body_type');
    const size = r.u32(50, 'body_size');
    if (t !== 2 && t !== 3) {
      throw new InputError('EVIDENCE_UNSUPPORTED_VERSION', `TDX quote v5 body type ${t} is not supported (2 = TDX 1.0, 3 = TDX 1.5).`);
    }
    bodyType = t;
    const expected = t === 2 ? TDX_BODY_V10_BYTES : TDX_BODY_V15_BYTES;
    if (size !== expected) {
      throw new InputError('EVIDENCE_MALFORMED', `TDX quote v5 body type ${t} must be ${expected} bytes; body_size says ${size}.`);
    }
    bodyOff = 54;
  }
  const bodyLen = bodyType === 2 ? TDX_BODY_V10_BYTES : TDX_BODY_V15_BYTES;
  r.need(bodyOff, bodyLen, 'TD report body');
  const body = parseBody(r, bodyOff, bodyType);
  const signedEnd = bodyOff + bodyLen;
  const sigLen = r.u32(signedEnd, 'signature_data_len');
  const s = signedEnd + 4;
  r.need(s, sigLen, `signature data (${sigLen} bytes)`);
  const sig = new ByteReader(bytes.subarray(s, s + sigLen), 'TDX quote signature data');
  const signature = sig.slice(0, 64, 'quote signature');
  const attestationKey = sig.slice(64, 64, 'attestation key');
  const certDataType = sig.u16(128, 'certification data type');
  const certDataSize = sig.u32(130, 'certification data size');
  sig.need(134, certDataSize, `certification data (${certDataSize} bytes)`);
  if (certDataType !== 6) {
    throw new InputError('EVIDENCE_MALFORMED', `TDX quote certification data type is ${certDataType}; only 6 (QE report certification data) is supported.`);
  }
  const cd = new ByteReader(sig.bytes.subarray(134, 134 + certDataSize), 'QE report certification data');
  const qeReportRaw = cd.slice(0, SGX_QE_REPORT_BYTES, 'QE report');
  const qeReportSignature = cd.slice(384, 64, 'QE report signature');
  const authLen = cd.u16(448, 'QE auth data size');
  const qeAuthData = cd.slice(450, authLen, 'QE auth data');
  const innerOff = 450 + authLen;
  const pckCertDataType = cd.u16(innerOff, 'PCK certification data type');
  const pckLen = cd.u32(innerOff + 2, 'PCK certification data size');
  const pckChainData = cd.slice(innerOff + 6, pckLen, 'PCK certificate chain');
  if (pckCertDataType !== 5) {
    throw new InputError('EVIDENCE_MALFORMED', `The QE certification data carries type ${pckCertDataType}; only 5 (PCK certificate chain) is supported.`);
  }
  if (innerOff + 6 + pckLen !== certDataSize) {
    throw new InputError('EVIDENCE_MALFORMED', `QE certification data size ${certDataSize} does not match its contents (${innerOff + 6 + pckLen} bytes).`);
  }
  if (134 + certDataSize !== sigLen) {
    throw new InputError('EVIDENCE_MALFORMED', `signature_data_len ${sigLen} does not match its contents (${134 + certDataSize} bytes).`);
  }
  const quoteLength = s + sigLen;
  const trailer = bytes.subarray(quoteLength);
  return {
    version,
    attestationKeyType,
    teeType,
    headerReserved: toHex(r.slice(8, 4, 'reserved')),
    qeVendorId: toHex(r.slice(12, 16, 'qe_vendor_id')),
    userData: toHex(r.slice(28, 20, 'user_data')),
    body,
    signedBytes: bytes.subarray(0, signedEnd),
    signature,
    attestationKey,
    certDataType,
    qeReport: parseQeReport(qeReportRaw),
    qeReportSignature,
    qeAuthData,
    pckCertDataType,
    pckChainData,
    quoteLength,
    trailingBytes: trailer.length,
    trailingAllZero: trailer.every((b) => b === 0),
  };
}
