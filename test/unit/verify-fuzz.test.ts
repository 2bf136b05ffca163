/**
 * Property: a bundle with one character changed anywhere is either refused with a ModelsealError
 * (a code, never a crash), or — when the change cannot alter meaning (e.g. inside an ignored field) —
 * yields exactly the originally signed payload. Deterministic PRNG; key and certificate bundles.
 */
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelsealError } from '../../src/errors.js';
import { parseStatementJson, statementToManifest, manifestToStatement } from '../../src/manifest/statement.js';
import { rootDigestOf } from '../../src/manifest/oms.js';
import { parseBundleText, serializeBundle } from '../../src/sign/bundle.js';
import { createCertificateSigner, createKeySigner, signStatement } from '../../src/sign/signer.js';
import { verifyBundleSignature, type TrustOptions } from '../../src/verify/signature.js';
import { itVectors, prng, VECTORS_DIR } from '../helpers.js';

const KEYS = join(VECTORS_DIR, 'oms', 'model-transparency', 'cli-compat', 'keys', 'certificate');

function statement() {
  const resources = [
    { name: 'config.json', algorithm: 'sha256', digest: '1f'.repeat(32) },
    { name: 'weights/model-00001.safetensors', algorithm: 'sha256', digest: 'a0'.repeat(32) },
  ];
  return manifestToStatement({
    modelName: 'm',
    serialization: { method: 'files', hashType: 'sha256', allowSymlinks: false, ignorePaths: ['.git'] },
    resources,
    rootDigest: rootDigestOf(resources),
  });
}

async function mutateAndCheck(text: string, trust: TrustOptions, seed: number, rounds: number): Promise<{ refused: number; same: number }> {
  const original = parseBundleText(text);
  const rnd = prng(seed);
  const alphabet = 'AZaz09+/="{}:,[]\\ .-_x';
  let refused = 0;
  let same = 0;
  for (let i = 0; i < rounds; i++) {
    const pos = Math.floor(rnd() * text.length);
    let c = alphabet[Math.floor(rnd() * alphabet.length)]!;
    if (c === text[pos]) c = c === 'A' ? 'B' : 'A';
    const mutated = text.slice(0, pos) + c + text.slice(pos + 1);
    try {
      const b = parseBundleText(mutated);
      const v = await verifyBundleSignature(b, trust, { expectedPayloadType: 'application/vnd.in-toto+json' });
      statementToManifest(parseStatementJson(v.payload));
      // Accepted: then it must be exactly what was signed.
      expect(v.payload.equals(original.payload), `mutation at ${pos} (${JSON.stringify(c)}) accepted a different payload`).toBe(true);
      same++;
    } catch (e) {
      if (!(e instanceof ModelsealError)) throw new Error(`mutation at ${pos} (${JSON.stringify(c)}) crashed: ${String(e)}`);
      expect(e.code).toMatch(/^[A-Z0-9_]+$/);
      refused++;
    }
  }
  return { refused, same };
}

describe('single-character mutations of a bundle', () => {
  it('key bundle: refused with a code, or the original payload', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const text = serializeBundle(signStatement(statement(), createKeySigner(privateKey)));
    const r = await mutateAndCheck(text, { publicKey }, 1, 600);
    expect(r.refused).toBeGreaterThan(500);
  });
  itVectors('certificate bundle: refused with a code, or the original payload', async () => {
    const signer = createCertificateSigner(join(KEYS, 'signing-key.pem'), { certificate: join(KEYS, 'signing-key-cert.pem'), chain: [join(KEYS, 'int-ca-cert.pem')] });
    const text = serializeBundle(signStatement(statement(), signer));
    const r = await mutateAndCheck(text, { certRoot: join(KEYS, 'ca-cert.pem') }, 2, 400);
    expect(r.refused).toBeGreaterThan(300);
  });
});
