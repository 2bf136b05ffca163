/**
 * PCIe TDISP (TEE Device Interface Security Protocol, PCIe r6.x/r7.0 §11) TDI evidence: the
 * DEVICE_INTERFACE_REPORT and the TDI state, parsed from the real TDISP message layouts (DMTF libspdm
 * `pci_tdisp.h`), and verified when they come with a signed SPDM measurement transcript.
 *
 * No public capture of real TDISP evidence exists (no vendor, kernel or DMTF project has published
 * one): every TDISP input this project has ever verified came from the simulated platform.
 *
 * Accepted input ("TDISP evidence bundle"): a concatenation of real messages, each self-delimiting —
 *   1. one or more TDISP DEVICE_INTERFACE_REPORT responses (0x10 0x04 …, portions in order, the
 *      last with remainder_length 0) — required;
 *   2. optionally one TDISP DEVICE_INTERFACE_STATE response (0x10 0x05 …, tdi_state);
 *   3. optionally the DSM's SPDM 1.1 GET_MEASUREMENTS request ‖ signed response (with our nonce);
 * or a bare DEVICE_INTERFACE_REPORT structure (no header), which is parsed but never verified.
 *
 * What binds the interface report to the signed SPDM transcript: on real hardware, nothing in the
 * device's own signature — the TSM vouches for the report over its secured session (SEV-TIO returns
 * SHA-384 digests of it over the guest channel) and modelseal's CPU report covers the evidence
 * digest. The simulated DSM additionally places SHA-384(report messages ‖ state message) in SPDM
 * measurement block {@link TDISP_BINDING_BLOCK_INDEX}; this verifier requires that block, so a
 * bundle whose report was swapped fails (TDISP_REPORT_UNBOUND). That block is a modelseal
 * convention, not part of any standard.
 */
import { createHash, X509Certificate, verify as cryptoVerify } from 'node:crypto';
import { InputError } from '../../errors.js';
import type { EvidenceVerdict, VerifyEvidenceOptions } from '../core/types.js';
import { ByteReader, ByteWriter, buf, bytesEqual, concatBytes, toHex } from '../../crypto/bytes.js';
import { rawEcdsaToDer } from '../../crypto/der.js';
import { certificatesFromBytes } from '../../crypto/pem.js';
import { subjectName, verifyDeviceChain } from '../nvidia/chain.js';
import { nvidiaDeviceRoots } from '../nvidia/roots.js';
import { parseSpdmMeasurements, type SpdmMeasurementReport } from '../nvidia/spdm.js';

const TDISP_VERSION_1_0 = 0x10;
const TDISP_DEVICE_INTERFACE_REPORT = 0x04;
const TDISP_DEVICE_INTERFACE_STATE = 0x05;
/** SPDM measurement block the simulated DSM uses for SHA-384 of the report and state messages. */
export const TDISP_BINDING_BLOCK_INDEX = 0xef;
/** Largest report accepted (the Linux pci-tsm proposal caps objects at 16 MiB). */
const TDISP_MAX_REPORT_BYTES = 16 * 1024 * 1024;

export type TdiState = 'CONFIG_UNLOCKED' | 'CONFIG_LOCKED' | 'RUN' | 'ERROR';
const TDI_STATES: TdiState[] = ['CONFIG_UNLOCKED', 'CONFIG_LOCKED', 'RUN', 'ERROR'];

const INTERFACE_INFO_FLAGS: [number, string][] = [
  [0x01, 'NO_UPDATE_AFTER_LOCK'],
  [0x02, 'DMA_WITHOUT_PASID'],
  [0x04, 'DMA_WITH_PASID'],
  [0x08, 'ATS_SUPPORTED'],
  [0x10, 'PRS_SUPPORTED'],
  [0x20, 'XT_MODE_SUPPORTED'],
];
const RANGE_FLAGS: [number, string][] = [
  [0x01, 'MSIX_TABLE'],
  [0x02, 'MSIX_PBA'],
  [0x04, 'IS_NON_TEE_MEM'],
  [0x08, 'IS_MEM_ATTR_UPDATABLE'],
];

export interface TdispMmioRange {
  /** 4 KiB page number with the MMIO reporting offset added. */
  firstPage: bigint;
  numberOfPages: number;
  attributes: number;
  attributeNames: string[];
  rangeId: number;
}

/** The DEVICE_INTERFACE_REPORT structure. */
export interface TdispInterfaceReport {
  interfaceInfo: number;
  interfaceInfoFlags: string[];
  msixMessageControl: number;
  lnrControl: number;
  tphControl: number;
  mmioRanges: TdispMmioRange[];
  deviceSpecificInfo: Uint8Array;
}

export interface TdispInterfaceId {
  /** Requester ID (bus/device/function) and segment, as the TDISP header carries it. */
  functionId: number;
}

/** A parsed TDISP evidence bundle (see the module comment). */
export interface TdispEvidence {
  format: 'bundle' | 'bare-report';
  interfaceId?: TdispInterfaceId;
  report: TdispInterfaceReport;
  /** The report messages (headers included) exactly as given: what the binding digest covers. */
  reportMessages: Uint8Array;
  state?: { value: number; name: TdiState | 'RESERVED'; message: Uint8Array };
  spdm?: SpdmMeasurementReport;
  /** Bytes the evidence's own lengths account for. */
  length: number;
  /** Bytes after that end that were ignored (only with `allowTrailing`; otherwise always 0). */
  trailingBytes: number;
}

/** Options of {@link parseTdispReport}. */
export interface ParseTdispOptions {
  /** Report, rather than refuse, bytes after the evidence's own end (no signature covers them). */
  allowTrailing?: boolean;
}

function truncated(what: string, cause?: unknown): InputError {
  return new InputError('EVIDENCE_TRUNCATED', `The TDISP evidence is truncated or its lengths are inconsistent: ${what}.`, cause === undefined ? {} : { cause });
}
function malformed(what: string): InputError {
  return new InputError('TDISP_MALFORMED', `The TDISP evidence is malformed: ${what}.`);
}

function flagNames(v: number, table: [number, string][]): string[] {
  return table.filter(([bit]) => (v & bit) !== 0).map(([, n]) => n);
}

/** Parses a DEVICE_INTERFACE_REPORT structure that must fill `b` exactly (or start it, with `allowTrailing`). */
function parseInterfaceReportStruct(b: Uint8Array, allowTrailing = false): TdispInterfaceReport & { length: number } {
  const r = new ByteReader(b);
  try {
    const interfaceInfo = r.next16();
    r.next16(); // reserved
    const msixMessageControl = r.next16();
    const lnrControl = r.next16();
    const tphControl = r.next32();
    const count = r.next32();
    // Check the count against the bytes present before allocating anything.
    if (count > Math.floor(r.remaining / 16)) throw truncated(`mmio_range_count ${count} needs ${count * 16} bytes, only ${r.remaining} remain`);
    const mmioRanges: TdispMmioRange[] = [];
    for (let i = 0; i < count; i++) {
      const firstPage = r.next64();
      const numberOfPages = r.next32();
      const attributes = r.next16();
      const rangeId = r.next16();
      if (attributes & 0xfff0) throw malformed(`MMIO range ${i} sets reserved attribute bits 0x${(attributes & 0xfff0).toString(16)}`);
      mmioRanges.push({ firstPage, numberOfPages, attributes, attributeNames: flagNames(attributes, RANGE_FLAGS), rangeId });
    }
    const dsLen = r.next32();
    const deviceSpecificInfo = r.take(dsLen);
    if (r.remaining !== 0 && !allowTrailing) throw malformed(`${r.remaining} bytes follow the device-specific information`);
    if (interfaceInfo & 0xffc0) throw malformed(`interface_info sets reserved bits 0x${(interfaceInfo & 0xffc0).toString(16)}`);
    return { interfaceInfo, interfaceInfoFlags: flagNames(interfaceInfo, INTERFACE_INFO_FLAGS), msixMessageControl, lnrControl, tphControl, mmioRanges, deviceSpecificInfo, length: r.off };
  } catch (e) {
    if (e instanceof RangeError) throw truncated(e.message, e);
    throw e;
  }
}

function readHeader(r: ByteReader): { version: number; type: number; functionId: number } {
  const version = r.next8();
  const type = r.next8();
  r.next16();
  const functionId = r.next32();
  const reserved = r.next64();
  if (version !== TDISP_VERSION_1_0) {
    throw new InputError('TDISP_UNSUPPORTED_VERSION', `TDISP message version 0x${version.toString(16)} is not supported (only TDISP 1.0, 0x10).`);
  }
  if (reserved !== 0n) throw malformed('the interface_id reserved field is not zero');
  return { version, type, functionId };
}

/**
 * Parses TDISP evidence (bundle or bare report). Throws InputError with EVIDENCE_TRUNCATED,
 * TDISP_MALFORMED or TDISP_UNSUPPORTED_VERSION. Bytes after the evidence's own end are refused
 * unless `options.allowTrailing` (then counted in `trailingBytes`).
 */
export function parseTdispReport(bytes: Uint8Array, options: ParseTdispOptions = {}): TdispEvidence {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('bytes must be a Uint8Array');
  const allowTrailing = options.allowTrailing === true;
  if (bytes.length < 2 || bytes[0] !== TDISP_VERSION_1_0 || bytes[1] !== TDISP_DEVICE_INTERFACE_REPORT) {
    // Otherwise: a bare DEVICE_INTERFACE_REPORT structure (no TDISP header).
    if (bytes.length < 20) throw truncated(`${bytes.length} bytes is too short for a TDISP interface report`);
    const { length, ...report } = parseInterfaceReportStruct(bytes, allowTrailing);
    return { format: 'bare-report', report, reportMessages: bytes.subarray(0, length), length, trailingBytes: bytes.length - length };
  }
  const r = new ByteReader(bytes);
  try {
    const portions: Uint8Array[] = [];
    let functionId: number | undefined;
    let expectRemainder: number | undefined;
    let total = 0;
    while (r.remaining > 0 && r.bytes[r.off] === TDISP_VERSION_1_0 && r.bytes[r.off + 1] === TDISP_DEVICE_INTERFACE_REPORT) {
      const h = readHeader(r);
      if (functionId !== undefined && h.functionId !== functionId) throw malformed('report portions name different interfaces');
      functionId = h.functionId;
      const portion = r.next16();
      const remainder = r.next16();
      if (expectRemainder !== undefined && portion + remainder !== expectRemainder) throw malformed(`report portion lengths are inconsistent (${portion} + ${remainder} ≠ ${expectRemainder})`);
      portions.push(r.take(portion));
      total += portion;
      if (total > TDISP_MAX_REPORT_BYTES) throw malformed('the interface report exceeds 16 MiB');
      expectRemainder = remainder;
      if (remainder === 0) break;
    }
    if (expectRemainder !== 0) throw truncated(`the interface report is incomplete (${expectRemainder ?? '?'} bytes still to come)`);
    const reportMessages = bytes.subarray(0, r.off);
    const { length: _structLength, ...report } = parseInterfaceReportStruct(concatBytes(...portions));
    const out: TdispEvidence = { format: 'bundle', interfaceId: { functionId: functionId! }, report, reportMessages, length: r.off, trailingBytes: 0 };
    // What follows is told apart by the message code: TDISP DEVICE_INTERFACE_STATE (0x05) or SPDM GET_MEASUREMENTS (0xe0).
    const isState = r.remaining >= 2 && r.bytes[r.off + 1] !== 0xe0 && (!allowTrailing || (r.bytes[r.off] === TDISP_VERSION_1_0 && r.bytes[r.off + 1] === TDISP_DEVICE_INTERFACE_STATE));
    if (isState) {
      const start = r.off;
      const h = readHeader(r);
      if (h.type !== TDISP_DEVICE_INTERFACE_STATE) throw malformed(`unexpected TDISP message type 0x${h.type.toString(16)} after the report`);
      if (h.functionId !== functionId) throw malformed('the state message names a different interface than the report');
      const value = r.next8();
      out.state = { value, name: TDI_STATES[value] ?? 'RESERVED', message: bytes.subarray(start, r.off) };
    }
    out.length = r.off;
    if (r.remaining > 0) {
      if (r.remaining >= 2 && r.bytes[r.off + 1] === 0xe0) {
        out.spdm = parseSpdmMeasurements(bytes.subarray(r.off), { allowTrailing });
        out.length = r.off + out.spdm.length;
      } else if (!allowTrailing) {
        throw malformed(`${r.remaining} bytes after the TDISP messages are not an SPDM GET_MEASUREMENTS transcript`);
      }
    }
    out.trailingBytes = bytes.length - out.length;
    return out;
  } catch (e) {
    if (e instanceof RangeError) throw truncated(e.message, e);
    throw e;
  }
}

/** Builds a DEVICE_INTERFACE_REPORT structure (simulated DSM). */
export function buildInterfaceReportStruct(r: Omit<TdispInterfaceReport, 'interfaceInfoFlags' | 'mmioRanges'> & { mmioRanges: Omit<TdispMmioRange, 'attributeNames'>[] }): Uint8Array {
  const w = new ByteWriter().u16(r.interfaceInfo).u16(0).u16(r.msixMessageControl).u16(r.lnrControl).u32(r.tphControl).u32(r.mmioRanges.length);
  for (const m of r.mmioRanges) w.u64(m.firstPage).u32(m.numberOfPages).u16(m.attributes).u16(m.rangeId);
  return w.u32(r.deviceSpecificInfo.length).bytes(r.deviceSpecificInfo).finish();
}

/** Wraps a report structure in one DEVICE_INTERFACE_REPORT response message. */
export function buildInterfaceReportMessage(functionId: number, report: Uint8Array): Uint8Array {
  if (report.length > 0xffff) throw new RangeError('report longer than one portion (65535 bytes)');
  return new ByteWriter().u8(TDISP_VERSION_1_0).u8(TDISP_DEVICE_INTERFACE_REPORT).u16(0).u32(functionId).u64(0n).u16(report.length).u16(0).bytes(report).finish();
}

/** A DEVICE_INTERFACE_STATE response message. */
export function buildInterfaceStateMessage(functionId: number, state: number): Uint8Array {
  return new ByteWriter().u8(TDISP_VERSION_1_0).u8(TDISP_DEVICE_INTERFACE_STATE).u16(0).u32(functionId).u64(0n).u8(state).finish();
}

/** SHA-384 over the report messages ‖ state message: what the simulated DSM's binding block holds. */
export function tdispBindingDigest(reportMessages: Uint8Array, stateMessage: Uint8Array | undefined): Uint8Array {
  const h = createHash('sha384').update(reportMessages);
  if (stateMessage) h.update(stateMessage);
  return new Uint8Array(h.digest());
}

function bdf(functionId: number): string {
  // function_id: bits 15:0 requester ID (bus 15:8, device 7:3, function 2:0), 23:16 segment when valid (bit 24).
  const rid = functionId & 0xffff;
  const seg = functionId & (1 << 24) ? (functionId >>> 16) & 0xff : 0;
  const h = (n: number, w: number): string => n.toString(16).padStart(w, '0');
  return `${h(seg, 4)}:${h(rid >> 8, 2)}:${h((rid >> 3) & 0x1f, 2)}.${rid & 7}`;
}

function claimsOf(ev: TdispEvidence): Record<string, unknown> {
  const c: Record<string, unknown> = {
    platform: 'tdisp',
    tdiState: ev.state?.name ?? null,
    tdiStateValue: ev.state?.value ?? null,
    interfaceInfo: ev.report.interfaceInfoFlags,
    msixMessageControl: ev.report.msixMessageControl,
    lnrControl: ev.report.lnrControl,
    tphControl: ev.report.tphControl,
    mmioRanges: ev.report.mmioRanges.map((m) => ({ firstPage: `0x${m.firstPage.toString(16)}`, numberOfPages: m.numberOfPages, attributes: m.attributeNames, rangeId: m.rangeId })),
    deviceSpecificInfo: toHex(ev.report.deviceSpecificInfo),
    interfaceReportDigest: toHex(tdispBindingDigest(ev.reportMessages, ev.state?.message)),
  };
  if (ev.interfaceId) {
    c.functionId = ev.interfaceId.functionId;
    c.pciAddress = bdf(ev.interfaceId.functionId);
  }
  if (ev.spdm) {
    c.nonce = ev.spdm.request.nonce ? toHex(ev.spdm.request.nonce) : null;
    const m: Record<string, string> = {};
    for (const b of ev.spdm.response.blocks) m[String(b.index)] = toHex(b.value);
    c.measurements = m;
  }
  return c;
}

/**
 * Verifies TDISP evidence: structure (above), then — only when the bundle carries the DSM's signed
 * SPDM transcript — the device chain (options.certs, leaf first) to a trusted root (the NVIDIA Device
 * Identity CA, or a simulated root with allowSimulated), the SPDM 1.1 signature, the nonce against
 * options.expectedNonce and the binding block. A report without a signed transcript is refused with
 * TDISP_UNAUTHENTICATED (its integrity must then come from a CPU report covering its digest).
 * Evidence that parses never throws: failures are verdicts with a stable code; unreadable evidence
 * throws InputError (EVIDENCE_TRUNCATED, TDISP_MALFORMED, TDISP_UNSUPPORTED_VERSION).
 */
export async function verifyTdispReport(bytes: Uint8Array, options: VerifyEvidenceOptions = {}): Promise<EvidenceVerdict> {
  const at = options.at ?? new Date();
  // Unreadable evidence throws (exit 2), as for every other kind: it is bad input, not a refusal.
  const ev = parseTdispReport(bytes);
  const claims = claimsOf(ev);
  const warnings: string[] = ['No public TDISP captures exist: this verifier has only been exercised with simulated evidence.'];
  const verdict = (ok: boolean, simulated: boolean, code: string | undefined, message: string, chain: string[] = []): EvidenceVerdict => ({
    kind: 'tdisp',
    verified: ok,
    simulated,
    ...(code ? { code } : {}),
    message,
    chain,
    claims,
    warnings,
  });
  if (ev.state && ev.state.name === 'RESERVED') return verdict(false, false, 'TDISP_MALFORMED', `TDI state ${ev.state.value} is reserved (0 CONFIG_UNLOCKED, 1 CONFIG_LOCKED, 2 RUN, 3 ERROR).`);
  if (!ev.spdm) {
    return verdict(false, false, 'TDISP_UNAUTHENTICATED', 'The TDISP interface report carries no signed SPDM measurement transcript, so nothing here authenticates it; verify it through the TSM / CPU report that covers its digest (claims.interfaceReportDigest).');
  }
  const ders = (options.certs ?? []).flatMap((c) => certificatesFromBytes(c));
  const chain = verifyDeviceChain(ders, { pinnedRoots: nvidiaDeviceRoots(), at, allowSimulated: options.allowSimulated === true, simulatedRoots: options.simulatedRoots, prefix: 'TDISP' });
  if (!chain.ok) return verdict(false, chain.simulated, chain.code, chain.message, chain.subjects);
  const sim = chain.simulated;
  if (chain.certs.length < 2 || chain.certs[0]!.subject === chain.certs[0]!.issuer) {
    return verdict(false, sim, 'TDISP_CHAIN_INCOMPLETE', `the chain has no device (DSM) certificate, only "${chain.subjects[0]}".`, chain.subjects);
  }
  const s = ev.spdm;
  if (s.version !== 0x11) return verdict(false, sim, 'TDISP_UNSUPPORTED_VERSION', `SPDM ${s.version >> 4}.${s.version & 0xf} transcripts are not supported (only SPDM 1.1 signatures).`, chain.subjects);
  if (!s.signature || !s.request.nonce) return verdict(false, sim, 'TDISP_UNAUTHENTICATED', 'the SPDM measurement request did not ask for a signature.', chain.subjects);
  let ok = false;
  try {
    ok = cryptoVerify('sha384', buf(s.signedBytes), (chain.certs[0] as X509Certificate).publicKey, buf(rawEcdsaToDer(s.signature)));
  } catch {
    ok = false;
  }
  if (!ok) return verdict(false, sim, 'TDISP_BAD_SIGNATURE', `the DSM's SPDM measurement signature does not verify with the key of "${subjectName(chain.certs[0]!)}".`, chain.subjects);
  if (options.expectedNonce) {
    if (!bytesEqual(s.request.nonce, options.expectedNonce)) return verdict(false, sim, 'TDISP_NONCE_MISMATCH', `the transcript's nonce ${toHex(s.request.nonce)} is not the expected ${toHex(options.expectedNonce)}.`, chain.subjects);
  } else {
    warnings.push('nonce not checked: no expected nonce was given, so freshness is not proven');
  }
  const block = s.response.blocks.find((b) => b.index === TDISP_BINDING_BLOCK_INDEX);
  const digest = tdispBindingDigest(ev.reportMessages, ev.state?.message);
  if (!block || !bytesEqual(block.value, digest)) {
    return verdict(false, sim, 'TDISP_REPORT_UNBOUND', block ? 'the signed transcript commits to a different interface report or state than the one given (binding block mismatch).' : `the signed transcript has no binding block (index 0x${TDISP_BINDING_BLOCK_INDEX.toString(16)}) committing to the interface report.`, chain.subjects);
  }
  if (!ev.state) warnings.push('no DEVICE_INTERFACE_STATE message: the TDI state is unknown');
  if (sim) warnings.unshift('SIMULATED evidence: accepted only because allowSimulated was set; it says nothing about real hardware');
  return verdict(true, sim, undefined, `TDISP interface report verified (TDI ${ev.state?.name ?? 'state unknown'}, ${ev.report.mmioRanges.length} MMIO ranges)`, chain.subjects);
}
