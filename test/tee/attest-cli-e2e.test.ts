/**
 * The attestation flags of the real commands, end to end: `sign --attest simulated` writes
 * <bundle>.att; `verify --attestation` refuses simulated evidence (exit 1) unless --allow-simulated;
 * a tampered model fails (exit 1); `verify --receipt` + `attest verify-receipt` round-trip a nonce.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, fill251, tempDir } from '../helpers.js';

const BIN = join(REPO_ROOT, 'bin', 'modelseal.js');
let d: { path: string; cleanup: () => void };
const run = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });

beforeAll(() => {
  d = tempDir();
  mkdirSync(join(d.path, 'm'));
  writeFileSync(join(d.path, 'm', 'w.bin'), fill251(100_000));
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  writeFileSync(join(d.path, 'k.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
  writeFileSync(join(d.path, 'k.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
});
afterAll(() => d.cleanup());

it('sign --attest simulated, verify --attestation, receipts', () => {
  const m = join(d.path, 'm');
  const key = join(d.path, 'k.pem');
  const pub = join(d.path, 'k.pub');
  const s = run('sign', m, '--key', key, '--attest', 'simulated', '--json');
  expect(s.status, s.stderr).toBe(0);
  const signed = JSON.parse(s.stdout.trim().split('\n').pop()!);
  expect(signed.attestation.simulated).toBe(true);
  expect(existsSync(join(d.path, 'm.sig.att'))).toBe(true);

  expect(run('verify', m, '--key', pub, '--attestation').status).toBe(1);
  const ok = run('verify', m, '--key', pub, '--attestation', '--allow-simulated', '--json');
  expect(ok.status, ok.stderr).toBe(0);
  expect(JSON.parse(ok.stdout.trim().split('\n').pop()!).attestation).toBeDefined();

  const nonce = '00112233445566778899aabbccddeeff';
  const receipt = join(d.path, 'r.json');
  const r = run('verify', m, '--key', pub, '--receipt', receipt, '--nonce', nonce, '--receipt-attest', 'simulated', '--allow-simulated');
  expect(r.status, r.stderr).toBe(0);
  expect(run('attest', 'verify-receipt', receipt, '--nonce', nonce, '--allow-simulated').status).toBe(0);
  expect(run('attest', 'verify-receipt', receipt, '--nonce', nonce.replace('00', 'ff'), '--allow-simulated').status).toBe(1);

  writeFileSync(join(m, 'w.bin'), fill251(100_000, 1));
  expect(run('verify', m, '--key', pub, '--attestation', '--allow-simulated').status).toBe(1);
}, 180_000);
