/**
 * Property tests for the NVIDIA parsers and verifier: random truncation, bit flips, oversized length
 * fields and wrong versions never crash (only InputError from parsers, verdicts from verifiers) and
 * are never accepted. Deterministic PRNG: failures reproduce.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeVectors, VECTORS_DIR, whenVectors } from '../helpers.js';
import { InputError } from '../../src/errors.js';
import { parseNvidiaEvidence, verifyNvidiaEvidence } from '../../src/attest/nvidia/index.js';
import { parseSpdmMeasurements } from '../../src/attest/nvidia/spdm.js';
import { parseRim, verifyRim } from '../../src/attest/nvidia/rim.js';
import { pemCertificates } from '../../src/crypto/pem.js';

const NV = join(VECTORS_DIR, 'tee', 'nvidia');
const REPORT = whenVectors(() => new Uint8Array(Buffer.from(readFileSync(join(NV, 'nvtrust_hopper_report.hex'), 'utf8').trim(), 'hex')), new Uint8Array());
const CHAIN = whenVectors(() => pemCertificates(readFileSync(join(NV, 'nvtrust_hopper_cert_chain.pem'), 'utf8')), []);
const AT = new Date('2025-01-15T00:00:00Z');

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

function parseOrInputError(f: () => unknown): 'ok' | string {
  try {
    f();
    return 'ok';
  } catch (e) {
    if (e instanceof InputError) return e.code;
    throw e; // anything else is a crash
  }
}

/** A verdict, or the InputError an unreadable report throws (exit 2, as for SEV-SNP and TDX): both are refusals. */
async function verifyOrInputError(b: Uint8Array, o: Parameters<typeof verifyNvidiaEvidence>[1]): Promise<{ verified: boolean; code?: string }> {
  try {
    return await verifyNvidiaEvidence(b, o);
  } catch (e) {
    if (e instanceof InputError) return { verified: false, code: e.code };
    throw e; // anything else is a crash
  }
}

const u24 = (b: Uint8Array, off: number, v: number): void => {
  b[off] = v & 0xff;
  b[off + 1] = (v >> 8) & 0xff;
  b[off + 2] = (v >> 16) & 0xff;
};
// Offsets in the Hopper vector: request 37 bytes; response header at 37; record length at 37+5.
const RESP = 37;
const RECORD_LEN = 3520;
const OPAQUE_LEN_AT = RESP + 8 + RECORD_LEN + 32;

describeVectors('SPDM parser properties', () => {
  it('every truncation is refused with EVIDENCE_TRUNCATED (never a crash)', () => {
    for (let n = 0; n < REPORT.length; n++) {
      const code = parseOrInputError(() => parseSpdmMeasurements(REPORT.subarray(0, n)));
      expect(code === 'EVIDENCE_TRUNCATED' || (n < 2 && code !== 'ok'), `length ${n}: ${code}`).toBe(true);
    }
  });

  it('trailing bytes are refused (the signature covers an exact length)', () => {
    const code = parseOrInputError(() => parseSpdmMeasurements(new Uint8Array([...REPORT, 0])));
    expect(code).toBe('NV_MALFORMED_REPORT');
  });

  it('2000 random multi-bit mutations parse or fail with an InputError', () => {
    const rnd = prng(0x5eed);
    for (let i = 0; i < 2000; i++) {
      const m = REPORT.slice();
      const flips = 1 + Math.floor(rnd() * 4);
      for (let k = 0; k < flips; k++) m[Math.floor(rnd() * m.length)]! ^= 1 << Math.floor(rnd() * 8);
      parseOrInputError(() => parseSpdmMeasurements(m));
    }
  });

  it('oversized length fields are refused before any allocation', () => {
    const cases: [string, (b: Uint8Array) => void][] = [
      ['record length 2^24-1', (b) => u24(b, RESP + 5, 0xffffff)],
      ['record length +1', (b) => u24(b, RESP + 5, RECORD_LEN + 1)],
      ['block count 255', (b) => (b[RESP + 4] = 255)],
      ['opaque length 0xffff', (b) => {
        b[OPAQUE_LEN_AT] = 0xff;
        b[OPAQUE_LEN_AT + 1] = 0xff;
      }],
      ['first TLV size 0xffff', (b) => {
        b[OPAQUE_LEN_AT + 4] = 0xff;
        b[OPAQUE_LEN_AT + 5] = 0xff;
      }],
      ['first block size 0xffff', (b) => {
        b[RESP + 8 + 2] = 0xff;
        b[RESP + 8 + 3] = 0xff;
      }],
      ['first DMTF value size 0xffff', (b) => {
        b[RESP + 8 + 5] = 0xff;
        b[RESP + 8 + 6] = 0xff;
      }],
    ];
    for (const [name, edit] of cases) {
      const m = REPORT.slice();
      edit(m);
      const code = parseOrInputError(() => parseSpdmMeasurements(m));
      expect(['EVIDENCE_TRUNCATED', 'NV_MALFORMED_REPORT'], name).toContain(code);
    }
  });

  it('wrong versions and message codes are refused', async () => {
    for (const [off, v, code] of [
      [0, 0x20, 'NV_UNSUPPORTED_VERSION'],
      [0, 0x00, 'NV_UNSUPPORTED_VERSION'],
      [1, 0xe1, 'NV_MALFORMED_REPORT'],
      [RESP, 0x12, 'NV_MALFORMED_REPORT'],
      [RESP + 1, 0x61, 'NV_MALFORMED_REPORT'],
    ] as const) {
      const m = REPORT.slice();
      m[off] = v;
      expect(parseOrInputError(() => parseSpdmMeasurements(m))).toBe(code);
    }
    // Consistent SPDM 1.2 request and response: parses, but the 1.1 signature rule does not apply.
    const m = REPORT.slice();
    m[0] = 0x12;
    m[RESP] = 0x12;
    const v = await verifyNvidiaEvidence(m, { certs: CHAIN, at: AT });
    expect([v.verified, v.code]).toEqual([false, 'NV_UNSUPPORTED_VERSION']);
  });
});

describeVectors('verifier properties: never a crash, never an accept', () => {
  it('random truncations, flips and splices of a real report are all refused', async () => {
    const rnd = prng(42);
    const codes = new Set<string>();
    for (let i = 0; i < 150; i++) {
      let m: Uint8Array;
      const r = rnd();
      if (r < 0.3) m = REPORT.subarray(0, Math.floor(rnd() * REPORT.length));
      else if (r < 0.8) {
        m = REPORT.slice();
        const flips = 1 + Math.floor(rnd() * 3);
        for (let k = 0; k < flips; k++) m[Math.floor(rnd() * m.length)]! ^= 1 << Math.floor(rnd() * 8);
      } else {
        // Splice: a random slice moved elsewhere (lengths then disagree or the signature fails).
        const a = Math.floor(rnd() * REPORT.length);
        const b = Math.min(REPORT.length, a + 1 + Math.floor(rnd() * 64));
        m = new Uint8Array([...REPORT.subarray(0, a), ...REPORT.subarray(b), ...REPORT.subarray(a, b)]);
        if (a === b || Buffer.from(m).equals(Buffer.from(REPORT))) continue;
      }
      const v = await verifyOrInputError(m, { certs: CHAIN, at: AT });
      expect(v.verified, `iteration ${i}`).toBe(false);
      expect(typeof v.code).toBe('string');
      codes.add(v.code!);
    }
    expect(codes.has('NV_BAD_SIGNATURE')).toBe(true);
    expect(codes.has('EVIDENCE_TRUNCATED')).toBe(true);
  }, 60_000);

  it('mutated certificate chains are refused', async () => {
    const rnd = prng(7);
    for (let i = 0; i < 60; i++) {
      const chain = CHAIN.map((c) => c.slice());
      const c = chain[Math.floor(rnd() * chain.length)]!;
      c[Math.floor(rnd() * c.length)]! ^= 1 << Math.floor(rnd() * 8);
      const v = await verifyNvidiaEvidence(REPORT, { certs: chain, at: AT });
      expect(v.verified, `iteration ${i}`).toBe(false);
    }
  });

  it('garbage, empty and non-evidence inputs are InputErrors (exit 2), never a crash or an accept', async () => {
    const rnd = prng(99);
    const inputs: Uint8Array[] = [new Uint8Array(0), new Uint8Array([0x11]), new Uint8Array([0x11, 0xe0]), new Uint8Array(Buffer.from('[]')), new Uint8Array(Buffer.from('{"evidence": 5}')), new Uint8Array(Buffer.from('[{"evidence":"!!"}]')), new Uint8Array(Buffer.from('zz'))];
    for (let i = 0; i < 50; i++) inputs.push(new Uint8Array(Math.floor(rnd() * 200)).map(() => Math.floor(rnd() * 256)));
    for (const b of inputs) {
      await expect(verifyNvidiaEvidence(b, { certs: CHAIN, at: AT })).rejects.toThrow(InputError);
      expect(() => parseNvidiaEvidence(b)).toThrow(InputError);
    }
  });

  it('PPCIe JSON: mutations of evidence fields are refused; the nonce field cannot be swapped', async () => {
    const text = readFileSync(join(NV, 'nvtrust_ppcie_8xh100_gpu_evidence.json'), 'utf8');
    const j = JSON.parse(text) as Record<string, string>[];
    const one = j[3]!;
    const rnd = prng(3);
    for (let i = 0; i < 40; i++) {
      const ev = Buffer.from(one.evidence!, 'base64');
      ev[Math.floor(rnd() * ev.length)]! ^= 1 << Math.floor(rnd() * 8);
      const v = await verifyOrInputError(new Uint8Array(Buffer.from(JSON.stringify({ ...one, evidence: ev.toString('base64') }))), { at: AT });
      expect(v.verified).toBe(false);
    }
    const swapped = { ...one, nonce: 'ff'.repeat(32) };
    const v = await verifyNvidiaEvidence(new Uint8Array(Buffer.from(JSON.stringify(swapped))), { at: AT });
    expect([v.verified, v.code]).toEqual([false, 'NV_NONCE_MISMATCH']);
  });
});

describeVectors('RIM parser properties', () => {
  const RIM = whenVectors(() => new Uint8Array(readFileSync(join(NV, 'rims', readdirSync(join(NV, 'rims')).sort()[0]!))), new Uint8Array());
  const original = whenVectors(() => parseRim(RIM).signature.referenceC14n, '');

  it('truncations never crash and never verify', () => {
    for (let n = 0; n < RIM.length; n += 211) {
      const r = verifyRim(RIM.subarray(0, n), { at: new Date('2024-06-01'), allowSimulated: false });
      expect(r.ok).toBe(false);
    }
  });

  it('byte flips never crash; an accepted flip never changes the signed canonical content', () => {
    const rnd = prng(11);
    for (let i = 0; i < 150; i++) {
      const m = RIM.slice();
      m[Math.floor(rnd() * m.length)]! ^= 1 << Math.floor(rnd() * 7);
      const r = verifyRim(m, { at: new Date('2024-06-01'), allowSimulated: false });
      if (r.ok) expect(r.rim.signature.referenceC14n).toBe(original);
    }
  }, 60_000);
});
