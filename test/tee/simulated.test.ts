import { X509Certificate } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { createSimulatedPlatform, isSimulatedRoot, SIMULATED_MARKER, simulatedTrustAnchors, type SimulatedPlatform } from '../../src/attest/simulated/index.js';
import { parseNvidiaEvidence, verifyNvidiaEvidence } from '../../src/attest/nvidia/index.js';
import { parseTdispReport, verifyTdispReport } from '../../src/attest/tdisp/index.js';
import { verifyEvidence } from '../../src/attest/index.js';
import { verifySnpReport } from '../../src/attest/snp/verify.js';
import { verifyTdxQuote } from '../../src/attest/tdx/verify.js';

let p: SimulatedPlatform;
const nonce = new Uint8Array(32).map((_, i) => (i * 7 + 1) % 251);
const reportData = new Uint8Array(64).map((_, i) => i % 251);

beforeAll(async () => {
  p = await createSimulatedPlatform();
}, 30_000);

describe('simulated platform', () => {
  it('every root is self-signed and says SIMULATED, and is registered in this process', () => {
    for (const r of p.trustAnchors) {
      const c = new X509Certificate(Buffer.from(r));
      expect(c.subject).toContain(SIMULATED_MARKER);
      expect(isSimulatedRoot(r)).toBe(true);
    }
    const reg = simulatedTrustAnchors().map((r) => Buffer.from(r).toString('hex'));
    for (const r of p.trustAnchors) expect(reg).toContain(Buffer.from(r).toString('hex'));
  });

  it('every certificate of every chain says SIMULATED', () => {
    for (const e of [p.snpReport(reportData), p.tdxQuote(reportData), p.nvidiaReport(nonce), p.tdispReport(nonce)]) {
      expect(e.simulated).toBe(true);
      for (const c of e.certs) expect(new X509Certificate(Buffer.from(c)).subject).toContain(SIMULATED_MARKER);
    }
  });

  it('NVIDIA: real SPDM layout round-trips through verifyNvidiaEvidence with allowSimulated', async () => {
    const e = p.nvidiaReport(nonce);
    const parsed = parseNvidiaEvidence(e.evidence);
    expect(parsed.entries[0]!.report.response.blocks.length).toBe(64);
    const raw = parseNvidiaEvidence(e.spdm!);
    expect(raw.format).toBe('spdm');
    const v = await verifyNvidiaEvidence(e.evidence, { allowSimulated: true, expectedNonce: nonce, simulatedRoots: p.trustAnchors });
    expect(v.code).toBeUndefined();
    expect([v.verified, v.simulated]).toEqual([true, true]);
    expect(v.claims.ccMode).toBe(true);
    expect(v.claims.fwidBound).toBe(true);
    expect(v.claims.vbiosVersion).toBe(p.measurements.gpuVbios);
    expect(v.warnings[0]).toMatch(/SIMULATED/);
    // Raw SPDM bytes with the chain passed separately verify too (CC mode then unknown).
    const v2 = await verifyNvidiaEvidence(e.spdm!, { allowSimulated: true, certs: e.certs });
    expect([v2.verified, v2.claims.ccMode]).toEqual([true, null]);
  });

  it('NVIDIA: refused without allowSimulated, and says so', async () => {
    const e = p.nvidiaReport(nonce);
    const v = await verifyNvidiaEvidence(e.evidence, { expectedNonce: nonce });
    expect([v.verified, v.simulated, v.code]).toEqual([false, true, 'EVIDENCE_SIMULATED']);
    expect(v.message).toMatch(/SIMULATED/);
  });

  it('NVIDIA: simulated RIMs verify and the measurements match; a wrong RIM measurement is caught', async () => {
    const e = p.nvidiaReport(nonce);
    const rims = p.nvidiaRims();
    const v = await verifyNvidiaEvidence(e.evidence, { allowSimulated: true, rims });
    expect(v.code).toBeUndefined();
    expect(v.claims.rim).toEqual({ driver: p.measurements.gpuDriver, vbios: p.measurements.gpuVbios.toUpperCase(), compared: 40, mismatched: [] });
    // Without allowSimulated the simulated RIM chain is refused too.
    const v2 = await verifyNvidiaEvidence(e.spdm!, { certs: e.certs, rims });
    expect(v2.code).toBe('EVIDENCE_SIMULATED');
  });

  it('NVIDIA: a nonce mismatch and a report altered after signing fail', async () => {
    const e = p.nvidiaReport(nonce);
    const other = nonce.slice();
    other[31]! ^= 0xff;
    expect((await verifyNvidiaEvidence(e.evidence, { allowSimulated: true, expectedNonce: other })).code).toBe('NV_NONCE_MISMATCH');
    const spdm = e.spdm!.slice();
    spdm[200]! ^= 4;
    expect((await verifyNvidiaEvidence(spdm, { allowSimulated: true, certs: e.certs })).code).toBe('NV_BAD_SIGNATURE');
  });

  it('TDISP: round-trips (TDI RUN, MMIO ranges) and is refused without allowSimulated', async () => {
    const e = p.tdispReport(nonce);
    const parsed = parseTdispReport(e.evidence);
    expect(parsed.state?.name).toBe('RUN');
    expect(parsed.report.mmioRanges.map((m) => m.attributeNames)).toEqual([[], ['MSIX_TABLE'], ['MSIX_PBA']]);
    const v = await verifyTdispReport(e.evidence, { allowSimulated: true, certs: e.certs, expectedNonce: nonce });
    expect(v.code).toBeUndefined();
    expect([v.verified, v.simulated, v.claims.tdiState]).toEqual([true, true, 'RUN']);
    const refused = await verifyTdispReport(e.evidence, { certs: e.certs });
    expect([refused.verified, refused.code]).toEqual([false, 'EVIDENCE_SIMULATED']);
  });

  it('TDISP: a swapped interface report is unbound, a bare report is unauthenticated', async () => {
    const a = p.tdispReport(nonce);
    const msgLen = 16 + 4 + (a.evidence[16]! | (a.evidence[17]! << 8));
    const tampered = a.evidence.slice();
    tampered[msgLen - 1]! ^= 0x01; // last byte of the device-specific info
    const v = await verifyTdispReport(tampered, { allowSimulated: true, certs: a.certs });
    expect(v.code).toBe('TDISP_REPORT_UNBOUND');
    const bare = a.evidence.subarray(20, msgLen);
    const v2 = await verifyTdispReport(bare, { allowSimulated: true, certs: a.certs });
    expect([v2.verified, v2.code]).toEqual([false, 'TDISP_UNAUTHENTICATED']);
  });

  it('SEV-SNP: the simulated report verifies through the SNP verifier with the simulated roots, and only then', async () => {
    const e = p.snpReport(reportData);
    expect(e.evidence.length).toBe(0x4a0);
    const v = await verifySnpReport(e.evidence, { allowSimulated: true, simulatedRoots: p.trustAnchors, certs: e.certs, expectedReportData: reportData });
    expect(v.code).toBeUndefined();
    expect([v.verified, v.simulated]).toEqual([true, true]);
    expect(v.claims.measurement).toBe(p.measurements.snp);
    const refused = await verifySnpReport(e.evidence, { simulatedRoots: p.trustAnchors, certs: e.certs });
    expect([refused.verified, refused.code]).toEqual([false, 'EVIDENCE_SIMULATED']);
  });

  it('TDX: the simulated quote v4 verifies through the TDX verifier with the simulated roots, and only then', async () => {
    const e = p.tdxQuote(reportData);
    const v = await verifyTdxQuote(e.evidence, { allowSimulated: true, simulatedRoots: p.trustAnchors, expectedReportData: reportData });
    expect(v.code).toBeUndefined();
    expect([v.verified, v.simulated]).toEqual([true, true]);
    const refused = await verifyTdxQuote(e.evidence, { simulatedRoots: p.trustAnchors });
    expect([refused.verified, refused.code]).toEqual([false, 'EVIDENCE_SIMULATED']);
  });

  it('content detection dispatches all four kinds (verifyEvidence)', async () => {
    const opts = { allowSimulated: true, simulatedRoots: p.trustAnchors };
    expect((await verifyEvidence(p.snpReport(reportData).evidence, { ...opts, certs: p.snpReport(reportData).certs })).kind).toBe('sev-snp');
    const t = await verifyEvidence(p.tdxQuote(reportData).evidence, opts);
    expect([t.kind, t.verified]).toEqual(['tdx', true]);
    const n = await verifyEvidence(p.nvidiaReport(nonce).evidence, opts);
    expect([n.kind, n.verified]).toEqual(['nvidia-gpu', true]);
    const d = p.tdispReport(nonce);
    const td = await verifyEvidence(d.evidence, { ...opts, certs: d.certs });
    expect([td.kind, td.verified]).toEqual(['tdisp', true]);
  });
});
