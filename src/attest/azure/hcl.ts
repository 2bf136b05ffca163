/**
 * Azure confidential VM "HCL report" (the vTPM NV index 0x01400001 of an Azure CVM; what trustee's
 * az-snp-vtpm / az-tdx-vtpm verifiers read): a 0x20-byte `HCLA` header, the hardware report in a
 * 0x4A0-byte area (an SEV-SNP ATTESTATION_REPORT, or a TDX TDREPORT in its first 1024 bytes), then
 * the IGVM request data: a 20-byte header {data_size, version, report_type, report_data_hash_type,
 * variable_data_size} and the runtime data (a JSON document: the vTPM keys HCLAkPub / HCLEkPub,
 * `vm-configuration`, `user-data`). The hardware report's REPORT_DATA starts with the hash of the
 * runtime data: that is the one link between the two, and the only part of the HCL report a
 * signature covers (through the hardware report). The vTPM quote over the PCRs (signed by HCLAkPub)
 * is a separate piece of evidence that this module does not read.
 */
import { createHash } from 'node:crypto';
import { InputError } from '../../errors.js';
import { bytesEqual, toHex } from '../../crypto/bytes.js';

const HCL_HEADER_BYTES = 0x20;
const HCL_HW_REPORT_AREA_BYTES = 0x4a0;
const IGVM_HEADER_OFFSET = HCL_HEADER_BYTES + HCL_HW_REPORT_AREA_BYTES;
const IGVM_HEADER_BYTES = 20;
const SNP_REPORT_BYTES = 0x4a0;
const TDREPORT_BYTES = 1024;
/** REPORT_DATA starts at 0x50 in an SNP report and at 128 in a TDREPORT (after the REPORTMACSTRUCT header). */
const SNP_REPORT_DATA_OFFSET = 0x50;
const TDREPORT_REPORT_DATA_OFFSET = 128;
/** The runtime data is a small JSON document (about 1.1 KiB in Azure's reports); anything near this is hostile. */
const MAX_RUNTIME_DATA_BYTES = 1 << 20;

const HASH_TYPES: Readonly<Record<number, { name: 'sha256' | 'sha384' | 'sha512'; bytes: number }>> = {
  1: { name: 'sha256', bytes: 32 },
  2: { name: 'sha384', bytes: 48 },
  3: { name: 'sha512', bytes: 64 },
};

/** A parsed Azure HCL report. */
export interface AzureHclReport {
  /** The kind of the embedded hardware report (IGVM report_type 2 = SEV-SNP, 4 = TDX). */
  reportType: 'sev-snp' | 'tdx';
  /** The hardware report: 0x4A0 bytes (SNP) or 1024 bytes (TDREPORT). */
  hardwareReport: Uint8Array;
  /** The runtime data (JSON text) whose hash the hardware report's REPORT_DATA carries. */
  runtimeData: Uint8Array;
  /** The runtime data decoded as JSON, or undefined when it is not valid JSON. */
  runtimeClaims?: Record<string, unknown>;
  /** IGVM request data version. */
  version: number;
  /** The hash named by report_data_hash_type. */
  hashAlgorithm: 'sha256' | 'sha384' | 'sha512';
  /** Bytes the report's own lengths account for (header, report area, IGVM header and runtime data). */
  length: number;
}

const u32 = (b: Uint8Array, o: number) => (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;

/** True when the bytes start with the `HCLA` magic of an Azure HCL report. */
export function looksAzureHcl(b: Uint8Array): boolean {
  return b.length >= 4 && b[0] === 0x48 && b[1] === 0x43 && b[2] === 0x4c && b[3] === 0x41;
}

function malformed(msg: string): InputError {
  return new InputError('EVIDENCE_MALFORMED', `The Azure HCL report is malformed: ${msg}.`);
}

/**
 * Parses an Azure HCL report by its own length fields (bytes after its end are left to the caller,
 * who reports them). Throws InputError EVIDENCE_TRUNCATED, EVIDENCE_MALFORMED or
 * EVIDENCE_UNRECOGNIZED (a report type other than SEV-SNP or TDX).
 */
export function parseAzureHclReport(bytes: Uint8Array): AzureHclReport {
  if (!looksAzureHcl(bytes)) throw malformed('it does not start with the HCLA magic');
  if (bytes.length < IGVM_HEADER_OFFSET + IGVM_HEADER_BYTES) {
    throw new InputError('EVIDENCE_TRUNCATED', `The Azure HCL report has ${bytes.length} bytes; its header, report area and runtime-data header alone take ${IGVM_HEADER_OFFSET + IGVM_HEADER_BYTES}.`);
  }
  const dataSize = u32(bytes, IGVM_HEADER_OFFSET);
  const version = u32(bytes, IGVM_HEADER_OFFSET + 4);
  const type = u32(bytes, IGVM_HEADER_OFFSET + 8);
  const hashType = u32(bytes, IGVM_HEADER_OFFSET + 12);
  const varSize = u32(bytes, IGVM_HEADER_OFFSET + 16);
  if (type !== 2 && type !== 4) {
    throw new InputError('EVIDENCE_UNRECOGNIZED', `Azure HCL report of type ${type} is not supported (2 = SEV-SNP, 4 = TDX).`);
  }
  const hash = HASH_TYPES[hashType];
  if (!hash) throw malformed(`report_data_hash_type ${hashType} is not 1 (SHA-256), 2 (SHA-384) or 3 (SHA-512)`);
  if (varSize > MAX_RUNTIME_DATA_BYTES) throw malformed(`variable_data_size ${varSize} is over the ${MAX_RUNTIME_DATA_BYTES}-byte limit`);
  if (dataSize !== IGVM_HEADER_BYTES + varSize) throw malformed(`data_size ${dataSize} is not the 20-byte header plus variable_data_size ${varSize}`);
  const start = IGVM_HEADER_OFFSET + IGVM_HEADER_BYTES;
  if (bytes.length < start + varSize) {
    throw new InputError('EVIDENCE_TRUNCATED', `The Azure HCL report says its runtime data has ${varSize} bytes, but only ${bytes.length - start} follow its header.`);
  }
  const runtimeData = bytes.subarray(start, start + varSize);
  const hwSize = type === 2 ? SNP_REPORT_BYTES : TDREPORT_BYTES;
  const out: AzureHclReport = {
    reportType: type === 2 ? 'sev-snp' : 'tdx',
    hardwareReport: bytes.subarray(HCL_HEADER_BYTES, HCL_HEADER_BYTES + hwSize),
    runtimeData,
    version,
    hashAlgorithm: hash.name,
    length: start + varSize,
  };
  try {
    const j = JSON.parse(Buffer.from(runtimeData.buffer, runtimeData.byteOffset, runtimeData.byteLength).toString('utf8')) as unknown;
    if (typeof j === 'object' && j !== null && !Array.isArray(j)) out.runtimeClaims = j as Record<string, unknown>;
  } catch {
    // Not JSON: the hash binding is still checked; there are just no claims to show.
  }
  return out;
}

/** The result of {@link checkHclRuntimeData}. */
export interface HclRuntimeDataCheck {
  /** True when REPORT_DATA starts with the hash of the runtime data. */
  bound: boolean;
  hashAlgorithm: string;
  /** Hash of the runtime data (hex). */
  runtimeDataHash: string;
  /** The same number of leading REPORT_DATA bytes (hex). */
  reportDataPrefix: string;
}

/** Compares the hash of the runtime data with the start of the embedded hardware report's REPORT_DATA. */
export function checkHclRuntimeData(hcl: AzureHclReport): HclRuntimeDataCheck {
  const hash = Object.values(HASH_TYPES).find((h) => h.name === hcl.hashAlgorithm)!;
  const digest = new Uint8Array(createHash(hash.name).update(hcl.runtimeData).digest());
  const off = hcl.reportType === 'sev-snp' ? SNP_REPORT_DATA_OFFSET : TDREPORT_REPORT_DATA_OFFSET;
  const prefix = hcl.hardwareReport.subarray(off, off + hash.bytes);
  return { bound: bytesEqual(digest, prefix), hashAlgorithm: hash.name, runtimeDataHash: toHex(digest), reportDataPrefix: toHex(prefix) };
}

/** Display-friendly runtime claims: key ids and types, VM configuration, user data (no key material). */
export function hclRuntimeSummary(hcl: AzureHclReport): Record<string, unknown> {
  const c = hcl.runtimeClaims;
  if (!c) return { json: false, bytes: hcl.runtimeData.length };
  const keys = Array.isArray(c.keys) ? (c.keys as unknown[]).map((k) => (typeof k === 'object' && k !== null ? { kid: (k as Record<string, unknown>).kid, kty: (k as Record<string, unknown>).kty } : k)) : undefined;
  const out: Record<string, unknown> = { json: true, bytes: hcl.runtimeData.length };
  if (keys) out.keys = keys;
  if (c['vm-configuration'] !== undefined) out.vmConfiguration = c['vm-configuration'];
  if (c['user-data'] !== undefined) out.userData = c['user-data'];
  return out;
}
