/**
 * Hostile statements that are validly signed (an attacker holding the key): random structural
 * mutations of the attestation and receipt statements never crash (only ModelsealErrors) and never verify.
 */
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { verifyAttestation } from '../../src/attest/binding/index.js';
import { keySigner, signEnvelope } from '../../src/crypto/dsse.js';
import { attestSignature } from '../../src/sign/index.js';
import { createReceipt, verifyReceipt } from '../../src/attest/receipt/index.js';
import { ModelsealError } from '../../src/errors.js';
import { fill251 } from '../helpers.js';
import { fakePlatform } from './binding-fakes.js';

/** Deterministic PRNG (xorshift32) so failures reproduce. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x1_0000_0000;
  };
}

const ODD_VALUES: unknown[] = [null, 0, -1, 1e308, '', 'x', '00', 'zz'.repeat(32), [], {}, true, 'a'.repeat(10_000), [1, 2, 3], { a: 1 }, 'AA=='];

/** Picks a random path in the JSON tree and deletes, retypes or duplicates the value there. */
function mutate(doc: unknown, rand: () => number): unknown {
  const clone = JSON.parse(JSON.stringify(doc)) as Record<string, unknown>;
  let node: Record<string, unknown> | unknown[] = clone;
  for (let depth = 0; depth < 6; depth++) {
    const keys = Object.keys(node);
    if (keys.length === 0) break;
    const k = keys[Math.floor(rand() * keys.length)]!;
    const child = (node as Record<string, unknown>)[k];
    const last = depth === 5 || typeof child !== 'object' || child === null || rand() < 0.3;
    if (last) {
      const r = rand();
      if (r < 0.3 && !Array.isArray(node)) delete (node as Record<string, unknown>)[k];
      else if (r < 0.8) (node as Record<string, unknown>)[k] = ODD_VALUES[Math.floor(rand() * ODD_VALUES.length)];
      else if (Array.isArray(child)) child.push(...child);
      else (node as Record<string, unknown>)[`${k}_extra`] = child;
      break;
    }
    node = child as Record<string, unknown>;
  }
  return clone;
}

describe('fuzz: signed but hostile statements', () => {
  it('attestation statements: 300 mutations, no crash, no accept', async () => {
    const k = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const fake = fakePlatform({ cpu: 'sev-snp', gpu: true, tdisp: true });
    const root = Buffer.from(fill251(32, 1)).toString('hex');
    const statements = [new Uint8Array([1, 2, 3])];
    const r = await attestSignature({ rootDigest: root, statements, signer: k.privateKey, source: fake.source });
    const rand = rng(0x5eed);
    let rejectedByParser = 0;
    for (let i = 0; i < 300; i++) {
      const st = mutate(r.statement, rand);
      const file = { mediaType: r.file.mediaType, dsseEnvelope: await signEnvelope(Buffer.from(JSON.stringify(st)), keySigner(k.privateKey)) };
      try {
        const v = await verifyAttestation(JSON.stringify(file), { rootDigest: root, statements, signerPublicKey: k.publicKey, verifyEvidence: fake.verifier });
        // A mutation of a member nobody reads (e.g. `tool`, `details`) may still verify: then nothing bound changed.
        if (v.ok) expect(JSON.stringify((st as typeof r.statement).predicate.evidence.map((e) => [e.kind, e.data, e.sha256]))).toBe(JSON.stringify(r.statement.predicate.evidence.map((e) => [e.kind, e.data, e.sha256])));
      } catch (e) {
        expect(e, `mutation ${i}: ${(e as Error).message}`).toBeInstanceOf(ModelsealError);
        rejectedByParser++;
      }
    }
    expect(rejectedByParser).toBeGreaterThan(100);
  });

  it('receipt statements: 300 mutations, no crash, no accept of a changed root, result or nonce', async () => {
    const fake = fakePlatform({ cpu: 'tdx' });
    const k = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const root = Buffer.from(fill251(32, 2)).toString('hex');
    const nonce = fill251(16, 3);
    const r = await createReceipt({ rootDigest: root, verifyResult: { verified: true, n: 1 }, nonce, platform: fake.source, signer: k.privateKey });
    const file = JSON.parse(Buffer.from(r.bytes).toString()) as { dsseEnvelope: unknown };
    const rand = rng(0xbeef);
    for (let i = 0; i < 300; i++) {
      const st = mutate(r.statement, rand) as typeof r.statement;
      const f = { ...file, dsseEnvelope: await signEnvelope(Buffer.from(JSON.stringify(st)), keySigner(k.privateKey)) };
      try {
        const v = await verifyReceipt(JSON.stringify(f), { nonce, verifyEvidence: fake.verifier });
        if (v.ok) {
          expect(st.predicate.rootDigest).toBe(root);
          expect(st.predicate.result).toEqual({ verified: true, n: 1 });
          expect(st.predicate.nonce).toBe(Buffer.from(nonce).toString('hex'));
        }
      } catch (e) {
        expect(e, `mutation ${i}: ${(e as Error).message}`).toBeInstanceOf(ModelsealError);
      }
    }
  });
});
