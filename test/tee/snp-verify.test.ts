/** SEV-SNP verification: every real vector verifies; every broken chain / binding fails with its code. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelsealError } from '../../src/errors.js';
import { verifyEvidence } from '../../src/attest/index.js';
import { amdRoots } from '../../src/attest/snp/index.js';
import type { EvidenceVerdict, VerifyEvidenceOptions } from '../../src/attest/core/types.js';
import { parseCertificates, verifyChain } from '../../src/crypto/x509.js';
import { describeVectors, VECTORS_DIR } from '../helpers.js';
import { signSnpReport, syntheticSnp } from './snp-fixtures.js';

const SNP = join(VECTORS_DIR, 'tee', 'snp');
const read = (f: string) => new Uint8Array(readFileSync(join(SNP, f)));

/** Positive vectors: report, certificates, a time inside every certificate's validity, product. */
const POSITIVE: Array<{ report: string; certs: string[]; at: string; product: string; signer: string }> = [
  { report: 'gsg_milan_v2_attestation.bin', certs: ['gsg_milan_vcek.der'], at: '2024-01-01', product: 'Milan', signer: 'SEV-VCEK' },
  { report: 'virtee_milan_v2_report.hex', certs: ['virtee_milan_vcek.der'], at: '2024-01-01', product: 'Milan', signer: 'SEV-VCEK' },
  { report: 'trustee_milan_v2_idblock_report.bin', certs: ['trustee_milan_vcek.der'], at: '2024-01-01', product: 'Milan', signer: 'SEV-VCEK' },
  { report: 'trustee_milan_v3_vlek_report.bin', certs: ['trustee_milan_vlek_aws.der'], at: '2025-06-01', product: 'Milan', signer: 'SEV-VLEK' },
  { report: 'teekit_gcp_milan_v5_report.bin', certs: ['teekit_gcp_milan_vcek.pem'], at: '2026-01-01', product: 'Milan', signer: 'SEV-VCEK' },
  { report: 'teekit_gcp_milan_v5_reportdata_vmpl1.bin', certs: ['teekit_gcp_milan_vcek.pem'], at: '2026-01-01', product: 'Milan', signer: 'SEV-VCEK' },
  { report: 'derived/azure_milan_v2_report_from_hcl.bin', certs: ['trustee_azure_milan_vcek_ask_ark.pem'], at: '2024-01-01', product: 'Milan', signer: 'SEV-VCEK' },
  { report: 'trustee_azure_milan_hcl_report.bin', certs: ['trustee_azure_milan_vcek_ask_ark.pem'], at: '2024-01-01', product: 'Milan', signer: 'SEV-VCEK' },
  { report: 'derived/genoa_v3_report_from_e2e_json.bin', certs: ['derived/genoa_vcek_from_e2e_json.der'], at: '2025-06-01', product: 'Genoa', signer: 'SEV-VCEK' },
  { report: 'trustee_genoa_v3_e2e_evidence.json', certs: [], at: '2025-06-01', product: 'Genoa', signer: 'SEV-VCEK' },
];

const verify = (report: Uint8Array, certs: Uint8Array[], o: VerifyEvidenceOptions = {}) => verifyEvidence(report, { certs, ...o });

/** Any outcome except acceptance: a refusal verdict or a ModelsealError. */
async function mustRefuse(p: Promise<EvidenceVerdict>): Promise<string> {
  try {
    const v = await p;
    expect(v.verified).toBe(false);
    expect(v.code).toBeTruthy();
    return v.code!;
  } catch (e) {
    expect(e).toBeInstanceOf(ModelsealError);
    return (e as ModelsealError).code;
  }
}

describeVectors('SEV-SNP: real vectors verify', () => {
  for (const p of POSITIVE) {
    it(`${p.report} (${p.product}, ${p.signer})`, async () => {
      const v = await verify(read(p.report), p.certs.map(read), { at: new Date(p.at) });
      expect(v.message).toMatch(/verified/);
      expect(v.verified).toBe(true);
      expect(v.code).toBeUndefined();
      expect(v.simulated).toBe(false);
      expect(v.chain).toEqual([p.signer, p.signer === 'SEV-VLEK' ? `SEV-VLEK-${p.product}` : `SEV-${p.product}`, `ARK-${p.product}`]);
      expect(v.claims.platform).toBe('sev-snp');
      expect(v.claims.product).toBe(p.product);
      expect(typeof v.claims.measurement).toBe('string');
      expect((v.claims.measurement as string).length).toBe(96);
      expect(typeof v.claims.debug).toBe('boolean');
    });
  }

  it('expected REPORT_DATA is checked', async () => {
    const rd = new Uint8Array([1, 2, 3, 4, 5]);
    const at = new Date('2024-01-01');
    expect((await verify(read('gsg_milan_v2_attestation.bin'), [read('gsg_milan_vcek.der')], { at, expectedReportData: rd })).verified).toBe(true);
    const bad = await verify(read('gsg_milan_v2_attestation.bin'), [read('gsg_milan_vcek.der')], { at, expectedReportData: new Uint8Array([9]) });
    expect(bad.code).toBe('SNP_REPORT_DATA_MISMATCH');
    // A strict prefix is not a match: the value is compared zero-padded to 64 bytes.
    const prefix = await verify(read('gsg_milan_v2_attestation.bin'), [read('gsg_milan_vcek.der')], { at, expectedReportData: new Uint8Array([1, 2, 3, 4]) });
    expect(prefix.code).toBe('SNP_REPORT_DATA_MISMATCH');
  });

  it('certificates may come as an SNP certificate table (configfs auxblob)', async () => {
    const vcek = read('gsg_milan_vcek.der');
    const table = new Uint8Array(48 + vcek.length);
    table.set(Buffer.from('63da758de6644564adc5f4b93be8accd', 'hex'), 0);
    new DataView(table.buffer).setUint32(16, 48, true);
    new DataView(table.buffer).setUint32(20, vcek.length, true);
    table.set(vcek, 48);
    const v = await verify(read('gsg_milan_v2_attestation.bin'), [table], { at: new Date('2024-01-01') });
    expect(v.verified).toBe(true);
    await expect(verify(read('gsg_milan_v2_attestation.bin'), [new Uint8Array(100).fill(3)], { at: new Date('2024-01-01') })).rejects.toMatchObject({ code: 'CERT_MALFORMED' });
  });

  it('Turin VCEK chains to the pinned ARK-Turin (no public Turin report exists)', () => {
    const roots = amdRoots('Turin');
    const vcek = parseCertificates(read('virtee_turin_vcek.der'))[0]!;
    const r = verifyChain(vcek, [roots.ask], { at: new Date('2026-01-01'), roots: [roots.ark], chainCode: 'SNP_CHAIN_BROKEN', label: 'test' });
    expect(r.chain.map((c) => c.commonName)).toEqual(['SEV-VCEK', 'SEV-Turin', 'ARK-Turin']);
  });
});

describeVectors('SEV-SNP: refusals carry specific codes', () => {
  const at = new Date('2024-01-01');

  it('VCEK with a bad signature (trustee negative vectors) → SNP_CHAIN_BROKEN', async () => {
    for (const f of ['negative/trustee_vcek_badsig_hwid_raw64.der', 'negative/trustee_vcek_badsig_hwid_octetstring.der']) {
      const v = await verify(read('trustee_milan_v2_idblock_report.bin'), [read(f)], { at });
      expect(v.verified).toBe(false);
      expect(v.code).toBe('SNP_CHAIN_BROKEN');
    }
  });

  it("another chip's VCEK → SNP_BAD_SIGNATURE", async () => {
    const v = await verify(read('gsg_milan_v2_attestation.bin'), [read('virtee_milan_vcek.der')], { at });
    expect(v.code).toBe('SNP_BAD_SIGNATURE');
  });

  it('no VCEK → SNP_VEK_MISSING with the KDS URL', async () => {
    const v = await verify(read('gsg_milan_v2_attestation.bin'), [], { at });
    expect(v.code).toBe('SNP_VEK_MISSING');
    expect(v.message).toContain('https://kdsintf.amd.com/vcek/v1/');
  });

  it('VCEK instead of the VLEK the report names → SNP_VEK_MISSING', async () => {
    const v = await verify(read('trustee_milan_v3_vlek_report.bin'), [read('gsg_milan_vcek.der')], { at });
    expect(v.code).toBe('SNP_VEK_MISSING');
  });

  it('expired VLEK (AWS, 1-year lifetime) at a later time → CERT_EXPIRED', async () => {
    const v = await verify(read('trustee_milan_v3_vlek_report.bin'), [read('trustee_milan_vlek_aws.der')], { at: new Date('2026-06-01') });
    expect(v.code).toBe('CERT_EXPIRED');
  });

  it('certificate not yet valid → CERT_NOT_YET_VALID', async () => {
    const v = await verify(read('teekit_gcp_milan_v5_report.bin'), [read('teekit_gcp_milan_vcek.pem')], { at: new Date('2025-01-01') });
    expect(v.code).toBe('CERT_NOT_YET_VALID');
  });

  it('Genoa VCEK for a Milan CPUID report → SNP_PRODUCT_MISMATCH', async () => {
    const v = await verify(read('trustee_milan_v3_vlek_report.bin').slice(), [], { at });
    expect(v.code).toBe('SNP_VEK_MISSING');
    const r = await verify(read('teekit_gcp_milan_v5_report.bin'), [read('derived/genoa_vcek_from_e2e_json.der')], { at: new Date('2026-01-01') });
    expect(r.code).toBe('SNP_PRODUCT_MISMATCH');
  });

  it('unsigned report (SIGNING_KEY = 7) → SNP_UNSIGNED; SIGNATURE_ALGO ≠ 1 → SNP_UNSUPPORTED_SIGNATURE_ALGO', async () => {
    const r = read('gsg_milan_v2_attestation.bin').slice();
    r[0x48] = 7 << 2;
    expect((await verify(r, [read('gsg_milan_vcek.der')], { at })).code).toBe('SNP_UNSIGNED');
    const a = read('gsg_milan_v2_attestation.bin').slice();
    a[0x34] = 2;
    expect((await verify(a, [read('gsg_milan_vcek.der')], { at })).code).toBe('SNP_UNSUPPORTED_SIGNATURE_ALGO');
  });

  it('non-zero reserved bytes outside the signed range → SNP_RESERVED_NONZERO', async () => {
    const r = read('gsg_milan_v2_attestation.bin').slice();
    r[0x49f] = 1;
    expect((await verify(r, [read('gsg_milan_vcek.der')], { at })).code).toBe('SNP_RESERVED_NONZERO');
  });
});

describe('SEV-SNP: synthetic evidence (generated keys) for paths without public vectors', () => {
  const at = new Date('2025-01-01');

  it('a Turin-layout report signed under a SIMULATED root is refused, and accepted only with allowSimulated + its root', async () => {
    const s = await syntheticSnp({ product: 'Turin' });
    const certs = [s.vcek, s.ask, s.root];
    const refused = await verify(s.report, certs, { at });
    expect(refused.code).toBe('EVIDENCE_SIMULATED');
    const noRoot = await verify(s.report, certs, { at, allowSimulated: true });
    expect(noRoot.code).toBe('EVIDENCE_SIMULATED');
    const withRootNoFlag = await verify(s.report, certs, { at, simulatedRoots: [s.root] });
    expect(withRootNoFlag.code).toBe('EVIDENCE_SIMULATED');
    const ok = await verify(s.report, certs, { at, allowSimulated: true, simulatedRoots: [s.root] });
    expect(ok.verified).toBe(true);
    expect(ok.simulated).toBe(true);
    expect(ok.claims.product).toBe('Turin');
    expect(ok.claims.tcb).toEqual({ fmc: 1, bootloader: 2, tee: 3, snp: 4, microcode: 5 });
    expect(ok.warnings.join(' ')).toMatch(/SIMULATED/);
  });

  it('an impostor root named like AMD\'s → SNP_CHAIN_BROKEN', async () => {
    const s = await syntheticSnp({ product: 'Turin', rootName: 'ARK-Turin' });
    const v = await verify(s.report, [s.vcek, s.ask, s.root], { at, allowSimulated: true });
    expect(v.code).toBe('SNP_CHAIN_BROKEN');
    expect(v.message).toMatch(/not the pinned vendor root/);
  });

  it('VCEK TCB ≠ REPORTED_TCB → SNP_TCB_MISMATCH (FMC included on Turin)', async () => {
    const s = await syntheticSnp({ product: 'Turin', certTcb: { fmc: 9, bootloader: 2, tee: 3, snp: 4, microcode: 5 } });
    const v = await verify(s.report, [s.vcek, s.ask], { at, allowSimulated: true, simulatedRoots: [s.root] });
    expect(v.code).toBe('SNP_TCB_MISMATCH');
  });

  it('VCEK hwID ≠ CHIP_ID → SNP_HWID_MISMATCH', async () => {
    const s = await syntheticSnp({ product: 'Milan', hwId: new Uint8Array(64).fill(5) });
    const v = await verify(s.report, [s.vcek, s.ask], { at, allowSimulated: true, simulatedRoots: [s.root] });
    expect(v.code).toBe('SNP_HWID_MISMATCH');
  });

  it('a product without pinned roots → SNP_UNKNOWN_PRODUCT', async () => {
    const s = await syntheticSnp({ product: 'Siena' });
    const v = await verify(s.report, [s.vcek, s.ask], { at, allowSimulated: true, simulatedRoots: [s.root] });
    expect(v.code).toBe('SNP_UNKNOWN_PRODUCT');
  });

  it('re-signing with another key → SNP_BAD_SIGNATURE', async () => {
    const s = await syntheticSnp({ product: 'Genoa' });
    const other = await syntheticSnp({ product: 'Genoa' });
    const r = s.report.slice();
    signSnpReport(r, other.vcekKey);
    const v = await verify(r, [s.vcek, s.ask], { at, allowSimulated: true, simulatedRoots: [s.root] });
    expect(v.code).toBe('SNP_BAD_SIGNATURE');
  });
});

describeVectors('SEV-SNP: flipping any byte of the report or of the VCEK is refused (property, sampled offsets)', () => {
  // Deterministic sampling: every 0x40-byte region of the report gets offsets, plus the signature.
  const sample = (n: number, seed: number) => {
    const out = new Set<number>();
    let x = seed;
    for (let i = 0; out.size < n; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      out.add(x % 0x4a0);
    }
    return [...out, 0x2a0, 0x2e8 + 47, 0x49f, 0, 0x8, 0x50, 0x90, 0x180, 0x1a0];
  };
  for (const p of POSITIVE.filter((x) => x.report.endsWith('.bin') && !x.report.includes('hcl'))) {
    it(p.report, async () => {
      const base = read(p.report);
      const certs = p.certs.map(read);
      const at = new Date(p.at);
      for (const off of sample(60, base[0x50]! + 17)) {
        const r = base.slice();
        r[off] ^= 1 << (off % 8);
        await mustRefuse(verify(r, certs, { at }));
      }
    });
  }

  it('flipping bytes of the VCEK (signed TBS and signature) is refused', async () => {
    const report = read('gsg_milan_v2_attestation.bin');
    const vcek = read('gsg_milan_vcek.der');
    const at = new Date('2024-01-01');
    for (let off = 4; off < vcek.length; off += 37) {
      const c = vcek.slice();
      c[off] ^= 0x10;
      await mustRefuse(verify(report, [c], { at }));
    }
  });
});
