/**
 * TDISP interface reports. No public capture of real TDISP evidence exists, so every input here is
 * built from the PCIe TDISP structure definitions (DMTF libspdm pci_tdisp.h) or by the simulated
 * platform — stated, not hidden.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import {
  TDISP_BINDING_BLOCK_INDEX,
  buildInterfaceReportMessage,
  buildInterfaceReportStruct,
  buildInterfaceStateMessage,
  parseTdispReport,
  verifyTdispReport,
} from '../../src/attest/tdisp/index.js';
import { createSimulatedPlatform, type SimulatedPlatform } from '../../src/attest/simulated/index.js';
import { ByteWriter, concatBytes } from '../../src/crypto/bytes.js';

let p: SimulatedPlatform;
beforeAll(async () => {
  p = await createSimulatedPlatform();
}, 30_000);
const nonce = new Uint8Array(32).map((_, i) => 255 - i);

const sample = (): Uint8Array =>
  buildInterfaceReportStruct({
    interfaceInfo: 0x0d,
    msixMessageControl: 0x8003,
    lnrControl: 1,
    tphControl: 0x102,
    mmioRanges: [
      { firstPage: 0x123456789n, numberOfPages: 4, attributes: 0x0c, rangeId: 2 },
      { firstPage: 0x10n, numberOfPages: 1, attributes: 0x03, rangeId: 0 },
    ],
    deviceSpecificInfo: new Uint8Array([1, 2, 3]),
  });

function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000;
  };
}

describe('TDISP structure', () => {
  it('DEVICE_INTERFACE_REPORT: every field, flag and MMIO range at its offset', () => {
    const s = sample();
    expect(s.length).toBe(16 + 2 * 16 + 4 + 3);
    const ev = parseTdispReport(buildInterfaceReportMessage(0x01000a08, s));
    expect(ev.format).toBe('bundle');
    expect(ev.interfaceId).toEqual({ functionId: 0x01000a08 });
    const r = ev.report;
    expect(r.interfaceInfoFlags).toEqual(['NO_UPDATE_AFTER_LOCK', 'DMA_WITH_PASID', 'ATS_SUPPORTED']);
    expect([r.msixMessageControl, r.lnrControl, r.tphControl]).toEqual([0x8003, 1, 0x102]);
    expect(r.mmioRanges[0]).toEqual({ firstPage: 0x123456789n, numberOfPages: 4, attributes: 0x0c, attributeNames: ['IS_NON_TEE_MEM', 'IS_MEM_ATTR_UPDATABLE'], rangeId: 2 });
    expect(r.mmioRanges[1]!.attributeNames).toEqual(['MSIX_TABLE', 'MSIX_PBA']);
    expect([...r.deviceSpecificInfo]).toEqual([1, 2, 3]);
    expect(ev.state).toBeUndefined();
  });

  it('the bare structure (no TDISP header) parses too', () => {
    const ev = parseTdispReport(sample());
    expect(ev.format).toBe('bare-report');
    expect(ev.report.mmioRanges.length).toBe(2);
  });

  it('a report split across portions is reassembled; inconsistent remainders are refused', () => {
    const s = sample();
    const part = (fid: number, bytes: Uint8Array, remainder: number): Uint8Array =>
      new ByteWriter().u8(0x10).u8(0x04).u16(0).u32(fid).u64(0n).u16(bytes.length).u16(remainder).bytes(bytes).finish();
    const two = concatBytes(part(7, s.subarray(0, 10), s.length - 10), part(7, s.subarray(10), 0));
    expect(parseTdispReport(two).report.tphControl).toBe(0x102);
    const bad = concatBytes(part(7, s.subarray(0, 10), s.length - 9), part(7, s.subarray(10), 0));
    expect(() => parseTdispReport(bad)).toThrow(expect.objectContaining({ code: 'TDISP_MALFORMED' }));
    const otherIf = concatBytes(part(7, s.subarray(0, 10), s.length - 10), part(8, s.subarray(10), 0));
    expect(() => parseTdispReport(otherIf)).toThrow(expect.objectContaining({ code: 'TDISP_MALFORMED' }));
    expect(() => parseTdispReport(part(7, s.subarray(0, 10), s.length - 10))).toThrow(expect.objectContaining({ code: 'EVIDENCE_TRUNCATED' }));
  });

  it('TDI states 0..3 are named; the state must name the same interface', () => {
    const msg = buildInterfaceReportMessage(5, sample());
    const names = [0, 1, 2, 3].map((s) => parseTdispReport(concatBytes(msg, buildInterfaceStateMessage(5, s))).state!.name);
    expect(names).toEqual(['CONFIG_UNLOCKED', 'CONFIG_LOCKED', 'RUN', 'ERROR']);
    expect(parseTdispReport(concatBytes(msg, buildInterfaceStateMessage(5, 9))).state!.name).toBe('RESERVED');
    expect(() => parseTdispReport(concatBytes(msg, buildInterfaceStateMessage(6, 2)))).toThrow(expect.objectContaining({ code: 'TDISP_MALFORMED' }));
  });

  it('reserved bits, oversized counts and wrong versions are refused', () => {
    const s = sample();
    const reservedInfo = s.slice();
    reservedInfo[1] = 0x80;
    expect(() => parseTdispReport(reservedInfo)).toThrow(expect.objectContaining({ code: 'TDISP_MALFORMED' }));
    const hugeCount = s.slice();
    new DataView(hugeCount.buffer).setUint32(12, 0xffffffff, true);
    expect(() => parseTdispReport(hugeCount)).toThrow(expect.objectContaining({ code: 'EVIDENCE_TRUNCATED' }));
    const hugeDs = s.slice();
    new DataView(hugeDs.buffer).setUint32(16 + 32, 0x7fffffff, true);
    expect(() => parseTdispReport(hugeDs)).toThrow(expect.objectContaining({ code: 'EVIDENCE_TRUNCATED' }));
    const badAttr = s.slice();
    badAttr[16 + 12 + 1] = 0x01;
    expect(() => parseTdispReport(badAttr)).toThrow(expect.objectContaining({ code: 'TDISP_MALFORMED' }));
    const msg = buildInterfaceReportMessage(1, s);
    const v11 = concatBytes(msg, buildInterfaceStateMessage(1, 2));
    v11[msg.length] = 0x11;
    expect(() => parseTdispReport(v11)).toThrow(expect.objectContaining({ code: 'TDISP_UNSUPPORTED_VERSION' }));
    const resv = msg.slice();
    resv[8] = 1; // interface_id reserved
    expect(() => parseTdispReport(resv)).toThrow(expect.objectContaining({ code: 'TDISP_MALFORMED' }));
    expect(() => parseTdispReport(new Uint8Array(5))).toThrow(expect.objectContaining({ code: 'EVIDENCE_TRUNCATED' }));
  });
});

describe('verifyTdispReport (simulated evidence only)', () => {
  it('a report without a signed transcript is TDISP_UNAUTHENTICATED, with its digest in the claims', async () => {
    const v = await verifyTdispReport(concatBytes(buildInterfaceReportMessage(1, sample()), buildInterfaceStateMessage(1, 2)));
    expect([v.verified, v.code, v.claims.tdiState]).toEqual([false, 'TDISP_UNAUTHENTICATED', 'RUN']);
    expect(String(v.claims.interfaceReportDigest)).toMatch(/^[0-9a-f]{96}$/);
    expect(v.warnings.join(' ')).toMatch(/No public TDISP captures/);
  });

  it('chain, nonce and binding failures have their own codes', async () => {
    const e = p.tdispReport(nonce);
    expect((await verifyTdispReport(e.evidence, { allowSimulated: true })).code).toBe('TDISP_CHAIN_MISSING');
    expect((await verifyTdispReport(e.evidence, { allowSimulated: true, certs: [e.certs[1]!] })).code).toBe('TDISP_CHAIN_INCOMPLETE');
    const wrong = nonce.slice();
    wrong[0]! ^= 1;
    expect((await verifyTdispReport(e.evidence, { allowSimulated: true, certs: e.certs, expectedNonce: wrong })).code).toBe('TDISP_NONCE_MISMATCH');
    // Another device's valid transcript does not vouch for this report.
    const other = p.tdispReport(nonce);
    const stateEnd = 16 + 4 + (e.evidence[16]! | (e.evidence[17]! << 8)) + 17;
    const mixed = concatBytes(e.evidence.subarray(0, stateEnd - 1), new Uint8Array([1]), other.evidence.subarray(stateEnd));
    expect((await verifyTdispReport(mixed, { allowSimulated: true, certs: e.certs })).code).toBe('TDISP_REPORT_UNBOUND');
    expect(TDISP_BINDING_BLOCK_INDEX).toBe(0xef);
  });

  it('properties: truncations and bit flips of a simulated bundle never crash and are never accepted', async () => {
    const e = p.tdispReport(nonce);
    const rnd = prng(1234);
    // A refusal is a verdict, or the InputError unreadable evidence throws (exit 2); nothing else.
    const verifyOrInputError = (b: Uint8Array) =>
      verifyTdispReport(b, { allowSimulated: true, certs: e.certs }).catch((err: unknown) => {
        if (err instanceof InputError) return { verified: false };
        throw err;
      });
    for (let n = 0; n < e.evidence.length; n += 11) {
      const v = await verifyOrInputError(e.evidence.subarray(0, n));
      expect(v.verified, `truncated to ${n}`).toBe(false);
    }
    for (let i = 0; i < 150; i++) {
      const m = e.evidence.slice();
      m[Math.floor(rnd() * m.length)]! ^= 1 << Math.floor(rnd() * 8);
      const v = await verifyOrInputError(m);
      expect(v.verified, `flip ${i}`).toBe(false);
    }
    for (let i = 0; i < 500; i++) {
      const m = e.evidence.slice();
      for (let k = 0; k < 3; k++) m[Math.floor(rnd() * m.length)] = Math.floor(rnd() * 256);
      try {
        parseTdispReport(m);
      } catch (err) {
        expect(err).toBeInstanceOf(InputError);
      }
    }
  }, 60_000);
});
