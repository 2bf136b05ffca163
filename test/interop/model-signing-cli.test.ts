/**
 * modelseal as a drop-in for the reference `model_signing` CLI: the bundles the reference tool made
 * (vectors/oms cli-compat, v0.2.0 … v1.1.0) verify through `modelseal verify key|certificate|sigstore
 * MODEL --signature S ...` with the reference's flag spellings and exit codes (0 verified, non-zero
 * blocks), and `modelseal digest MODEL` prints the root digest those bundles carry.
 */
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCliInProcess as cli } from '../cli-in-process.js';
import { VECTORS_DIR, describeVectors, tempDir } from '../helpers.js';
import { writeKeyPair } from './pki.js';

const COMPAT = join(VECTORS_DIR, 'oms', 'model-transparency', 'cli-compat');
const KEYS = join(COMPAT, 'keys', 'certificate');
const PUB = join(KEYS, 'signing-key-pub.pem');
const CA = join(KEYS, 'ca-cert.pem');
const SIGSTORE = ['--identity', 'stefanb@us.ibm.com', '--identity_provider', 'https://sigstore.verify.ibm.com/oauth2'];

type Case = { dir: string; model?: string; method: 'key' | 'certificate' | 'sigstore'; ignore?: string };
const CASES: Case[] = [
  { dir: 'v0.2.0-certificate', method: 'certificate' },
  { dir: 'v0.3.1-elliptic-key', model: 'signme-1', method: 'key' },
  { dir: 'v1.0.0-sigstore', method: 'sigstore' },
  { dir: 'v1.0.1-certificate', method: 'certificate', ignore: 'ignore-me' },
  { dir: 'v1.0.1-elliptic-key', method: 'key', ignore: 'ignore-me' },
  { dir: 'v1.1.0-certificate', method: 'certificate' },
  { dir: 'v1.1.0-elliptic-key', method: 'key' },
  { dir: 'v1.1.0-sigstore', method: 'sigstore' },
];

function trustFlags(method: Case['method']): string[] {
  if (method === 'key') return ['--public_key', PUB];
  if (method === 'certificate') return ['--certificate_chain', CA];
  return SIGSTORE;
}

function verifyArgs(c: Case, model?: string): string[] {
  const dir = join(COMPAT, c.dir);
  return [
    'verify', c.method, model ?? (c.model ? join(dir, c.model) : dir),
    '--signature', join(dir, 'model.sig'),
    ...trustFlags(c.method),
    // model_signing resolves --ignore-paths against the current directory: absolute here
    ...(c.ignore ? ['--ignore-paths', join(dir, c.ignore)] : []),
    '--workers', '1',
  ];
}

describeVectors('model_signing command forms over the reference bundles', () => {
  for (const c of CASES) {
    it(`verify ${c.method} ${c.dir}: exit 0`, async () => {
      const r = await cli(verifyArgs(c));
      expect(r.err).not.toContain('modelseal: error');
      expect(r.code).toBe(0);
      expect(r.out).toBe('model verified\n');
    });
  }

  it('a changed file blocks (exit 1) and is named, with -q too', async () => {
    const t = tempDir();
    try {
      const c: Case = { dir: 'v1.1.0-elliptic-key', method: 'key' };
      const copy = join(t.path, 'model');
      cpSync(join(COMPAT, c.dir), copy, { recursive: true });
      writeFileSync(join(copy, 'signme-2'), 'changed\n');
      const r = await cli([...verifyArgs(c, copy), '-q']);
      expect(r.code).toBe(1);
      expect(r.out).toContain('verification FAILED');
      expect(r.err).toContain('mismatch: signme-2');
    } finally {
      t.cleanup();
    }
  });

  it('digest MODEL prints the root digest the bundle carries', async () => {
    for (const c of CASES.filter((x) => x.dir.startsWith('v1.'))) {
      const v = await cli([...verifyArgs(c), '--json']);
      const j = JSON.parse(v.out) as { rootDigest: string; serialization: { method: string; hashType: string; shardSize?: number; ignorePaths: string[] } };
      const dir = join(COMPAT, c.dir);
      const s = j.serialization;
      const d = await cli([
        'digest', c.model ? join(dir, c.model) : dir,
        // what the signer ignored (the bundle records it: the signature itself, ignore-me, the git names)
        // (bundles before v1.0.1 record no list: the signature was ignored all the same)
        ...[...new Set(['model.sig', ...(c.ignore ? [c.ignore] : []), ...j.serialization.ignorePaths])].flatMap((p) => ['--ignore-paths', join(dir, p)]),
        '--method', s.method, '--hash', s.hashType, ...(s.shardSize ? ['--shard-size', String(s.shardSize)] : []),
        '--workers', '1',
      ]);
      expect(d.err, c.dir).toBe('');
      expect(d.code, c.dir).toBe(0);
      expect(d.out, c.dir).toBe(`${j.rootDigest}\n`);
    }
  });

  it('the method word fixes the trust flags: another method\'s flags, a missing model or PKCS #11 are usage errors (exit 2)', async () => {
    const c = CASES.find((x) => x.dir === 'v1.1.0-elliptic-key')!;
    const dir = join(COMPAT, c.dir);
    let r = await cli(['verify', 'key', dir, '--signature', join(dir, 'model.sig'), ...SIGSTORE, '--json']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.out).error.message).toContain('verify key does not take --identity, --identity_provider');
    r = await cli(['verify', 'key', '--signature', join(dir, 'model.sig'), '--public_key', PUB]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('verify key needs a model path');
    r = await cli(['verify', 'pkcs11-key', dir, '--signature', join(dir, 'model.sig')]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('PKCS #11');
    r = await cli(['verify', dir, dir, '--signature', join(dir, 'model.sig'), '--public_key', PUB]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('key|certificate|sigstore MODEL');
  });
});

describe('model_signing sign forms', () => {
  it('sign key MODEL --private_key K --signature S, then verify key: exit 0 both', async () => {
    const t = tempDir();
    try {
      const model = join(t.path, 'm');
      mkdirSync(model);
      writeFileSync(join(model, 'weights.bin'), Buffer.alloc(5000, 3));
      writeFileSync(join(model, 'config.json'), '{}\n');
      const key = writeKeyPair(t.path, 'signer', 'prime256v1');
      const sig = join(t.path, 'model.sig');
      let r = await cli(['sign', 'key', model, '--private_key', key.priv, '--signature', sig, '--workers', '1']);
      expect(r.code).toBe(0);
      r = await cli(['verify', 'key', model, '--signature', sig, '--public_key', key.pub, '--workers', '1']);
      expect(r.code).toBe(0);
      expect(r.out).toBe('model verified\n');
      // the reference replaces an existing signature in this form
      r = await cli(['sign', 'key', model, '--private_key', key.priv, '--signature', sig, '--workers', '1']);
      expect(r.code).toBe(0);
      r = await cli(['sign', 'certificate', model, '--private_key', key.priv, '--signature', sig]);
      expect(r.code).toBe(2);
      expect(r.err).toContain('--signing_certificate');
    } finally {
      t.cleanup();
    }
  });
});
