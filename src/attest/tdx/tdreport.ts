/**
 * TDREPORT_STRUCT (1024 bytes, Intel TDX Module ABI; `TDX_CMD_GET_REPORT0` output). Its MAC is keyed
 * by a CPU-internal key, so it can be checked only on the platform that produced it (by the QE):
 * off-platform we can check the two internal SHA-384 hashes, never the MAC. A TDREPORT is
 * therefore inspectable but never "verified" remotely; a quote is what remote parties verify.
 */
import { createHash } from 'node:crypto';
import { InputError } from '../../errors.js';
import { ByteReader, bytesEqual, toHex } from '../../crypto/bytes.js';
import type { TdMeasurements } from './quote.js';

export const TDREPORT_BYTES = 1024;

/** A parsed TDREPORT. */
export interface TdReport {
  reportType: { type: number; subtype: number; version: number };
  cpuSvn: string;
  teeTcbInfoHash: string;
  teeInfoHash: string;
  reportData: string;
  mac: string;
  teeTcbInfo: { valid: string; teeTcbSvn: string; mrSeam: string; mrSignerSeam: string; attributes: string; teeTcbSvn2?: string };
  tdInfo: TdMeasurements & { attributes: string; debug: boolean; servTdHash?: string };
  /** SHA-384(TEE_TCB_INFO) == TEE_TCB_INFO_HASH. */
  teeTcbInfoHashValid: boolean;
  /** SHA-384(TDINFO) == TEE_INFO_HASH. */
  teeInfoHashValid: boolean;
}

/**
 * Parses a TDREPORT. The input must be exactly 1024 bytes with REPORTTYPE.type 0x81.
 * @throws InputError EVIDENCE_TRUNCATED, EVIDENCE_MALFORMED, EVIDENCE_UNSUPPORTED_VERSION
 */
export function parseTdReport(bytes: Uint8Array): TdReport {
  const r = new ByteReader(bytes, 'TDREPORT');
  r.need(0, TDREPORT_BYTES, 'TDREPORT (1024 bytes)');
  if (bytes.length !== TDREPORT_BYTES) throw new InputError('EVIDENCE_MALFORMED', `A TDREPORT is exactly 1024 bytes; this input has ${bytes.length}.`);
  const type = r.u8(0, 'REPORTTYPE.type');
  if (type !== 0x81) throw new InputError('EVIDENCE_MALFORMED', `TDREPORT REPORTTYPE.type is 0x${type.toString(16)}; a TDX report has 0x81.`);
  const version = r.u8(2, 'REPORTTYPE.version');
  if (version > 1) throw new InputError('EVIDENCE_UNSUPPORTED_VERSION', `TDREPORT version ${version} is not supported (0, 1).`);
  const h = (o: number, n: number, f: string) => toHex(r.slice(o, n, f));
  const sha384 = (o: number, n: number) => new Uint8Array(createHash('sha384').update(bytes.subarray(o, o + n)).digest());
  const tcbSvn2 = r.slice(384, 16, 'TEE_TCB_SVN2');
  const servTd = r.slice(912, 48, 'SERVTD_HASH');
  const attr = r.u64(512, 'TD ATTRIBUTES');
  const rep: TdReport = {
    reportType: { type, subtype: r.u8(1, 'REPORTTYPE.subtype'), version },
    cpuSvn: h(16, 16, 'CPUSVN'),
    teeTcbInfoHash: h(32, 48, 'TEE_TCB_INFO_HASH'),
    teeInfoHash: h(80, 48, 'TEE_INFO_HASH'),
    reportData: h(128, 64, 'REPORTDATA'),
    mac: h(224, 32, 'MAC'),
    teeTcbInfo: {
      valid: h(256, 8, 'VALID'),
      teeTcbSvn: h(264, 16, 'TEE_TCB_SVN'),
      mrSeam: h(280, 48, 'MRSEAM'),
      mrSignerSeam: h(328, 48, 'MRSIGNERSEAM'),
      attributes: h(376, 8, 'ATTRIBUTES'),
    },
    tdInfo: {
      attributes: '0x' + attr.toString(16).padStart(16, '0'),
      debug: (attr & 1n) === 1n,
      xfam: h(520, 8, 'XFAM'),
      mrTd: h(528, 48, 'MRTD'),
      mrConfigId: h(576, 48, 'MRCONFIGID'),
      mrOwner: h(624, 48, 'MROWNER'),
      mrOwnerConfig: h(672, 48, 'MROWNERCONFIG'),
      rtmrs: [h(720, 48, 'RTMR0'), h(768, 48, 'RTMR1'), h(816, 48, 'RTMR2'), h(864, 48, 'RTMR3')],
    },
    teeTcbInfoHashValid: bytesEqual(sha384(256, 239), r.slice(32, 48, 'TEE_TCB_INFO_HASH')),
    teeInfoHashValid: bytesEqual(sha384(512, 512), r.slice(80, 48, 'TEE_INFO_HASH')),
  };
  if (version === 1 || tcbSvn2.some((b) => b !== 0)) rep.teeTcbInfo.teeTcbSvn2 = toHex(tcbSvn2);
  if (version === 1 || servTd.some((b) => b !== 0)) rep.tdInfo.servTdHash = toHex(servTd);
  return rep;
}
