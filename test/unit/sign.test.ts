/**
 * Signing: DSSE PAE, keys per curve, certificate chains, bundle shape (OMS JSON schemas), output
 * file rules, and sign → verify round trips for every curve × method × hash.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, verify as cryptoVerify } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { signModel } from '../../src/sign/sign-model.js';
import { createCertificateSigner, createKeySigner, loadPrivateKey, signStatement } from '../../src/sign/signer.js';
import { dsseLegacyPaeV02, dssePae, isDerEcdsaSignature, publicKeyHint, pythonBytesRepr } from '../../src/crypto/dsse.js';
import { BUNDLE_MEDIA_TYPE_V03 } from '../../src/sign/bundle.js';
import { verifyModel } from '../../src/verify/verify-model.js';
import { CURVES, hasOpenssl, makeChain, writeKeyPair } from '../interop/pki.js';
import { describeVectors, fill251, itVectors, tempDir, VECTORS_DIR } from '../helpers.js';
import { runCliInProcess } from '../cli-in-process.js';

const SCHEMAS = join(VECTORS_DIR, 'oms', 'model-signing-spec', 'schemas', 'v1.0');
const KEYS = join(VECTORS_DIR, 'oms', 'model-transparency', 'cli-compat', 'keys', 'certificate');

let t: { path: string; cleanup: () => void };
beforeEach(() => {
  t = tempDir();
});
afterEach(() => t.cleanup());

/** A small model with nested files, an empty file, and a file spanning several shards. */
function makeModel(root: string): string {
  const m = join(root, 'model');
  mkdirSync(join(m, 'tokenizer'), { recursive: true });
  writeFileSync(join(m, 'weights.bin'), fill251(300_001));
  writeFileSync(join(m, 'config.json'), '{"layers": 2}');
  writeFileSync(join(m, 'tokenizer', 'vocab.txt'), 'a\nb\n');
  writeFileSync(join(m, 'tokenizer-extra.txt'), 'x');
  writeFileSync(join(m, 'empty'), '');
  return m;
}

describe('DSSE encodings', () => {
  it('PAE matches the DSSE specification example', () => {
    // From the DSSE protocol document: "DSSEv1 29 http://example.com/HelloWorld 11 hello world".
    expect(dssePae('http://example.com/HelloWorld', Buffer.from('hello world')).toString()).toBe('DSSEv1 29 http://example.com/HelloWorld 11 hello world');
  });
  it('PAE counts bytes, not characters', () => {
    expect(dssePae('t', Buffer.from('ü', 'utf8')).toString('utf8')).toBe('DSSEv1 1 t 2 ü');
  });
  it("legacy v0.2 PAE is Python's bytes repr with an upper-case V", () => {
    expect(pythonBytesRepr(Buffer.from("a'b\n\\\x00\xff", 'latin1'))).toBe(`b"a'b\\n\\\\\\x00\\xff"`);
    expect(pythonBytesRepr(Buffer.from('a"b\'', 'latin1'))).toBe(`b'a"b\\''`);
    expect(dsseLegacyPaeV02('t', Buffer.from('{"a": 1}\n')).toString()).toBe(`DSSEV1 1 t 9 b'{"a": 1}\\n'`);
  });
  it('recognises DER ECDSA signatures and rejects truncated ones', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const s = createKeySigner(privateKey).sign(Buffer.from('x'));
    expect(isDerEcdsaSignature(s)).toBe(true);
    expect(isDerEcdsaSignature(s.subarray(0, s.length - 1))).toBe(false);
    expect(isDerEcdsaSignature(Buffer.concat([s, Buffer.from([0])]))).toBe(false);
    expect(isDerEcdsaSignature(Buffer.alloc(64, 1))).toBe(false);
  });
});

describe('keys and signers', () => {
  for (const curve of CURVES) {
    it(`${curve}: the signature uses the curve's digest and the hint is sha256 of the SPKI PEM`, () => {
      const { priv } = writeKeyPair(t.path, 'k', curve, curve === 'P-384' ? 'sec1' : 'pkcs8');
      const signer = createKeySigner(priv);
      const digest = { 'P-256': 'sha256', 'P-384': 'sha384', 'P-521': 'sha512' }[curve];
      const data = Buffer.from('payload');
      const sig = signer.sign(data);
      expect(cryptoVerify(digest, data, { key: signer.publicKey, dsaEncoding: 'der' }, sig)).toBe(true);
      // Not with another digest: the digest really follows the curve.
      if (curve !== 'P-256') expect(cryptoVerify('sha256', data, { key: signer.publicKey, dsaEncoding: 'der' }, sig)).toBe(false);
      expect(signer.material).toEqual({ publicKey: { hint: publicKeyHint(signer.publicKey) }, tlogEntries: [] });
    });
  }

  itVectors("model_signing's hint of the upstream test key is reproduced (e8450dec…)", () => {
    const key = loadPrivateKey(join(KEYS, 'signing-key.pem'));
    expect(publicKeyHint(createPublicKey(key))).toBe('e8450dec4eb99dae995da9af1bc2cc9f76ed669ee2e744f57abba763df3e3f8e');
  });

  it('refuses keys that are not P-256/384/521 EC keys, with KEY_UNSUPPORTED', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
    const ed = generateKeyPairSync('ed25519').privateKey;
    const k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey;
    for (const k of [rsa, ed, k1]) {
      const p = join(t.path, 'bad.pem');
      writeFileSync(p, k.export({ type: 'pkcs8', format: 'pem' }));
      expect(() => createKeySigner(p)).toThrow(expect.objectContaining({ code: 'KEY_UNSUPPORTED' }));
    }
  });

  it('encrypted keys need the password (KEY_PASSWORD), and work with it', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const p = join(t.path, 'enc.pem');
    writeFileSync(p, privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'secret' }));
    expect(() => createKeySigner(p)).toThrow(expect.objectContaining({ code: 'KEY_PASSWORD' }));
    expect(() => createKeySigner(p, { password: 'wrong' })).toThrow(expect.objectContaining({ code: 'KEY_PASSWORD' }));
    expect(createKeySigner(p, { password: 'secret' }).curve).toBe('prime256v1');
  });

  it('missing and non-PEM key files have their own codes', () => {
    expect(() => createKeySigner(join(t.path, 'nope.pem'))).toThrow(expect.objectContaining({ code: 'KEY_FILE_NOT_FOUND' }));
    writeFileSync(join(t.path, 'junk.pem'), 'not a key');
    expect(() => createKeySigner(join(t.path, 'junk.pem'))).toThrow(expect.objectContaining({ code: 'KEY_INVALID' }));
  });

  itVectors('certificate signer: upstream leaf + intermediate, as model_signing writes them', () => {
    const s = createCertificateSigner(join(KEYS, 'signing-key.pem'), { certificate: join(KEYS, 'signing-key-cert.pem'), chain: [join(KEYS, 'int-ca-cert.pem')] });
    const certs = s.material.x509CertificateChain!.certificates;
    expect(certs).toHaveLength(2);
    expect(s.material.tlogEntries).toEqual([]);
    // A certificate for another key is refused.
    const { priv } = writeKeyPair(t.path, 'other', 'P-384');
    expect(() => createCertificateSigner(priv, { certificate: join(KEYS, 'signing-key-cert.pem') })).toThrow(expect.objectContaining({ code: 'CERT_KEY_MISMATCH' }));
  });

  it('signStatement signs any in-toto statement into a v0.3 bundle', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const signer = createKeySigner(privateKey);
    const st = { _type: 'https://in-toto.io/Statement/v1', subject: [{ name: 'x', digest: { sha256: '00'.repeat(32) } }], predicateType: 'https://example.com/p', predicate: {} };
    const b = signStatement(st, signer);
    expect(b.mediaType).toBe(BUNDLE_MEDIA_TYPE_V03);
    expect(b.dsseEnvelope.payloadType).toBe('application/vnd.in-toto+json');
    expect(JSON.parse(Buffer.from(b.dsseEnvelope.payload, 'base64').toString())).toEqual(st);
    expect(b.dsseEnvelope.signatures[0]!.keyid).toBe('');
    const pae = dssePae(b.dsseEnvelope.payloadType, Buffer.from(b.dsseEnvelope.payload, 'base64'));
    expect(cryptoVerify('sha384', pae, { key: signer.publicKey, dsaEncoding: 'der' }, Buffer.from(b.dsseEnvelope.signatures[0]!.sig, 'base64'))).toBe(true);
  });
});

describe('signModel output file', () => {
  it('writes <model>.sig beside the directory, refuses to overwrite without force, leaves no temp files', async () => {
    const m = makeModel(t.path);
    const { priv } = writeKeyPair(t.path, 'k', 'P-256');
    const r = await signModel(m, { privateKey: priv, workers: 1 });
    expect(r.bundlePath).toBe(`${m}.sig`);
    const first = readFileSync(`${m}.sig`, 'utf8');
    await expect(signModel(m, { privateKey: priv, workers: 1 })).rejects.toMatchObject({ code: 'OUTPUT_EXISTS' });
    expect(readFileSync(`${m}.sig`, 'utf8')).toBe(first);
    writeFileSync(join(m, 'config.json'), '{"layers": 3}');
    const again = await signModel(m, { privateKey: priv, workers: 1, force: true });
    expect(again.rootDigest).not.toBe(r.rootDigest);
    expect(JSON.parse(readFileSync(`${m}.sig`, 'utf8'))).toEqual(again.bundle); // replaced by the new bundle
    expect(readdirSync(t.path).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('a bundle written inside the model is ignored and recorded in ignore_paths', async () => {
    const m = makeModel(t.path);
    const { priv, pub } = writeKeyPair(t.path, 'k', 'P-256');
    const r = await signModel(m, { privateKey: priv, output: join(m, 'model.sig'), workers: 1 });
    expect(r.statement.predicate.serialization.ignore_paths).toContain('model.sig');
    expect(r.manifest.resources.map((x) => x.name)).not.toContain('model.sig');
    // Re-signing in place replaces the old bundle, which is not hashed either.
    await signModel(m, { privateKey: priv, output: join(m, 'model.sig'), workers: 1, force: true });
    const v = await verifyModel(m, join(m, 'model.sig'), { publicKey: pub, workers: 1 });
    expect(v.summary).toBe('model verified');
  });

  it('refuses an empty model (OMS spec) and, in shards mode, file names with ":"', async () => {
    const { priv } = writeKeyPair(t.path, 'k', 'P-256');
    mkdirSync(join(t.path, 'empty'));
    await expect(signModel(join(t.path, 'empty'), { privateKey: priv, workers: 1 })).rejects.toMatchObject({ code: 'MODEL_EMPTY' });
    const m = makeModel(t.path);
    writeFileSync(join(m, 'a:b'), 'x');
    await expect(signModel(m, { privateKey: priv, method: 'shards', workers: 1 })).rejects.toMatchObject({ code: 'SHARD_NAME_COLON' });
    expect(existsSync(`${m}.sig`)).toBe(false);
    await signModel(m, { privateKey: priv, workers: 1 }); // files mode is fine
  });
});

describeVectors('our bundles against the OMS v1.0 JSON schemas', () => {
  function validators() {
    const ajv = new Ajv2020.default({ strict: false, allErrors: true });
    for (const f of ['envelope', 'predicate', 'statement', 'bundle']) ajv.addSchema(JSON.parse(readFileSync(join(SCHEMAS, `${f}.schema.json`), 'utf8')));
    return {
      bundle: ajv.getSchema('https://model_signing/bundle/v1.0/schema')!,
      statement: ajv.getSchema('https://model_signing/statement/v1.0/schema')!,
    };
  }
  it('files bundles (key and certificate) validate', async () => {
    const v = validators();
    const m = makeModel(t.path);
    const { priv } = writeKeyPair(t.path, 'k', 'P-521');
    for (const hash of ['sha256', 'blake2b', 'blake3'] as const) {
      const r = await signModel(m, { privateKey: priv, hash, dryRun: true, workers: 1 });
      expect(v.bundle(r.bundle), JSON.stringify(v.bundle.errors)).toBe(true);
      expect(v.statement(r.statement), JSON.stringify(v.statement.errors)).toBe(true);
    }
    const c = await signModel(m, {
      privateKey: join(KEYS, 'signing-key.pem'),
      certificate: join(KEYS, 'signing-key-cert.pem'),
      chain: [join(KEYS, 'int-ca-cert.pem')],
      dryRun: true,
      workers: 1,
    });
    expect(v.bundle(c.bundle), JSON.stringify(v.bundle.errors)).toBe(true);
  });
  it('shards bundles differ from the schema ONLY in the resource algorithm (model_signing writes <hash>-sharded-<N>)', async () => {
    const v = validators();
    const m = makeModel(t.path);
    const { priv } = writeKeyPair(t.path, 'k', 'P-256');
    const r = await signModel(m, { privateKey: priv, method: 'shards', shardSize: 65536, dryRun: true, workers: 1 });
    expect(r.statement.predicate.serialization.shard_size).toBe(65536);
    expect(Number.isInteger(JSON.parse(Buffer.from(r.bundle.dsseEnvelope.payload, 'base64').toString()).predicate.serialization.shard_size)).toBe(true);
    expect(v.statement(r.statement)).toBe(false);
    const errs = v.statement.errors!;
    expect(errs.length).toBeGreaterThan(0);
    for (const e of errs) expect(e.instancePath).toMatch(/^\/predicate\/resources\/\d+\/algorithm$/);
    // With the spec's bare algorithm name the same statement validates: nothing else differs.
    const spec = structuredClone(r.statement);
    for (const res of spec.predicate.resources) res.algorithm = 'sha256';
    expect(v.statement(spec), JSON.stringify(v.statement.errors)).toBe(true);
  });
});

describe('sign → verify round trips', () => {
  const combos: Array<{ method: 'files' | 'shards'; hash: 'sha256' | 'blake2b' | 'blake3' }> = [
    { method: 'files', hash: 'sha256' },
    { method: 'files', hash: 'blake2b' },
    { method: 'files', hash: 'blake3' },
    { method: 'shards', hash: 'sha256' },
    { method: 'shards', hash: 'blake2b' },
  ];
  for (const curve of CURVES) {
    for (const c of combos) {
      it(`${curve} ${c.method}/${c.hash}`, async () => {
        const m = makeModel(t.path);
        const { priv, pub } = writeKeyPair(t.path, 'k', curve);
        const r = await signModel(m, { privateKey: priv, hash: c.hash, method: c.method, ...(c.method === 'shards' ? { shardSize: 100_000 } : {}), workers: 1 });
        if (c.method === 'shards') {
          expect(r.manifest.resources.some((x) => x.name === 'weights.bin:300000:300001')).toBe(true);
          expect(r.manifest.resources.every((x) => x.algorithm === `${c.hash}-sharded-100000`)).toBe(true);
        }
        const v = await verifyModel(m, r.bundlePath!, { publicKey: pub, workers: 1 });
        expect(v.summary).toBe('model verified');
        expect(v.rootDigest).toBe(r.rootDigest);
        expect(v.checked).toBe(r.manifest.resources.length);
      });
    }
  }

  it('a single file signs as "." and verifies', async () => {
    const f = join(t.path, 'w.bin');
    writeFileSync(f, fill251(5000));
    const { priv, pub } = writeKeyPair(t.path, 'k', 'P-384');
    const r = await signModel(f, { privateKey: priv, workers: 1 });
    expect(r.bundlePath).toBe(`${f}.sig`);
    expect(r.statement.predicate.resources.map((x) => x.name)).toEqual(['.']);
    expect(r.statement.subject[0].name).toBe('w.bin');
    expect((await verifyModel(f, r.bundlePath!, { publicKey: pub, workers: 1 })).verified).toBe(true);
  });

  it.skipIf(!hasOpenssl())('certificate chains on every curve: sign with leaf + intermediate, verify to the root', async () => {
    for (const curve of CURVES) {
      const dir = join(t.path, curve);
      mkdirSync(dir);
      const pki = makeChain(dir, curve);
      const m = makeModel(dir);
      const r = await signModel(m, { privateKey: pki.leafKey, certificate: pki.leafCert, chain: [pki.intCert], workers: 1 });
      const v = await verifyModel(m, r.bundlePath!, { certRoot: pki.rootCert, workers: 1 });
      expect(v.summary).toBe('model verified');
      expect(v.signer.certificatePath).toEqual(['CN=modelseal test signer', 'CN=modelseal test intermediate', 'CN=modelseal test root']);
      // Without the intermediate in the bundle the leaf cannot reach the root.
      const r2 = await signModel(m, { privateKey: pki.leafKey, certificate: pki.leafCert, output: join(dir, 'noint.sig'), workers: 1 });
      await expect(verifyModel(m, r2.bundlePath!, { certRoot: pki.rootCert, workers: 1 })).rejects.toMatchObject({ code: 'CERT_CHAIN_INVALID' });
    }
  });

  it.skipIf(!hasOpenssl())('--cert-root with only the intermediate CA is refused (CERT_CHAIN_PARTIAL) unless partial chains are allowed (library and CLI)', async () => {
    // issue 11 item 16: as model_signing and `openssl verify`, a non-self-signed anchor needs an explicit allowance.
    const pki = makeChain(t.path, 'P-256');
    const m = makeModel(t.path);
    const r = await signModel(m, { privateKey: pki.leafKey, certificate: pki.leafCert, chain: [pki.intCert], workers: 1 });
    await expect(verifyModel(m, r.bundlePath!, { certRoot: pki.intCert, workers: 1 })).rejects.toMatchObject({ code: 'CERT_CHAIN_PARTIAL', kind: 'verification' });
    const partial = await verifyModel(m, r.bundlePath!, { certRoot: pki.intCert, allowPartialChain: true, workers: 1 });
    expect(partial.signer.certificatePath).toEqual(['CN=modelseal test signer', 'CN=modelseal test intermediate']);
    // Beside its root, the intermediate carries the chain to the root.
    const both = await verifyModel(m, r.bundlePath!, { certRoot: [pki.intCert, pki.rootCert], workers: 1 });
    expect(both.signer.certificatePath).toEqual(['CN=modelseal test signer', 'CN=modelseal test intermediate', 'CN=modelseal test root']);
    const cli = ['verify', m, '--sig', r.bundlePath!, '--cert-root', pki.intCert, '--workers', '1'];
    const refused = await runCliInProcess(cli);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/CERT_CHAIN_PARTIAL/);
    expect((await runCliInProcess([...cli, '--allow-partial-chain'])).code).toBe(0);
  });

  it.skipIf(!hasOpenssl())('a leaf without digitalSignature / codeSigning is refused (CERT_USAGE_INVALID)', async () => {
    const pki = makeChain(t.path, 'P-256', { leafUsage: 'none' });
    const m = makeModel(t.path);
    const r = await signModel(m, { privateKey: pki.leafKey, certificate: pki.leafCert, chain: [pki.intCert], workers: 1 });
    await expect(verifyModel(m, r.bundlePath!, { certRoot: pki.rootCert, workers: 1 })).rejects.toMatchObject({ code: 'CERT_USAGE_INVALID' });
  });

  it('a SEC1 key and its PKCS#8 form sign interchangeably', () => {
    const { priv } = writeKeyPair(t.path, 'k', 'P-256', 'sec1');
    const pk8 = createPrivateKey(readFileSync(priv)).export({ type: 'pkcs8', format: 'pem' });
    expect(createKeySigner(priv).material).toEqual(createKeySigner(pk8 as string).material);
  });
});

describe('signers plug into the attestation engine', () => {
  it('a Signer is structurally an attest EnvelopeSigner (publicKeySpki + sign over PAE)', async () => {
    const { keySigner } = await import('../../src/crypto/dsse.js').catch(() => ({ keySigner: undefined }));
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const s = createKeySigner(privateKey);
    expect(Buffer.from(s.publicKeySpki).equals(createPublicKey(privateKey).export({ type: 'spki', format: 'der' }))).toBe(true);
    if (keySigner) {
      // Same SPKI as the attestation engine's own signer for the same key.
      const theirs = keySigner(privateKey);
      expect(Buffer.from(theirs.publicKeySpki).equals(Buffer.from(s.publicKeySpki))).toBe(true);
    }
  });
});
