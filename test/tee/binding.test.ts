import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { attestSignature } from '../../src/sign/index.js';
import { keySigner, signEnvelope } from '../../src/crypto/dsse.js';
import {
  bindingDigest,
  cpuReportData,
  gpuNonce,
  signerKeyDigest,
  statementsDigest,
  verifyAttestation,
  writeAttestationFile,
  type AttestationFile,
  type AttestationStatement,
} from '../../src/attest/binding/index.js';
import { ModelsealError } from '../../src/errors.js';
import { fill251, tempDir } from '../helpers.js';
import { fakePlatform } from './binding-fakes.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('binding digest', () => {
  // Golden values computed by an independent implementation (Python hashlib) of DESIGN §5:
  // SHA-512("modelseal/attest/v1" ‖ root ‖ SHA-256(framed statements) ‖ key digest ‖ nonce).
  const inputs = {
    rootDigest: fill251(32, 0),
    statementsDigest: statementsDigest([fill251(100, 7), fill251(33, 50)]),
    signerKeyDigest: fill251(32, 99),
    nonce: fill251(32, 200),
  };

  it('statements digest frames each statement with its u64 big-endian length', () => {
    expect(hex(inputs.statementsDigest)).toBe('27be56df8e5dbd7c7eb9dffcb369674e2573622f547ebfd1c0867784fb3a6434');
    // Re-cutting the same bytes into other statements changes the digest.
    const joined = new Uint8Array([...fill251(100, 7), ...fill251(33, 50)]);
    expect(hex(statementsDigest([joined]))).not.toBe(hex(inputs.statementsDigest));
  });

  it('matches an independent recomputation', () => {
    expect(hex(bindingDigest(inputs))).toBe(
      '583ce7630bde96169210b09954f173ece51aab6e263d929c7b26e627b06701343037f8f9a044f0f7fcf0991c504cb14c54aa124a7cf8c625e2161c04e7ba0aa0',
    );
    expect(hex(gpuNonce(inputs))).toBe('70e7ff377eced6ac2420ba7494ce7ea48d242afa2472efd112a5cb71d0560d96');
    expect(hex(cpuReportData(inputs, [fill251(1000, 3), fill251(77, 11)]))).toBe(
      'bd9b5ab67af50561e55e9c0b1f3712cac901c6f4ad220dfc361e90c8cd9e54a53fd560ef736c4240e1f59e9744a0c5d2b3f32174933570f46b92d1093036638d',
    );
    expect(hex(cpuReportData(inputs, []))).toBe(hex(bindingDigest(inputs)));
  });

  it('also matches a recomputation with node:crypto in the test', () => {
    const pre = Buffer.concat([Buffer.from('modelseal/attest/v1'), inputs.rootDigest, inputs.statementsDigest, inputs.signerKeyDigest, inputs.nonce]);
    expect(hex(bindingDigest(inputs))).toBe(createHash('sha512').update(pre).digest('hex'));
  });

  it('every input changes the digest', () => {
    const base = hex(bindingDigest(inputs));
    for (const k of ['rootDigest', 'statementsDigest', 'signerKeyDigest', 'nonce'] as const) {
      const changed = { ...inputs, [k]: Uint8Array.from(inputs[k], (v, i) => (i === 31 ? v ^ 1 : v)) };
      expect(hex(bindingDigest(changed)), k).not.toBe(base);
    }
  });

  it('refuses inputs of the wrong size with ATT_INPUT', () => {
    expect(() => bindingDigest({ ...inputs, nonce: new Uint8Array(16) })).toThrow(/nonce must be exactly 32 bytes/);
    expect(() => bindingDigest({ ...inputs, rootDigest: new Uint8Array(33) })).toThrow(ModelsealError);
  });

  it('the signer key digest is SHA-256 of the DER SPKI', () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const der = publicKey.export({ format: 'der', type: 'spki' });
    expect(hex(signerKeyDigest(publicKey))).toBe(createHash('sha256').update(der).digest('hex'));
    expect(hex(signerKeyDigest(publicKey.export({ format: 'pem', type: 'spki' }) as string))).toBe(createHash('sha256').update(der).digest('hex'));
  });
});

function keys(curve = 'P-256'): { privateKey: KeyObject; publicKey: KeyObject } {
  return generateKeyPairSync('ec', { namedCurve: curve });
}

const ROOT = hex(fill251(32, 5));
const STATEMENTS = [new Uint8Array(Buffer.from('{"_type":"https://in-toto.io/Statement/v1","oms":true}'))];

async function resign(file: Uint8Array, privateKey: KeyObject, edit: (s: AttestationStatement) => void): Promise<Uint8Array> {
  const doc = JSON.parse(Buffer.from(file).toString()) as AttestationFile;
  const st = JSON.parse(Buffer.from(doc.dsseEnvelope.payload, 'base64').toString()) as AttestationStatement;
  edit(st);
  doc.dsseEnvelope = await signEnvelope(Buffer.from(JSON.stringify(st)), keySigner(privateKey));
  return Buffer.from(JSON.stringify(doc));
}

describe('attestSignature / verifyAttestation', () => {
  const k = keys('P-384');

  for (const config of [
    { cpu: 'sev-snp' as const },
    { cpu: 'tdx' as const },
    { cpu: 'sev-snp' as const, gpu: true, tdisp: true },
    { cpu: null, gpu: true },
  ]) {
    it(`round trip: ${JSON.stringify(config)}`, async () => {
      const fake = fakePlatform(config);
      const r = await attestSignature({ rootDigest: ROOT, statements: STATEMENTS, signer: k.privateKey, source: fake.source, subjectName: 'm' });
      expect(r.simulated).toBe(false);
      const kinds = r.statement.predicate.evidence.map((e) => e.kind);
      // Device evidence first, the CPU report last.
      if (config.gpu) expect(kinds[0]).toBe('nvidia-gpu');
      if (config.cpu) expect(kinds.at(-1)).toBe(config.cpu);
      const v = await verifyAttestation(r.bytes, { rootDigest: ROOT, statements: STATEMENTS, signerPublicKey: k.publicKey, verifyEvidence: fake.verifier });
      expect(v.failures).toEqual([]);
      expect(v.ok).toBe(true);
      expect(v.simulated).toBe(false);
      expect(v.evidence.every((e) => e.bound && e.verdict.verified)).toBe(true);
      expect(v.verdicts.map((x) => x.kind)).toEqual(kinds);
      expect(v.nonce).toBe(r.statement.predicate.bindingInputs.nonce);
    });
  }

  it('the CPU REPORT_DATA is the binding digest extended by the device evidence digests', async () => {
    const fake = fakePlatform({ cpu: 'sev-snp', gpu: true });
    const nonce = fill251(32, 1);
    const r = await attestSignature({ rootDigest: ROOT, statements: STATEMENTS, signer: k.privateKey, source: fake.source, nonce });
    const ev = r.statement.predicate.evidence;
    const gpuData = Buffer.from(ev[0]!.data, 'base64');
    const snp = Buffer.from(ev[1]!.data, 'base64');
    const keyDigest = createHash('sha256').update(k.publicKey.export({ format: 'der', type: 'spki' })).digest();
    const stmtDigest = createHash('sha256').update(Buffer.from([0, 0, 0, 0, 0, 0, 0, STATEMENTS[0]!.length])).update(STATEMENTS[0]!).digest();
    const pre = Buffer.concat([Buffer.from('modelseal/attest/v1'), Buffer.from(ROOT, 'hex'), stmtDigest, keyDigest, nonce]);
    expect(gpuData.subarray(4, 36).toString('hex')).toBe(createHash('sha256').update(pre).digest('hex'));
    const expected = createHash('sha512').update(pre).update(createHash('sha256').update(gpuData).digest()).digest('hex');
    expect(snp.subarray(0x50, 0x90).toString('hex')).toBe(expected);
    expect(r.statement.predicate.reportData).toBe(expected);
  });

  it('flipping any byte of the attestation file never verifies', async () => {
    const fake = fakePlatform({ cpu: 'sev-snp', gpu: true });
    const k = keys('P-256'); // the cheapest verify: this test verifies thousands of files
    const r = await attestSignature({ rootDigest: ROOT, statements: STATEMENTS, signer: k.privateKey, source: fake.source });
    const text = Buffer.from(r.bytes);
    let signatureFailures = 0;
    for (let i = 0; i < text.length; i++) {
      const t = Buffer.from(text);
      t[i] ^= 0x01;
      let ok = false;
      try {
        const v = await verifyAttestation(t, { rootDigest: ROOT, statements: STATEMENTS, signerPublicKey: k.publicKey, verifyEvidence: fake.verifier });
        ok = v.ok;
        if (v.code === 'ATT_SIGNATURE') signatureFailures++;
      } catch (e) {
        expect(e, `byte ${i}`).toBeInstanceOf(ModelsealError); // malformed JSON: a clean input error
      }
      expect(ok, `byte ${i} flipped was accepted`).toBe(false);
    }
    expect(signatureFailures).toBeGreaterThan(text.length / 2);
  });

  it('a different model root, statement set or key fails with a specific code', async () => {
    const fake = fakePlatform({ cpu: 'tdx', gpu: true });
    const r = await attestSignature({ rootDigest: ROOT, statements: STATEMENTS, signer: k.privateKey, source: fake.source });
    const base = { rootDigest: ROOT, statements: STATEMENTS, signerPublicKey: k.publicKey, verifyEvidence: fake.verifier };
    const otherRoot = hex(fill251(32, 6));
    expect((await verifyAttestation(r.bytes, { ...base, rootDigest: otherRoot })).code).toBe('ATT_BINDING_MISMATCH');
    const otherStmt = [new Uint8Array(Buffer.from('{"other":1}'))];
    expect((await verifyAttestation(r.bytes, { ...base, statements: otherStmt })).code).toBe('ATT_BINDING_MISMATCH');
    expect((await verifyAttestation(r.bytes, { ...base, signerPublicKey: keys('P-384').publicKey })).code).toBe('ATT_SIGNATURE');
    expect((await verifyAttestation(r.bytes, { ...base, expectedNonce: new Uint8Array(32) })).code).toBe('ATT_NONCE_MISMATCH');
  });

  it('re-signed statements (an attacker holding the key) cannot move the binding', async () => {
    const fake = fakePlatform({ cpu: 'sev-snp', gpu: true });
    const r = await attestSignature({ rootDigest: ROOT, statements: STATEMENTS, signer: k.privateKey, source: fake.source });
    const base = { rootDigest: ROOT, statements: STATEMENTS, signerPublicKey: k.publicKey, verifyEvidence: fake.verifier };

    // Another root in the statement, with the evidence unchanged: the recomputed REPORT_DATA differs.
    const otherRoot = hex(fill251(32, 9));
    const moved = await resign(r.bytes, k.privateKey, (s) => {
      s.subject[0]!.digest.sha256 = otherRoot;
      s.predicate.bindingInputs.rootDigest = otherRoot;
    });
    const vMoved = await verifyAttestation(moved, { ...base, rootDigest: otherRoot });
    expect(vMoved.ok).toBe(false);
    expect(vMoved.code).toBe('ATT_BINDING_MISMATCH');

    // Another nonce claimed for the same evidence.
    const renonced = await resign(r.bytes, k.privateKey, (s) => {
      s.predicate.bindingInputs.nonce = '11'.repeat(32);
    });
    expect((await verifyAttestation(renonced, base)).code).toBe('ATT_BINDING_MISMATCH');

    // Any byte of the CPU report's signed range (REPORT_DATA included) flipped: the platform verifier refuses it.
    for (const at of [0, 0x50, 0x8f, 0x29f]) {
      const flipped = await resign(r.bytes, k.privateKey, (s) => {
        const d = Buffer.from(s.predicate.evidence[1]!.data, 'base64');
        d[at] ^= 0x80;
        s.predicate.evidence[1]!.data = d.toString('base64');
        s.predicate.evidence[1]!.sha256 = createHash('sha256').update(d).digest('hex');
      });
      expect((await verifyAttestation(flipped, base)).code, `offset ${at}`).toBe('ATT_EVIDENCE');
    }

    // The GPU report swapped for another genuine one (other nonce): the nonce check and REPORT_DATA both fail.
    const other = await attestSignature({ rootDigest: ROOT, statements: STATEMENTS, signer: k.privateKey, source: fake.source });
    const swapped = await resign(r.bytes, k.privateKey, (s) => {
      s.predicate.evidence[0] = other.statement.predicate.evidence[0]!;
    });
    const vSwap = await verifyAttestation(swapped, base);
    expect(vSwap.code).toBe('ATT_BINDING_MISMATCH');
    expect(vSwap.failures.length).toBeGreaterThanOrEqual(2);

    // The GPU evidence dropped: the CPU report covered it, so REPORT_DATA no longer matches.
    const dropped = await resign(r.bytes, k.privateKey, (s) => {
      s.predicate.evidence.shift();
      s.predicate.gpuNonce = '';
    });
    expect((await verifyAttestation(dropped, base)).code).toBe('ATT_BINDING_MISMATCH');

    // Recorded digest of the evidence altered.
    const wrongSha = await resign(r.bytes, k.privateKey, (s) => {
      s.predicate.evidence[0]!.sha256 = '00'.repeat(32);
    });
    expect((await verifyAttestation(wrongSha, base)).code).toBe('ATT_BINDING_MISMATCH');
  });

  it('evidence forged with the platform key but REPORT_DATA of other inputs is a binding mismatch', async () => {
    const fake = fakePlatform({ cpu: 'sev-snp' });
    const r = await attestSignature({ rootDigest: ROOT, statements: STATEMENTS, signer: k.privateKey, source: fake.source });
    const forged = await resign(r.bytes, k.privateKey, (s) => {
      const d = Buffer.from(s.predicate.evidence[0]!.data, 'base64');
      d.fill(0x42, 0x50, 0x90);
      d.set(fake.sign(d.subarray(0, 0x2a0)), 0x2a0);
      s.predicate.evidence[0]!.data = d.toString('base64');
      s.predicate.evidence[0]!.sha256 = createHash('sha256').update(d).digest('hex');
    });
    const v = await verifyAttestation(forged, { rootDigest: ROOT, statements: STATEMENTS, signerPublicKey: k.publicKey, verifyEvidence: fake.verifier });
    expect(v.code).toBe('ATT_BINDING_MISMATCH');
    expect(v.evidence[0]!.verdict.verified).toBe(true);
    expect(v.evidence[0]!.bound).toBe(false);
  });

  it('simulated evidence is refused unless allowed, and always reported', async () => {
    const fake = fakePlatform({ cpu: 'sev-snp', gpu: true, simulated: true });
    const r = await attestSignature({ rootDigest: ROOT, statements: STATEMENTS, signer: k.privateKey, source: fake.source });
    expect(r.simulated).toBe(true);
    expect(r.statement.predicate.simulated).toBe(true);
    const base = { rootDigest: ROOT, statements: STATEMENTS, signerPublicKey: k.publicKey, verifyEvidence: fake.verifier };
    const refused = await verifyAttestation(r.bytes, base);
    expect(refused.ok).toBe(false);
    expect(refused.code).toBe('ATT_SIMULATED');
    expect(refused.message).toMatch(/SIMULATED/);
    const allowed = await verifyAttestation(r.bytes, { ...base, allowSimulated: true });
    expect(allowed.ok).toBe(true);
    expect(allowed.simulated).toBe(true);
    expect(allowed.message).toMatch(/SIMULATED/);
    // Relabelling simulated evidence as real does not help: the verifier still says simulated.
    const relabelled = await resign(r.bytes, k.privateKey, (s) => {
      for (const e of s.predicate.evidence) e.simulated = false;
      s.predicate.simulated = false;
    });
    const v = await verifyAttestation(relabelled, { ...base, allowSimulated: true });
    expect(v.ok).toBe(false);
    expect(v.code).toBe('ATT_EVIDENCE');
    expect(v.simulated).toBe(true);
  });

  it('TDISP evidence without a CPU report cannot be bound', async () => {
    const fake = fakePlatform({ cpu: null, tdisp: true });
    await expect(attestSignature({ rootDigest: ROOT, statements: STATEMENTS, signer: k.privateKey, source: fake.source })).rejects.toMatchObject({ code: 'ATT_UNBOUND' });
    const fake2 = fakePlatform({ cpu: 'tdx', gpu: true, tdisp: true });
    const r = await attestSignature({ rootDigest: ROOT, statements: STATEMENTS, signer: k.privateKey, source: fake2.source });
    const noCpu = await resign(r.bytes, k.privateKey, (s) => {
      s.predicate.evidence.pop();
      s.predicate.reportData = '';
    });
    const v = await verifyAttestation(noCpu, { rootDigest: ROOT, statements: STATEMENTS, signerPublicKey: k.publicKey, verifyEvidence: fake2.verifier });
    expect(v.code).toBe('ATT_UNBOUND');
  });

  it('a verifier that throws on unreadable evidence yields ATT_EVIDENCE, not a crash', async () => {
    const fake = fakePlatform({ cpu: 'sev-snp' });
    const r = await attestSignature({ rootDigest: ROOT, statements: STATEMENTS, signer: k.privateKey, source: fake.source });
    const junk = await resign(r.bytes, k.privateKey, (s) => {
      const d = Buffer.from('junk');
      s.predicate.evidence[0]!.data = d.toString('base64');
      s.predicate.evidence[0]!.sha256 = createHash('sha256').update(d).digest('hex');
    });
    const v = await verifyAttestation(junk, { rootDigest: ROOT, statements: STATEMENTS, signerPublicKey: k.publicKey, verifyEvidence: fake.verifier });
    expect(v.code).toBe('ATT_EVIDENCE');
  });

  it('works with every OMS curve', async () => {
    for (const curve of ['P-256', 'P-384', 'P-521']) {
      const kk = keys(curve);
      const fake = fakePlatform({ cpu: 'sev-snp' });
      const r = await attestSignature({ rootDigest: ROOT, statements: STATEMENTS, signer: kk.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string, source: fake.source });
      const v = await verifyAttestation(r.bytes, { rootDigest: ROOT, statements: STATEMENTS, signerPublicKey: kk.publicKey.export({ format: 'pem', type: 'spki' }) as string, verifyEvidence: fake.verifier });
      expect(v.ok, curve).toBe(true);
    }
  });
});

describe('writeAttestationFile', () => {
  const dir = tempDir();
  afterAll(dir.cleanup);

  it('writes atomically, never overwrites without force, leaves no temporary file', () => {
    const path = join(dir.path, 'model.sig.att');
    writeAttestationFile(path, Buffer.from('one'));
    expect(readFileSync(path, 'utf8')).toBe('one');
    expect(() => writeAttestationFile(path, Buffer.from('two'))).toThrow(expect.objectContaining({ code: 'ATT_EXISTS' }));
    expect(readFileSync(path, 'utf8')).toBe('one');
    writeAttestationFile(path, Buffer.from('three'), { force: true });
    expect(readFileSync(path, 'utf8')).toBe('three');
    expect(readdirSync(dir.path)).toEqual(['model.sig.att']);
  });

  it('reports an unwritable location as ATT_WRITE', () => {
    const blocker = join(dir.path, 'file');
    writeFileSync(blocker, 'x');
    expect(() => writeAttestationFile(join(blocker, 'x.att'), Buffer.from('a'))).toThrow(expect.objectContaining({ code: 'ATT_WRITE' }));
    expect(existsSync(join(blocker, 'x.att'))).toBe(false);
  });
});
