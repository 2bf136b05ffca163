/**
 * Issue 11 items 9, 10 and 12: the same chain limit when signing as when verifying; collateral that
 * was asked for but cannot be used is a failure; non-canonical base64 is refused as docs/oms.md says.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { signModel } from '../../src/sign/index.js';
import { MAX_CHAIN_CERTIFICATES } from '../../src/sign/bundle.js';
import { decodeBase64Strict } from '../../src/crypto/dsse.js';
import { verifyEvidence } from '../../src/attest/index.js';
import { hasOpenssl, makeChain } from '../interop/pki.js';
import { VECTORS_DIR, fill251, itVectors, tempDir } from '../helpers.js';

let d: { path: string; cleanup: () => void };
beforeAll(() => {
  d = tempDir('modelseal-limits-');
});
afterAll(() => d.cleanup());

describe('item 9: chain length', () => {
  it(`sign refuses a chain of more than ${MAX_CHAIN_CERTIFICATES} certificates (verify's limit)`, async (ctx) => {
    if (!hasOpenssl()) ctx.skip();
    const pki = makeChain(d.path, 'P-256');
    const model = join(d.path, 'model');
    mkdirSync(model);
    writeFileSync(join(model, 'w.bin'), fill251(100));
    const inter = readFileSync(pki.intCert, 'utf8');
    const long = join(d.path, 'long-chain.pem');
    writeFileSync(long, inter.repeat(MAX_CHAIN_CERTIFICATES)); // + leaf = 17
    await expect(signModel(model, { privateKey: pki.leafKey, certificate: pki.leafCert, chain: [long], output: join(d.path, 'x.sig'), workers: 1 })).rejects.toMatchObject({ code: 'CHAIN_TOO_LONG' });
    const ok = join(d.path, 'ok-chain.pem');
    writeFileSync(ok, inter.repeat(MAX_CHAIN_CERTIFICATES - 1)); // + leaf = 16
    await expect(signModel(model, { privateKey: pki.leafKey, certificate: pki.leafCert, chain: [ok], output: join(d.path, 'y.sig'), workers: 1 })).resolves.toBeTruthy();
  });
});

describe('item 10: unusable collateral', () => {
  itVectors('attest verify with a collateral directory holding nothing usable is refused, not a warning', async () => {
    const empty = join(d.path, 'collateral-empty');
    mkdirSync(empty);
    writeFileSync(join(empty, 'README.txt'), 'not collateral');
    const quote = new Uint8Array(readFileSync(join(VECTORS_DIR, 'tee', 'tdx', 'gtg_quote_v4_spr_e4.dat')));
    const v = await verifyEvidence(quote, { at: new Date('2024-06-01'), collateralDir: empty });
    expect(v.verified).toBe(false);
    expect(v.code).toBe('TDX_COLLATERAL_UNUSABLE');
  });
});

describe('item 12: canonical base64', () => {
  it('a last character with stray low bits is refused; the canonical one decodes', () => {
    expect(decodeBase64Strict('QQ==', 'f').toString()).toBe('A');
    for (const bad of ['QR==', 'QR', 'QUJ=', 'QUJ']) {
      expect(() => decodeBase64Strict(bad, 'f'), bad).toThrow(expect.objectContaining({ code: 'BUNDLE_BASE64_INVALID' }));
    }
    expect(decodeBase64Strict('QUI', 'f').toString()).toBe('AB');
  });
});
