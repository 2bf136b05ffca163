/**
 * Policy depth (go-sev-guest `validate` / go-tdx-guest `validate`) on verdicts of REAL evidence from
 * shared/vectors/tee. Every failing case takes a policy that passes on a real report and changes one
 * policy field, so exactly one rule fails, and its reason names the field with the expected and the
 * actual value.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { verifyEvidence } from '../../src/attest/index.js';
import type { EvidenceVerdict } from '../../src/attest/core/types.js';
import { parsePolicy, validatePolicy, type Policy, type PolicyResult } from '../../src/attest/policy/index.js';
import { describeVectors, REPO_ROOT, VECTORS_DIR } from '../helpers.js';

const TEE = join(VECTORS_DIR, 'tee');
const read = (f: string) => new Uint8Array(readFileSync(join(TEE, f)));
/** Through the schema first, so every policy below is also a valid policy document. */
const check = (v: EvidenceVerdict, p: Omit<Policy, 'version'>): PolicyResult => validatePolicy([v], parsePolicy({ version: 1, ...p }));

function expectPass(v: EvidenceVerdict, p: Omit<Policy, 'version'>): PolicyResult {
  const r = check(v, p);
  expect(r.rules.filter((x) => !x.ok)).toEqual([]);
  expect(r.ok).toBe(true);
  return r;
}

/** Exactly one rule fails, with `rule` as its code, and the message holds each fragment. */
function expectOnlyFailure(v: EvidenceVerdict, p: Omit<Policy, 'version'>, rule: string, ...fragments: string[]): PolicyResult {
  const r = check(v, p);
  expect(r.rules.filter((x) => !x.ok).map((x) => x.rule)).toEqual([rule]);
  expect(r.code).toBe(rule);
  for (const f of fragments) expect(r.message).toContain(f);
  return r;
}

const OTHER_48 = 'ab'.repeat(48);

describeVectors('policy depth on real SEV-SNP verdicts', () => {
  let milan: EvidenceVerdict; // virtee Milan v2: POLICY 0x30000, firmware 1.52.4, every TCB bl3/tee0/snp8/ucode115
  let idblock: EvidenceVerdict; // trustee Milan v2 with an ID block: POLICY 0x3001f (ABI 0.31), CURRENT ucode 206 vs COMMITTED 115
  let vlek: EvidenceVerdict; // trustee Milan v3 VLEK: CHIP_ID masked, CURRENT ucode 220, COMMITTED/LAUNCH 219, firmware 1.55.29
  let debugGuest: EvidenceVerdict; // go-sev-guest Milan v2: POLICY 0xb0000 (DEBUG set)
  let gcpV5: EvidenceVerdict; // teekit GCP Milan v5: launch/current mitigation vectors 0xb

  beforeAll(async () => {
    milan = await verifyEvidence(read('snp/virtee_milan_v2_report.hex'), { certs: [read('snp/virtee_milan_vcek.der')], at: new Date('2024-01-01') });
    idblock = await verifyEvidence(read('snp/trustee_milan_v2_idblock_report.bin'), { certs: [read('snp/trustee_milan_vcek.der')], at: new Date('2024-01-01') });
    vlek = await verifyEvidence(read('snp/trustee_milan_v3_vlek_report.bin'), { certs: [read('snp/trustee_milan_vlek_aws.der')], at: new Date('2025-06-01') });
    debugGuest = await verifyEvidence(read('snp/gsg_milan_v2_attestation.bin'), { certs: [read('snp/gsg_milan_vcek.der')], at: new Date('2024-01-01') });
    gcpV5 = await verifyEvidence(read('snp/teekit_gcp_milan_v5_report.bin'), { certs: [read('snp/teekit_gcp_milan_vcek.pem')], at: new Date('2026-01-01') });
    for (const v of [milan, idblock, vlek, debugGuest, gcpV5]) expect(v.verified, v.message).toBe(true);
  });

  it('the verdict shows the decoded guest policy, both firmware versions, the report IDs and (v5) the mitigation vectors', () => {
    expect(milan.claims.guestPolicy).toEqual({
      abiMajor: 0, abiMinor: 0, smt: true, migrateMa: false, debug: false, singleSocket: false,
      cxlAllow: false, memAes256Xts: false, raplDis: false, ciphertextHiding: false, pageSwapDisable: false,
    });
    expect(milan.claims).toMatchObject({ firmwareVersion: '1.52.4', committedFirmwareVersion: '1.52.4', reportIdMa: 'ff'.repeat(32) });
    expect(milan.claims.reportId).toMatch(/^92b3b47d/);
    expect(milan.claims).not.toHaveProperty('launchMitVector');
    expect(gcpV5.claims).toMatchObject({ reportVersion: 5, launchMitVector: '0xb', currentMitVector: '0xb' });
  });

  const ALL_BITS = {
    smt: true, migrateMa: false, debug: false, singleSocket: false, cxlAllow: false,
    memAes256Xts: false, raplDis: false, ciphertextHiding: false, pageSwapDisable: false,
  } as const;
  const BIT_NAMES: Record<keyof typeof ALL_BITS, string> = {
    smt: 'SMT', migrateMa: 'MIGRATE_MA', debug: 'DEBUG', singleSocket: 'SINGLE_SOCKET', cxlAllow: 'CXL_ALLOW',
    memAes256Xts: 'MEM_AES_256_XTS', raplDis: 'RAPL_DIS', ciphertextHiding: 'CIPHERTEXT_HIDING', pageSwapDisable: 'PAGE_SWAP_DISABLE',
  };

  it('guest-policy bits: the report\'s own bits pass; each bit flipped in the policy fails on that bit alone', () => {
    expectPass(milan, { snp: { guestPolicy: { ...ALL_BITS, minimumAbi: '0.0' } } });
    for (const key of Object.keys(ALL_BITS) as Array<keyof typeof ALL_BITS>) {
      const flipped = !ALL_BITS[key];
      expectOnlyFailure(milan, { snp: { guestPolicy: { ...ALL_BITS, [key]: flipped } } }, 'POLICY_GUEST_POLICY',
        `snp.guestPolicy.${key}: POLICY.${BIT_NAMES[key]}`, `is ${ALL_BITS[key] ? 1 : 0}; the policy requires ${flipped ? 1 : 0}`);
    }
  });

  it('guest-policy DEBUG on a real debug guest: debug: false refuses it even with allowDebug', () => {
    expect(debugGuest.claims.debug).toBe(true);
    expectPass(debugGuest, { allowDebug: true, snp: { guestPolicy: { debug: true } } });
    expectOnlyFailure(debugGuest, { allowDebug: true, snp: { guestPolicy: { debug: false } } }, 'POLICY_GUEST_POLICY', 'POLICY.DEBUG (bit 19) is 1; the policy requires 0');
  });

  it('guest-policy ABI minimum: the ID-block guest\'s ABI 0.31 meets 0.31, not 0.32', () => {
    expectPass(idblock, { snp: { guestPolicy: { minimumAbi: '0.31' } } });
    expectOnlyFailure(idblock, { snp: { guestPolicy: { minimumAbi: '0.32' } } }, 'POLICY_GUEST_POLICY', 'ABI_MAJOR.ABI_MINOR 0.31 < minimum 0.32');
  });

  it('minimum firmware: 1.52.4 meets 1.52 build 4, not build 5 nor 1.53; (major, minor, build) compares in order', () => {
    expectPass(milan, { snp: { minimumFirmware: { version: '1.52', build: 4 } } });
    expectOnlyFailure(milan, { snp: { minimumFirmware: { version: '1.52', build: 5 } } }, 'POLICY_FIRMWARE', 'CURRENT firmware 1.52.4 < minimum 1.52.5');
    expectOnlyFailure(milan, { snp: { minimumFirmware: { version: '1.53' } } }, 'POLICY_FIRMWARE', 'CURRENT firmware 1.52.4 < minimum 1.53');
    expectPass(milan, { snp: { minimumFirmware: { build: 4 } } });
    expectOnlyFailure(milan, { snp: { minimumFirmware: { build: 5 } } }, 'POLICY_FIRMWARE', 'CURRENT_BUILD 4 (firmware 1.52.4) < minimum build 5');
    // 1.55.29 is newer than 1.52.30: a later API version restarts its build numbers.
    expectPass(vlek, { snp: { minimumFirmware: { version: '1.52', build: 30 } } });
  });

  it('provisional firmware: committed = current passes; the ID-block report runs ucode 206 over a committed 115, refused unless allowed', () => {
    expectPass(milan, { snp: { allowProvisionalFirmware: false } });
    expect(idblock.claims.currentTcb).toMatchObject({ microcode: 206 });
    expect(idblock.claims.committedTcb).toMatchObject({ microcode: 115 });
    expectPass(idblock, { snp: { allowProvisionalFirmware: true } });
    expectOnlyFailure(idblock, { snp: { allowProvisionalFirmware: false } }, 'POLICY_PROVISIONAL_FIRMWARE',
      'COMMITTED_TCB (bootloader 3, tee 0, snp 8, microcode 115) ≠ CURRENT_TCB (bootloader 3, tee 0, snp 8, microcode 206) in microcode');
    expectPass(vlek, { snp: { allowProvisionalFirmware: true } });
    expectOnlyFailure(vlek, { snp: { allowProvisionalFirmware: false } }, 'POLICY_PROVISIONAL_FIRMWARE', 'microcode 219) ≠ CURRENT_TCB', 'microcode 220) in microcode');
  });

  it('minimum launch TCB: the VLEK guest launched at ucode 219 (now 220) meets 219, not 220', () => {
    expectPass(vlek, { snp: { minimumLaunchTcb: { bootloader: 4, tee: 0, snp: 24, microcode: 219 }, minimumTcb: { microcode: 217 } } });
    expectOnlyFailure(vlek, { snp: { minimumLaunchTcb: { bootloader: 4, tee: 0, snp: 24, microcode: 220 }, minimumTcb: { microcode: 217 } } },
      'POLICY_LAUNCH_TCB', 'LAUNCH_TCB below the minimum: microcode 219 < 220');
  });

  it('REPORT_ID allow-list', () => {
    const own = milan.claims.reportId as string;
    expectPass(milan, { snp: { reportIds: [own] } });
    expectOnlyFailure(milan, { snp: { reportIds: [idblock.claims.reportId as string] } }, 'POLICY_REPORT_ID', `REPORT_ID ${own}`, `allowed: ${String(idblock.claims.reportId)}`);
  });

  it('FAMILY_ID and IMAGE_ID allow-lists on the ID-block report (01… / 02…)', () => {
    const fam = '01' + '00'.repeat(15);
    const img = '02' + '00'.repeat(15);
    expectPass(idblock, { snp: { familyIds: [fam], imageIds: [img] } });
    expectOnlyFailure(idblock, { snp: { familyIds: [img], imageIds: [img] } }, 'POLICY_FAMILY_ID', `FAMILY_ID ${fam} is not in the allowed list (allowed: ${img})`);
    expectOnlyFailure(idblock, { snp: { familyIds: [fam], imageIds: [fam] } }, 'POLICY_IMAGE_ID', `IMAGE_ID ${img} is not in the allowed list (allowed: ${fam})`);
  });

  it('CHIP_ID allow-list: its own chip passes, another chip fails, a masked CHIP_ID says so', () => {
    const chip = milan.claims.chipId as string;
    expectPass(milan, { snp: { chipIds: [chip] } });
    expectOnlyFailure(milan, { snp: { chipIds: [idblock.claims.chipId as string] } }, 'POLICY_CHIP_ID', `CHIP_ID ${chip.slice(0, 16)}…`, `allowed: ${String(idblock.claims.chipId).slice(0, 16)}…`);
    expectOnlyFailure(vlek, { snp: { chipIds: [chip] } }, 'POLICY_CHIP_ID', 'is masked (all zero');
  });

  it('mitigation vectors (v5): bits 0,1,3 (0xb) are set, bit 2 is not; a v2 report has none', () => {
    expectPass(gcpV5, { snp: { requiredMitigations: { launch: '0xb', current: '0x3' } } });
    expectOnlyFailure(gcpV5, { snp: { requiredMitigations: { launch: '0xb', current: '0x4' } } }, 'POLICY_MITIGATION', 'CURRENT_MIT_VECTOR 0xb lacks bit(s) 2 of the required 0x4');
    expectOnlyFailure(milan, { snp: { requiredMitigations: { launch: '0x1' } } }, 'POLICY_MITIGATION', 'LAUNCH_MIT_VECTOR is not in this report (report version 2');
  });

  it('everything at once on one real report, and the same policy without the new members gives the old verdict', () => {
    const full = {
      snp: {
        measurements: [milan.claims.measurement as string],
        vmpls: [0],
        minimumTcb: { bootloader: 3, tee: 0, snp: 8, microcode: 115 },
        minimumLaunchTcb: { bootloader: 3, tee: 0, snp: 8, microcode: 115 },
        guestPolicy: { ...ALL_BITS, minimumAbi: '0.0' },
        minimumFirmware: { version: '1.52', build: 4 },
        allowProvisionalFirmware: false,
        reportIds: [milan.claims.reportId as string],
        familyIds: ['00'.repeat(16)],
        imageIds: ['00'.repeat(16)],
        chipIds: [milan.claims.chipId as string],
      },
    };
    const r = expectPass(milan, full);
    expect(new Set(r.rules.map((x) => x.rule))).toEqual(new Set([
      'POLICY_REQUIRED_KIND', 'POLICY_NOT_VERIFIED', 'POLICY_DEBUG', 'POLICY_MEASUREMENT', 'POLICY_VMPL', 'POLICY_TCB', 'POLICY_LAUNCH_TCB',
      'POLICY_GUEST_POLICY', 'POLICY_FIRMWARE', 'POLICY_PROVISIONAL_FIRMWARE', 'POLICY_REPORT_ID', 'POLICY_FAMILY_ID', 'POLICY_IMAGE_ID', 'POLICY_CHIP_ID',
    ]));
    const old = check(milan, { snp: { measurements: full.snp.measurements, vmpls: [0], minimumTcb: full.snp.minimumTcb } });
    expect(old.ok).toBe(true);
    expect(old.rules.map((x) => x.rule)).toEqual(['POLICY_REQUIRED_KIND', 'POLICY_NOT_VERIFIED', 'POLICY_DEBUG', 'POLICY_MEASUREMENT', 'POLICY_VMPL', 'POLICY_TCB']);
  });
});

describeVectors('policy depth on real TDX verdicts', () => {
  let tdx15: EvidenceVerdict; // go-tdx-guest quote v5 (TDX 1.5): TEE_TCB_SVN 0b0104…, QE ISVSVN 7, PCE SVN 13, TD_ATTRIBUTES 0x10000000, XFAM 0x602e7
  let debugTd: EvidenceVerdict; // trustee quote v4, debug TD: TD_ATTRIBUTES 0x10000001

  beforeAll(async () => {
    const coll = { collateralDir: join(TEE, 'tdx', 'collateral'), collateralAt: new Date('2025-01-01') };
    tdx15 = await verifyEvidence(read('tdx/gtg_quote_v5_tdx15.dat'), { at: new Date('2026-02-10'), ...coll });
    debugTd = await verifyEvidence(read('tdx/trustee_quote_v4_debug_td.dat'), { at: new Date('2025-10-01'), ...coll });
    for (const v of [tdx15, debugTd]) expect(v.verified, v.message).toBe(true);
    expect(tdx15.claims).toMatchObject({ teeTcbSvn: '0b010400000000000000000000000000', tcb: { qeIsvSvn: 7 }, pckTcb: { pceSvn: 13 }, tdAttributes: '0x0000000010000000', xfam: 'e702060000000000' });
  });

  it('exact MRSEAM', () => {
    const own = tdx15.claims.mrSeam as string;
    expectPass(tdx15, { tdx: { mrSeam: [own] } });
    expectOnlyFailure(tdx15, { tdx: { mrSeam: [OTHER_48] } }, 'POLICY_MRSEAM', `MRSEAM ${own} is not in the allowed list (allowed: ${OTHER_48})`);
  });

  it('minimum TEE_TCB_SVN, byte by byte', () => {
    expectPass(tdx15, { tdx: { minimumTeeTcbSvn: '0b010400000000000000000000000000' } });
    expectOnlyFailure(tdx15, { tdx: { minimumTeeTcbSvn: '0b020400000000000000000000000000' } }, 'POLICY_TEE_TCB_SVN',
      'TEE_TCB_SVN 0b010400000000000000000000000000 is below the minimum 0b020400000000000000000000000000: byte 1 is 1 < 2');
  });

  it('minimum QE SVN (QE report ISVSVN) and PCE SVN (PCK certificate)', () => {
    expectPass(tdx15, { tdx: { minimumQeSvn: 7, minimumPceSvn: 13 } });
    expectOnlyFailure(tdx15, { tdx: { minimumQeSvn: 8, minimumPceSvn: 13 } }, 'POLICY_QE_SVN', 'QE ISVSVN 7 < minimum 8 (tdx.minimumQeSvn)');
    expectOnlyFailure(tdx15, { tdx: { minimumQeSvn: 7, minimumPceSvn: 14 } }, 'POLICY_PCE_SVN', 'PCE SVN of the PCK certificate 13 < minimum 14 (tdx.minimumPceSvn)');
  });

  it('TD_ATTRIBUTES exact and under a mask', () => {
    expectPass(tdx15, { tdx: { tdAttributes: '0x0000000010000000' } });
    expectOnlyFailure(tdx15, { tdx: { tdAttributes: '0x0000000010000001' } }, 'POLICY_TD_ATTRIBUTES',
      'tdx.tdAttributes: TD_ATTRIBUTES is 0x0000000010000000; the policy requires 0x0000000010000001 (differs in bit(s) 0)');
    // SEPT_VE_DISABLE (bit 28) set, DEBUG (bit 0) clear; other bits free.
    expectPass(tdx15, { tdx: { tdAttributes: { mask: '0x10000001', value: '0x10000000' } } });
    expectPass(debugTd, { allowDebug: true, tdx: { tdAttributes: { mask: '0x10000000', value: '0x10000000' } } });
    expectOnlyFailure(debugTd, { allowDebug: true, tdx: { tdAttributes: { mask: '0x10000001', value: '0x10000000' } } }, 'POLICY_TD_ATTRIBUTES',
      'TD_ATTRIBUTES is 0x0000000010000001; under mask 0x0000000010000001 it must be 0x0000000010000000 but is 0x0000000010000001 (bit(s) 0)');
  });

  it('XFAM exact and under a mask (the claim holds the register\'s little-endian bytes)', () => {
    expectPass(tdx15, { tdx: { xfam: '0x00000000000602e7' } });
    expectOnlyFailure(tdx15, { tdx: { xfam: '0x00000000000600e7' } }, 'POLICY_XFAM', 'XFAM is 0x00000000000602e7; the policy requires 0x00000000000600e7 (differs in bit(s) 9)');
    expectPass(tdx15, { tdx: { xfam: { mask: '0x60000', value: '0x60000' } } });
    expectOnlyFailure(tdx15, { tdx: { xfam: { mask: '0x60200', value: '0x60000' } } }, 'POLICY_XFAM', 'must be 0x0000000000060000 but is 0x0000000000060200 (bit(s) 9)');
  });

  it('the existing MRTD / RTMR checks stay, beside the new ones', () => {
    const rtmrs = tdx15.claims.rtmrs as string[];
    const base = { mrtd: [tdx15.claims.mrtd as string], rtmr0: [rtmrs[0]!], mrSeam: [tdx15.claims.mrSeam as string], minimumQeSvn: 7, tdAttributes: '0x10000000', xfam: '0x602e7' };
    expectPass(tdx15, { tdx: base });
    expectOnlyFailure(tdx15, { tdx: { ...base, mrtd: [OTHER_48] } }, 'POLICY_MRTD');
    expectOnlyFailure(tdx15, { tdx: { ...base, rtmr0: [OTHER_48] } }, 'POLICY_RTMR');
  });
});

describeVectors('the in-depth SEV-SNP example of docs/policy.md', () => {
  it('passes on the real report it was taken from', async () => {
    const milan = await verifyEvidence(read('snp/virtee_milan_v2_report.hex'), { certs: [read('snp/virtee_milan_vcek.der')], at: new Date('2024-01-01') });
    const md = readFileSync(join(REPO_ROOT, 'docs', 'policy.md'), 'utf8');
    const blocks = [...md.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => JSON.parse(m[1]!) as Policy);
    const example = blocks.find((b) => b.snp?.measurements?.includes(milan.claims.measurement as string));
    expect(example?.snp?.allowProvisionalFirmware).toBe(false);
    const r = validatePolicy([milan], parsePolicy(example));
    expect(r.rules.filter((x) => !x.ok)).toEqual([]);
    expect(r.rules.map((x) => x.rule)).toEqual(expect.arrayContaining(['POLICY_GUEST_POLICY', 'POLICY_FIRMWARE', 'POLICY_PROVISIONAL_FIRMWARE', 'POLICY_LAUNCH_TCB']));
  });
});
