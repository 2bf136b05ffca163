/** TDX parsing: quotes v4/v5, TDREPORTs, PCK extension, collateral raw-text extraction, pinned root. */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectEvidence, inspectEvidence } from '../../src/attest/index.js';
import { INTEL_SGX_ROOT_CA_PEM, INTEL_SGX_ROOT_CA_SHA256 } from '../../src/attest/roots/intel.js';
import { loadCollateralDir, parsePckExtension, parseTdReport, parseTdxQuote, topLevelJsonValueText } from '../../src/attest/tdx/index.js';
import { parseCertificates, parseCrl } from '../../src/crypto/x509.js';
import { describeVectors, VECTORS_DIR } from '../helpers.js';

const TDX = join(VECTORS_DIR, 'tee', 'tdx');
const read = (f: string) => new Uint8Array(readFileSync(join(TDX, f)));
const quote = (f: string) => parseTdxQuote(read(f));
const fmspc = (f: string) => parsePckExtension(parseCertificates(quote(f).pckChainData)[0]!).fmspc;

describeVectors('TDX quotes (values from vectors/tee/PROVENANCE.md)', () => {
  it('SPR E4 v4: fields, PCK Platform CA chain, ASCII trailer ignored', () => {
    const q = quote('gtg_quote_v4_spr_e4.dat');
    expect(q.version).toBe(4);
    expect(q.attestationKeyType).toBe(2);
    expect(q.teeType).toBe(0x81);
    expect(q.qeVendorId).toBe('939a7233f79c4ca9940a0db3957f0607');
    expect(q.body.bodyType).toBe(2);
    expect(q.body.teeTcbSvn.startsWith('03000400')).toBe(true);
    expect(q.body.reportData.startsWith('6c62dec1')).toBe(true);
    expect(q.body.reportData.endsWith('281f1113')).toBe(true);
    expect(q.body.mrTd.startsWith('6363b804')).toBe(true);
    expect(q.body.mrTd.endsWith('d7215cbb')).toBe(true);
    expect(q.body.attributes.value).toBe('0x0000000040000000');
    expect(q.body.attributes.pks).toBe(true);
    expect(q.body.attributes.debug).toBe(false);
    expect(q.quoteLength).toBe(48 + 584 + 4 + 4299);
    expect(q.trailingBytes).toBe(39);
    expect(q.trailingAllZero).toBe(false);
    expect(Buffer.from(read('gtg_quote_v4_spr_e4.dat').subarray(q.quoteLength)).toString('latin1')).toBe('\nextra bytes(only for testing purpose)\n');
    expect(q.qeAuthData.length).toBe(32);
    expect(q.qeReport.mrSigner).toBe('dc9e2a7c6f948f17474e34a7fc43ed030f7c1563f1babddf6340c82e0e54a8c5');
    expect(q.qeReport.isvProdId).toBe(2);
    expect(parseCertificates(q.pckChainData).map((c) => c.commonName)).toEqual(['Intel SGX PCK Certificate', 'Intel SGX PCK Platform CA', 'Intel SGX Root CA']);
    expect(fmspc('gtg_quote_v4_spr_e4.dat')).toBe('50806f000000');
  });

  it('v5 with a TDX 1.5 body (type 3, 648 bytes): TEE_TCB_SVN2 and MRSERVICETD', () => {
    const q = quote('gtg_quote_v5_tdx15.dat');
    expect(q.version).toBe(5);
    expect(q.body.bodyType).toBe(3);
    expect(q.signedBytes.length).toBe(54 + 648);
    expect(q.body.teeTcbSvn.startsWith('0b0104')).toBe(true);
    expect(q.body.mrTd.startsWith('7348651a')).toBe(true);
    expect(q.body.mrTd.endsWith('3bc8f876')).toBe(true);
    expect(q.body.reportData.startsWith('945eaacf')).toBe(true);
    expect(q.body.reportData.endsWith('31c25c3a')).toBe(true);
    expect(q.body.teeTcbSvn2).toHaveLength(32);
    expect(q.body.mrServiceTd).toHaveLength(96);
    expect(fmspc('gtg_quote_v5_tdx15.dat')).toBe('90c06f000000');
  });

  it('v5 with a TDX 1.0 body (type 2, 584 bytes) parses like v4 (layout built from the v4 quote)', () => {
    const v4 = read('trustee_azure_quote_v4.bin');
    const q4 = parseTdxQuote(v4);
    const rest = v4.subarray(48 + 584, q4.quoteLength);
    const v5 = new Uint8Array(48 + 6 + 584 + rest.length);
    v5.set(v4.subarray(0, 48));
    v5[0] = 5;
    new DataView(v5.buffer).setUint16(48, 2, true);
    new DataView(v5.buffer).setUint32(50, 584, true);
    v5.set(v4.subarray(48, 48 + 584), 54);
    v5.set(rest, 54 + 584);
    const q5 = parseTdxQuote(v5);
    expect(q5.version).toBe(5);
    expect(q5.body).toEqual(q4.body);
    expect(q5.signedBytes.length).toBe(54 + 584);
    expect(q5.trailingBytes).toBe(0);
  });

  it('GCP quote in an 8000-byte zero-padded buffer', () => {
    const q = quote('gtg_gcp_cos113_quote_v4_padded8000.dat');
    expect(q.quoteLength).toBe(4935);
    expect(q.trailingBytes).toBe(8000 - 4935);
    expect(q.trailingAllZero).toBe(true);
    expect(q.body.reportData).toBe('00'.repeat(64));
    expect(fmspc('gtg_gcp_cos113_quote_v4_padded8000.dat')).toBe('00806f050000');
  });

  it('Azure quote (5006-byte buffer, 4936 used)', () => {
    const q = quote('trustee_azure_quote_v4.bin');
    expect(q.quoteLength).toBe(4936);
    expect(q.trailingAllZero).toBe(true);
    expect(q.body.reportData.startsWith('9734504f')).toBe(true);
    // PROVENANCE.md abbreviates this as 9734504f…e5938390; the bytes are …8e593839 then 32 zero bytes.
    expect(q.body.reportData.slice(0, 64).endsWith('8e593839')).toBe(true);
    expect(q.body.reportData.slice(64)).toBe('00'.repeat(32));
    expect(fmspc('trustee_azure_quote_v4.bin')).toBe('00806f050000');
  });

  it('debug TD: TD_ATTRIBUTES bit 0', () => {
    const q = quote('trustee_quote_v4_debug_td.dat');
    expect(q.body.attributes.debug).toBe(true);
    expect(q.body.reportData.startsWith('7c71fe2c')).toBe(true);
    expect(q.body.reportData.endsWith('71501429')).toBe(true);
    expect(fmspc('trustee_quote_v4_debug_td.dat')).toBe('50806f000000');
  });

  it('PCK extension: 16 SGX TCB components, PCESVN, PCE-ID', () => {
    const p = parsePckExtension(parseCertificates(quote('gtg_quote_v5_tdx15.dat').pckChainData)[0]!);
    expect(p.sgxTcbComponents).toHaveLength(16);
    expect(p.sgxTcbComponents.every((n) => Number.isInteger(n) && n >= 0)).toBe(true);
    expect(p.pceSvn).toBeGreaterThan(0);
    expect(p.pceId).toBe('0000');
    expect(p.cpuSvn).toHaveLength(32);
  });

  it('refuses bad versions, non-TDX quotes, truncation and inconsistent sizes with codes', () => {
    const b = read('gtg_quote_v4_spr_e4.dat');
    const v3 = b.slice();
    v3[0] = 3;
    expect(() => parseTdxQuote(v3)).toThrow(expect.objectContaining({ code: 'EVIDENCE_UNSUPPORTED_VERSION' }));
    const sgx = b.slice();
    sgx[4] = 0;
    expect(() => parseTdxQuote(sgx)).toThrow(expect.objectContaining({ code: 'EVIDENCE_UNSUPPORTED_VERSION' }));
    expect(() => parseTdxQuote(b.subarray(0, 700))).toThrow(expect.objectContaining({ code: 'EVIDENCE_TRUNCATED' }));
    const v5 = read('gtg_quote_v5_tdx15.dat').slice();
    v5[48] = 1; // SGX body
    expect(() => parseTdxQuote(v5)).toThrow(expect.objectContaining({ code: 'EVIDENCE_UNSUPPORTED_VERSION' }));
    const size = read('gtg_quote_v5_tdx15.dat').slice();
    size[50] = 0x48; // body_size 584 with type 3
    expect(() => parseTdxQuote(size)).toThrow(expect.objectContaining({ code: 'EVIDENCE_MALFORMED' }));
    const big = b.slice();
    new DataView(big.buffer).setUint32(632, 0xffffffff, true);
    expect(() => parseTdxQuote(big)).toThrow(expect.objectContaining({ code: 'EVIDENCE_TRUNCATED' }));
  });

  it('detects quotes and TDREPORTs from content, in any encoding', async () => {
    expect(detectEvidence(read('gtg_quote_v5_tdx15.dat')).format).toBe('tdx-quote');
    expect(detectEvidence(new Uint8Array(Buffer.from(Buffer.from(read('gtg_quote_v5_tdx15.dat')).toString('base64')))).format).toBe('tdx-quote');
    expect(detectEvidence(read('dcap_tdreport_tdx15.dat')).format).toBe('tdx-report');
    const azure = detectEvidence(read('trustee_azure_tdx_hcl_report.bin'));
    expect(azure.unwrapped).toBe('azure-hcl');
    expect(azure.format).toBe('tdx-report');
    const i = await inspectEvidence(read('gtg_quote_v4_spr_e4.dat'));
    expect(i.certificates).toHaveLength(3);
    expect(i.certificates[0]!.extensions).toMatchObject({ fmspc: '50806f000000' });
    expect(() => JSON.stringify(i)).not.toThrow();
  });
});

describeVectors('TDREPORT', () => {
  it('DCAP TDX 1.5 report: fields and both internal hashes', () => {
    const r = parseTdReport(read('dcap_tdreport_tdx15.dat'));
    expect(r.reportType).toEqual({ type: 0x81, subtype: 0, version: 0 });
    expect(r.teeTcbInfo.valid).toBe('ff01000000000000');
    expect(r.teeTcbInfo.teeTcbSvn.startsWith('04000500')).toBe(true);
    expect(r.tdInfo.mrTd.startsWith('bb1249bd')).toBe(true);
    expect(r.tdInfo.mrTd.endsWith('49ec95b3')).toBe(true);
    expect(r.teeTcbInfoHashValid).toBe(true);
    expect(r.teeInfoHashValid).toBe(true);
  });

  it('Azure TDREPORT matches its quote (REPORTDATA, MRTD, RTMRs)', () => {
    const r = parseTdReport(read('derived/azure_tdreport_from_hcl.dat'));
    const q = quote('trustee_azure_quote_v4.bin');
    expect(r.teeTcbInfoHashValid && r.teeInfoHashValid).toBe(true);
    expect(r.reportData).toBe(q.body.reportData);
    expect(r.tdInfo.mrTd).toBe(q.body.mrTd);
    expect(r.tdInfo.rtmrs).toEqual(q.body.rtmrs);
  });

  it('the MOCK random TDREPORT is refused', () => {
    expect(() => parseTdReport(read('negative/gtg_tdreport_MOCK_random.dat'))).toThrow(expect.objectContaining({ code: 'EVIDENCE_MALFORMED' }));
  });

  it('a changed TDINFO byte breaks the internal hash', () => {
    const b = read('dcap_tdreport_tdx15.dat').slice();
    b[600] ^= 1;
    expect(parseTdReport(b).teeInfoHashValid).toBe(false);
  });
});

describeVectors('collateral files', () => {
  it('extracts the exact signed JSON text (not a re-serialisation)', () => {
    const text = readFileSync(join(TDX, 'collateral', 'gtg_tcbinfo_tdx_90c06f000000_2026-02.json'), 'utf8');
    const v = topLevelJsonValueText(text, 'tcbInfo')!;
    expect(text.startsWith('{"tcbInfo":' + v)).toBe(true);
    expect(JSON.parse(v).fmspc).toBe('90c06f000000');
    expect(topLevelJsonValueText('{"a":"}\\"{","b":[1,{"c":2}],"tcbInfo":{"x":"]"}}', 'tcbInfo')).toBe('{"x":"]"}');
    expect(topLevelJsonValueText('{"a":1}', 'tcbInfo')).toBeUndefined();
  });

  it('loads the vectors directory: 7 TCB Infos, 2 QE Identities, issuer chains, 2 CRLs', () => {
    const set = loadCollateralDir(join(TDX, 'collateral'));
    expect(set.tcbInfos).toHaveLength(7);
    expect(set.qeIdentities).toHaveLength(2);
    expect(set.crls).toHaveLength(2);
    expect(set.certs.map((c) => c.commonName)).toContain('Intel SGX TCB Signing');
    const pckCrl = set.crls.find((c) => c.file.includes('pckcrl'))!.crl;
    expect(pckCrl.revokedSerials.size).toBe(44);
    expect(parseCrl(read('collateral/gtg_rootcacrl_2023-04.der')).revokedSerials.size).toBe(0);
  });
});

describeVectors('pinned Intel SGX Root CA', () => {
  it("equals the vectors' root and has the documented fingerprint", () => {
    const pinned = parseCertificates(INTEL_SGX_ROOT_CA_PEM)[0]!;
    const vec = parseCertificates(read('roots/intel_sgx_root_ca.pem'))[0]!;
    expect(createHash('sha256').update(pinned.der).digest('hex')).toBe(createHash('sha256').update(vec.der).digest('hex'));
    expect(INTEL_SGX_ROOT_CA_SHA256).toBe(pinned.fingerprint256);
    // PROVENANCE.md: "SHA-256 fingerprint 44:A0:19:6B:…:74:D3".
    expect(pinned.fingerprint256.startsWith('44a0196b')).toBe(true);
    expect(pinned.fingerprint256.endsWith('74d3')).toBe(true);
    expect(pinned.commonName).toBe('Intel SGX Root CA');
  });
});
