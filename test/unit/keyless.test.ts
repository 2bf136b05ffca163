/**
 * Keyless signing end to end against sigstore-js's mock Fulcio, Rekor and TSA (@sigstore/mock, served
 * in-process by nock: no network): `sign sigstore` gets a certificate for a test identity token, logs
 * to Rekor, timestamps, writes a bundle; `verify --sigstore-*` with a trusted root made of the mocks'
 * keys accepts it, and rejects it for another identity.
 */
import { generateKeyPairSync, createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fulcioHandler, initializeCA, initializeCTLog, initializeTLog, initializeTSA, rekorHandler, tsaHandler, type HandlerFn } from '@sigstore/mock';
import nock from 'nock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signModelKeyless, type KeylessSignOptions } from '../../src/sign/keyless.js';
import { verifyModel } from '../../src/verify/verify-model.js';
import { runCliInProcess } from '../cli-in-process.js';
import { tempDir } from '../helpers.js';

const FULCIO = 'https://fulcio.mock.test';
const REKOR = 'https://rekor.mock.test';
const TSA = 'https://tsa.mock.test';
const IDENTITY = 'model-builder@example.com';
const ISSUER = 'https://issuer.mock.test';

/** An unsigned JWT: the mock Fulcio reads its claims (a real Fulcio verifies the issuer's signature). */
function token(claims: Record<string, unknown>): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.`;
}

function serve(base: string, handler: { path: string; fn: HandlerFn }): void {
  nock(base)
    .persist()
    .post(handler.path)
    .reply(async (_uri, body) => {
      const r = await handler.fn(typeof body === 'string' ? body : JSON.stringify(body));
      return [r.statusCode, r.response, { 'Content-Type': r.contentType ?? 'text/plain' }];
    });
}

/**
 * What Rekor stores for a proposed `dsse` entry: not the proposal (envelope and verifiers) but its
 * canonical form (hashes, signature, verifier), which is what verifiers check. The mock logs
 * proposals verbatim, so it is given Rekor's canonicalization here.
 */
function canonicalDsse(proposed: object): object {
  const p = proposed as { kind?: string; spec?: { proposedContent?: { envelope: string; verifiers: string[] } } };
  if (p.kind !== 'dsse' || !p.spec?.proposedContent) return proposed;
  const { envelope, verifiers } = p.spec.proposedContent;
  const env = JSON.parse(envelope) as { payload: string; signatures: Array<{ sig: string }> };
  const sha = (b: string | Buffer) => createHash('sha256').update(b).digest('hex');
  return {
    apiVersion: '0.0.1',
    kind: 'dsse',
    spec: {
      envelopeHash: { algorithm: 'sha256', value: sha(envelope) },
      payloadHash: { algorithm: 'sha256', value: sha(Buffer.from(env.payload, 'base64')) },
      signatures: env.signatures.map((x, i) => ({ signature: x.sig, verifier: verifiers[i] ?? verifiers[0] })),
    },
  };
}

const b64 = (b: ArrayBufferView | Buffer) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
const START = { start: '2000-01-01T00:00:00Z' };

let dir: ReturnType<typeof tempDir>;
let model: string;
let trustedRoot: string;

beforeAll(async () => {
  dir = tempDir('modelseal-keyless-');
  model = join(dir.path, 'model');
  mkdirSync(model);
  writeFileSync(join(model, 'weights.bin'), Buffer.alloc(300_000, 7));
  writeFileSync(join(model, 'config.json'), '{"layers": 2}\n');

  const key = () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const ctlog = await initializeCTLog(key());
  const ca = await initializeCA(key(), ctlog);
  const tlog = await initializeTLog(REKOR, key());
  const tsa = await initializeTSA(key());
  // The mock stamps genTime through asn1js, which drops trailing zeros of the milliseconds (".12Z"),
  // and @sigstore/core accepts only three fraction digits or none: about 1 run in 10 failed with
  // "invalid time". Whole seconds (no fraction) are what both accept; a stamp taken after the
  // certificate was issued still falls inside its validity, which X.509 counts in whole seconds.
  const mockClock = (tsa as unknown as { getCurrentTime: () => Date }).getCurrentTime;
  (tsa as unknown as { getCurrentTime: () => Date }).getCurrentTime = () => new Date(Math.floor(mockClock().getTime() / 1000) * 1000);
  const log = tlog.log.bind(tlog);
  tlog.log = (proposed: object) => log(canonicalDsse(proposed));
  serve(FULCIO, fulcioHandler(ca));
  serve(REKOR, rekorHandler(tlog));
  serve(TSA, tsaHandler(tsa));
  nock.disableNetConnect();

  const root = {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [{ baseUrl: REKOR, hashAlgorithm: 'SHA2_256', publicKey: { rawBytes: b64(tlog.publicKey), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: START }, logId: { keyId: createHash('sha256').update(tlog.publicKey).digest('base64') } }],
    certificateAuthorities: [{ subject: { organization: 'mock', commonName: 'mock' }, uri: FULCIO, certChain: { certificates: [{ rawBytes: b64(ca.rootCertificate) }] }, validFor: START }],
    ctlogs: [{ baseUrl: FULCIO, hashAlgorithm: 'SHA2_256', publicKey: { rawBytes: b64(ctlog.publicKey), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: START }, logId: { keyId: b64(ctlog.logID) } }],
    timestampAuthorities: [{ subject: { organization: 'mock', commonName: 'mock' }, uri: TSA, certChain: { certificates: [{ rawBytes: b64(tsa.intCertificate) }, { rawBytes: b64(tsa.rootCertificate) }] }, validFor: START }],
  };
  trustedRoot = join(dir.path, 'trusted_root.json');
  writeFileSync(trustedRoot, JSON.stringify(root));
});

afterAll(() => {
  nock.cleanAll();
  nock.enableNetConnect();
  dir?.cleanup();
});

describe('keyless signing against the sigstore-js mock services', () => {
  it('signModelKeyless: Fulcio certificate, Rekor entry and TSA timestamp; verifies for the token identity only', async () => {
    const output = join(dir.path, 'lib.sig');
    const r = await signModelKeyless(model, { identityToken: token({ iss: ISSUER, sub: IDENTITY, email: IDENTITY, email_verified: true }), fulcioURL: FULCIO, rekorURL: REKOR, tsaURL: TSA, output, workers: 1 });
    expect(r.bundlePath).toBe(output);
    const bundle = JSON.parse(readFileSync(output, 'utf8'));
    expect(bundle.mediaType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
    expect(bundle.verificationMaterial.certificate.rawBytes).toBeTypeOf('string');
    expect(bundle.verificationMaterial.tlogEntries).toHaveLength(1);
    expect(bundle.verificationMaterial.timestampVerificationData.rfc3161Timestamps).toHaveLength(1);
    expect(bundle.dsseEnvelope.payloadType).toBe('application/vnd.in-toto+json');

    const v = await verifyModel(model, output, { sigstore: { identity: IDENTITY, issuer: ISSUER, trustedRoot }, workers: 1 });
    expect(v.verified).toBe(true);
    expect(v.rootDigest).toBe(r.rootDigest);
    await expect(verifyModel(model, output, { sigstore: { identity: 'someone-else@example.com', issuer: ISSUER, trustedRoot }, workers: 1 })).rejects.toMatchObject({ kind: 'verification' });
  });

  it('CLI: `sign sigstore MODEL --identity_token T` (model_signing form) then `verify sigstore MODEL ...` exit 0; a bad token is exit 2 with JSON', async () => {
    const sig = join(dir.path, 'cli.sig');
    const tokenFile = join(dir.path, 'token.jwt');
    writeFileSync(tokenFile, `${token({ iss: ISSUER, sub: IDENTITY })}\n`);
    let r = await runCliInProcess(['sign', 'sigstore', model, '--identity-token', tokenFile, '--signature', sig, '--fulcio-url', FULCIO, '--rekor-url', REKOR, '--workers', '1', '--json']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ ok: true, bundle: sig });
    expect(existsSync(sig)).toBe(true);
    r = await runCliInProcess(['verify', 'sigstore', model, '--signature', sig, '--identity', IDENTITY, '--identity_provider', ISSUER, '--trust_config', trustedRoot, '--workers', '1']);
    expect(r.err).toContain('Sigstore keyless');
    expect(r.code).toBe(0);
    expect(r.out).toBe('model verified\n');
    r = await runCliInProcess(['sign', 'sigstore', model, '--identity_token', 'not-a-jwt', '--signature', join(dir.path, 'bad.sig'), '--json']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.out)).toMatchObject({ ok: false, error: { code: 'IDENTITY_TOKEN_INVALID' } });
    expect(existsSync(join(dir.path, 'bad.sig'))).toBe(false);
  });

  it('--merkle with keyless signing is refused (exit 2, nothing written), not silently dropped; the library refuses it too', async () => {
    const sig = join(dir.path, 'merkle.sig');
    const tokenFile = join(dir.path, 'token-merkle.jwt');
    writeFileSync(tokenFile, `${token({ iss: ISSUER, sub: IDENTITY })}\n`);
    for (const extra of [['--merkle'], ['--merkle', '--leaf-size', '64KiB']]) {
      const r = await runCliInProcess(['sign', 'sigstore', model, '--identity-token', tokenFile, '--signature', sig, '--fulcio-url', FULCIO, '--rekor-url', REKOR, '--workers', '1', '--json', ...extra]);
      expect(r.code).toBe(2);
      expect(JSON.parse(r.out)).toMatchObject({ ok: false, error: { code: 'USAGE' } });
      expect(JSON.parse(r.out).error.message).toContain('keyless');
      expect(existsSync(sig)).toBe(false);
      expect(existsSync(`${sig}.merkle`)).toBe(false);
    }
    const options = { identityToken: token({ iss: ISSUER, sub: IDENTITY }), output: sig, fulcioURL: FULCIO, rekorURL: REKOR, merkle: true } as unknown as KeylessSignOptions;
    await expect(signModelKeyless(model, options)).rejects.toMatchObject({ code: 'USAGE' });
    expect(existsSync(sig)).toBe(false);
  });
});
