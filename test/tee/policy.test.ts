import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parsePolicy, POLICY_SCHEMA, validatePolicy, type Policy, type PolicyEvidence } from '../../src/attest/policy/index.js';
import { REPO_ROOT, tempDir } from '../helpers.js';
import { loadPolicy } from '../../src/attest/policy/index.js';
import { writeFileSync } from 'node:fs';

const M1 = 'aa'.repeat(48);
const M2 = 'bb'.repeat(48);
const NOW = new Date('2026-11-26T12:00:00Z');

function verdict(kind: PolicyEvidence['kind'], claims: Record<string, unknown>, extra: Partial<PolicyEvidence> = {}): PolicyEvidence {
  return { kind, verified: true, simulated: false, message: 'ok', chain: [], claims, warnings: [], collectedAt: '2026-11-26T11:59:00Z', ...extra };
}

const snp = (c: Record<string, unknown> = {}, extra: Partial<PolicyEvidence> = {}) =>
  verdict('sev-snp', {
    platform: 'sev-snp', product: 'Milan', measurement: M1, hostData: '00'.repeat(32), idKeyDigest: '11'.repeat(48), debug: false, vmpl: 0, guestSvn: 3,
    tcb: { bootloader: 3, tee: 0, snp: 8, microcode: 115 }, ...c,
  }, extra);
const tdx = (c: Record<string, unknown> = {}) =>
  verdict('tdx', { platform: 'tdx', mrTd: M1, rtmrs: [M1, M2, '00'.repeat(48), '00'.repeat(48)], mrConfigId: '00'.repeat(48), mrOwner: '00'.repeat(48), attributes: { debug: false }, tcbStatus: 'UpToDate', ...c });
const gpu = (c: Record<string, unknown> = {}) => verdict('nvidia-gpu', { platform: 'nvidia-gpu', ccMode: true, driverVersion: '550.54.15', vbiosVersion: '96.00.5e.00.01', ...c });
const tdisp = (c: Record<string, unknown> = {}) => verdict('tdisp', { tdiState: 'RUN', ...c });

function rule(res: ReturnType<typeof validatePolicy>, code: string) {
  return res.rules.filter((r) => r.rule === code);
}

/** Asserts that `code` appears, all of its results have `ok`, and the overall outcome agrees. */
function expectRule(evidence: PolicyEvidence[], policy: Omit<Policy, 'version'>, code: string, ok: boolean) {
  const res = validatePolicy(evidence, { version: 1, ...policy }, NOW);
  const hits = rule(res, code);
  expect(hits.length, `${code} applied`).toBeGreaterThan(0);
  expect(hits.every((h) => h.ok === ok), `${code}: ${JSON.stringify(hits)}`).toBe(true);
  if (!ok) {
    expect(res.ok).toBe(false);
    expect(res.code).toBe(code);
    expect(res.message).toContain(hits[0]!.reason);
  } else expect(res.ok, JSON.stringify(res.rules.filter((r) => !r.ok))).toBe(true);
  return res;
}

describe('validatePolicy: each rule passes and fails', () => {
  it('POLICY_NOT_VERIFIED', () => {
    expectRule([snp()], {}, 'POLICY_NOT_VERIFIED', true);
    expectRule([snp({}, { verified: false, code: 'SNP_BAD_SIGNATURE' })], {}, 'POLICY_NOT_VERIFIED', false);
  });
  it('POLICY_SIMULATED', () => {
    const res = expectRule([snp({}, { simulated: true })], { allowSimulated: true }, 'POLICY_SIMULATED', true);
    expect(res.simulated).toBe(true);
    expect(res.message).toMatch(/SIMULATED/);
    expectRule([snp({}, { simulated: true })], {}, 'POLICY_SIMULATED', false);
  });
  it('POLICY_PLATFORM', () => {
    expectRule([snp()], { platforms: ['sev-snp'] }, 'POLICY_PLATFORM', true);
    expectRule([tdx()], { platforms: ['sev-snp'] }, 'POLICY_PLATFORM', false);
  });
  it('POLICY_REQUIRED_KIND (CPU by default, and requireKinds)', () => {
    expectRule([snp()], {}, 'POLICY_REQUIRED_KIND', true);
    expectRule([gpu()], {}, 'POLICY_REQUIRED_KIND', false);
    expect(validatePolicy([gpu()], { version: 1, requireCpu: false }, NOW).ok).toBe(true);
    expectRule([snp(), gpu()], { requireKinds: ['nvidia-gpu'] }, 'POLICY_REQUIRED_KIND', true);
    const res = validatePolicy([snp()], { version: 1, requireKinds: ['nvidia-gpu'] }, NOW);
    expect(res.code).toBe('POLICY_REQUIRED_KIND');
  });
  it('POLICY_NO_EVIDENCE', () => {
    expect(validatePolicy([], { version: 1, requireCpu: false }, NOW).code).toBe('POLICY_NO_EVIDENCE');
  });
  it('POLICY_DEBUG is forbidden by default (SNP and TDX) and allowed only explicitly', () => {
    expectRule([snp()], {}, 'POLICY_DEBUG', true);
    expectRule([snp({ debug: true })], {}, 'POLICY_DEBUG', false);
    expectRule([snp({ debug: true })], { allowDebug: true }, 'POLICY_DEBUG', true);
    expectRule([tdx({ attributes: { debug: true } })], {}, 'POLICY_DEBUG', false);
    expectRule([tdx()], {}, 'POLICY_DEBUG', true);
    expectRule([snp({ debug: undefined })], {}, 'POLICY_DEBUG', false); // unknown is not "no"
  });
  it('POLICY_EVIDENCE_AGE', () => {
    expectRule([snp()], { maxEvidenceAgeSeconds: 120 }, 'POLICY_EVIDENCE_AGE', true);
    expectRule([snp()], { maxEvidenceAgeSeconds: 30 }, 'POLICY_EVIDENCE_AGE', false);
    expectRule([snp({}, { collectedAt: undefined })], { maxEvidenceAgeSeconds: 30 }, 'POLICY_EVIDENCE_AGE', false);
    expectRule([snp({}, { collectedAt: '2026-11-27T00:00:00Z' })], { maxEvidenceAgeSeconds: 3600 }, 'POLICY_EVIDENCE_AGE', false);
  });
  it('POLICY_MEASUREMENT (case-insensitive hex)', () => {
    expectRule([snp()], { snp: { measurements: [M2, M1.toUpperCase()] } }, 'POLICY_MEASUREMENT', true);
    expectRule([snp()], { snp: { measurements: [M2] } }, 'POLICY_MEASUREMENT', false);
    expectRule([snp({ measurement: undefined })], { snp: { measurements: [M1] } }, 'POLICY_MEASUREMENT', false);
  });
  it('POLICY_HOST_DATA and POLICY_ID_KEY', () => {
    expectRule([snp()], { snp: { hostData: ['00'.repeat(32)] } }, 'POLICY_HOST_DATA', true);
    expectRule([snp()], { snp: { hostData: ['01'.repeat(32)] } }, 'POLICY_HOST_DATA', false);
    expectRule([snp()], { snp: { idKeyDigests: ['11'.repeat(48)] } }, 'POLICY_ID_KEY', true);
    expectRule([snp()], { snp: { idKeyDigests: ['12'.repeat(48)] } }, 'POLICY_ID_KEY', false);
  });
  it('POLICY_VMPL, POLICY_GUEST_SVN, POLICY_PRODUCT', () => {
    expectRule([snp()], { snp: { vmpls: [0] } }, 'POLICY_VMPL', true);
    expectRule([snp({ vmpl: 2 })], { snp: { vmpls: [0] } }, 'POLICY_VMPL', false);
    expectRule([snp()], { snp: { minimumGuestSvn: 3 } }, 'POLICY_GUEST_SVN', true);
    expectRule([snp()], { snp: { minimumGuestSvn: 4 } }, 'POLICY_GUEST_SVN', false);
    expectRule([snp({ product: 'Milan-B0' })], { snp: { products: ['Milan'] } }, 'POLICY_PRODUCT', true);
    expectRule([snp()], { snp: { products: ['Genoa'] } }, 'POLICY_PRODUCT', false);
  });
  it('POLICY_TCB: SNP minimum REPORTED_TCB component by component', () => {
    expectRule([snp()], { snp: { minimumTcb: { bootloader: 3, snp: 8, microcode: 115 } } }, 'POLICY_TCB', true);
    const res = expectRule([snp()], { snp: { minimumTcb: { microcode: 116 } } }, 'POLICY_TCB', false);
    expect(res.message).toContain('microcode 115 < 116');
    // fmc is a Turin component: ignored when the report has none, enforced when it has one.
    expectRule([snp()], { snp: { minimumTcb: { fmc: 1 } } }, 'POLICY_TCB', true);
    expectRule([snp({ tcb: { bootloader: 3, tee: 0, snp: 8, microcode: 115, fmc: 0 } })], { snp: { minimumTcb: { fmc: 1 } } }, 'POLICY_TCB', false);
  });
  it('POLICY_MRTD and POLICY_RTMR', () => {
    expectRule([tdx()], { tdx: { mrtd: [M1] } }, 'POLICY_MRTD', true);
    expectRule([tdx()], { tdx: { mrtd: [M2] } }, 'POLICY_MRTD', false);
    expectRule([tdx()], { tdx: { rtmr0: [M1], rtmr1: [M2] } }, 'POLICY_RTMR', true);
    expectRule([tdx()], { tdx: { rtmr1: [M1] } }, 'POLICY_RTMR', false);
    // RTMRs reported as separate claims are read too.
    expectRule([tdx({ rtmrs: undefined, rtmr3: M2 })], { tdx: { rtmr3: [M2] } }, 'POLICY_RTMR', true);
  });
  it('POLICY_MRCONFIGID and POLICY_MROWNER', () => {
    expectRule([tdx()], { tdx: { mrConfigId: ['00'.repeat(48)] } }, 'POLICY_MRCONFIGID', true);
    expectRule([tdx()], { tdx: { mrConfigId: [M1] } }, 'POLICY_MRCONFIGID', false);
    expectRule([tdx()], { tdx: { mrOwner: ['00'.repeat(48)] } }, 'POLICY_MROWNER', true);
    expectRule([tdx()], { tdx: { mrOwner: [M2] } }, 'POLICY_MROWNER', false);
  });
  it('POLICY_TCB: TDX accepted TCB statuses', () => {
    expectRule([tdx()], { tdx: { tcbStatuses: ['UpToDate'] } }, 'POLICY_TCB', true);
    expectRule([tdx({ tcbStatus: 'OutOfDate' })], { tdx: { tcbStatuses: ['UpToDate'] } }, 'POLICY_TCB', false);
    const res = expectRule([tdx({ tcbStatus: undefined })], { tdx: { tcbStatuses: ['UpToDate'] } }, 'POLICY_TCB', false);
    expect(res.message).toMatch(/collateral/);
  });
  it('POLICY_COLLATERAL_EXPIRED: a TCB status from stale collateral is refused unless allowed', () => {
    expectRule([tdx({ collateralExpired: true })], { tdx: { tcbStatuses: ['UpToDate'] } }, 'POLICY_COLLATERAL_EXPIRED', false);
    expectRule([tdx({ collateralExpired: true })], { tdx: { tcbStatuses: ['UpToDate'], allowExpiredCollateral: true } }, 'POLICY_COLLATERAL_EXPIRED', true);
    const fresh = validatePolicy([tdx()], { version: 1, tdx: { tcbStatuses: ['UpToDate'] } }, NOW);
    expect(fresh.rules.some((r) => r.rule === 'POLICY_COLLATERAL_EXPIRED')).toBe(false);
  });
  it('POLICY_GPU_CC_MODE', () => {
    expectRule([snp(), gpu()], { nvidia: { requireCcMode: true } }, 'POLICY_GPU_CC_MODE', true);
    expectRule([snp(), gpu({ ccMode: false })], { nvidia: { requireCcMode: true } }, 'POLICY_GPU_CC_MODE', false);
    expectRule([snp(), gpu({ ccMode: null })], { nvidia: { requireCcMode: true } }, 'POLICY_GPU_CC_MODE', false);
  });
  it('POLICY_GPU_DRIVER and POLICY_GPU_VBIOS (multi-device claims too)', () => {
    expectRule([snp(), gpu()], { nvidia: { driverVersions: ['550.54.15'] } }, 'POLICY_GPU_DRIVER', true);
    expectRule([snp(), gpu()], { nvidia: { driverVersions: ['535.0'] } }, 'POLICY_GPU_DRIVER', false);
    expectRule([snp(), gpu()], { nvidia: { vbiosVersions: ['96.00.5E.00.01'] } }, 'POLICY_GPU_VBIOS', true);
    const multi = gpu({ devices: [{ device: 'gpu', driverVersion: '550.54.15', vbiosVersion: 'x' }, { device: 'gpu', driverVersion: '535.0', vbiosVersion: 'x' }, { device: 'nvswitch' }] });
    expectRule([snp(), multi], { nvidia: { driverVersions: ['550.54.15'] } }, 'POLICY_GPU_DRIVER', false);
    expectRule([snp(), multi], { nvidia: { driverVersions: ['550.54.15', '535.0'] } }, 'POLICY_GPU_DRIVER', true);
  });
  it('POLICY_TDI_STATE', () => {
    expectRule([snp(), tdisp()], { tdisp: { requireRun: true } }, 'POLICY_TDI_STATE', true);
    expectRule([snp(), tdisp({ tdiState: 'CONFIG_LOCKED' })], { tdisp: { requireRun: true } }, 'POLICY_TDI_STATE', false);
    expectRule([snp(), tdisp({ tdiState: 2 })], { tdisp: { requireRun: true } }, 'POLICY_TDI_STATE', true);
    expectRule([snp(), tdisp({ tdiState: undefined })], { tdisp: { requireRun: true } }, 'POLICY_TDI_STATE', false);
  });
  it('reports every rule, and the first failure is the result code', () => {
    const res = validatePolicy([snp({ debug: true, measurement: M2 })], { version: 1, snp: { measurements: [M1] } }, NOW);
    expect(res.ok).toBe(false);
    expect(res.rules.filter((r) => !r.ok).map((r) => r.rule)).toEqual(['POLICY_DEBUG', 'POLICY_MEASUREMENT']);
    expect(res.code).toBe('POLICY_DEBUG');
    expect(res.rules.every((r) => r.evidence === 0 || r.evidence === undefined)).toBe(true);
  });
});

describe('validatePolicy: policy depth (go-sev-guest / go-tdx-guest validate) on claims the verifier did not report', () => {
  it('each new SNP rule fails when its claim is missing (an older verdict), naming the field', () => {
    const cases: Array<[Omit<Policy, 'version'>, string, RegExp]> = [
      [{ snp: { guestPolicy: { smt: false } } }, 'POLICY_GUEST_POLICY', /snp\.guestPolicy\.smt: POLICY\.SMT \(bit 16\) was not reported/],
      [{ snp: { guestPolicy: { minimumAbi: '1.0' } } }, 'POLICY_GUEST_POLICY', /minimumAbi.*not reported/],
      [{ snp: { minimumFirmware: { build: 1 } } }, 'POLICY_FIRMWARE', /current firmware version was not reported/],
      [{ snp: { allowProvisionalFirmware: false } }, 'POLICY_PROVISIONAL_FIRMWARE', /must be reported/],
      [{ snp: { minimumLaunchTcb: { snp: 1 } } }, 'POLICY_LAUNCH_TCB', /LAUNCH_TCB was not reported/],
      [{ snp: { reportIds: ['00'.repeat(32)] } }, 'POLICY_REPORT_ID', /REPORT_ID was not reported/],
      [{ snp: { chipIds: ['00'.repeat(8)] } }, 'POLICY_CHIP_ID', /CHIP_ID was not reported/],
      [{ snp: { requiredMitigations: { current: '0x1' } } }, 'POLICY_MITIGATION', /CURRENT_MIT_VECTOR is not in this report/],
    ];
    for (const [policy, code, reason] of cases) {
      const res = expectRule([snp()], policy, code, false);
      expect(res.message).toMatch(reason);
    }
  });

  it('an 8-byte CHIP_ID entry is a Turin hwID: it matches that id followed by zeros, and nothing longer', () => {
    const turin = '1e550a8ee5cf9f4d';
    expectRule([snp({ chipId: turin + '00'.repeat(56) })], { snp: { chipIds: [turin.toUpperCase()] } }, 'POLICY_CHIP_ID', true);
    expectRule([snp({ chipId: turin + '01' + '00'.repeat(55) })], { snp: { chipIds: [turin] } }, 'POLICY_CHIP_ID', false);
  });

  it('provisional firmware allowed still refuses a committed version above the current one (an inconsistent report)', () => {
    const t = { bootloader: 3, tee: 0, snp: 8, microcode: 115 };
    const c = { currentTcb: t, committedTcb: t, firmwareVersion: '1.55.3', committedFirmwareVersion: '1.55.4' };
    const res = expectRule([snp(c)], { snp: { allowProvisionalFirmware: true } }, 'POLICY_PROVISIONAL_FIRMWARE', false);
    expect(res.message).toContain('committed firmware 1.55.4 is above current 1.55.3');
  });

  it('each new TDX rule fails when its claim is missing', () => {
    const cases: Array<[Omit<Policy, 'version'>, string]> = [
      [{ tdx: { mrSeam: [M1] } }, 'POLICY_MRSEAM'],
      [{ tdx: { minimumTeeTcbSvn: '00'.repeat(16) } }, 'POLICY_TEE_TCB_SVN'],
      [{ tdx: { minimumQeSvn: 0 } }, 'POLICY_QE_SVN'],
      [{ tdx: { minimumPceSvn: 0 } }, 'POLICY_PCE_SVN'],
      [{ tdx: { tdAttributes: '0x0' } }, 'POLICY_TD_ATTRIBUTES'],
      [{ tdx: { xfam: { mask: '0x3', value: '0x3' } } }, 'POLICY_XFAM'],
    ];
    for (const [policy, code] of cases) expect(expectRule([tdx()], policy, code, false).message).toMatch(/not reported/);
  });
});

describe('policy schema', () => {
  const published = JSON.parse(readFileSync(join(REPO_ROOT, 'docs', 'policy.schema.json'), 'utf8')) as unknown;

  it('docs/policy.schema.json is the schema the validator uses', () => {
    expect(published).toEqual(JSON.parse(JSON.stringify(POLICY_SCHEMA)));
  });

  it('compiles with ajv (strict) and accepts the examples in docs/policy.md', () => {
    const validate = new Ajv({ allErrors: true, strict: true }).compile(published as object);
    const md = readFileSync(join(REPO_ROOT, 'docs', 'policy.md'), 'utf8');
    const blocks = [...md.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => JSON.parse(m[1]!) as unknown);
    expect(blocks.length).toBeGreaterThanOrEqual(3);
    for (const b of blocks) expect(validate(b), JSON.stringify(validate.errors)).toBe(true);
  });

  it('rejects malformed policies with POLICY_INVALID naming the field', () => {
    expect(() => parsePolicy({})).toThrow(expect.objectContaining({ code: 'POLICY_INVALID' }));
    expect(() => parsePolicy({ version: 2 })).toThrow(/version/);
    expect(() => parsePolicy({ version: 1, snp: { measurements: ['abc'] } })).toThrow(/\/snp\/measurements\/0/);
    expect(() => parsePolicy({ version: 1, maxAge: 3 })).toThrow(/maxAge/);
    expect(() => parsePolicy({ version: 1, platforms: ['sgx'] })).toThrow(/platforms/);
    expect(() => parsePolicy({ version: 1, tdx: { rtmr4: [] } })).toThrow(/rtmr4/);
    expect(parsePolicy({ version: 1, allowSimulated: true }).allowSimulated).toBe(true);
    // Policy depth members: versions are "major.minor" of bytes, registers are 0x-hex u64, a value outside its mask is refused.
    expect(() => parsePolicy({ version: 1, snp: { minimumFirmware: { version: '1.256' } } })).toThrow(/\/snp\/minimumFirmware\/version/);
    expect(() => parsePolicy({ version: 1, snp: { guestPolicy: { minimumAbi: '1' } } })).toThrow(/minimumAbi/);
    expect(() => parsePolicy({ version: 1, snp: { guestPolicy: {} } })).toThrow(/guestPolicy/);
    expect(() => parsePolicy({ version: 1, snp: { guestPolicy: { smt: 1 } } })).toThrow(/smt/);
    expect(() => parsePolicy({ version: 1, snp: { chipIds: ['00'.repeat(10)] } })).toThrow(/chipIds\/0/);
    expect(() => parsePolicy({ version: 1, tdx: { xfam: '602e7' } })).toThrow(/\/tdx\/xfam/);
    expect(() => parsePolicy({ version: 1, tdx: { tdAttributes: { mask: '0x1' } } })).toThrow(/tdAttributes/);
    expect(() => parsePolicy({ version: 1, tdx: { tdAttributes: { mask: '0x1', value: '0x2' } } })).toThrow(/value 0x2 sets bits outside its mask 0x1/);
    expect(() => parsePolicy({ version: 1, tdx: { minimumQeSvn: 65536 } })).toThrow(/minimumQeSvn/);
    expect(parsePolicy({ version: 1, snp: { minimumFirmware: { version: '1.55', build: 29 } }, tdx: { xfam: { mask: '0xFF', value: '0xe7' } } }).tdx?.xfam).toEqual({ mask: '0xFF', value: '0xe7' });
  });

  it('loadPolicy reports unreadable and non-JSON files', () => {
    const d = tempDir();
    try {
      expect(() => loadPolicy(join(d.path, 'missing.json'))).toThrow(expect.objectContaining({ code: 'POLICY_UNREADABLE' }));
      writeFileSync(join(d.path, 'bad.json'), '{ nope');
      expect(() => loadPolicy(join(d.path, 'bad.json'))).toThrow(expect.objectContaining({ code: 'POLICY_INVALID' }));
      writeFileSync(join(d.path, 'ok.json'), JSON.stringify({ version: 1, maxEvidenceAgeSeconds: 60 }));
      expect(loadPolicy(join(d.path, 'ok.json')).maxEvidenceAgeSeconds).toBe(60);
    } finally {
      d.cleanup();
    }
  });
});
