/**
 * AMD SEV-SNP ATTESTATION_REPORT (0x4A0 bytes) parser: versions 2, 3, 4 and 5, Milan/Genoa and
 * Turin TCB layouts. Layout and offsets: AMD SEV-SNP Firmware ABI spec #56860 (Table
 * "ATTESTATION_REPORT"), as in the offset constants below. Every field is typed; byte strings are lower-case hex.
 *
 * The parser is lenient about reserved bytes (it records them in `anomalies` so that `inspect`
 * can still show a damaged report); the verifier refuses any report with an anomaly.
 */
import { InputError } from '../../errors.js';
import { ByteReader, isAllZero, toHex } from '../../crypto/bytes.js';

/** Size of an ATTESTATION_REPORT. */
export const SNP_REPORT_BYTES = 0x4a0;
/** The signature covers bytes [0, 0x2A0). */
export const SNP_SIGNED_BYTES = 0x2a0;
/** Report versions this parser understands (v4 has the v3 layout; no public v4 vector exists). */
export const SNP_SUPPORTED_VERSIONS: readonly number[] = [2, 3, 4, 5];

/** AMD EPYC product lines with distinct roots / TCB layouts. */
export type SnpProduct = 'Milan' | 'Genoa' | 'Turin';
/** TCB_VERSION byte layout: Milan/Genoa (`legacy`) or Turin and later (`turin`, with FMC). */
export type SnpTcbLayout = 'legacy' | 'turin';

/** A decoded TCB_VERSION. */
export interface SnpTcb {
  /** The 8 bytes, little-endian u64 as hex (e.g. `db00000000000002` style is not used: raw byte order). */
  raw: string;
  layout: SnpTcbLayout;
  bootloader: number;
  tee: number;
  snp: number;
  microcode: number;
  /** Turin only. */
  fmc?: number;
}

/** Decoded POLICY bits (ABI spec, guest policy). */
export interface SnpPolicy {
  /** The u64 as a hex string (0x-prefixed). */
  value: string;
  abiMinor: number;
  abiMajor: number;
  smt: boolean;
  /** Bit 17: reserved, must be 1. */
  reserved17: boolean;
  migrateMa: boolean;
  debug: boolean;
  singleSocket: boolean;
  cxlAllow: boolean;
  memAes256Xts: boolean;
  raplDis: boolean;
  ciphertextHiding: boolean;
  pageSwapDisable: boolean;
}

/** A parsed ATTESTATION_REPORT. */
export interface SnpReport {
  version: number;
  guestSvn: number;
  policy: SnpPolicy;
  familyId: string;
  imageId: string;
  vmpl: number;
  signatureAlgo: number;
  currentTcb: SnpTcb;
  platformInfo: { value: string; smtEnabled: boolean; tsmeEnabled: boolean; eccEnabled: boolean; raplDisabled: boolean; ciphertextHidingEnabled: boolean; aliasCheckComplete: boolean; tioEnabled: boolean };
  keyInfo: { value: number; authorKeyEn: boolean; maskChipKey: boolean; signingKey: 'vcek' | 'vlek' | 'none' | 'reserved'; signingKeyValue: number };
  reportData: string;
  measurement: string;
  hostData: string;
  idKeyDigest: string;
  authorKeyDigest: string;
  reportId: string;
  reportIdMa: string;
  reportedTcb: SnpTcb;
  /** CPUID family/model/stepping (v3+; absent in v2). */
  cpuid?: { family: number; model: number; stepping: number };
  chipId: string;
  committedTcb: SnpTcb;
  currentVersion: string;
  committedVersion: string;
  launchTcb: SnpTcb;
  /** v5 only. */
  launchMitVector?: string;
  currentMitVector?: string;
  /** Little-endian 72-byte R and S as stored in the report (hex). */
  signature: { r: string; s: string };
  /** Product derived from CPUID (v3+), or from the Turin CHIP_ID pattern; undefined when unknown. */
  product?: SnpProduct;
  /** How `product` was derived. */
  productSource?: 'cpuid' | 'chip-id-pattern' | 'certificate';
  /** Reserved-must-be-zero violations and other structural problems (the verifier refuses these). */
  anomalies: string[];
  /** The bytes the signature covers ([0, 0x2A0)). */
  signedBytes: Uint8Array;
  /** The whole 0x4A0-byte report. */
  raw: Uint8Array;
}

/** Product from CPUID family/model (AMD: family 0x19 Zen 3/4, 0x1A Zen 5). */
export function snpProductFromCpuid(family: number, model: number): SnpProduct | undefined {
  if (family === 0x19) {
    if (model <= 0x0f) return 'Milan';
    if ((model >= 0x10 && model <= 0x1f) || (model >= 0xa0 && model <= 0xaf)) return 'Genoa';
    return undefined;
  }
  if (family === 0x1a && model <= 0x1f) return 'Turin';
  return undefined;
}

/** Decodes an 8-byte TCB_VERSION in the given layout. */
export function decodeSnpTcb(b: Uint8Array, layout: SnpTcbLayout): SnpTcb {
  if (layout === 'turin') {
    return { raw: toHex(b), layout, fmc: b[0]!, bootloader: b[1]!, tee: b[2]!, snp: b[3]!, microcode: b[7]! };
  }
  return { raw: toHex(b), layout, bootloader: b[0]!, tee: b[1]!, snp: b[6]!, microcode: b[7]! };
}

function reservedTcbBytes(b: Uint8Array, layout: SnpTcbLayout): boolean {
  return layout === 'turin' ? b[4] === 0 && b[5] === 0 && b[6] === 0 : b[2] === 0 && b[3] === 0 && b[4] === 0 && b[5] === 0;
}

function decodePolicy(v: bigint): SnpPolicy {
  const bit = (n: number) => ((v >> BigInt(n)) & 1n) === 1n;
  return {
    value: '0x' + v.toString(16),
    abiMinor: Number(v & 0xffn),
    abiMajor: Number((v >> 8n) & 0xffn),
    smt: bit(16),
    reserved17: bit(17),
    migrateMa: bit(18),
    debug: bit(19),
    singleSocket: bit(20),
    cxlAllow: bit(21),
    memAes256Xts: bit(22),
    raplDis: bit(23),
    ciphertextHiding: bit(24),
    pageSwapDisable: bit(25),
  };
}

/**
 * Parses an ATTESTATION_REPORT. Extra bytes after 0x4A0 are refused (a raw report has a fixed size;
 * wrappers such as Azure's HCL report are unwrapped before this).
 * @param layoutHint TCB layout to use when the report itself does not say (v2 reports)
 * @throws InputError EVIDENCE_TRUNCATED, EVIDENCE_UNSUPPORTED_VERSION, EVIDENCE_MALFORMED
 */
export function parseSnpReport(bytes: Uint8Array, layoutHint?: SnpTcbLayout): SnpReport {
  const r = new ByteReader(bytes, 'SEV-SNP report');
  r.need(0, SNP_REPORT_BYTES, 'ATTESTATION_REPORT (0x4A0 bytes)');
  if (bytes.length !== SNP_REPORT_BYTES) {
    throw new InputError(
      'EVIDENCE_MALFORMED',
      `A SEV-SNP report is exactly ${SNP_REPORT_BYTES} bytes; this input has ${bytes.length}. Pass the raw report (for configfs: outblob).`,
    );
  }
  const version = r.u32(0x00, 'VERSION');
  if (!SNP_SUPPORTED_VERSIONS.includes(version)) {
    throw new InputError(
      'EVIDENCE_UNSUPPORTED_VERSION',
      `SEV-SNP report version ${version} is not supported (supported: ${SNP_SUPPORTED_VERSIONS.join(', ')}).`,
      { details: { version } },
    );
  }
  const anomalies: string[] = [];
  const mbz = (off: number, len: number, field: string) => {
    if (!isAllZero(r.slice(off, len, field))) anomalies.push(`${field} (bytes 0x${off.toString(16)}..0x${(off + len).toString(16)}) must be zero`);
  };
  let cpuid: SnpReport['cpuid'];
  if (version >= 3) {
    cpuid = { family: r.u8(0x188, 'CPUID_FAM_ID'), model: r.u8(0x189, 'CPUID_MOD_ID'), stepping: r.u8(0x18a, 'CPUID_STEP') };
    mbz(0x18b, 0x15, 'reserved after CPUID');
  } else {
    mbz(0x188, 0x18, 'reserved (v2: 0x188..0x1A0)');
  }
  const chipId = r.slice(0x1a0, 64, 'CHIP_ID');
  let product: SnpProduct | undefined;
  let productSource: SnpReport['productSource'];
  if (cpuid) {
    product = snpProductFromCpuid(cpuid.family, cpuid.model);
    if (product) productSource = 'cpuid';
  }
  if (!product && !isAllZero(chipId.subarray(0, 8)) && isAllZero(chipId.subarray(8))) {
    // Turin reports carry an 8-byte chip id (virtee's heuristic); Milan/Genoa ids use all 64.
    product = 'Turin';
    productSource = 'chip-id-pattern';
  }
  const layout: SnpTcbLayout = product === 'Turin' ? 'turin' : product ? 'legacy' : (layoutHint ?? 'legacy');
  const tcbAt = (off: number, field: string) => {
    const b = r.slice(off, 8, field);
    if (!reservedTcbBytes(b, layout)) anomalies.push(`${field}: reserved TCB bytes must be zero`);
    return decodeSnpTcb(b, layout);
  };
  const policyValue = r.u64(0x08, 'POLICY');
  const policy = decodePolicy(policyValue);
  if (!policy.reserved17) anomalies.push('POLICY bit 17 (reserved) must be 1');
  if (policyValue >> 26n !== 0n) anomalies.push('POLICY bits 63:26 must be zero');
  const signatureAlgo = r.u32(0x34, 'SIGNATURE_ALGO');
  const keyInfoValue = r.u32(0x48, 'KEY_INFO');
  const signingKeyValue = (keyInfoValue >> 2) & 7;
  if (keyInfoValue >>> 5 !== 0) anomalies.push('KEY_INFO bits 31:5 must be zero');
  mbz(0x4c, 4, 'reserved after KEY_INFO');
  const platformInfoValue = r.u64(0x40, 'PLATFORM_INFO');
  const pbit = (n: number) => ((platformInfoValue >> BigInt(n)) & 1n) === 1n;
  mbz(0x1eb, 1, 'reserved after CURRENT version');
  mbz(0x1ef, 1, 'reserved after COMMITTED version');
  if (version < 5) mbz(0x1f8, 0x10, 'reserved (pre-v5 mitigation vectors)');
  mbz(0x208, 0x98, 'reserved before SIGNATURE');
  // R and S are 72-byte little-endian fields holding 48-byte values; the rest of the 0x200-byte
  // signature area is reserved.
  mbz(0x2a0 + 48, 24, 'SIGNATURE.R high bytes');
  mbz(0x2e8 + 48, 24, 'SIGNATURE.S high bytes');
  mbz(0x330, 0x170, 'reserved in SIGNATURE');
  const ver = (off: number) => `${r.u8(off + 2, 'major')}.${r.u8(off + 1, 'minor')}.${r.u8(off, 'build')}`;
  const report: SnpReport = {
    version,
    guestSvn: r.u32(0x04, 'GUEST_SVN'),
    policy,
    familyId: toHex(r.slice(0x10, 16, 'FAMILY_ID')),
    imageId: toHex(r.slice(0x20, 16, 'IMAGE_ID')),
    vmpl: r.u32(0x30, 'VMPL'),
    signatureAlgo,
    currentTcb: tcbAt(0x38, 'CURRENT_TCB'),
    platformInfo: {
      value: '0x' + platformInfoValue.toString(16),
      smtEnabled: pbit(0),
      tsmeEnabled: pbit(1),
      eccEnabled: pbit(2),
      raplDisabled: pbit(3),
      ciphertextHidingEnabled: pbit(4),
      aliasCheckComplete: pbit(5),
      tioEnabled: pbit(7),
    },
    keyInfo: {
      value: keyInfoValue,
      authorKeyEn: (keyInfoValue & 1) === 1,
      maskChipKey: (keyInfoValue & 2) === 2,
      signingKey: signingKeyValue === 0 ? 'vcek' : signingKeyValue === 1 ? 'vlek' : signingKeyValue === 7 ? 'none' : 'reserved',
      signingKeyValue,
    },
    reportData: toHex(r.slice(0x50, 64, 'REPORT_DATA')),
    measurement: toHex(r.slice(0x90, 48, 'MEASUREMENT')),
    hostData: toHex(r.slice(0xc0, 32, 'HOST_DATA')),
    idKeyDigest: toHex(r.slice(0xe0, 48, 'ID_KEY_DIGEST')),
    authorKeyDigest: toHex(r.slice(0x110, 48, 'AUTHOR_KEY_DIGEST')),
    reportId: toHex(r.slice(0x140, 32, 'REPORT_ID')),
    reportIdMa: toHex(r.slice(0x160, 32, 'REPORT_ID_MA')),
    reportedTcb: tcbAt(0x180, 'REPORTED_TCB'),
    chipId: toHex(chipId),
    committedTcb: tcbAt(0x1e0, 'COMMITTED_TCB'),
    currentVersion: ver(0x1e8),
    committedVersion: ver(0x1ec),
    launchTcb: tcbAt(0x1f0, 'LAUNCH_TCB'),
    signature: { r: toHex(r.slice(0x2a0, 72, 'SIGNATURE.R')), s: toHex(r.slice(0x2e8, 72, 'SIGNATURE.S')) },
    anomalies,
    signedBytes: bytes.subarray(0, SNP_SIGNED_BYTES),
    raw: bytes,
  };
  if (cpuid) report.cpuid = cpuid;
  if (product) report.product = product;
  if (productSource) report.productSource = productSource;
  if (version >= 5) {
    report.launchMitVector = '0x' + r.u64(0x1f8, 'LAUNCH_MIT_VECTOR').toString(16);
    report.currentMitVector = '0x' + r.u64(0x200, 'CURRENT_MIT_VECTOR').toString(16);
  }
  return report;
}

/** Re-parses with a known product (e.g. from the VCEK), so that v2 reports get the right TCB layout. */
export function withSnpProduct(report: SnpReport, product: SnpProduct): SnpReport {
  if (report.product === product) return report;
  const again = parseSnpReport(report.raw, product === 'Turin' ? 'turin' : 'legacy');
  return { ...again, product, productSource: 'certificate' };
}

/** Little-endian 72-byte field → 48-byte big-endian integer (P-384 scalar). */
export function snpSignatureRs(report: SnpReport): Uint8Array {
  const out = new Uint8Array(96);
  const le = (off: number) => report.raw.subarray(off, off + 48);
  out.set(Uint8Array.from(le(0x2a0)).reverse(), 0);
  out.set(Uint8Array.from(le(0x2e8)).reverse(), 48);
  return out;
}
