/**
 * The CLI side of the binding: `sign --attest` / `verify --attestation --policy` / `verify --receipt`
 * glue (src/cli/attest-options.ts) on a real signed bundle, and `modelseal attest verify-receipt`.
 */
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signModel } from '../../src/sign/index.js';
import { Command } from 'commander';
import { addSignAttestOptions, addVerifyAttestOptions, attestBundle, checkAttestation, signAttestStep, verifyAttestStep, writeReceipt, type VerifyAttestFlags } from '../../src/cli/attest-options.js';
import { parseHex as hexOption } from '../../src/cli/args.js';
import { runCliInProcess } from '../cli-in-process.js';
import { ModelsealError } from '../../src/errors.js';
import { fill251, tempDir } from '../helpers.js';

const dir = tempDir('modelseal-attest-cli-');
const model = join(dir.path, 'model');
const bundlePath = join(dir.path, 'model.sig');
const keyPath = join(dir.path, 'key.pem');
const pubPath = join(dir.path, 'key.pub.pem');
const otherPubPath = join(dir.path, 'other.pub.pem');
let root = '';

beforeAll(async () => {
  mkdirSync(join(model, 'sub'), { recursive: true });
  writeFileSync(join(model, 'weights.bin'), fill251(100_000));
  writeFileSync(join(model, 'sub', 'config.json'), '{"layers":2}');
  const k = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  writeFileSync(keyPath, k.privateKey.export({ type: 'pkcs8', format: 'pem' }));
  writeFileSync(pubPath, k.publicKey.export({ type: 'spki', format: 'pem' }));
  writeFileSync(otherPubPath, generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ type: 'spki', format: 'pem' }));
  const r = await signModel(model, { privateKey: keyPath, output: bundlePath });
  root = r.rootDigest;
});
afterAll(dir.cleanup);

const run = runCliInProcess;

describe('sign --attest / verify --attestation glue', () => {
  it('attests a signed bundle on the simulated platform and checks it with a policy', async () => {
    const a = await attestBundle({ bundlePath, privateKey: keyPath, mode: 'simulated', tdisp: true });
    expect(a.path).toBe(`${bundlePath}.att`);
    expect(existsSync(a.path)).toBe(true);
    expect(a.simulated).toBe(true);
    expect(a.kinds).toEqual(['nvidia-gpu', 'tdisp', 'sev-snp']);
    expect(a.source).toMatch(/SIMULATED/);
    // Never replaced without force.
    await expect(attestBundle({ bundlePath, privateKey: keyPath, mode: 'simulated' })).rejects.toMatchObject({ code: 'ATT_EXISTS' });

    const policyPath = join(dir.path, 'policy.json');
    writeFileSync(policyPath, JSON.stringify({ version: 1, allowSimulated: true, maxEvidenceAgeSeconds: 600, nvidia: { requireCcMode: true }, tdisp: { requireRun: true } }));
    const ok = await checkAttestation({ bundlePath, publicKey: pubPath, policyPath, rootDigest: root });
    expect(ok.attestation.failures).toEqual([]);
    expect(ok.ok).toBe(true);
    expect(ok.simulated).toBe(true);
    expect(ok.policy?.ok).toBe(true);

    // Without allowSimulated anywhere: refused at verification.
    const refused = await checkAttestation({ bundlePath, publicKey: pubPath });
    expect(refused.code).toBe('ATT_SIMULATED');
    // Verified, but the policy pins another measurement.
    const strict = join(dir.path, 'strict.json');
    writeFileSync(strict, JSON.stringify({ version: 1, snp: { measurements: ['00'.repeat(48)] } }));
    const pol = await checkAttestation({ bundlePath, publicKey: pubPath, policyPath: strict, allowSimulated: true });
    expect(pol.ok).toBe(false);
    expect(pol.attestation.ok).toBe(true);
    expect(pol.code).toBe('POLICY_MEASUREMENT');
    // Another key than the bundle's.
    expect((await checkAttestation({ bundlePath, publicKey: otherPubPath, allowSimulated: true })).code).toBe('ATT_SIGNATURE');
    // A nonce the relying party expected but the attestation was not taken with.
    expect((await checkAttestation({ bundlePath, publicKey: pubPath, allowSimulated: true, nonce: new Uint8Array(32) })).code).toBe('ATT_NONCE_MISMATCH');
  });

  it('real hardware: evidence of this machine, or (no TEE here) a clear unavailable error with exit 2 — never simulated', async () => {
    const out = join(dir.path, 'x.att');
    const r = await attestBundle({ bundlePath, privateKey: keyPath, mode: 'snp', output: out }).then(
      (ok) => ok,
      (err: unknown) => err,
    );
    if (r instanceof Error) {
      expect(r).toBeInstanceOf(ModelsealError);
      expect((r as ModelsealError).exitCode).toBe(2);
      expect(r.message).toMatch(/probed/);
      expect(existsSync(out)).toBe(false);
    } else {
      // Running inside an SEV-SNP guest: real evidence, never labelled simulated.
      expect((r as { simulated: boolean }).simulated).toBe(false);
    }
  });

  it('hexOption checks digits and length', () => {
    expect(hexOption('0x' + 'ab'.repeat(32), '--nonce', 32)).toHaveLength(32);
    expect(() => hexOption('abc', '--nonce', 32)).toThrow(/hex/);
    expect(() => hexOption('ab', '--nonce', 32)).toThrow(/32 bytes/);
  });
});

describe('modelseal attest verify-receipt', () => {
  const nonceHex = Buffer.from(fill251(24, 5)).toString('hex');
  const receiptPath = join(dir.path, 'receipt.json');

  beforeAll(async () => {
    await writeReceipt({ rootDigest: root, verifyResult: { verified: true, scope: 'model' }, nonce: Buffer.from(nonceHex, 'hex'), out: receiptPath, mode: 'simulated' });
  });

  it('exit 0 for the right nonce with --allow-simulated, and the output says SIMULATED', async () => {
    const r = await run(['attest', 'verify-receipt', receiptPath, '--nonce', nonceHex, '--allow-simulated', '--root', root]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/RECEIPT VERIFIED \(SIMULATED/);
    const j = await run(['attest', 'verify-receipt', receiptPath, '--nonce', nonceHex, '--allow-simulated', '--json']);
    expect(j.code).toBe(0);
    const doc = JSON.parse(j.out) as { ok: boolean; simulated: boolean; rootDigest: string };
    expect(doc).toMatchObject({ ok: true, simulated: true, rootDigest: root });
  });

  it('exit 1 for another nonce, for simulated without the flag, and for a failing policy', async () => {
    const wrong = await run(['attest', 'verify-receipt', receiptPath, '--nonce', 'ff'.repeat(24), '--allow-simulated', '--json']);
    expect(wrong.code).toBe(1);
    expect(JSON.parse(wrong.out)).toMatchObject({ ok: false, code: 'RECEIPT_NONCE_MISMATCH' });
    const sim = await run(['attest', 'verify-receipt', receiptPath, '--nonce', nonceHex]);
    expect(sim.code).toBe(1);
    expect(sim.out).toMatch(/RECEIPT_SIMULATED/);
    const policyPath = join(dir.path, 'receipt-policy.json');
    writeFileSync(policyPath, JSON.stringify({ version: 1, platforms: ['tdx'] }));
    const pol = await run(['attest', 'verify-receipt', receiptPath, '--nonce', nonceHex, '--allow-simulated', '--policy', policyPath, '--json']);
    expect(pol.code).toBe(1);
    expect(JSON.parse(pol.out)).toMatchObject({ ok: false, code: 'POLICY_PLATFORM' });
  });

  it('exit 2 for unreadable input and bad arguments', async () => {
    expect((await run(['attest', 'verify-receipt', join(dir.path, 'missing.json'), '--nonce', nonceHex])).code).toBe(2);
    expect((await run(['attest', 'verify-receipt', receiptPath, '--nonce', 'xyz'])).code).toBe(2);
    expect((await run(['attest', 'verify-receipt', receiptPath])).code).toBe(2); // --nonce is required
    writeFileSync(join(dir.path, 'junk.json'), readFileSync(receiptPath, 'utf8').slice(0, 100));
    const junk = await run(['attest', 'verify-receipt', join(dir.path, 'junk.json'), '--nonce', nonceHex]);
    expect(junk.code).toBe(2);
    expect(junk.err).toMatch(/RECEIPT_FORMAT/);
    expect(junk.err).not.toMatch(/at .*\.ts/); // no stack trace
  });
});

describe('modelseal sign --attest through the CLI', () => {
  it('refuses an existing <bundle>.att before hashing, leaving the old bundle as it was; --force replaces both', async () => {
    const out = join(dir.path, 'cli.sig');
    const first = await run(['sign', model, '--key', keyPath, '-o', out, '--attest', 'simulated', '--json']);
    expect(first.code).toBe(0);
    expect(JSON.parse(first.out)).toMatchObject({ ok: true, bundle: out, attestation: { simulated: true } });
    const bundleBefore = readFileSync(out, 'utf8');
    const attBefore = readFileSync(`${out}.att`, 'utf8');
    // a new bundle alone would collide too (OUTPUT_EXISTS); an -o to a fresh path whose .att exists shows the preflight
    const fresh = join(dir.path, 'fresh.sig');
    writeFileSync(`${fresh}.att`, attBefore);
    const again = await run(['sign', model, '--key', keyPath, '-o', fresh, '--attest', 'simulated', '--json']);
    expect(again.code).toBe(2);
    expect(JSON.parse(again.out)).toMatchObject({ ok: false, error: { code: 'ATT_EXISTS' } });
    expect(existsSync(fresh)).toBe(false); // nothing hashed, nothing signed, nothing written
    const forced = await run(['sign', model, '--key', keyPath, '-o', out, '--attest', 'simulated', '--force', '--json']);
    expect(forced.code).toBe(0);
    expect(readFileSync(`${out}.att`, 'utf8')).not.toBe(attBefore);
    expect(readFileSync(out, 'utf8')).not.toBe(bundleBefore); // fresh signature (ECDSA is randomised)
  });

  it('a failed attestation says that the bundle was written on its own', async () => {
    const out = join(dir.path, 'hw.sig');
    const r = await run(['sign', model, '--key', keyPath, '-o', out, '--attest', 'snp', '--json']);
    if (r.code === 0) return; // inside a real SEV-SNP guest the attestation succeeds
    expect(r.code).toBe(2);
    const j = JSON.parse(r.out) as { ok: boolean; error: { code: string; message: string } };
    expect(j).toMatchObject({ ok: false, error: { code: 'EVIDENCE_UNAVAILABLE' } });
    expect(j.error.message).toMatch(/was written and is valid on its own; no attestation was written/);
    expect(existsSync(out)).toBe(true);
    expect(existsSync(`${out}.att`)).toBe(false);
  });
});

describe('hooks for the sign and verify commands', () => {
  function parse(add: (c: Command) => Command, args: string[]): Record<string, unknown> {
    const c = add(new Command('x').exitOverride());
    c.parse(args, { from: 'user' });
    return c.opts();
  }

  it('sign --attest simulated writes the attestation; verify --policy checks it; --receipt writes a receipt', async () => {
    const sflags = parse(addSignAttestOptions, ['--attest', 'simulated', '--attest-nonce', '11'.repeat(32)]);
    const s = await signAttestStep({ ...sflags, force: true }, { bundlePath, privateKey: keyPath });
    expect(s.exitCode).toBe(0);
    expect(s.json).toMatchObject({ simulated: true, nonce: '11'.repeat(32), evidence: ['nvidia-gpu', 'tdisp', 'sev-snp'] });
    expect(s.lines.join('\n')).toMatch(/SIMULATED/);
    expect(await signAttestStep({}, { bundlePath, privateKey: keyPath })).toEqual({ exitCode: 0, lines: [] });

    const policyPath = join(dir.path, 'hook-policy.json');
    writeFileSync(policyPath, JSON.stringify({ version: 1, allowSimulated: true, requireKinds: ['nvidia-gpu'] }));
    const result = { verified: true, scope: 'model', rootDigest: root, checked: 2, total: 2 };
    const v = await verifyAttestStep(parse(addVerifyAttestOptions, ['--policy', policyPath, '--nonce', '11'.repeat(32)]) as VerifyAttestFlags, { bundlePath, publicKey: pubPath, result });
    expect(v.exitCode).toBe(0);
    expect(v.json).toMatchObject({ ok: true, simulated: true });
    const stale = await verifyAttestStep(parse(addVerifyAttestOptions, ['--attestation', '--nonce', '22'.repeat(32), '--allow-simulated']) as VerifyAttestFlags, { bundlePath, publicKey: pubPath, result });
    expect(stale.exitCode).toBe(1);
    expect(stale.json).toMatchObject({ ok: false, code: 'ATT_NONCE_MISMATCH' });

    const receiptPath = join(dir.path, 'hook-receipt.json');
    const nonce = 'ab'.repeat(16);
    const r = await verifyAttestStep(parse(addVerifyAttestOptions, ['--receipt', receiptPath, '--nonce', nonce, '--receipt-attest', 'simulated', '--allow-simulated']) as VerifyAttestFlags, { bundlePath, publicKey: pubPath, result });
    expect(r.exitCode).toBe(0);
    expect(r.json).toMatchObject({ receipt: { path: receiptPath, simulated: true, result: { verified: true, scope: 'model' } } });
    const check = await run(['attest', 'verify-receipt', receiptPath, '--nonce', nonce, '--allow-simulated', '--root', root]);
    expect(check.code).toBe(0);
    // Never replaced without --force; a simulated receipt needs --allow-simulated; --receipt needs --nonce.
    await expect(verifyAttestStep({ receipt: receiptPath, nonce, receiptAttest: 'simulated', allowSimulated: true }, { bundlePath, result })).rejects.toMatchObject({ code: 'ATT_EXISTS' });
    await expect(verifyAttestStep({ receipt: join(dir.path, 'r2.json'), nonce, receiptAttest: 'simulated' }, { bundlePath, result })).rejects.toMatchObject({ code: 'USAGE' });
    await expect(verifyAttestStep({ receipt: join(dir.path, 'r3.json') }, { bundlePath, result })).rejects.toMatchObject({ code: 'USAGE' });
    expect(await verifyAttestStep({}, { bundlePath, result })).toEqual({ exitCode: 0, lines: [] });
  });
});

describe('the library steps behind the hooks (src/index.ts)', () => {
  it('attestBundle(bundle, options) and checkAttestation(model, bundle, attestation, options), with a parsed bundle and bytes', async () => {
    const lib = await import('../../src/index.js');
    const { parseBundleText } = await import('../../src/sign/index.js');
    const parsed = parseBundleText(readFileSync(bundlePath, 'utf8'), bundlePath);
    const nonce = '33'.repeat(32);
    // A parsed bundle and no output: nothing is written, the signed file is in the result.
    const a = await lib.attestBundle(parsed, { privateKey: keyPath, mode: 'simulated', nonce });
    expect(a.path).toBeUndefined();
    expect(a.nonce).toBe(nonce);
    const bytes = a.attestation.bytes;
    const ok = await lib.checkAttestation(root, parsed, bytes, { publicKey: pubPath, allowSimulated: true, expectedNonce: nonce });
    expect(ok).toMatchObject({ ok: true, simulated: true });
    const stale = await lib.checkAttestation({ rootDigest: root }, parsed, bytes, { publicKey: pubPath, allowSimulated: true, expectedNonce: '44'.repeat(32) });
    expect(stale.code).toBe('ATT_NONCE_MISMATCH');
    await expect(lib.checkAttestation('00'.repeat(32), parsed, bytes, { publicKey: pubPath })).rejects.toMatchObject({ code: 'ATT_INPUT' });
    // The attestation nonce is checked once, where it enters.
    await expect(lib.attestBundle(parsed, { privateKey: keyPath, mode: 'simulated', nonce: new Uint8Array(16) })).rejects.toMatchObject({ code: 'ATT_INPUT' });
    await expect(lib.checkAttestation(root, parsed, bytes, { publicKey: pubPath, expectedNonce: 'abcd' })).rejects.toMatchObject({ code: 'ATT_INPUT' });
  });

  it('verify --attestation-nonce and --receipt-nonce are the two names; --nonce stays an alias of each', async () => {
    const parse = (add: (c: Command) => Command, args: string[]): Record<string, unknown> => add(new Command('x').exitOverride()).parse(args, { from: 'user' }).opts();
    const result = { verified: true, scope: 'model', rootDigest: root, checked: 2, total: 2 };
    const sflags = parse(addSignAttestOptions, ['--attest', 'simulated', '--attest-nonce', '55'.repeat(32)]);
    await signAttestStep({ ...sflags, force: true }, { bundlePath, privateKey: keyPath });
    const good = await verifyAttestStep(parse(addVerifyAttestOptions, ['--attestation', '--attestation-nonce', '55'.repeat(32), '--allow-simulated']) as VerifyAttestFlags, { bundlePath, publicKey: pubPath, result });
    expect(good.json).toMatchObject({ ok: true });
    const stale = await verifyAttestStep(parse(addVerifyAttestOptions, ['--attestation', '--attestation-nonce', '66'.repeat(32), '--allow-simulated']) as VerifyAttestFlags, { bundlePath, publicKey: pubPath, result });
    expect(stale.json).toMatchObject({ ok: false, code: 'ATT_NONCE_MISMATCH' });
    await expect(verifyAttestStep(parse(addVerifyAttestOptions, ['--attestation', '--attestation-nonce', 'ab']) as VerifyAttestFlags, { bundlePath, publicKey: pubPath, result })).rejects.toThrow(/--attestation-nonce must be 32 bytes/);
    // With --receipt, --attestation-nonce still checks the attestation, --receipt-nonce goes into the receipt.
    const receiptPath = join(dir.path, 'named-receipt.json');
    const both = await verifyAttestStep(
      parse(addVerifyAttestOptions, ['--attestation', '--attestation-nonce', '55'.repeat(32), '--receipt', receiptPath, '--receipt-nonce', 'cd'.repeat(12), '--receipt-attest', 'simulated', '--allow-simulated']) as VerifyAttestFlags,
      { bundlePath, publicKey: pubPath, result },
    );
    expect(both.exitCode).toBe(0);
    expect(both.json).toMatchObject({ ok: true, receipt: { path: receiptPath, result: { attestation: true } } });
    const check = await run(['attest', 'verify-receipt', receiptPath, '--nonce', 'cd'.repeat(12), '--allow-simulated']);
    expect(check.code).toBe(0);
    await expect(verifyAttestStep(parse(addVerifyAttestOptions, ['--receipt', join(dir.path, 'r9.json'), '--receipt-nonce', 'ab', '--receipt-attest', 'simulated', '--allow-simulated']) as VerifyAttestFlags, { bundlePath, result })).rejects.toThrow(/--receipt-nonce must be 8 to 64 bytes/);
  });
});
