/** SEV-SNP parsing: report fields of every real vector, encodings and envelopes, VCEK/VLEK extensions, pinned roots. */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeEvidenceInput, encodeSnpReportFromSerde, parseSnpCertTable } from '../../src/attest/core/input.js';
import { AMD_ROOTS } from '../../src/attest/roots/amd.js';
import { parseSnpReport, parseVekExtensions, snpProductFromCpuid, snpSignatureRs } from '../../src/attest/snp/index.js';
import { parseCertificates } from '../../src/crypto/x509.js';
import { detectEvidence, inspectEvidence } from '../../src/attest/index.js';
import { describeVectors, itVectors, VECTORS_DIR } from '../helpers.js';

const SNP = join(VECTORS_DIR, 'tee', 'snp');
const read = (f: string) => new Uint8Array(readFileSync(join(SNP, f)));
const report = (f: string) => parseSnpReport(decodeEvidenceInput(read(f)).bytes);

describe('SEV-SNP report fields (values from vectors/tee/PROVENANCE.md)', () => {
  itVectors('go-sev-guest Milan v2', () => {
    const r = report('gsg_milan_v2_attestation.bin');
    expect(r.version).toBe(2);
    expect(r.vmpl).toBe(0);
    expect(r.policy.value).toBe('0xb0000');
    expect(r.policy.debug).toBe(true); // 0xb0000 has bit 19
    expect(r.policy.reserved17).toBe(true);
    expect(r.reportData.startsWith('0102030405' + '00'.repeat(10))).toBe(true);
    expect(r.measurement.startsWith('b07af962')).toBe(true);
    expect(r.measurement.endsWith('2b01')).toBe(true);
    expect(r.reportedTcb).toMatchObject({ layout: 'legacy', bootloader: 2, tee: 0, snp: 5, microcode: 68 });
    expect(r.chipId.startsWith('3ac3fe21')).toBe(true);
    expect(r.chipId.endsWith('006b5d')).toBe(true);
    expect(r.cpuid).toBeUndefined();
    expect(r.keyInfo.signingKey).toBe('vcek');
    expect(r.anomalies).toEqual([]);
  });

  itVectors('virtee Milan v2 from ASCII hex', () => {
    const d = decodeEvidenceInput(read('virtee_milan_v2_report.hex'));
    expect(d.encoding).toBe('hex');
    const r = parseSnpReport(d.bytes);
    expect(r.policy.value).toBe('0x30000');
    expect(r.reportData.startsWith('d447b55d')).toBe(true);
    expect(r.reportData.endsWith('93ebfd')).toBe(true);
    expect(r.measurement.startsWith('7a1e5c26')).toBe(true);
    expect(r.reportedTcb).toMatchObject({ bootloader: 3, tee: 0, snp: 8, microcode: 115 });
    expect(r.currentVersion).toBe('1.52.4');
  });

  itVectors('trustee Milan v2 with ID block: REPORTED_TCB differs from CURRENT_TCB', () => {
    const r = report('trustee_milan_v2_idblock_report.bin');
    expect(r.guestSvn).toBe(4);
    expect(r.policy.value).toBe('0x3001f');
    expect(r.familyId).toBe('01' + '00'.repeat(15));
    expect(r.imageId).toBe('02' + '00'.repeat(15));
    expect(r.idKeyDigest.startsWith('03562158')).toBe(true);
    expect(r.reportData.endsWith('00'.repeat(32))).toBe(true);
    expect(r.currentTcb.microcode).toBe(206);
    expect(r.reportedTcb.microcode).toBe(115);
  });

  itVectors('trustee Milan v3 VLEK (AWS)', () => {
    const r = report('trustee_milan_v3_vlek_report.bin');
    expect(r.version).toBe(3);
    expect(r.vmpl).toBe(1);
    expect(r.keyInfo.signingKey).toBe('vlek');
    expect(r.cpuid).toEqual({ family: 0x19, model: 0x01, stepping: 0x01 });
    expect(r.product).toBe('Milan');
    expect(r.productSource).toBe('cpuid');
    expect(r.chipId).toBe('00'.repeat(64));
    expect(r.platformInfo.value).toBe('0x27');
    expect(r.currentVersion).toBe('1.55.29');
    expect(r.reportData.startsWith('819770b7')).toBe(true);
    expect(r.measurement.startsWith('8922ebbd')).toBe(true);
  });

  itVectors('teekit GCP Milan v5 (mitigation vectors) and its VMPL1 sibling', () => {
    const r = report('teekit_gcp_milan_v5_report.bin');
    expect(r.version).toBe(5);
    expect(r.vmpl).toBe(0);
    expect(r.reportData).toBe('00'.repeat(64));
    expect(r.measurement.startsWith('b747d554')).toBe(true);
    expect(r.launchMitVector).toBe('0xb');
    expect(r.currentMitVector).toBe('0xb');
    expect(r.currentVersion).toBe('1.55.35');
    expect(r.reportedTcb).toMatchObject({ bootloader: 4, tee: 0, snp: 27, microcode: 222 });
    const r1 = report('teekit_gcp_milan_v5_reportdata_vmpl1.bin');
    expect(r1.vmpl).toBe(1);
    expect(r1.reportData.startsWith('32fc4f6c')).toBe(true);
    expect(r1.measurement).toBe(r.measurement);
  });

  itVectors('derived Genoa v3 equals the re-encoding of the trustee serde JSON', () => {
    const bin = read('derived/genoa_v3_report_from_e2e_json.bin');
    const json = JSON.parse(readFileSync(join(SNP, 'trustee_genoa_v3_e2e_evidence.json'), 'utf8')) as { attestation_report: Record<string, unknown> };
    expect(Buffer.from(encodeSnpReportFromSerde(json.attestation_report)).equals(Buffer.from(bin))).toBe(true);
    const d = decodeEvidenceInput(read('trustee_genoa_v3_e2e_evidence.json'));
    expect(d.envelope).toBe('virtee-snp-serde');
    expect(d.certs).toHaveLength(1);
    expect(Buffer.from(d.certs[0]!).equals(Buffer.from(read('derived/genoa_vcek_from_e2e_json.der')))).toBe(true);
    const r = parseSnpReport(bin);
    expect(r.product).toBe('Genoa');
    expect(r.cpuid).toEqual({ family: 0x19, model: 0xa0, stepping: 0x02 });
    expect(r.currentVersion).toBe('1.55.40');
    expect(r.reportedTcb).toMatchObject({ bootloader: 10, tee: 0, snp: 23, microcode: 25 });
  });

  itVectors('Azure HCL wrapper is unwrapped to the same bytes as the derived slice', () => {
    const d = detectEvidence(read('trustee_azure_milan_hcl_report.bin'));
    expect(d.unwrapped).toBe('azure-hcl');
    expect(d.kind).toBe('sev-snp');
    expect(Buffer.from(d.bytes).equals(Buffer.from(read('derived/azure_milan_v2_report_from_hcl.bin')))).toBe(true);
  });

  itVectors('signature r/s are converted from little-endian', () => {
    const r = report('gsg_milan_v2_attestation.bin');
    const rs = snpSignatureRs(r);
    expect(Buffer.from(rs.subarray(0, 48)).toString('hex')).toBe(Buffer.from(r.raw.subarray(0x2a0, 0x2a0 + 48)).reverse().toString('hex'));
  });

  itVectors('the same report as binary, hex, base64 and modelseal envelope decodes identically', () => {
    const bin = read('gsg_milan_v2_attestation.bin');
    const b64 = new Uint8Array(Buffer.from(Buffer.from(bin).toString('base64') + '\n'));
    const hexed = new Uint8Array(Buffer.from(Buffer.from(bin).toString('hex')));
    const env = new Uint8Array(Buffer.from(JSON.stringify({ kind: 'sev-snp', evidence: Buffer.from(bin).toString('base64'), certs: [Buffer.from(read('gsg_milan_vcek.der')).toString('base64')] })));
    for (const [input, enc] of [[bin, 'binary'], [b64, 'base64'], [hexed, 'hex'], [env, 'json']] as const) {
      const d = decodeEvidenceInput(input);
      expect(d.encoding).toBe(enc);
      expect(Buffer.from(d.bytes).equals(Buffer.from(bin))).toBe(true);
    }
    expect(decodeEvidenceInput(env).certs).toHaveLength(1);
  });

  itVectors('records reserved-byte violations instead of hiding them', () => {
    const bin = Uint8Array.from(read('gsg_milan_v2_attestation.bin'));
    bin[0x4c] = 1;
    bin[0x400] = 7;
    bin[0x0a] &= ~0x02; // POLICY bit 17
    const r = parseSnpReport(bin);
    expect(r.anomalies.length).toBe(3);
  });

  itVectors('refuses wrong sizes and versions with codes', () => {
    const bin = read('gsg_milan_v2_attestation.bin');
    expect(() => parseSnpReport(bin.subarray(0, 100))).toThrow(expect.objectContaining({ code: 'EVIDENCE_TRUNCATED' }));
    const v9 = Uint8Array.from(bin);
    v9[0] = 9;
    expect(() => parseSnpReport(v9)).toThrow(expect.objectContaining({ code: 'EVIDENCE_UNSUPPORTED_VERSION' }));
    const longer = new Uint8Array(bin.length + 1);
    longer.set(bin);
    expect(() => parseSnpReport(longer)).toThrow(expect.objectContaining({ code: 'EVIDENCE_MALFORMED' }));
  });

  it('maps CPUID to products', () => {
    expect(snpProductFromCpuid(0x19, 0x01)).toBe('Milan');
    expect(snpProductFromCpuid(0x19, 0x11)).toBe('Genoa');
    expect(snpProductFromCpuid(0x19, 0xa0)).toBe('Genoa');
    expect(snpProductFromCpuid(0x1a, 0x02)).toBe('Turin');
    expect(snpProductFromCpuid(0x17, 0x31)).toBeUndefined();
  });

  itVectors('inspectEvidence gives JSON-friendly fields', async () => {
    const r = await inspectEvidence(read('trustee_genoa_v3_e2e_evidence.json'));
    expect(r.kind).toBe('sev-snp');
    expect(r.envelope).toBe('virtee-snp-serde');
    expect(r.certificates[0]!.extensions).toMatchObject({ kind: 'vcek', productName: 'Genoa', blSpl: 10, snpSpl: 23, ucodeSpl: 25 });
    expect(() => JSON.stringify(r)).not.toThrow();
    expect(r.fields.raw).toBeUndefined();
    expect(r.fields.signedBytes).toBeUndefined();
  });
});

describeVectors('VCEK / VLEK extensions', () => {
  const vek = (f: string) => parseVekExtensions(parseCertificates(read(f))[0]!);

  it('Milan VCEK: product, SPLs = reported TCB, 64-byte hwID = CHIP_ID', () => {
    const v = vek('gsg_milan_vcek.der');
    const r = report('gsg_milan_v2_attestation.bin');
    expect(v).toMatchObject({ kind: 'vcek', productName: 'Milan-B0', product: 'Milan', blSpl: 2, teeSpl: 0, snpSpl: 5, ucodeSpl: 68 });
    expect(v.hwId).toBe(r.chipId);
  });

  it('Turin VCEK: struct version 1, FMC SPL, 8-byte hwID', () => {
    const v = vek('virtee_turin_vcek.der');
    expect(v.structVersion).toBe(1);
    expect(v.product).toBe('Turin');
    expect(v.fmcSpl).toBeTypeOf('number');
    expect(v.hwId).toBe('1e550a8ee5cf9f4d');
  });

  it('VLEK: CSP id and no hwID', () => {
    const v = vek('trustee_milan_vlek_aws.der');
    expect(v.kind).toBe('vlek');
    expect(v.cspId).toBe('CN=cc-us-east-2.amazonaws.com');
    expect(v.hwId).toBeUndefined();
  });

  it('accepts both hwID encodings (raw 64 bytes and OCTET STRING)', () => {
    const raw = vek('negative/trustee_vcek_badsig_hwid_raw64.der');
    const oct = vek('negative/trustee_vcek_badsig_hwid_octetstring.der');
    expect(raw.hwIdEncoding).toBe('raw');
    expect(oct.hwIdEncoding).toBe('octet-string');
    expect(raw.hwId).toHaveLength(128);
    expect(raw.hwId).toBe(oct.hwId);
  });

  it('VCEK with serial number 0 parses', () => {
    expect(parseCertificates(read('gsg_milan_vcek.der'))[0]!.serialHex).toBe('00');
  });
});

describeVectors('pinned AMD roots', () => {
  const fp = (der: Uint8Array) => createHash('sha256').update(der).digest('hex');
  for (const [product, file] of [['Milan', 'milan'], ['Genoa', 'genoa'], ['Turin', 'turin']] as const) {
    it(`${product}: built-in ARK/ASK/ASVK equal the vectors' KDS chains`, () => {
      const [ask, ark] = parseCertificates(read(`roots/amd_${file}_ask_ark.pem`));
      const [asvk, ark2] = parseCertificates(read(`roots/amd_${file}_asvk_ark.pem`));
      const pinned = AMD_ROOTS[product];
      const pArk = parseCertificates(pinned.ark)[0]!;
      expect(fp(pArk.der)).toBe(fp(ark!.der));
      expect(fp(pArk.der)).toBe(fp(ark2!.der));
      expect(pinned.arkSha256).toBe(fp(ark!.der));
      expect(pArk.commonName).toBe(`ARK-${product}`);
      expect(fp(parseCertificates(pinned.ask)[0]!.der)).toBe(fp(ask!.der));
      expect(fp(parseCertificates(pinned.asvk)[0]!.der)).toBe(fp(asvk!.der));
    });
  }
});

describeVectors('SNP certificate table (configfs auxblob)', () => {
  it('parses GUID entries and stops at the zero entry', () => {
    const vcek = read('gsg_milan_vcek.der');
    const table = new Uint8Array(24 * 2 + vcek.length);
    table.set(Buffer.from('63da758de6644564adc5f4b93be8accd', 'hex'), 0);
    new DataView(table.buffer).setUint32(16, 48, true);
    new DataView(table.buffer).setUint32(20, vcek.length, true);
    table.set(vcek, 48);
    const entries = parseSnpCertTable(table);
    expect(entries).toHaveLength(1);
    expect(entries[0]!.type).toBe('VCEK');
    expect(Buffer.from(entries[0]!.der).equals(Buffer.from(vcek))).toBe(true);
    new DataView(table.buffer).setUint32(20, 0xffffff, true);
    expect(() => parseSnpCertTable(table)).toThrow(expect.objectContaining({ code: 'EVIDENCE_TRUNCATED' }));
  });
});
