/**
 * The policy validator on verdicts of REAL evidence (shared/vectors/tee), verified by the platform
 * verifiers at pinned times: the claims it reads are the ones real reports produce.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { verifyEvidence } from '../../src/attest/index.js';
import type { EvidenceVerdict } from '../../src/attest/core/types.js';
import { validatePolicy, type Policy } from '../../src/attest/policy/index.js';
import { describeVectors, VECTORS_DIR } from '../helpers.js';

const TEE = join(VECTORS_DIR, 'tee');
const read = (f: string) => new Uint8Array(readFileSync(join(TEE, f)));
const check = (v: EvidenceVerdict, p: Omit<Policy, 'version'>) => validatePolicy([v], { version: 1, ...p });

let milan: EvidenceVerdict; // virtee Milan v2: VMPL0, reported TCB bl3/tee0/snp8/ucode115
let vlek: EvidenceVerdict; // trustee Milan v3 VLEK: VMPL1
let tdx15: EvidenceVerdict; // TDX 1.5 quote v5 with collateral: UpToDate
let debugTd: EvidenceVerdict; // TDX debug TD with collateral: OutOfDate
let hopper: EvidenceVerdict; // nvtrust H100 report

beforeAll(async () => {
  milan = await verifyEvidence(read('snp/virtee_milan_v2_report.hex'), { certs: [read('snp/virtee_milan_vcek.der')], at: new Date('2024-01-01') });
  vlek = await verifyEvidence(read('snp/trustee_milan_v3_vlek_report.bin'), { certs: [read('snp/trustee_milan_vlek_aws.der')], at: new Date('2025-06-01') });
  const coll = { collateralDir: join(TEE, 'tdx', 'collateral'), collateralAt: new Date('2025-01-01') };
  tdx15 = await verifyEvidence(read('tdx/gtg_quote_v5_tdx15.dat'), { at: new Date('2026-02-10'), ...coll });
  debugTd = await verifyEvidence(read('tdx/trustee_quote_v4_debug_td.dat'), { at: new Date('2025-10-01'), ...coll });
  hopper = await verifyEvidence(read('nvidia/nvtrust_hopper_report.hex'), { certs: [read('nvidia/nvtrust_hopper_cert_chain.pem')], at: new Date('2025-01-01') });
  for (const v of [milan, vlek, tdx15, debugTd, hopper]) expect(v.verified, `${v.kind}: ${v.message}`).toBe(true);
});

describeVectors('policy on real SEV-SNP verdicts', () => {
  it('measurement, VMPL, product and minimum TCB pass with the report\'s own values', () => {
    const m = milan.claims.measurement as string;
    expect(m).toMatch(/^7a1e5c26/);
    const r = check(milan, { platforms: ['sev-snp'], snp: { measurements: [m], vmpls: [0], products: ['Milan'], minimumTcb: { bootloader: 3, tee: 0, snp: 8, microcode: 115 } } });
    expect(r.rules.filter((x) => !x.ok)).toEqual([]);
    expect(r.ok).toBe(true);
  });

  it('one microcode level too low, another measurement, another product: each refused', () => {
    expect(check(milan, { snp: { minimumTcb: { microcode: 116 } } }).code).toBe('POLICY_TCB');
    expect(check(milan, { snp: { measurements: ['00'.repeat(48)] } }).code).toBe('POLICY_MEASUREMENT');
    expect(check(milan, { snp: { products: ['Genoa'] } }).code).toBe('POLICY_PRODUCT');
  });

  it('a VMPL1 report fails vmpls [0]', () => {
    expect(vlek.claims.vmpl).toBe(1);
    expect(check(vlek, { snp: { vmpls: [0] } }).code).toBe('POLICY_VMPL');
    expect(check(vlek, { snp: { vmpls: [0, 1] } }).ok).toBe(true);
  });
});

describeVectors('policy on real TDX verdicts', () => {
  it('TDX 1.5 quote: MRTD, RTMRs and UpToDate pass; its collateral is stale, which is refused unless allowed', () => {
    const rtmrs = tdx15.claims.rtmrs as string[];
    const base = { mrtd: [tdx15.claims.mrtd as string], rtmr0: [rtmrs[0]!], rtmr3: [rtmrs[3]!], tcbStatuses: ['UpToDate'] };
    expect(check(tdx15, { tdx: base }).code).toBe('POLICY_COLLATERAL_EXPIRED');
    const r = check(tdx15, { tdx: { ...base, allowExpiredCollateral: true } });
    expect(r.rules.filter((x) => !x.ok)).toEqual([]);
    expect(r.ok).toBe(true);
    expect(check(tdx15, { tdx: { ...base, allowExpiredCollateral: true, rtmr1: ['00'.repeat(48)] } }).code).toBe('POLICY_RTMR');
  });

  it('the debug TD is refused by default, and its OutOfDate TCB by tcbStatuses', () => {
    expect(debugTd.claims.debug).toBe(true);
    expect(check(debugTd, {}).code).toBe('POLICY_DEBUG');
    const r = check(debugTd, { allowDebug: true, tdx: { tcbStatuses: ['UpToDate'], allowExpiredCollateral: true } });
    expect(r.code).toBe('POLICY_TCB');
    expect(r.message).toMatch(/OutOfDate/);
  });
});

describeVectors('policy on a real NVIDIA verdict', () => {
  it('driver version from the signed opaque data; CC mode is not in a raw SPDM report, so requiring it fails', () => {
    expect(check(hopper, { requireCpu: false, nvidia: { driverVersions: ['550.90.07'] } }).ok).toBe(true);
    expect(check(hopper, { requireCpu: false, nvidia: { driverVersions: ['535.104.05'] } }).code).toBe('POLICY_GPU_DRIVER');
    const cc = check(hopper, { requireCpu: false, nvidia: { requireCcMode: true } });
    expect(cc.code).toBe('POLICY_GPU_CC_MODE');
    expect(cc.message).toMatch(/not recorded/);
    expect(check(hopper, {}).code).toBe('POLICY_REQUIRED_KIND'); // a GPU report alone is not a CPU TEE
  });
});
