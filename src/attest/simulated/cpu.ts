/**
 * Simulated CPU evidence in the real layouts: an SEV-SNP ATTESTATION_REPORT v3 (Milan) signed by the
 * VCEK, and a TDX quote v4 (ECDSA P-256 attestation key, QE report, PEM PCK chain inside).
 */
import { randomBytes } from 'node:crypto';
import { ByteWriter, concatBytes } from '../../crypto/bytes.js';
import { INTEL_QE_VENDOR_ID, SNP_TCB, milanTcb, padTo, sha256, sha384, signRaw, type SimulatedPki } from './pki.js';
import type { SimulatedEvidence } from './types.js';

/** SEV-SNP report with REPORT_DATA = reportData (≤ 64 bytes, zero-padded; checked by the caller). */
export function snpReport(k: SimulatedPki, reportData: Uint8Array): SimulatedEvidence {
  const tcb = milanTcb(SNP_TCB);
  const w = new ByteWriter()
    .u32(3) // VERSION
    .u32(1) // GUEST_SVN
    .u64(0x30000n) // POLICY: SMT allowed, reserved bit 17, debug off
    .zeros(16) // FAMILY_ID
    .zeros(16) // IMAGE_ID
    .u32(0) // VMPL
    .u32(1) // SIGNATURE_ALGO: ECDSA P-384 / SHA-384
    .bytes(tcb) // CURRENT_TCB
    .u64(1n) // PLATFORM_INFO: SMT enabled
    .u32(0) // KEY_INFO: VCEK
    .u32(0)
    .bytes(padTo(reportData, 64, 'reportData'))
    .bytes(k.snpMeasurement)
    .zeros(32) // HOST_DATA
    .zeros(48) // ID_KEY_DIGEST
    .zeros(48) // AUTHOR_KEY_DIGEST
    .bytes(new Uint8Array(randomBytes(32))) // REPORT_ID
    .bytes(new Uint8Array(32).fill(0xff)) // REPORT_ID_MA: no migration agent
    .bytes(tcb) // REPORTED_TCB
    .u8(0x19)
    .u8(0x01)
    .u8(0x01) // CPUID family/model/stepping: Milan
    .zeros(21)
    .bytes(k.chipId)
    .bytes(tcb) // COMMITTED_TCB
    .u8(4)
    .u8(55)
    .u8(1)
    .u8(0) // CURRENT build/minor/major
    .u8(4)
    .u8(55)
    .u8(1)
    .u8(0) // COMMITTED build/minor/major
    .bytes(tcb); // LAUNCH_TCB
  w.zeros(0x2a0 - w.length);
  const signed = w.finish();
  const rs = signRaw('sha384', signed, k.vcek.key.privateKey);
  // R and S are stored little-endian, zero-extended to 72 bytes each.
  const le = (x: Uint8Array): Uint8Array => padTo(x.slice().reverse(), 72, 'signature component');
  const report = concatBytes(signed, le(rs.subarray(0, 48)), le(rs.subarray(48)), new Uint8Array(0x4a0 - 0x2a0 - 144));
  return { kind: 'sev-snp', evidence: report, certs: [k.vcek.der, k.ask.der, k.ark.der], simulated: true };
}

/** TDX quote v4 with REPORTDATA = reportData (≤ 64 bytes, zero-padded; checked by the caller). */
export function tdxQuote(k: SimulatedPki, reportData: Uint8Array): SimulatedEvidence {
  const header = new ByteWriter().u16(4).u16(2).u32(0x81).u32(0).bytes(INTEL_QE_VENDOR_ID).zeros(20).finish();
  const bodyW = new ByteWriter()
    .bytes(new Uint8Array([0x03, 0x01, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])) // TEE_TCB_SVN
    .bytes(sha384('SIMULATED TDX module')) // MRSEAM
    .zeros(48) // MRSIGNERSEAM (Intel module: zero)
    .zeros(8) // SEAM_ATTRIBUTES
    .u64(0x10000000n) // TD_ATTRIBUTES: SEPT_VE_DISABLE, debug off
    .u64(0x61ae7n) // XFAM
    .bytes(k.mrtd)
    .zeros(48 * 3); // MRCONFIGID, MROWNER, MROWNERCONFIG
  for (const r of k.rtmrs) bodyW.bytes(r);
  bodyW.bytes(padTo(reportData, 64, 'reportData'));
  const signedRegion = concatBytes(header, bodyW.finish());
  const sig = signRaw('sha256', signedRegion, k.attKey.privateKey);
  const jwk = k.attKey.publicKey.export({ format: 'jwk' });
  const attPub = concatBytes(new Uint8Array(Buffer.from(jwk.x!, 'base64url')), new Uint8Array(Buffer.from(jwk.y!, 'base64url')));
  const authData = new Uint8Array(32).map((_, i) => i);
  const qeRd = concatBytes(sha256(attPub, authData), new Uint8Array(32));
  const qeReport = new ByteWriter()
    .bytes(new Uint8Array(16).fill(3)) // CPUSVN
    .u32(0) // MISCSELECT
    .zeros(28)
    .bytes(new Uint8Array([0x11, 0, 0, 0, 0, 0, 0, 0, 0xe7, 0, 0, 0, 0, 0, 0, 0])) // ATTRIBUTES
    .bytes(sha256(new Uint8Array(Buffer.from('SIMULATED TD QE MRENCLAVE'))))
    .zeros(32)
    .bytes(sha256(new Uint8Array(Buffer.from('SIMULATED TD QE MRSIGNER'))))
    .zeros(96)
    .u16(2) // ISVPRODID: TD QE
    .u16(8) // ISVSVN
    .zeros(60)
    .bytes(qeRd)
    .finish();
  const qeSig = signRaw('sha256', qeReport, k.pck.key.privateKey);
  const inner = new ByteWriter().u16(5).u32(k.pckPem.length).bytes(k.pckPem).finish();
  const certData = concatBytes(qeReport, qeSig, new ByteWriter().u16(authData.length).bytes(authData).finish(), inner);
  const sigData = concatBytes(sig, attPub, new ByteWriter().u16(6).u32(certData.length).finish(), certData);
  const quote = concatBytes(signedRegion, new ByteWriter().u32(sigData.length).finish(), sigData);
  return { kind: 'tdx', evidence: quote, certs: [k.pck.der, k.intelCa.der, k.intelRoot.der], simulated: true };
}
