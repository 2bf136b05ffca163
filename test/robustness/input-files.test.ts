/**
 * Issue 11 item 5: every non-bundle input file goes through one bounded reader (src/io/input-file.ts):
 * a FIFO or /dev/zero is refused at once (exit 2, never a hang or an endless read), a file over the
 * kind's cap is refused, and a normal file still works.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { INPUT_CAP_BYTES, readInputFile } from '../../src/io/input-file.js';
import { signModel } from '../../src/sign/index.js';
import { loadTrustedRootJson } from '../../src/verify/sigstore.js';
import { hasOpenssl, makeChain } from '../interop/pki.js';
import { REPO_ROOT, fill251, tempDir } from '../helpers.js';

const BIN = join(REPO_ROOT, 'bin', 'modelseal.js');
let d: { path: string; cleanup: () => void };
let key: string;
let pub: string;
let model: string;
let bundle: string;
let fifo: string;
let huge: string;
let certBundle: string | undefined;

beforeAll(async () => {
  d = tempDir('modelseal-in-');
  const kp = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  key = join(d.path, 'key.pem');
  pub = join(d.path, 'pub.pem');
  writeFileSync(key, kp.privateKey.export({ type: 'pkcs8', format: 'pem' }));
  writeFileSync(pub, kp.publicKey.export({ type: 'spki', format: 'pem' }));
  model = join(d.path, 'model');
  mkdirSync(model);
  writeFileSync(join(model, 'w.bin'), fill251(5000));
  bundle = join(d.path, 'model.sig');
  await signModel(model, { privateKey: key, output: bundle, workers: 1 });
  fifo = join(d.path, 'fifo');
  execFileSync('mkfifo', [fifo]);
  huge = join(d.path, 'huge.pem');
  writeFileSync(huge, '');
  truncateSync(huge, 64 << 20); // sparse: larger than every cap
  if (hasOpenssl()) {
    const pki = makeChain(d.path, 'P-256');
    certBundle = join(d.path, 'model-cert.sig');
    await signModel(model, { privateKey: pki.leafKey, certificate: pki.leafCert, chain: [pki.intCert], output: certBundle, workers: 1 });
  }
});
afterAll(() => d.cleanup());

function cli(args: string[]) {
  // the timeout only turns a hang (the bug) into a failure; nothing here waits for it normally
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 });
}

const CASES: Array<[string, (bad: string) => string[]]> = [
  ['sign --key', (bad) => ['sign', model, '--key', bad, '-o', join(d.path, 'never.sig')]],
  ['sign --cert', (bad) => ['sign', model, '--key', key, '--cert', bad, '-o', join(d.path, 'never.sig')]],
  ['sign --chain', (bad) => ['sign', model, '--key', key, '--cert', bad, '--chain', bad, '-o', join(d.path, 'never.sig')]],
  ['verify --key', (bad) => ['verify', model, '--sig', bundle, '--key', bad]],
  ['verify --cert-root', (bad) => (certBundle ? ['verify', model, '--sig', certBundle, '--cert-root', bad] : ['attest', 'inspect', bad])],
  ['verify --attestation', (bad) => ['verify', model, '--sig', bundle, '--key', pub, '--attestation', bad]],
  ['verify --policy', (bad) => ['verify', model, '--sig', bundle, '--key', pub, '--attestation', bad, '--policy', bad]],
  ['attest inspect', (bad) => ['attest', 'inspect', bad]],
  ['attest verify', (bad) => ['attest', 'verify', bad]],
  ['attest verify --certs', (bad) => ['attest', 'verify', bundle, '--certs', bad]],
  ['attest verify-receipt', (bad) => ['attest', 'verify-receipt', bad, '--nonce', '00'.repeat(32)]],
];

describe('non-bundle inputs through the CLI', () => {
  for (const [name, args] of CASES) {
    for (const [what, bad] of [
      ['a FIFO', () => fifo],
      ['/dev/zero', () => '/dev/zero'],
      ['a file over the cap', () => huge],
    ] as const) {
      it(`${name} with ${what}: exit 2, no hang, no stack`, () => {
        const r = cli(args(bad()));
        expect(r.error, 'the command hung').toBeUndefined();
        expect(r.status, r.stderr).toBe(2);
        expect(r.stderr).toMatch(/not a regular file|is a FIFO|is a device|larger than|INPUT_NOT_REGULAR|INPUT_TOO_LARGE/);
        expect(r.stderr).not.toMatch(/\n\s+at /);
      }, 90_000);
    }
  }
});

describe('readInputFile', () => {
  it('the trusted root (verify --trusted-root) is read through it', () => {
    for (const p of [fifo, '/dev/zero']) expect(() => loadTrustedRootJson(p)).toThrow(expect.objectContaining({ code: 'INPUT_NOT_REGULAR' }));
    expect(() => loadTrustedRootJson(huge)).toThrow(expect.objectContaining({ code: 'INPUT_TOO_LARGE' }));
  });
  it('reads a regular file whole', () => {
    expect(readInputFile(key, 'key').toString('utf8')).toContain('PRIVATE KEY');
  });
  it('refuses a FIFO, a device and a directory with INPUT_NOT_REGULAR', () => {
    for (const p of [fifo, '/dev/zero', d.path]) expect(() => readInputFile(p, 'policy')).toThrow(expect.objectContaining({ code: 'INPUT_NOT_REGULAR' }));
  });
  it('refuses a file one byte over the cap, accepts one at the cap', () => {
    const at = join(d.path, 'at-cap');
    writeFileSync(at, '');
    truncateSync(at, INPUT_CAP_BYTES.key);
    expect(readInputFile(at, 'key').length).toBe(INPUT_CAP_BYTES.key);
    truncateSync(at, INPUT_CAP_BYTES.key + 1);
    expect(() => readInputFile(at, 'key')).toThrow(expect.objectContaining({ code: 'INPUT_TOO_LARGE' }));
  });
  it('keeps errno codes for a missing file (callers word it)', () => {
    expect(() => readInputFile(join(d.path, 'nope'), 'key')).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });
});
