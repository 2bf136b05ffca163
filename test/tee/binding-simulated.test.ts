/**
 * The binding end to end with the real platform verifiers (src/attest/index.ts) and the simulated
 * platform (src/attest/simulated/): real byte layouts, SIMULATED roots.
 */
import { createHash, generateKeyPairSync } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { verifyAttestation, type AttestationFile, type AttestationStatement } from '../../src/attest/binding/index.js';
import { keySigner, signEnvelope } from '../../src/crypto/dsse.js';
import { attestSignature } from '../../src/sign/index.js';
import { validatePolicy } from '../../src/attest/policy/index.js';
import { createReceipt, verifyReceipt } from '../../src/attest/receipt/index.js';
import { createSimulatedPlatform, type SimulatedPlatform } from '../../src/attest/simulated/index.js';
import { fill251 } from '../helpers.js';

const ROOT = Buffer.from(fill251(32, 77)).toString('hex');
const STATEMENTS = [new Uint8Array(Buffer.from('{"_type":"https://in-toto.io/Statement/v1","predicateType":"https://model_signing/signature/v1.0"}'))];

let platform: SimulatedPlatform;
beforeAll(async () => {
  platform = await createSimulatedPlatform();
});

async function resign(file: Uint8Array, privateKey: Parameters<typeof keySigner>[0], edit: (s: AttestationStatement) => void): Promise<Uint8Array> {
  const doc = JSON.parse(Buffer.from(file).toString()) as AttestationFile;
  const st = JSON.parse(Buffer.from(doc.dsseEnvelope.payload, 'base64').toString()) as AttestationStatement;
  edit(st);
  doc.dsseEnvelope = await signEnvelope(Buffer.from(JSON.stringify(st)), keySigner(privateKey));
  return Buffer.from(JSON.stringify(doc));
}

describe('binding with the simulated platform and the real verifiers', () => {
  const k = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const base = () => ({ rootDigest: ROOT, statements: STATEMENTS, signerPublicKey: k.publicKey });

  for (const cpu of ['sev-snp', 'tdx'] as const) {
    it(`${cpu} + GPU + TDISP: verifies with --allow-simulated, refused without`, async () => {
      const source = platform.evidenceSource({ cpu, gpu: true, tdisp: true });
      const r = await attestSignature({ rootDigest: ROOT, statements: STATEMENTS, signer: k.privateKey, source });
      expect(r.simulated).toBe(true);
      expect(r.statement.predicate.evidence.map((e) => e.kind)).toEqual(['nvidia-gpu', 'tdisp', cpu]);

      const refused = await verifyAttestation(r.bytes, base());
      expect(refused.ok).toBe(false);
      expect(refused.code).toBe('ATT_SIMULATED');

      const v = await verifyAttestation(r.bytes, { ...base(), allowSimulated: true });
      expect(v.failures).toEqual([]);
      expect(v.ok).toBe(true);
      expect(v.simulated).toBe(true);
      expect(v.evidence.map((e) => [e.kind, e.verdict.verified, e.bound])).toEqual([
        ['nvidia-gpu', true, true],
        ['tdisp', true, true],
        [cpu, true, true],
      ]);

      const policy = validatePolicy(v.verdicts, {
        version: 1,
        allowSimulated: true,
        maxEvidenceAgeSeconds: 600,
        requireKinds: ['nvidia-gpu', 'tdisp'],
        snp: { measurements: [platform.measurements.snp] },
        tdx: { mrtd: [platform.measurements.mrtd], rtmr0: [platform.measurements.rtmrs[0]!] },
        nvidia: { requireCcMode: true, driverVersions: [platform.measurements.gpuDriver] },
        tdisp: { requireRun: true },
      });
      expect(policy.rules.filter((x) => !x.ok)).toEqual([]);
      expect(policy.ok).toBe(true);
      expect(policy.simulated).toBe(true);
      // The same evidence under a production policy.
      const prod = validatePolicy(v.verdicts, { version: 1 });
      expect(prod.ok).toBe(false);
      expect(prod.code).toBe('POLICY_SIMULATED');
    });
  }

  it('tampering with real-layout evidence fails with a specific code', async () => {
    const source = platform.evidenceSource({ cpu: 'sev-snp', gpu: true });
    const r = await attestSignature({ rootDigest: ROOT, statements: STATEMENTS, signer: k.privateKey, source });
    const opts = { ...base(), allowSimulated: true };
    // A byte of the SNP report's signed range (MEASUREMENT), re-signed statement: ATT_EVIDENCE.
    const flipped = await resign(r.bytes, k.privateKey, (s) => {
      const d = Buffer.from(s.predicate.evidence[1]!.data, 'base64');
      d[0x90] ^= 1;
      s.predicate.evidence[1]!.data = d.toString('base64');
      s.predicate.evidence[1]!.sha256 = createHash('sha256').update(d).digest('hex');
    });
    expect((await verifyAttestation(flipped, opts)).code).toBe('ATT_EVIDENCE');
    // Another genuine SNP report from the same platform, for other REPORT_DATA: ATT_BINDING_MISMATCH.
    const other = platform.snpReport(new Uint8Array(64).fill(7));
    const swapped = await resign(r.bytes, k.privateKey, (s) => {
      s.predicate.evidence[1]!.data = Buffer.from(other.evidence).toString('base64');
      s.predicate.evidence[1]!.sha256 = createHash('sha256').update(other.evidence).digest('hex');
    });
    const vs = await verifyAttestation(swapped, opts);
    expect(vs.code).toBe('ATT_BINDING_MISMATCH');
    expect(vs.evidence[1]!.verdict.verified).toBe(true);
    // Another model root: ATT_BINDING_MISMATCH; the file itself altered: ATT_SIGNATURE.
    expect((await verifyAttestation(r.bytes, { ...opts, rootDigest: '00'.repeat(32) })).code).toBe('ATT_BINDING_MISMATCH');
    const t = Buffer.from(r.bytes);
    t[t.indexOf('"payload"') + 20] ^= 1;
    expect((await verifyAttestation(t, opts)).code).toBe('ATT_SIGNATURE');
  });

  it('a genuine GPU report of another platform, for another nonce, is a binding mismatch', async () => {
    // Same layout, other keys: swapping in another platform's GPU report keeps it verifiable (it carries
    // its own chain) but its nonce is not ours.
    const p2 = await createSimulatedPlatform();
    const source = platform.evidenceSource({ cpu: 'tdx', gpu: true });
    const r = await attestSignature({ rootDigest: ROOT, statements: STATEMENTS, signer: k.privateKey, source });
    const foreign = p2.nvidiaReport(new Uint8Array(32).fill(1));
    const swapped = await resign(r.bytes, k.privateKey, (s) => {
      s.predicate.evidence[0]!.data = Buffer.from(foreign.evidence).toString('base64');
      s.predicate.evidence[0]!.certs = foreign.certs.map((c) => Buffer.from(c).toString('base64'));
      s.predicate.evidence[0]!.sha256 = createHash('sha256').update(foreign.evidence).digest('hex');
    });
    const v = await verifyAttestation(swapped, { ...base(), allowSimulated: true });
    expect(v.ok).toBe(false);
    expect(v.code).toBe('ATT_BINDING_MISMATCH');
  });
});

describe('receipts with the simulated platform', () => {
  const NONCE = fill251(32, 9);

  for (const cpu of ['sev-snp', 'tdx'] as const) {
    it(`round trip on ${cpu}; nonce mismatch fails`, async () => {
      const r = await createReceipt({ rootDigest: ROOT, verifyResult: { verified: true, scope: 'model' }, nonce: NONCE, platform: platform.evidenceSource({ cpu, gpu: false }) });
      expect(r.simulated).toBe(true);
      const v = await verifyReceipt(r.bytes, { nonce: NONCE, allowSimulated: true, expectedRootDigest: ROOT });
      expect(v.failures).toEqual([]);
      expect(v.ok).toBe(true);
      expect(v.simulated).toBe(true);
      expect(v.verdict?.verified).toBe(true);
      const wrong = await verifyReceipt(r.bytes, { nonce: fill251(32, 10), allowSimulated: true });
      expect(wrong.ok).toBe(false);
      expect(wrong.code).toBe('RECEIPT_NONCE_MISMATCH');
      const refused = await verifyReceipt(r.bytes, { nonce: NONCE });
      expect(refused.code).toBe('RECEIPT_SIMULATED');
    });
  }
});
