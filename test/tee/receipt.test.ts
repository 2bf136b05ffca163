import { createHash, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { keySigner, signEnvelope } from '../../src/crypto/dsse.js';
import { canonicalJson, createReceipt, receiptReportData, verifyReceipt, type ReceiptFile, type ReceiptStatement } from '../../src/attest/receipt/index.js';
import { ModelsealError } from '../../src/errors.js';
import { fill251 } from '../helpers.js';
import { fakePlatform } from './binding-fakes.js';

const ROOT = Buffer.from(fill251(32, 17)).toString('hex');
const NONCE = fill251(16, 3);
const RESULT = { verified: true, resources: 3, subset: false, backend: 'js' };

describe('receipt REPORT_DATA', () => {
  it('matches an independent recomputation', () => {
    const spki = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'der', type: 'spki' });
    const expected = createHash('sha512')
      .update('modelseal/receipt/v1')
      .update(Buffer.from(ROOT, 'hex'))
      .update(createHash('sha256').update('{"backend":"js","resources":3,"subset":false,"verified":true}').digest())
      .update(createHash('sha256').update(spki).digest())
      .update(Buffer.from([16]))
      .update(NONCE)
      .digest('hex');
    expect(Buffer.from(receiptReportData(Buffer.from(ROOT, 'hex'), RESULT, spki, NONCE)).toString('hex')).toBe(expected);
  });

  it('canonical JSON sorts keys at every depth and drops undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 0, y: 'x' }], c: null }, e: undefined })).toBe('{"a":{"c":null,"d":[1,{"y":"x","z":0}]},"b":1}');
    expect(() => canonicalJson({ x: Infinity })).toThrow(ModelsealError);
  });

  it('refuses nonces outside 8..64 bytes', () => {
    expect(() => receiptReportData(Buffer.from(ROOT, 'hex'), RESULT, new Uint8Array(10), new Uint8Array(7))).toThrow(/8 to 64 bytes/);
    expect(() => receiptReportData(Buffer.from(ROOT, 'hex'), RESULT, new Uint8Array(10), new Uint8Array(65))).toThrow(/8 to 64 bytes/);
  });
});

async function resign(bytes: Uint8Array, edit: (s: ReceiptStatement) => void): Promise<Uint8Array> {
  // The attacker's best move: a fresh key of its own, since it does not hold the CVM's.
  const doc = JSON.parse(Buffer.from(bytes).toString()) as ReceiptFile;
  const st = JSON.parse(Buffer.from(doc.dsseEnvelope.payload, 'base64').toString()) as ReceiptStatement;
  edit(st);
  const k = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  doc.signerPublicKey = k.publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
  st.predicate.signerKeyDigest = createHash('sha256').update(Buffer.from(doc.signerPublicKey, 'base64')).digest('hex');
  doc.dsseEnvelope = await signEnvelope(Buffer.from(JSON.stringify(st)), keySigner(k.privateKey));
  return Buffer.from(JSON.stringify(doc));
}

describe('createReceipt / verifyReceipt', () => {
  for (const cpu of ['sev-snp', 'tdx'] as const) {
    it(`round trip on ${cpu} with an ephemeral key`, async () => {
      const fake = fakePlatform({ cpu });
      const r = await createReceipt({ rootDigest: ROOT, verifyResult: RESULT, nonce: NONCE, platform: fake.source });
      expect(r.simulated).toBe(false);
      const v = await verifyReceipt(r.bytes, { nonce: NONCE, expectedRootDigest: ROOT, verifyEvidence: fake.verifier });
      expect(v.failures).toEqual([]);
      expect(v.ok).toBe(true);
      expect(v.result).toEqual(RESULT);
      expect(v.rootDigest).toBe(ROOT);
      expect(v.verdicts).toHaveLength(1);
      expect(v.message).toMatch(/verified inside a/);
    });
  }

  it('another nonce fails with RECEIPT_NONCE_MISMATCH', async () => {
    const fake = fakePlatform({ cpu: 'sev-snp' });
    const r = await createReceipt({ rootDigest: ROOT, verifyResult: RESULT, nonce: NONCE, platform: fake.source });
    const other = Uint8Array.from(NONCE, (b, i) => (i === 0 ? b ^ 1 : b));
    const v = await verifyReceipt(r.bytes, { nonce: other, verifyEvidence: fake.verifier });
    expect(v.ok).toBe(false);
    expect(v.code).toBe('RECEIPT_NONCE_MISMATCH');
  });

  it('another expected root fails with RECEIPT_ROOT_MISMATCH', async () => {
    const fake = fakePlatform({ cpu: 'sev-snp' });
    const r = await createReceipt({ rootDigest: ROOT, verifyResult: RESULT, nonce: NONCE, platform: fake.source });
    const v = await verifyReceipt(r.bytes, { nonce: NONCE, expectedRootDigest: '00'.repeat(32), verifyEvidence: fake.verifier });
    expect(v.code).toBe('RECEIPT_ROOT_MISMATCH');
  });

  it('flipping any byte of the receipt never verifies', async () => {
    const fake = fakePlatform({ cpu: 'sev-snp' });
    const k = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const r = await createReceipt({ rootDigest: ROOT, verifyResult: RESULT, nonce: NONCE, platform: fake.source, signer: k.privateKey });
    for (let i = 0; i < r.bytes.length; i++) {
      const t = Buffer.from(r.bytes);
      t[i] ^= 0x01;
      let ok = false;
      try {
        ok = (await verifyReceipt(t, { nonce: NONCE, verifyEvidence: fake.verifier })).ok;
      } catch (e) {
        expect(e, `byte ${i}`).toBeInstanceOf(ModelsealError);
      }
      expect(ok, `byte ${i} flipped was accepted`).toBe(false);
    }
  });

  it('re-signing with another key cannot change the root, result or nonce', async () => {
    const fake = fakePlatform({ cpu: 'sev-snp' });
    const r = await createReceipt({ rootDigest: ROOT, verifyResult: { verified: false, reason: 'digest mismatch' }, nonce: NONCE, platform: fake.source });
    const notVerified = await verifyReceipt(r.bytes, { nonce: NONCE, verifyEvidence: fake.verifier });
    expect(notVerified.code).toBe('RECEIPT_MODEL_NOT_VERIFIED');

    // Claim success, with everything else recomputed consistently: the CPU report still says otherwise.
    const forged = await resign(r.bytes, (s) => {
      s.predicate.result = { verified: true };
      s.predicate.resultDigest = createHash('sha256').update(canonicalJson(s.predicate.result)).digest('hex');
    });
    const v = await verifyReceipt(forged, { nonce: NONCE, verifyEvidence: fake.verifier });
    expect(v.ok).toBe(false);
    expect(v.code).toBe('RECEIPT_BINDING_MISMATCH');

    // Even just swapping the key (same contents) breaks the binding: the report vouches for the CVM's key.
    const swapped = await resign(r.bytes, () => {});
    expect((await verifyReceipt(swapped, { nonce: NONCE, verifyEvidence: fake.verifier })).code).toBe('RECEIPT_BINDING_MISMATCH');
  });

  it('a tampered CPU report fails with RECEIPT_EVIDENCE', async () => {
    const fake = fakePlatform({ cpu: 'sev-snp' });
    const k = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const r = await createReceipt({ rootDigest: ROOT, verifyResult: RESULT, nonce: NONCE, platform: fake.source, signer: k.privateKey });
    const doc = JSON.parse(Buffer.from(r.bytes).toString()) as ReceiptFile;
    const st = JSON.parse(Buffer.from(doc.dsseEnvelope.payload, 'base64').toString()) as ReceiptStatement;
    const d = Buffer.from(st.predicate.evidence.data, 'base64');
    d[0x90] ^= 1; // MEASUREMENT
    st.predicate.evidence.data = d.toString('base64');
    st.predicate.evidence.sha256 = createHash('sha256').update(d).digest('hex');
    doc.dsseEnvelope = await signEnvelope(Buffer.from(JSON.stringify(st)), keySigner(k.privateKey));
    const v = await verifyReceipt(Buffer.from(JSON.stringify(doc)), { nonce: NONCE, verifyEvidence: fake.verifier });
    expect(v.code).toBe('RECEIPT_EVIDENCE');
  });

  it('simulated receipts are refused unless allowed, and say so', async () => {
    const fake = fakePlatform({ cpu: 'tdx', simulated: true });
    const r = await createReceipt({ rootDigest: ROOT, verifyResult: RESULT, nonce: NONCE, platform: fake.source });
    expect(r.simulated).toBe(true);
    const refused = await verifyReceipt(r.bytes, { nonce: NONCE, verifyEvidence: fake.verifier });
    expect(refused.code).toBe('RECEIPT_SIMULATED');
    const allowed = await verifyReceipt(r.bytes, { nonce: NONCE, allowSimulated: true, verifyEvidence: fake.verifier });
    expect(allowed.ok).toBe(true);
    expect(allowed.simulated).toBe(true);
    expect(allowed.message).toMatch(/SIMULATED/);
  });

  it('needs a CPU TEE and a result that says whether the model verified', async () => {
    await expect(createReceipt({ rootDigest: ROOT, verifyResult: RESULT, nonce: NONCE, platform: fakePlatform({ cpu: null, gpu: true }).source })).rejects.toMatchObject({ code: 'RECEIPT_NO_CPU' });
    await expect(createReceipt({ rootDigest: ROOT, verifyResult: {} as never, nonce: NONCE, platform: fakePlatform().source })).rejects.toMatchObject({ code: 'RECEIPT_INPUT' });
  });
});
