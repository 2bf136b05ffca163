/**
 * Every bundle in vectors/oms: the reference tool's cli-compat bundles v0.2.0 … v1.1.0 (key,
 * certificate and Sigstore keyless methods), the OMS spec's valid / invalid / invalid-payload
 * vectors. Verification goes through the public verifyModel (same engine as `hash`).
 */
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { signModel } from '../../src/sign/sign-model.js';
import { verifyModel, type VerifyModelOptions } from '../../src/verify/verify-model.js';
import { readBundleFile } from '../../src/verify/signature.js';
import { loadTrustedRootJson } from '../../src/verify/sigstore.js';
import { inspectBundle } from '../../src/verify/inspect.js';
import { describeVectors, tempDir, VECTORS_DIR } from '../helpers.js';
import { runCliInProcess } from '../cli-in-process.js';

const OMS = join(VECTORS_DIR, 'oms');
const COMPAT = join(OMS, 'model-transparency', 'cli-compat');
const KEYS = join(COMPAT, 'keys', 'certificate');
const SPEC = join(OMS, 'model-signing-spec', 'test-vectors', 'v1.0');
const PUB = join(KEYS, 'signing-key-pub.pem');
const CA = join(KEYS, 'ca-cert.pem');
const SIGSTORE = { identity: 'stefanb@us.ibm.com', issuer: 'https://sigstore.verify.ibm.com/oauth2' };

const opts = { workers: 1 } as const;

async function expectCode(p: Promise<unknown>, code: string): Promise<void> {
  await expect(p).rejects.toMatchObject({ code });
}

describeVectors('cli-compat vectors (model_signing v0.2.0 … v1.1.0)', () => {
  const cases: Array<{ dir: string; model?: string; trust: VerifyModelOptions; ignore?: string[]; format?: string; encoding?: string }> = [
    { dir: 'v0.2.0-certificate', trust: { certRoot: CA }, format: 'legacy-digests-v0.1', encoding: 'legacy-v0.2' },
    { dir: 'v0.3.1-certificate', trust: { certRoot: CA } },
    { dir: 'v1.0.0-certificate', trust: { certRoot: CA } },
    { dir: 'v1.0.1-certificate', trust: { certRoot: CA }, ignore: ['ignore-me'] },
    { dir: 'v1.1.0-certificate', trust: { certRoot: CA } },
    { dir: 'v0.3.1-elliptic-key', model: 'signme-1', trust: { publicKey: PUB } },
    { dir: 'v1.0.0-elliptic-key', model: 'signme-1', trust: { publicKey: PUB } },
    { dir: 'v1.0.1-elliptic-key', trust: { publicKey: PUB }, ignore: ['ignore-me'] },
    { dir: 'v1.1.0-elliptic-key', trust: { publicKey: PUB } },
    { dir: 'v0.3.1-sigstore', trust: { sigstore: SIGSTORE } },
    { dir: 'v1.0.0-sigstore', trust: { sigstore: SIGSTORE } },
    { dir: 'v1.0.1-sigstore', trust: { sigstore: SIGSTORE }, ignore: ['ignore-me'] },
    { dir: 'v1.1.0-sigstore', trust: { sigstore: SIGSTORE } },
  ];
  for (const c of cases) {
    it(`${c.dir} verifies`, async () => {
      const dir = join(COMPAT, c.dir);
      const model = c.model ? join(dir, c.model) : dir;
      const r = await verifyModel(model, join(dir, 'model.sig'), { ...c.trust, ...opts, ...(c.ignore ? { ignorePaths: c.ignore } : {}) });
      expect(r.summary).toBe('model verified');
      expect(r.verified).toBe(true);
      expect(r.scope).toBe('model');
      expect(r.format).toBe(c.format ?? 'v1.0');
      expect(r.encoding).toBe(c.encoding ?? 'dsse-v1');
      if (c.trust.sigstore) {
        expect(r.signer.identity).toBe(SIGSTORE.identity);
        expect(r.warnings.some((w) => w.startsWith('not checked offline'))).toBe(true);
      }
    });
  }

  it('v1.0.1 without ignoring ignore-me fails with the extra file named (as the reference)', async () => {
    const dir = join(COMPAT, 'v1.0.1-elliptic-key');
    const r = await verifyModel(dir, join(dir, 'model.sig'), { publicKey: PUB, ...opts });
    expect(r.verified).toBe(false);
    expect(r.extra).toEqual(['ignore-me']);
    expect(r.missing).toEqual([]);
  });

  it('the single-file vector is not the directory: verifying the folder fails', async () => {
    const dir = join(COMPAT, 'v1.0.0-elliptic-key');
    const r = await verifyModel(dir, join(dir, 'model.sig'), { publicKey: PUB, ...opts });
    expect(r.verified).toBe(false);
    expect(r.missing).toEqual(['.']);
    expect(r.extra).toEqual(['signme-1']);
  });

  it('certificate bundle: a CA that did not issue the chain is refused (CERT_CHAIN_INVALID)', async () => {
    const t = tempDir();
    try {
      // Any unrelated CA will do: the Sigstore public-good Fulcio root from the shipped trusted root.
      const { json } = loadTrustedRootJson();
      const ca = (json as { certificateAuthorities: Array<{ certChain: { certificates: Array<{ rawBytes: string }> } }> }).certificateAuthorities[0]!;
      const der = Buffer.from(ca.certChain.certificates.at(-1)!.rawBytes, 'base64');
      const pem = `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE-----\n`;
      writeFileSync(join(t.path, 'other-ca.pem'), pem);
      const dir = join(COMPAT, 'v1.1.0-certificate');
      await expectCode(verifyModel(dir, join(dir, 'model.sig'), { certRoot: join(t.path, 'other-ca.pem'), ...opts }), 'CERT_CHAIN_INVALID');
    } finally {
      t.cleanup();
    }
  });

  it('certificate bundle: the intermediate CA as the only trust anchor is refused (CERT_CHAIN_PARTIAL) unless partial chains are allowed; the leaf as anchor is refused', async () => {
    // issue 11 item 16: model_signing and `openssl verify` refuse a non-self-signed anchor unless
    // partial chains are allowed.
    const dir = join(COMPAT, 'v1.1.0-certificate');
    const sig = join(dir, 'model.sig');
    const INT = join(KEYS, 'int-ca-cert.pem');
    await expectCode(verifyModel(dir, sig, { certRoot: INT, ...opts }), 'CERT_CHAIN_PARTIAL');
    const partial = await verifyModel(dir, sig, { certRoot: INT, allowPartialChain: true, ...opts });
    expect(partial.verified).toBe(true);
    expect(partial.signer.certificatePath?.at(-1)).toMatch(/intermediate/);
    // The intermediate beside its root is a trusted intermediate: the chain reaches the root.
    const both = await verifyModel(dir, sig, { certRoot: [INT, CA], ...opts });
    expect(both.verified).toBe(true);
    expect(both.signer.certificatePath?.length).toBe(3);
    // The allowance applies to certificate verification only.
    await expectCode(verifyModel(join(COMPAT, 'v1.1.0-elliptic-key'), join(COMPAT, 'v1.1.0-elliptic-key', 'model.sig'), { publicKey: PUB, allowPartialChain: true, ...opts }), 'USAGE');
    await expectCode(verifyModel(dir, sig, { certRoot: join(KEYS, 'signing-key-cert.pem'), ...opts }), 'CERT_ROOT_NOT_CA');
  });

  it('CLI: verify --cert-root INTERMEDIATE exits 1 with CERT_CHAIN_PARTIAL; --allow-partial-chain verifies', async () => {
    const dir = join(COMPAT, 'v1.1.0-certificate');
    const args = ['verify', dir, '--sig', join(dir, 'model.sig'), '--cert-root', join(KEYS, 'int-ca-cert.pem'), '--workers', '1'];
    const refused = await runCliInProcess([...args, '--json']);
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.out).error.code).toBe('CERT_CHAIN_PARTIAL');
    expect(refused.err).toMatch(/--allow-partial-chain/);
    const allowed = await runCliInProcess([...args, '--allow-partial-chain']);
    expect(allowed.code).toBe(0);
    const misuse = await runCliInProcess(['verify', 'key', join(COMPAT, 'v1.1.0-elliptic-key'), '--sig', join(COMPAT, 'v1.1.0-elliptic-key', 'model.sig'), '--key', PUB, '--allow-partial-chain']);
    expect(misuse.code).toBe(2);
  });

  it('key bundle with a certificate root, and the reverse, are usage errors (VERIFIER_MISMATCH)', async () => {
    const k = join(COMPAT, 'v1.1.0-elliptic-key');
    await expectCode(verifyModel(k, join(k, 'model.sig'), { certRoot: CA, ...opts }), 'VERIFIER_MISMATCH');
    const c = join(COMPAT, 'v1.1.0-certificate');
    await expectCode(verifyModel(c, join(c, 'model.sig'), { publicKey: PUB, ...opts }), 'VERIFIER_MISMATCH');
  });

  it('sigstore bundle with the wrong identity or issuer is refused (SIGSTORE_IDENTITY_MISMATCH)', async () => {
    const dir = join(COMPAT, 'v1.1.0-sigstore');
    await expectCode(verifyModel(dir, join(dir, 'model.sig'), { sigstore: { ...SIGSTORE, identity: 'someone@example.com' }, ...opts }), 'SIGSTORE_IDENTITY_MISMATCH');
    await expectCode(verifyModel(dir, join(dir, 'model.sig'), { sigstore: { ...SIGSTORE, issuer: 'https://accounts.google.com' }, ...opts }), 'SIGSTORE_IDENTITY_MISMATCH');
    // the identity is matched exactly, not as a regular expression
    await expectCode(verifyModel(dir, join(dir, 'model.sig'), { sigstore: { ...SIGSTORE, identity: 'stefanb@us.ibm.co' }, ...opts }), 'SIGSTORE_IDENTITY_MISMATCH');
  });

  it('sigstore: a client trust config holding trustedRoot works (model_signing --trust-config), and the CLI aliases', async () => {
    const t = tempDir();
    try {
      const cfg = join(t.path, 'trust-config.json');
      writeFileSync(cfg, JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.clienttrustconfig.v0.1+json', trustedRoot: loadTrustedRootJson().json }));
      const dir = join(COMPAT, 'v1.1.0-sigstore');
      const r = await verifyModel(dir, join(dir, 'model.sig'), { sigstore: { ...SIGSTORE, trustedRoot: cfg }, ...opts });
      expect(r.verified).toBe(true);
      expect(r.signer.trustedRootSource).toBe(cfg);
      const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
      const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
      try {
        const code = await main(['node', 'modelseal', 'verify', dir, '--signature', join(dir, 'model.sig'), '--identity', SIGSTORE.identity, '--identity_provider', SIGSTORE.issuer, '--trust_config', cfg, '--workers', '1']);
        expect(code).toBe(0);
        const bad = await main(['node', 'modelseal', 'verify', dir, '--sig', join(dir, 'model.sig'), '--sigstore-identity', 'x@example.com', '--sigstore-issuer', SIGSTORE.issuer]);
        expect(bad).toBe(1);
      } finally {
        out.mockRestore();
        err.mockRestore();
      }
    } finally {
      t.cleanup();
    }
  });

  it('sigstore bundle against an empty trusted root is refused', async () => {
    const t = tempDir();
    try {
      const root = join(t.path, 'trusted_root.json');
      writeFileSync(root, JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1', tlogs: [], certificateAuthorities: [], ctlogs: [], timestampAuthorities: [] }));
      const dir = join(COMPAT, 'v1.1.0-sigstore');
      await expect(verifyModel(dir, join(dir, 'model.sig'), { sigstore: { ...SIGSTORE, trustedRoot: root }, ...opts })).rejects.toMatchObject({
        code: expect.stringMatching(/^SIGSTORE_/),
        kind: 'verification',
      });
    } finally {
      t.cleanup();
    }
  });
});

describeVectors('OMS spec v1.0 test vectors', () => {
  let model: { path: string; cleanup: () => void };
  beforeAll(() => {
    // The spec's bundles sign signme-1, signme-2 (ignore-me ignored) of cli-compat/v1.1.0-elliptic-key.
    model = tempDir();
    for (const f of ['signme-1', 'signme-2', 'ignore-me']) copyFileSync(join(COMPAT, 'v1.1.0-elliptic-key', f), join(model.path, f));
  });
  afterAll(() => model.cleanup());

  it('valid/key.bundle.json verifies', async () => {
    const r = await verifyModel(model.path, join(SPEC, 'valid', 'key.bundle.json'), { publicKey: PUB, ...opts });
    expect(r.summary).toBe('model verified');
  });
  it('valid/certificate.bundle.json verifies', async () => {
    const r = await verifyModel(model.path, join(SPEC, 'valid', 'certificate.bundle.json'), { certRoot: CA, ...opts });
    expect(r.summary).toBe('model verified');
  });
  it('valid/sigstore.bundle.json verifies against the v1.1.0-sigstore model', async () => {
    const dir = join(COMPAT, 'v1.1.0-sigstore');
    const r = await verifyModel(dir, join(SPEC, 'valid', 'sigstore.bundle.json'), { sigstore: SIGSTORE, ...opts });
    expect(r.summary).toBe('model verified');
  });

  const invalid: Record<string, string> = {
    'empty.bundle.json': 'BUNDLE_JSON_INVALID',
    'missing-envelope.bundle.json': 'BUNDLE_ENVELOPE_MISSING',
    'missing-tlog-entries.bundle.json': 'BUNDLE_TLOG_MISSING',
    'missing-verification-material.bundle.json': 'BUNDLE_MATERIAL_MISSING',
  };
  for (const [file, code] of Object.entries(invalid)) {
    it(`invalid/${file} is rejected with ${code}`, async () => {
      expect(() => readBundleFile(join(SPEC, 'invalid', file))).toThrow(expect.objectContaining({ code }));
      await expectCode(verifyModel(model.path, join(SPEC, 'invalid', file), { publicKey: PUB, ...opts }), code);
    });
  }

  it('invalid-payload/wrong-predicate.bundle.json is rejected: the payload is not the one signed', async () => {
    await expect(verifyModel(model.path, join(SPEC, 'invalid-payload', 'wrong-predicate.bundle.json'), { publicKey: PUB, ...opts })).rejects.toMatchObject({
      code: 'SIGNATURE_INVALID',
      kind: 'verification',
    });
  });
});

/** Keys and value types of a JSON value, recursively (arrays by their first element). */
function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.length ? [shape(v[0])] : [];
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, shape((v as Record<string, unknown>)[k])]));
  return typeof v;
}

describeVectors('what we write is what model_signing v1.1 writes (reference acceptance, argued from its own vectors)', () => {
  it('signing upstream\'s v1.1.0 model with upstream\'s key reproduces its statement, hint and bundle shape', async () => {
    const t = tempDir();
    try {
      const dir = join(COMPAT, 'v1.1.0-elliptic-key');
      // Upstream signed with --signature model.sig inside the folder and --ignore-paths ignore-me.
      const r = await signModel(dir, {
        privateKey: join(KEYS, 'signing-key.pem'),
        ignorePaths: ['ignore-me', 'model.sig'],
        output: join(t.path, 'ours.sig'),
        ...opts,
      });
      const theirs = JSON.parse(readFileSync(join(dir, 'model.sig'), 'utf8'));
      const theirStatement = JSON.parse(Buffer.from(theirs.dsseEnvelope.payload, 'base64').toString());
      const ours = r.bundle;
      const ourStatement = JSON.parse(Buffer.from(ours.dsseEnvelope.payload, 'base64').toString());
      // ignore_paths is a set upstream (random order): compare sorted; everything else exactly.
      for (const s of [theirStatement, ourStatement]) s.predicate.serialization.ignore_paths.sort();
      expect(ourStatement).toEqual(theirStatement);
      expect(ours.verificationMaterial).toEqual(theirs.verificationMaterial); // same hint, tlogEntries []
      expect(shape(ours)).toEqual(shape(theirs));
      expect(JSON.stringify(ours).startsWith('{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{"publicKey":{"hint":')).toBe(true);
      // Both verify with the same public key.
      expect((await verifyModel(dir, join(t.path, 'ours.sig'), { publicKey: PUB, ...opts })).verified).toBe(true);
    } finally {
      t.cleanup();
    }
  });

  it('certificate method: same statement and the same bundle shape as upstream v1.1.0-certificate', async () => {
    const t = tempDir();
    try {
      const dir = join(COMPAT, 'v1.1.0-certificate');
      const r = await signModel(dir, {
        privateKey: join(KEYS, 'signing-key.pem'),
        certificate: join(KEYS, 'signing-key-cert.pem'),
        chain: [join(KEYS, 'int-ca-cert.pem')],
        ignorePaths: ['ignore-me', 'model.sig'],
        output: join(t.path, 'ours.sig'),
        ...opts,
      });
      const theirs = JSON.parse(readFileSync(join(dir, 'model.sig'), 'utf8'));
      expect(shape(r.bundle)).toEqual(shape(theirs));
      expect(r.bundle.verificationMaterial).toEqual(theirs.verificationMaterial); // same DER leaf + intermediate
      expect(r.rootDigest).toBe(JSON.parse(Buffer.from(theirs.dsseEnvelope.payload, 'base64').toString()).subject[0].digest.sha256);
      expect((await verifyModel(dir, join(t.path, 'ours.sig'), { certRoot: CA, ...opts })).verified).toBe(true);
    } finally {
      t.cleanup();
    }
  });
});

describeVectors('inspect on every vector', () => {
  it('reports method, signer and statement for each cli-compat bundle', () => {
    const dirs = ['v0.2.0-certificate', 'v0.3.1-elliptic-key', 'v1.0.1-certificate', 'v1.1.0-elliptic-key', 'v0.3.1-sigstore', 'v1.1.0-sigstore'];
    for (const d of dirs) {
      const r = inspectBundle(join(COMPAT, d, 'model.sig'));
      expect(r.verified).toBe(false);
      expect(r.method).toBe(d.endsWith('sigstore') ? 'sigstore' : d.endsWith('key') ? 'key' : 'certificate');
      expect(r.rootDigestConsistent).toBe(true);
      if (r.method === 'sigstore') {
        const c = r.signer.certificates![0]!;
        expect(c.subjectAltName).toContain(SIGSTORE.identity);
        expect(c.oidcIssuer).toBe(SIGSTORE.issuer);
        expect(r.signer.tlogEntries).toBe(1);
      }
      if (d === 'v0.3.1-elliptic-key') expect(r.signer.embeddedKey).toEqual({ curve: 'P-384', hint: 'e8450dec4eb99dae995da9af1bc2cc9f76ed669ee2e744f57abba763df3e3f8e' });
    }
  });
});
