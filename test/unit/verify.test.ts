/**
 * Verification: tampered bundles (each refused with its code, ahead of any model error; the model is
 * hashed while the signature is checked, and a bad signature stops that and is what is reported),
 * tampered models (differences listed by name with digests), verify modes (whole model,
 * ignore-unsigned, subsets), accepted variants, inspect, and the CLI's exit codes.
 */
import { generateKeyPairSync } from 'node:crypto';
import { appendFileSync, mkdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCliInProcess } from '../cli-in-process.js';
import { rootDigestOf } from '../../src/manifest/oms.js';
import { manifestToStatement } from '../../src/manifest/statement.js';
import { signModel } from '../../src/sign/sign-model.js';
import { createKeySigner, signStatement } from '../../src/sign/signer.js';
import type { SigstoreBundleJson } from '../../src/sign/bundle.js';
import { compareResources, globToRegExp, selectResources } from '../../src/verify/compare.js';
import { inspectBundle } from '../../src/verify/inspect.js';
import { verifyModel, type VerifyModelOptions } from '../../src/verify/verify-model.js';
import { writeKeyPair } from '../interop/pki.js';
import { fill251, tempDir } from '../helpers.js';

let t: { path: string; cleanup: () => void };
let model: string;
let key: { priv: string; pub: string };
let bundlePath: string;
const E = { workers: 1 } as const;

function makeModel(root: string): string {
  const m = join(root, 'model');
  mkdirSync(join(m, 'tokenizer'), { recursive: true });
  mkdirSync(join(m, 'shards'), { recursive: true });
  writeFileSync(join(m, 'config.json'), '{"layers": 2}');
  writeFileSync(join(m, 'tokenizer', 'vocab.txt'), 'a\nb\n');
  writeFileSync(join(m, 'tokenizer-extra.txt'), 'x');
  writeFileSync(join(m, 'shards', 'w-0.bin'), fill251(70_000));
  writeFileSync(join(m, 'shards', 'w-1.bin'), fill251(50_000, 7));
  return m;
}

beforeEach(async () => {
  t = tempDir();
  model = makeModel(t.path);
  key = writeKeyPair(t.path, 'k', 'P-256');
  bundlePath = (await signModel(model, { privateKey: key.priv, ...E })).bundlePath!;
});
afterEach(() => t.cleanup());

function readBundle(p = bundlePath): SigstoreBundleJson {
  return JSON.parse(readFileSync(p, 'utf8'));
}
function writeBundle(b: unknown, name = 'tampered.sig'): string {
  const p = join(t.path, name);
  writeFileSync(p, typeof b === 'string' ? b : JSON.stringify(b));
  return p;
}
function payloadOf(b: SigstoreBundleJson): any {
  return JSON.parse(Buffer.from(b.dsseEnvelope.payload, 'base64').toString());
}
function withPayload(b: SigstoreBundleJson, p: unknown): SigstoreBundleJson {
  const c = structuredClone(b);
  c.dsseEnvelope.payload = Buffer.from(JSON.stringify(p)).toString('base64');
  return c;
}
const missingModel = () => join(t.path, 'no-such-model');

async function rejectsWith(p: Promise<unknown>, code: string, kind?: string): Promise<void> {
  await expect(p).rejects.toMatchObject(kind ? { code, kind } : { code });
}

describe('the signature is checked while the model is hashed', () => {
  const flippedSignature = () => {
    const b = readBundle();
    const sig = Buffer.from(b.dsseEnvelope.signatures[0]!.sig, 'base64');
    sig[sig.length - 3]! ^= 0x01;
    b.dsseEnvelope.signatures[0]!.sig = sig.toString('base64');
    return writeBundle(b);
  };

  it('a bad signature over a tampered model is SIGNATURE_INVALID (never a digest mismatch); the hashing had started, and nothing of it runs on afterwards', async () => {
    writeFileSync(join(model, 'config.json'), '{"layers": 3}');
    const events: string[] = [];
    await rejectsWith(verifyModel(model, flippedSignature(), { publicKey: key.pub, ...E, onProgress: (e) => events.push(e.phase) }), 'SIGNATURE_INVALID', 'verification');
    // the hashing began before the verdict on the signature (the two halves overlap) ...
    expect(events[0]).toBe('hash');
    // ... and was stopped, or had finished, by the time the rejection came: no event arrives later
    const seen = events.length;
    await new Promise((r) => setTimeout(r, 100));
    expect(events.length).toBe(seen);
  });

  it('a wrong key with a missing model reports the key; statement and model errors come after the signature, as before', async () => {
    const other = writeKeyPair(t.path, 'other', 'P-256');
    await rejectsWith(verifyModel(missingModel(), bundlePath, { publicKey: other.pub, ...E }), 'KEY_MISMATCH', 'verification');
    await rejectsWith(verifyModel(model, flippedSignature(), { publicKey: key.pub, ...E, only: ['../outside'] }), 'SIGNATURE_INVALID', 'verification');
    await rejectsWith(verifyModel(model, bundlePath, { publicKey: key.pub, ...E, only: ['../outside'] }), 'ONLY_PATTERN_INVALID');
    await rejectsWith(verifyModel(missingModel(), bundlePath, { publicKey: key.pub, ...E }), 'MODEL_NOT_FOUND', 'input');
  });

  it("an aborted signal rejects with the signal's reason, after a good signature as before", async () => {
    const ac = new AbortController();
    const reason = new Error('stop');
    ac.abort(reason);
    await expect(verifyModel(model, bundlePath, { publicKey: key.pub, ...E, signal: ac.signal })).rejects.toBe(reason);
    await rejectsWith(verifyModel(model, flippedSignature(), { publicKey: key.pub, ...E, signal: ac.signal }), 'SIGNATURE_INVALID', 'verification');
  });

  it("an inconsistent statement (subject digest not its resources') with a good signature is ROOT_DIGEST_MISMATCH after the early hashing started, which stops; a bad signature over it is still SIGNATURE_INVALID", async () => {
    const s = payloadOf(readBundle());
    s.subject[0].digest.sha256 = '33'.repeat(32);
    const inconsistent = signStatement(s, createKeySigner(key.priv));
    const events: string[] = [];
    await rejectsWith(verifyModel(model, writeBundle(inconsistent), { publicKey: key.pub, ...E, onProgress: (e) => events.push(e.phase) }), 'ROOT_DIGEST_MISMATCH', 'verification');
    // the root digest is checked after the signature, while the model is hashed (not before the hashing)
    expect(events[0]).toBe('hash');
    const seen = events.length;
    await new Promise((r) => setTimeout(r, 100));
    expect(events.length).toBe(seen);
    const flipped = structuredClone(inconsistent) as SigstoreBundleJson;
    const sig = Buffer.from(flipped.dsseEnvelope.signatures[0]!.sig, 'base64');
    sig[sig.length - 3]! ^= 0x01;
    flipped.dsseEnvelope.signatures[0]!.sig = sig.toString('base64');
    await rejectsWith(verifyModel(model, writeBundle(flipped, 'flipped.sig'), { publicKey: key.pub, ...E }), 'SIGNATURE_INVALID', 'verification');
    // with no model the early start is skipped and the sequential order holds: statement before model
    await rejectsWith(verifyModel(missingModel(), writeBundle(inconsistent), { publicKey: key.pub, ...E }), 'ROOT_DIGEST_MISMATCH', 'verification');
  });

  it('the verdict is the same as a sequential run: a tampered model with a good signature is a mismatch', async () => {
    writeFileSync(join(model, 'config.json'), '{"layers": 3}');
    const r = await verifyModel(model, bundlePath, { publicKey: key.pub, ...E });
    expect(r).toMatchObject({ verified: false, summary: 'verification FAILED: 1 mismatched' });
    expect(r.mismatches.map((m) => m.name)).toEqual(['config.json']);
  });
});

describe('tampered or malformed bundles are refused with specific codes, ahead of any model error', () => {
  // The model path does not exist: if any of these reached the model, the error would be MODEL_NOT_FOUND.
  const v = (p: string, o: VerifyModelOptions = { publicKey: key.pub }) => verifyModel(missingModel(), p, { ...o, ...E });

  it('malformed JSON → BUNDLE_JSON_INVALID', async () => rejectsWith(v(writeBundle('{"mediaType":')), 'BUNDLE_JSON_INVALID', 'input'));
  it('wrong mediaType → BUNDLE_MEDIA_TYPE_UNSUPPORTED', async () => {
    const b = readBundle();
    b.mediaType = 'application/vnd.dev.sigstore.bundle+json;version=0.3';
    await rejectsWith(v(writeBundle(b)), 'BUNDLE_MEDIA_TYPE_UNSUPPORTED', 'input');
  });
  it('bad base64 → BUNDLE_BASE64_INVALID', async () => {
    const b = readBundle();
    b.dsseEnvelope.payload = b.dsseEnvelope.payload.slice(0, 10) + '*' + b.dsseEnvelope.payload.slice(11);
    await rejectsWith(v(writeBundle(b)), 'BUNDLE_BASE64_INVALID', 'input');
    const c = readBundle();
    c.dsseEnvelope.signatures[0]!.sig = c.dsseEnvelope.signatures[0]!.sig + 'A';
    await rejectsWith(v(writeBundle(c)), 'BUNDLE_BASE64_INVALID', 'input');
  });
  it('truncated signature → SIGNATURE_MALFORMED', async () => {
    const b = readBundle();
    const sig = Buffer.from(b.dsseEnvelope.signatures[0]!.sig, 'base64');
    b.dsseEnvelope.signatures[0]!.sig = sig.subarray(0, sig.length - 4).toString('base64');
    await rejectsWith(v(writeBundle(b)), 'SIGNATURE_MALFORMED', 'verification');
  });
  it('a flipped signature bit → SIGNATURE_INVALID', async () => {
    const b = readBundle();
    const sig = Buffer.from(b.dsseEnvelope.signatures[0]!.sig, 'base64');
    sig[sig.length - 3]! ^= 0x01;
    b.dsseEnvelope.signatures[0]!.sig = sig.toString('base64');
    await rejectsWith(v(writeBundle(b)), 'SIGNATURE_INVALID', 'verification');
  });
  it('a payload that is not the one signed → SIGNATURE_INVALID', async () => {
    const b = readBundle();
    const p = payloadOf(b);
    p.predicate.resources[0].digest = '00'.repeat(32);
    await rejectsWith(v(writeBundle(withPayload(b, p))), 'SIGNATURE_INVALID', 'verification');
    const q = payloadOf(b);
    q.subject[0].name = 'other';
    await rejectsWith(v(writeBundle(withPayload(b, q))), 'SIGNATURE_INVALID', 'verification');
  });
  it('another key of the same curve → KEY_MISMATCH (hint); without the hint → SIGNATURE_INVALID', async () => {
    const other = writeKeyPair(t.path, 'other', 'P-256');
    await rejectsWith(v(bundlePath, { publicKey: other.pub }), 'KEY_MISMATCH', 'verification');
    const b = readBundle();
    delete b.verificationMaterial.publicKey!.hint;
    await rejectsWith(v(writeBundle(b), { publicKey: other.pub }), 'SIGNATURE_INVALID', 'verification');
  });
  it('a key on another curve → KEY_MISMATCH; an RSA key → KEY_UNSUPPORTED', async () => {
    const p384 = writeKeyPair(t.path, 'p384', 'P-384');
    await rejectsWith(v(bundlePath, { publicKey: p384.pub }), 'KEY_MISMATCH', 'verification');
    const rsa = join(t.path, 'rsa.pub.pem');
    writeFileSync(rsa, generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }));
    await rejectsWith(v(bundlePath, { publicKey: rsa }), 'KEY_UNSUPPORTED', 'input');
  });
  it('keyid absent, "" or null and tlogEntries absent are all accepted', async () => {
    for (const keyid of [undefined, '', null]) {
      const b = readBundle();
      if (keyid === undefined) delete b.dsseEnvelope.signatures[0]!.keyid;
      else b.dsseEnvelope.signatures[0]!.keyid = keyid;
      delete b.verificationMaterial.tlogEntries;
      const r = await verifyModel(model, writeBundle(b), { publicKey: key.pub, ...E });
      expect(r.verified).toBe(true);
    }
  });
  it('payloadType other than in-toto → DSSE_PAYLOAD_TYPE_UNSUPPORTED', async () => {
    const b = readBundle();
    b.dsseEnvelope.payloadType = 'application/json';
    await rejectsWith(v(writeBundle(b)), 'DSSE_PAYLOAD_TYPE_UNSUPPORTED', 'input');
  });
  it('no signatures / no envelope / no material', async () => {
    const a = readBundle();
    a.dsseEnvelope.signatures = [];
    await rejectsWith(v(writeBundle(a)), 'BUNDLE_SIGNATURE_MISSING');
    const b: any = readBundle();
    delete b.dsseEnvelope;
    await rejectsWith(v(writeBundle(b)), 'BUNDLE_ENVELOPE_MISSING');
    const c: any = readBundle();
    c.verificationMaterial = {};
    await rejectsWith(v(writeBundle(c)), 'BUNDLE_MATERIAL_MISSING');
  });
  it('bundles over 64 MiB → BUNDLE_TOO_LARGE (without reading them)', async () => {
    const p = join(t.path, 'huge.sig');
    writeFileSync(p, '');
    truncateSync(p, 64 * 1024 * 1024 + 1); // sparse
    await rejectsWith(v(p), 'BUNDLE_TOO_LARGE', 'input');
  });
  it('a missing bundle → BUNDLE_NOT_FOUND', async () => rejectsWith(v(join(t.path, 'nope.sig')), 'BUNDLE_NOT_FOUND', 'input'));

  // Correctly signed statements with hostile content: the signature passes, the statement does not.
  const signer = () => createKeySigner(key.priv);
  function signed(mutate: (s: any) => void): string {
    const s: any = manifestToStatement({
      modelName: 'm',
      serialization: { method: 'files', hashType: 'sha256', allowSymlinks: false, ignorePaths: [] },
      resources: [
        { name: 'a.bin', algorithm: 'sha256', digest: '11'.repeat(32) },
        { name: 'b.bin', algorithm: 'sha256', digest: '22'.repeat(32) },
      ],
      rootDigest: '',
    });
    mutate(s);
    s.subject[0].digest.sha256 = rootDigestOf(s.predicate.resources);
    return writeBundle(signStatement(s, signer()), 'hostile.sig');
  }
  const hostile: Array<[string, (s: any) => void, string]> = [
    ['..', (s) => (s.predicate.resources[0].name = '../../etc/passwd'), 'RESOURCE_NAME_INVALID'],
    ['absolute', (s) => (s.predicate.resources[0].name = '/etc/passwd'), 'RESOURCE_NAME_INVALID'],
    ['backslash', (s) => (s.predicate.resources[0].name = '..\\x'), 'RESOURCE_NAME_INVALID'],
    ['duplicate', (s) => (s.predicate.resources[1].name = 'a.bin'), 'RESOURCE_DUPLICATE'],
    ['wrong predicate', (s) => (s.predicateType = 'https://example.com/wrong-predicate/v1.0'), 'STATEMENT_PREDICATE_UNSUPPORTED'],
  ];
  for (const [name, mutate, code] of hostile) {
    it(`signed statement with ${name} → ${code}`, async () => rejectsWith(v(signed(mutate)), code, 'input'));
  }
  it('signed statement whose subject digest does not match its resources → ROOT_DIGEST_MISMATCH', async () => {
    const s: any = manifestToStatement({
      modelName: 'm',
      serialization: { method: 'files', hashType: 'sha256', allowSymlinks: false, ignorePaths: [] },
      resources: [{ name: 'a.bin', algorithm: 'sha256', digest: '11'.repeat(32) }],
      rootDigest: '33'.repeat(32),
    });
    await rejectsWith(v(writeBundle(signStatement(s, signer()))), 'ROOT_DIGEST_MISMATCH', 'verification');
  });
});

describe('tampered models: differences listed by name with expected and actual digests', () => {
  it('a modified file is a mismatch', async () => {
    const before = readFileSync(join(model, 'config.json'));
    appendFileSync(join(model, 'config.json'), ' ');
    const r = await verifyModel(model, bundlePath, { publicKey: key.pub, ...E });
    expect(r.verified).toBe(false);
    expect(r.scope).toBe('model');
    expect(r.mismatches).toHaveLength(1);
    const m = r.mismatches[0]!;
    expect(m.name).toBe('config.json');
    expect(m.expected).toMatch(/^[0-9a-f]{64}$/);
    expect(m.actual).not.toBe(m.expected);
    expect(r.summary).toBe('verification FAILED: 1 mismatched');
    writeFileSync(join(model, 'config.json'), before);
    expect((await verifyModel(model, bundlePath, { publicKey: key.pub, ...E })).verified).toBe(true);
  });
  it('a deleted file is missing; an added file is extra; ignoreUnsignedFiles tolerates extra, never missing', async () => {
    writeFileSync(join(model, 'added.txt'), 'new');
    let r = await verifyModel(model, bundlePath, { publicKey: key.pub, ...E });
    expect(r.extra).toEqual(['added.txt']);
    expect(r.verified).toBe(false);
    r = await verifyModel(model, bundlePath, { publicKey: key.pub, ignoreUnsignedFiles: true, ...E });
    expect(r.verified).toBe(true);
    expect(r.scope).toBe('model');
    expect(r.summary).toBe('model verified (unsigned files ignored)');
    rmSync(join(model, 'tokenizer', 'vocab.txt'));
    r = await verifyModel(model, bundlePath, { publicKey: key.pub, ignoreUnsignedFiles: true, ...E });
    expect(r.verified).toBe(false);
    expect(r.missing).toEqual(['tokenizer/vocab.txt']);
  });
  it('shards: one changed byte fails exactly one shard', async () => {
    const b = (await signModel(model, { privateKey: key.priv, method: 'shards', shardSize: 16384, output: join(t.path, 's.sig'), ...E })).bundlePath!;
    const buf = readFileSync(join(model, 'shards', 'w-0.bin'));
    buf[40_000]! ^= 0xff;
    writeFileSync(join(model, 'shards', 'w-0.bin'), buf);
    const r = await verifyModel(model, b, { publicKey: key.pub, ...E });
    expect(r.mismatches.map((m) => m.name)).toEqual(['shards/w-0.bin:32768:49152']);
    expect(r.missing).toEqual([]);
    // A truncated file loses shards: they are missing, and its last shard changes.
    truncateSync(join(model, 'shards', 'w-1.bin'), 20_000);
    const r2 = await verifyModel(model, b, { publicKey: key.pub, ...E });
    expect(r2.missing).toContain('shards/w-1.bin:32768:49152');
    expect(r2.extra).toContain('shards/w-1.bin:16384:20000');
  });
});

describe('subset verification', () => {
  it('files, directories and globs: "subset verified: k of n resources", never "model verified"', async () => {
    appendFileSync(join(model, 'config.json'), ' '); // outside the subsets below
    let r = await verifyModel(model, bundlePath, { publicKey: key.pub, only: ['shards'], ...E });
    expect(r).toMatchObject({ verified: true, scope: 'subset', checked: 2, total: 5, summary: 'subset verified: 2 of 5 resources' });
    r = await verifyModel(model, bundlePath, { publicKey: key.pub, only: ['shards/*.bin', 'tokenizer/vocab.txt'], ...E });
    expect(r.summary).toBe('subset verified: 3 of 5 resources');
    r = await verifyModel(model, bundlePath, { publicKey: key.pub, only: ['./tokenizer-extra.txt'], ...E });
    expect(r.summary).toBe('subset verified: 1 of 5 resources');
    // The changed file inside a subset fails it.
    r = await verifyModel(model, bundlePath, { publicKey: key.pub, only: ['**/*.json'], ...E });
    expect(r.verified).toBe(false);
    expect(r.scope).toBe('subset');
    expect(r.mismatches.map((m) => m.name)).toEqual(['config.json']);
  });
  it('a pattern that selects nothing signed fails (unmatched), even if the file exists', async () => {
    writeFileSync(join(model, 'unsigned.bin'), 'x');
    const r = await verifyModel(model, bundlePath, { publicKey: key.pub, only: ['unsigned.bin'], ...E });
    expect(r.verified).toBe(false);
    expect(r.unmatched).toEqual(['unsigned.bin']);
    expect(r.checked).toBe(0);
  });
  it('a signed file missing from the subset is reported missing', async () => {
    rmSync(join(model, 'shards', 'w-1.bin'));
    const r = await verifyModel(model, bundlePath, { publicKey: key.pub, only: ['shards'], ...E });
    expect(r.verified).toBe(false);
    expect(r.missing).toEqual(['shards/w-1.bin']);
  });
  it('patterns that leave the root are refused; absolute paths inside the model are accepted', async () => {
    await rejectsWith(verifyModel(model, bundlePath, { publicKey: key.pub, only: ['../x'], ...E }), 'ONLY_PATTERN_INVALID');
    await rejectsWith(verifyModel(model, bundlePath, { publicKey: key.pub, only: [join(t.path, 'k.pem')], ...E }), 'ONLY_PATTERN_INVALID');
    const r = await verifyModel(model, bundlePath, { publicKey: key.pub, only: [join(model, 'tokenizer')], ...E });
    expect(r.summary).toBe('subset verified: 1 of 5 resources');
  });
  it('globs', () => {
    expect(globToRegExp('**/*.json').test('config.json')).toBe(true);
    expect(globToRegExp('**/*.json').test('a/b/c.json')).toBe(true);
    expect(globToRegExp('*.json').test('a/c.json')).toBe(false);
    expect(globToRegExp('a/**').test('a/b/c')).toBe(true);
    expect(globToRegExp('w-?.bin').test('w-1.bin')).toBe(true);
    expect(globToRegExp('w-[01].bin').test('w-2.bin')).toBe(false);
    const res = [
      { name: 'a/x:0:8', algorithm: 'sha256-sharded-8', digest: '' },
      { name: 'b:0:8', algorithm: 'sha256-sharded-8', digest: '' },
    ];
    expect(selectResources(res, ['a'], true).selected.map((r) => r.name)).toEqual(['a/x:0:8']);
  });
});

describe('accepted variants', () => {
  it('resources in any order verify (the root is recomputed over the listed order)', async () => {
    const s: any = payloadOf(readBundle());
    s.predicate.resources.reverse();
    s.subject[0].digest.sha256 = rootDigestOf(s.predicate.resources);
    const p = writeBundle(signStatement(s, createKeySigner(key.priv)));
    const r = await verifyModel(model, p, { publicKey: key.pub, ...E });
    expect(r.verified).toBe(true);
    expect(r.rootDigest).not.toBe(payloadOf(readBundle()).subject[0].digest.sha256);
  });
  it('a single-file model named by its basename (OMS spec style) verifies like "."', async () => {
    const f = join(t.path, 'w.bin');
    writeFileSync(f, fill251(1000));
    const r0 = await signModel(f, { privateKey: key.priv, ...E });
    const s: any = payloadOf(readBundle(r0.bundlePath!));
    s.predicate.resources[0].name = 'w.bin';
    const p = writeBundle(signStatement(s, createKeySigner(key.priv)));
    const r = await verifyModel(f, p, { publicKey: key.pub, ...E });
    expect(r.verified).toBe(true);
    expect(r.warnings.join()).toContain('OMS spec style');
  });
  it('a bundle from model_signing-style compat fields (rawBytes + keyDetails, no hint) verifies; a different rawBytes key is KEY_MISMATCH', async () => {
    const b = readBundle();
    const pem = readFileSync(key.pub);
    b.verificationMaterial = { publicKey: { rawBytes: pem.toString('base64'), keyDetails: 'PKIX_ECDSA_P256_SHA_256' } } as never;
    expect((await verifyModel(model, writeBundle(b), { publicKey: key.pub, ...E })).verified).toBe(true);
    const other = writeKeyPair(t.path, 'o', 'P-256');
    b.verificationMaterial = { publicKey: { rawBytes: readFileSync(other.pub).toString('base64') } } as never;
    await rejectsWith(verifyModel(model, writeBundle(b), { publicKey: key.pub, ...E }), 'KEY_MISMATCH');
  });
});

describe('compareResources', () => {
  it('compares names and algorithms exactly and digests in constant time', () => {
    const e = [
      { name: 'a', algorithm: 'sha256', digest: 'aa'.repeat(32) },
      { name: 'b', algorithm: 'sha256', digest: 'bb'.repeat(32) },
    ];
    expect(compareResources(e, [...e].reverse())).toEqual({ matched: 2, mismatches: [], missing: [], extra: [] });
    const c = compareResources(e, [{ name: 'a', algorithm: 'blake3', digest: 'aa'.repeat(32) }, { name: 'c', algorithm: 'sha256', digest: 'cc'.repeat(32) }]);
    expect(c.mismatches.map((m) => m.name)).toEqual(['a']);
    expect(c.missing).toEqual(['b']);
    expect(c.extra).toEqual(['c']);
  });
});

describe('inspectBundle', () => {
  it('reports method, signer hint, statement and resources, marked unverified', () => {
    const r = inspectBundle(bundlePath);
    expect(r.verified).toBe(false);
    expect(r.method).toBe('key');
    expect(r.signer.keyHint).toBe(readBundle().verificationMaterial.publicKey!.hint);
    expect(r.format).toBe('v1.0');
    expect(r.manifest!.resources).toHaveLength(5);
    expect(r.rootDigestConsistent).toBe(true);
  });
  it('shows an inconsistent or non-OMS statement instead of refusing it', () => {
    const b = readBundle();
    const p = payloadOf(b);
    p.subject[0].digest.sha256 = '00'.repeat(32);
    const r = inspectBundle(writeBundle(withPayload(b, p)));
    expect(r.rootDigestConsistent).toBe(false);
    p.predicateType = 'https://example.com/other';
    const r2 = inspectBundle(writeBundle(withPayload(b, p)));
    expect(r2.statementError?.code).toBe('STATEMENT_PREDICATE_UNSUPPORTED');
    expect(r2.predicateType).toBe('https://example.com/other');
  });
});

describe('CLI exit codes and --json', () => {
  const cli = runCliInProcess;
  it('verify: 0 verified, 1 failed, 2 usage; --json carries verified/scope/rootDigest/mismatches/missing/extra', async () => {
    let r = await cli(['verify', model, '--sig', bundlePath, '--key', key.pub, '--workers', '1', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j).toMatchObject({ verified: true, scope: 'model', mismatches: [], missing: [], extra: [] });
    expect(j.rootDigest).toMatch(/^[0-9a-f]{64}$/);
    r = await cli(['verify', model, '--signature', bundlePath, '--public_key', key.pub, '--only', 'shards', '--workers', '1']);
    expect(r.code).toBe(0);
    expect(r.out).toBe('subset verified: 2 of 5 resources\n');
    appendFileSync(join(model, 'config.json'), ' ');
    r = await cli(['verify', model, '--sig', bundlePath, '--key', key.pub, '--workers', '1', '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out).mismatches[0].name).toBe('config.json');
    const other = writeKeyPair(t.path, 'o', 'P-256');
    r = await cli(['verify', model, '--sig', bundlePath, '--key', other.pub, '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out)).toMatchObject({ verified: false, error: { code: 'KEY_MISMATCH' } });
    r = await cli(['verify', model, '--sig', bundlePath]);
    expect(r.code).toBe(2);
    r = await cli(['verify', model, '--sig', writeBundle('not json'), '--key', key.pub]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('BUNDLE_JSON_INVALID');
    expect(r.err).not.toContain('    at ');
  });
  it('sign: writes the bundle, refuses to overwrite (2), --force replaces; inspect --json', async () => {
    let r = await cli(['sign', model, '--key', key.priv, '-o', join(t.path, 'cli.sig'), '--workers', '1']);
    expect(r.code).toBe(0);
    r = await cli(['sign', model, '--private-key', key.priv, '--signature', join(t.path, 'cli.sig'), '--workers', '1']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('OUTPUT_EXISTS');
    r = await cli(['sign', model, '--key', key.priv, '-o', join(t.path, 'cli.sig'), '--force', '--method', 'shards', '--shard-size', '16KiB', '--workers', '1', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).serialization).toMatchObject({ method: 'shards', shardSize: 16384 });
    r = await cli(['inspect', join(t.path, 'cli.sig'), '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ verified: false, method: 'key', format: 'v1.0' });
    r = await cli(['verify', model, '--sig', join(t.path, 'cli.sig'), '--key', key.pub, '--workers', '1']);
    expect(r.code).toBe(0);
  });
});

