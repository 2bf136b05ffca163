/** TDX TCB evaluation rules on small hand-made TCB Info / QE Identity values (the signed real ones are in tdx-verify). */
import { describe, expect, it } from 'vitest';
import { ModelsealError } from '../../src/errors.js';
import { evaluateQeIdentity, evaluateTdxTcb, pickCollateral, worstStatus, type QeIdentity, type TcbInfo } from '../../src/attest/tdx/index.js';

const comps = (svns: number[]) => svns.map((svn) => ({ svn }));
const sixteen = (first: number[], rest = 0) => comps([...first, ...new Array<number>(16 - first.length).fill(rest)]);

function info(over: Partial<TcbInfo> = {}): TcbInfo {
  return {
    id: 'TDX',
    version: 3,
    issueDate: '2025-01-01T00:00:00Z',
    nextUpdate: '2025-02-01T00:00:00Z',
    fmspc: '00806f050000',
    pceId: '0000',
    tcbType: 0,
    tcbEvaluationDataNumber: 17,
    tdxModule: { mrsigner: '00'.repeat(48), attributes: '0000000000000000', attributesMask: 'FFFFFFFFFFFFFFFF' },
    tdxModuleIdentities: [
      {
        id: 'TDX_01',
        mrsigner: '00'.repeat(48),
        attributes: '0000000000000000',
        attributesMask: 'FFFFFFFFFFFFFFFF',
        tcbLevels: [
          { tcb: { isvsvn: 5 }, tcbDate: '2024-06-01T00:00:00Z', tcbStatus: 'UpToDate' },
          { tcb: { isvsvn: 2 }, tcbDate: '2023-06-01T00:00:00Z', tcbStatus: 'OutOfDate', advisoryIDs: ['INTEL-SA-1'] },
        ],
      },
    ],
    tcbLevels: [
      { tcb: { sgxtcbcomponents: sixteen([3, 3]), pcesvn: 13, tdxtcbcomponents: sixteen([5, 1, 2]) }, tcbDate: '2024-06-01T00:00:00Z', tcbStatus: 'UpToDate' },
      { tcb: { sgxtcbcomponents: sixteen([2, 2]), pcesvn: 11, tdxtcbcomponents: sixteen([3, 1, 1]) }, tcbDate: '2023-06-01T00:00:00Z', tcbStatus: 'SWHardeningNeeded', advisoryIDs: ['INTEL-SA-2'] },
    ],
    ...over,
  };
}

const inputs = (tee: number[], sgx = [3, 3], pce = 13) => ({
  sgxTcbComponents: [...sgx, ...new Array<number>(16 - sgx.length).fill(0)],
  pceSvn: pce,
  teeTcbSvn: Uint8Array.from([...tee, ...new Array<number>(16 - tee.length).fill(0)]),
  mrSignerSeam: new Uint8Array(48),
  seamAttributes: new Uint8Array(8),
});

describe('evaluateTdxTcb', () => {
  it('first level where SGX components, PCESVN and TEE_TCB_SVN are all ≥', () => {
    expect(evaluateTdxTcb(info({ tdxModuleIdentities: [] }), inputs([5, 1, 2])).platformStatus).toBe('UpToDate');
    expect(evaluateTdxTcb(info({ tdxModuleIdentities: [] }), inputs([5, 1, 1])).platformStatus).toBe('SWHardeningNeeded');
    expect(evaluateTdxTcb(info({ tdxModuleIdentities: [] }), inputs([5, 1, 2], [2, 3])).platformStatus).toBe('SWHardeningNeeded');
    expect(evaluateTdxTcb(info({ tdxModuleIdentities: [] }), inputs([5, 1, 2], [3, 3], 12)).platformStatus).toBe('SWHardeningNeeded');
    const none = evaluateTdxTcb(info({ tdxModuleIdentities: [] }), inputs([5, 1, 2], [1, 1]));
    expect(none.platformStatus).toBe('NoMatchingTcbLevel');
    expect(none.advisoryIds).toEqual([]);
  });

  it('TEE_TCB_SVN[1] > 0 with module identities: bytes 0–1 skipped for the platform, module status from TDX_%02X', () => {
    // TEE_TCB_SVN[0] = 3 is below the UpToDate level's 5, but it is the module SVN: skipped there.
    const e = evaluateTdxTcb(info(), inputs([3, 1, 2]));
    expect(e.platformStatus).toBe('UpToDate');
    expect(e.tdxModuleId).toBe('TDX_01');
    expect(e.tdxModuleStatus).toBe('OutOfDate');
    expect(e.advisoryIds).toEqual(['INTEL-SA-1']);
    expect(evaluateTdxTcb(info(), inputs([6, 1, 2])).tdxModuleStatus).toBe('UpToDate');
    expect(evaluateTdxTcb(info(), inputs([1, 1, 2])).tdxModuleStatus).toBe('NoMatchingTcbLevel');
  });

  it('unknown module identity or a different MRSIGNERSEAM → TDX_TCB_MODULE_MISMATCH', () => {
    expect(() => evaluateTdxTcb(info(), inputs([5, 2, 2]))).toThrow(expect.objectContaining({ code: 'TDX_TCB_MODULE_MISMATCH' }));
    const signer = inputs([5, 1, 2]);
    signer.mrSignerSeam[0] = 1;
    expect(() => evaluateTdxTcb(info(), signer)).toThrow(expect.objectContaining({ code: 'TDX_TCB_MODULE_MISMATCH' }));
    expect(() => evaluateTdxTcb(info({ tdxModuleIdentities: [] }), signer)).toThrow(expect.objectContaining({ code: 'TDX_TCB_MODULE_MISMATCH' }));
  });

  it('malformed levels are input errors', () => {
    const bad = info();
    bad.tcbLevels[0]!.tcb.sgxtcbcomponents = comps([1]);
    expect(() => evaluateTdxTcb(bad, inputs([5, 1, 2]))).toThrow(ModelsealError);
  });
});

describe('evaluateQeIdentity', () => {
  const id: QeIdentity = {
    id: 'TD_QE',
    version: 2,
    issueDate: '2025-01-01T00:00:00Z',
    nextUpdate: '2025-02-01T00:00:00Z',
    tcbEvaluationDataNumber: 17,
    miscselect: '00000000',
    miscselectMask: 'FFFFFFFF',
    attributes: '11000000000000000000000000000000',
    attributesMask: 'FBFFFFFFFFFFFFFF0000000000000000',
    mrsigner: 'DC9E2A7C6F948F17474E34A7FC43ED030F7C1563F1BABDDF6340C82E0E54A8C5',
    isvprodid: 2,
    tcbLevels: [
      { tcb: { isvsvn: 4 }, tcbDate: '2024-01-01T00:00:00Z', tcbStatus: 'UpToDate' },
      { tcb: { isvsvn: 2 }, tcbDate: '2023-01-01T00:00:00Z', tcbStatus: 'OutOfDate' },
    ],
  };
  const qe = { mrSigner: 'dc9e2a7c6f948f17474e34a7fc43ed030f7c1563f1babddf6340c82e0e54a8c5', isvProdId: 2, isvSvn: 4, miscSelect: 0, attributes: '1100000000000000' + '0f'.repeat(8) };

  it('status by ISVSVN; masked ATTRIBUTES bits are ignored', () => {
    expect(evaluateQeIdentity(id, qe).status).toBe('UpToDate');
    expect(evaluateQeIdentity(id, { ...qe, isvSvn: 3 }).status).toBe('OutOfDate');
    expect(evaluateQeIdentity(id, { ...qe, isvSvn: 1 }).status).toBe('NoMatchingTcbLevel');
  });

  it('another enclave → TDX_QE_IDENTITY_MISMATCH', () => {
    expect(() => evaluateQeIdentity(id, { ...qe, isvProdId: 1 })).toThrow(expect.objectContaining({ code: 'TDX_QE_IDENTITY_MISMATCH' }));
    expect(() => evaluateQeIdentity(id, { ...qe, mrSigner: '00'.repeat(32) })).toThrow(expect.objectContaining({ code: 'TDX_QE_IDENTITY_MISMATCH' }));
    expect(() => evaluateQeIdentity(id, { ...qe, miscSelect: 1 })).toThrow(expect.objectContaining({ code: 'TDX_QE_IDENTITY_MISMATCH' }));
    expect(() => evaluateQeIdentity(id, { ...qe, attributes: '13' + qe.attributes.slice(2) })).toThrow(expect.objectContaining({ code: 'TDX_QE_IDENTITY_MISMATCH' }));
    expect(() => evaluateQeIdentity({ ...id, id: 'QE' }, qe)).toThrow(expect.objectContaining({ code: 'TDX_QE_IDENTITY_MISMATCH' }));
  });
});

describe('status combination and collateral choice', () => {
  it('worstStatus orders statuses, unknown strings last', () => {
    expect(worstStatus('UpToDate', 'SWHardeningNeeded')).toBe('SWHardeningNeeded');
    expect(worstStatus('OutOfDate', 'ConfigurationNeeded', 'UpToDate')).toBe('OutOfDate');
    expect(worstStatus('Revoked', 'NoMatchingTcbLevel')).toBe('NoMatchingTcbLevel');
    expect(worstStatus('UpToDate', 'SomethingNew')).toBe('SomethingNew');
  });

  it('pickCollateral: the newest evaluation number issued by `at`, else the earliest issued', () => {
    const doc = (n: number, issued: string) => ({ file: `f${n}`, signedText: '', signature: new Uint8Array(64), value: { issueDate: issued, tcbEvaluationDataNumber: n } });
    const docs = [doc(15, '2023-06-01T00:00:00Z'), doc(17, '2025-09-01T00:00:00Z'), doc(16, '2024-06-01T00:00:00Z')];
    expect(pickCollateral(docs, new Date('2024-12-01'))!.file).toBe('f16');
    expect(pickCollateral(docs, new Date('2026-01-01'))!.file).toBe('f17');
    expect(pickCollateral(docs, new Date('2020-01-01'))!.file).toBe('f15');
    expect(pickCollateral([], new Date())).toBeUndefined();
  });
});
