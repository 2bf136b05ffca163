/**
 * Byte layouts of the Linux guest attestation ioctls, as pure functions, so that the exact bytes the
 * addon hands to the kernel are built (and the kernel's answers parsed) here and unit-tested without
 * hardware. The addon (native/tee_napi.cc) only adds the pointers and performs the ioctl; it checks
 * the same sizes with static_asserts.
 *
 * Sources: include/uapi/linux/sev-guest.h and include/uapi/linux/tdx-guest.h (torvalds/linux), which
 * define the request/response structures byte for byte.
 */
import { InputError } from '../../errors.js';
import { ByteReader, ByteWriter } from '../../crypto/bytes.js';

/** `_IOC(dir, type, nr, size)` for the usual Linux encoding (x86-64, arm64). */
function ioc(dir: number, type: string, nr: number, size: number): number {
  return ((dir << 30) | (size << 16) | (type.charCodeAt(0) << 8) | nr) >>> 0;
}
/** `_IOWR(type, nr, size)`. */
const iowr = (type: string, nr: number, size: number): number => ioc(3, type, nr, size);

const SNP_GUEST_REQUEST_IOCTL_BYTES = 32;
const SNP_REPORT_REQ_BYTES = 96;
/** SEV_FW_BLOB_MAX_SIZE: the largest certificate buffer the sev-guest driver accepts. */
export const SNP_CERTS_MAX_BYTES = 16 * 1024;
export const SNP_GET_REPORT = iowr('S', 0x0, SNP_GUEST_REQUEST_IOCTL_BYTES); // 0xC0205300
export const SNP_GET_EXT_REPORT = iowr('S', 0x2, SNP_GUEST_REQUEST_IOCTL_BYTES); // 0xC0205302
/** vmm_error values (upper half of exitinfo2). */
export const SNP_GUEST_VMM_ERR_INVALID_LEN = 1;

const TDX_REPORTDATA_BYTES = 64;
const TDX_REPORT_BYTES = 1024;
const TDX_REPORT_REQ_BYTES = TDX_REPORTDATA_BYTES + TDX_REPORT_BYTES;
export const TDX_CMD_GET_REPORT0 = iowr('T', 1, TDX_REPORT_REQ_BYTES); // 0xC4405401

function checkData(b: Uint8Array, max: number, name: string): void {
  if (!(b instanceof Uint8Array)) throw new TypeError(`${name} must be a Uint8Array`);
  if (b.length > max) throw new RangeError(`${name} must be at most ${max} bytes, got ${b.length}`);
}

/** `struct snp_report_req { u8 user_data[64]; u32 vmpl; u8 rsvd[28]; }` (96 bytes). */
export function buildSnpReportReq(userData: Uint8Array, vmpl = 0): Uint8Array {
  checkData(userData, 64, 'userData');
  if (!Number.isInteger(vmpl) || vmpl < 0 || vmpl > 3) throw new RangeError(`vmpl must be 0..3, got ${vmpl}`);
  const w = new ByteWriter().bytes(userData).zeros(64 - userData.length).u32(vmpl).zeros(28);
  return w.finish();
}

/**
 * `struct snp_guest_request_ioctl { u8 msg_version; u64 req_data; u64 resp_data; u64 exitinfo2; }`
 * (32 bytes: msg_version at 0, pointers at 8 and 16, exitinfo2 at 24). msg_version must be 1.
 */
export function buildSnpGuestRequest(reqPtr: bigint, respPtr: bigint, msgVersion = 1): Uint8Array {
  return new ByteWriter().u8(msgVersion).zeros(7).u64(reqPtr).u64(respPtr).u64(0n).finish();
}

/** `struct snp_ext_report_req { struct snp_report_req data; u64 certs_address; u32 certs_len; }` (112 bytes, 4 tail padding). */
export function buildSnpExtReportReq(req: Uint8Array, certsAddress: bigint, certsLen: number): Uint8Array {
  if (req.length !== SNP_REPORT_REQ_BYTES) throw new RangeError(`req must be ${SNP_REPORT_REQ_BYTES} bytes`);
  if (certsLen % 4096 !== 0 || certsLen > SNP_CERTS_MAX_BYTES) throw new RangeError(`certsLen must be page-aligned and at most ${SNP_CERTS_MAX_BYTES}, got ${certsLen}`);
  return new ByteWriter().bytes(req).u64(certsAddress).u32(certsLen).zeros(4).finish();
}

/** exitinfo2 split into the firmware and VMM error codes. */
export function parseSnpExitInfo2(exitinfo2: bigint): { fwError: number; vmmError: number } {
  return { fwError: Number(exitinfo2 & 0xffffffffn), vmmError: Number((exitinfo2 >> 32n) & 0xffffffffn) };
}

export interface SnpReportResponse {
  status: number;
  reportSize: number;
  report: Uint8Array;
}

/**
 * Parses MSG_REPORT_RSP (`snp_report_resp.data`): STATUS u32 at 0 (0 = success, 0x16 = invalid
 * parameters), REPORT_SIZE u32 at 4, the report at 0x20.
 */
export function parseSnpReportResp(resp: Uint8Array): SnpReportResponse {
  const r = new ByteReader(resp);
  try {
    const status = r.next32();
    const reportSize = r.next32();
    if (status !== 0) throw new InputError('SNP_FIRMWARE_ERROR', `The SEV firmware refused the report request (MSG_REPORT_RSP status 0x${status.toString(16)}${status === 0x16 ? ': invalid parameters' : ''}).`);
    if (reportSize < 0x4a0 || 0x20 + reportSize > resp.length) {
      throw new InputError('EVIDENCE_TRUNCATED', `MSG_REPORT_RSP says REPORT_SIZE ${reportSize}, which does not fit the ${resp.length}-byte response (or is below 0x4A0).`);
    }
    return { status, reportSize, report: resp.slice(0x20, 0x20 + reportSize) };
  } catch (e) {
    if (e instanceof RangeError) throw new InputError('EVIDENCE_TRUNCATED', `MSG_REPORT_RSP is truncated (${resp.length} bytes).`);
    throw e;
  }
}

/** `struct tdx_report_req { u8 reportdata[64]; u8 tdreport[1024]; }` with the TDREPORT zeroed. */
export function buildTdxReportReq(reportData: Uint8Array): Uint8Array {
  checkData(reportData, TDX_REPORTDATA_BYTES, 'reportData');
  return new ByteWriter().bytes(reportData).zeros(TDX_REPORTDATA_BYTES - reportData.length).zeros(TDX_REPORT_BYTES).finish();
}

/** The TDREPORT from a `tdx_report_req` the kernel filled; checks REPORTTYPE 0x81 and the echoed REPORTDATA. */
export function parseTdxReportReq(buf: Uint8Array, expectedReportData?: Uint8Array): Uint8Array {
  if (buf.length !== TDX_REPORT_REQ_BYTES) throw new InputError('EVIDENCE_TRUNCATED', `tdx_report_req must be ${TDX_REPORT_REQ_BYTES} bytes, got ${buf.length}.`);
  const td = buf.slice(TDX_REPORTDATA_BYTES);
  if (td[0] !== 0x81) throw new InputError('TDX_REPORT_MALFORMED', `The TDREPORT's REPORTTYPE is 0x${td[0]!.toString(16)}, not 0x81 (TDX).`);
  if (expectedReportData) {
    const rd = td.subarray(128, 192);
    const want = new Uint8Array(64);
    want.set(expectedReportData);
    if (!rd.every((b, i) => b === want[i])) throw new InputError('TDX_REPORT_MALFORMED', 'The TDREPORT does not carry the REPORTDATA that was requested.');
  }
  return td;
}
