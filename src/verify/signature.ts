/**
 * Bundle → verified payload: reads a bundle file (size-limited), checks the signature with the
 * verification material the user trusts (a public key, a root CA, or a Sigstore identity), and
 * returns the payload bytes only once they are authenticated.
 */
import { X509Certificate, createPublicKey, type KeyObject } from 'node:crypto';
import { InputError, VerificationError } from '../errors.js';
import type { ParsedBundle } from '../sign/bundle.js';
import {
  CURVE_KEY_DETAILS,
  CURVE_NAMES,
  ecCurveOf,
  publicKeyHint,
  verifyDsseSignature,
  type SupportedCurve,
} from '../crypto/dsse.js';
import { loadPublicKey, parsePemCertificates } from '../sign/signer.js';
import { verifyCertificateChain } from './cert-chain.js';
import { verifySigstoreBundle } from './sigstore.js';
import { readInputText } from '../io/input-file.js';

// the bundle file and trust options live in bundle-file.ts (loaded before this module: verify-model.ts)
export { readBundleFile, trustOptionsOf, type TrustOptions } from './bundle-file.js';
import type { TrustOptions } from './bundle-file.js';

/** Who signed, as established by verification. */
export interface SignerInfo {
  method: 'key' | 'certificate' | 'sigstore';
  /** One line for humans. */
  description: string;
  curve?: string;
  /** SHA-256 of the canonical SPKI PEM (model_signing's hint). */
  keyHint?: string;
  /** Certificate path from the leaf to the trust anchor (certificate method). */
  certificatePath?: string[];
  identity?: string;
  issuer?: string;
  trustedRootSource?: string;
  /** Checks that cannot be made offline (Sigstore). */
  offlineLimits?: readonly string[];
}

export interface VerifiedPayload {
  payloadType: string;
  payload: Buffer;
  signer: SignerInfo;
  /** `dsse-v1`, or `legacy-v0.2` for model_signing v0.2's encoding. */
  encoding: 'dsse-v1' | 'legacy-v0.2';
  warnings: string[];
}


function methodOf(b: ParsedBundle): SignerInfo['method'] {
  return b.material.kind === 'public-key' ? 'key' : b.material.kind === 'certificate-chain' ? 'certificate' : 'sigstore';
}

const TRUST_FLAG: Record<SignerInfo['method'], string> = {
  key: '--key PUB.pem',
  certificate: '--cert-root CA.pem',
  sigstore: '--sigstore-identity ID --sigstore-issuer URL',
};

/** Parses `publicKey.rawBytes` (base64 of a PEM, or of DER SPKI); undefined when unusable. */
function keyFromRawBytes(raw: Buffer): KeyObject | undefined {
  try {
    const text = raw.toString('utf8');
    if (text.includes('-----BEGIN')) return createPublicKey({ key: text, format: 'pem' });
    return createPublicKey({ key: raw, format: 'der', type: 'spki' });
  } catch {
    return undefined;
  }
}

/** The result for a signature that verified (members in the order JSON output shows them). */
function verifiedPayload(b: ParsedBundle, encoding: VerifiedPayload['encoding'], warnings: string[], signer: SignerInfo): VerifiedPayload {
  return { payloadType: b.payloadType, payload: b.payload, encoding, warnings, signer };
}

function checkSignature(
  b: ParsedBundle,
  key: KeyObject,
  /** Digest for model_signing v0.2's legacy encoding: undefined = the curve's, false = not accepted. */
  legacyDigest: 'sha256' | false | undefined,
  curve: SupportedCurve,
): 'dsse-v1' | 'legacy-v0.2' {
  const sig = b.signatures[0]!.sig;
  const r = verifyDsseSignature(key, b.payloadType, b.payload, sig, legacyDigest === undefined ? {} : { legacyDigest });
  if (r.ok) return r.encoding;
  if (r.malformed) {
    throw new VerificationError('SIGNATURE_MALFORMED', `the bundle's signature is not a DER ECDSA signature (truncated or corrupt; ${sig.length} bytes); the bundle was damaged or tampered with.`);
  }
  throw new VerificationError(
    'SIGNATURE_INVALID',
    `the signature does not verify with the ${CURVE_NAMES[curve]} key: the signed payload was altered, or it was signed by another key.`,
  );
}

/**
 * Verifies the bundle's signature (signatures[0], as model_signing) with the trust the caller
 * gives, and returns the authenticated payload. The payload type must be `expectedPayloadType`.
 */
export async function verifyBundleSignature(
  b: ParsedBundle,
  trust: TrustOptions,
  options: { expectedPayloadType?: string } = {},
): Promise<VerifiedPayload> {
  const given = [trust.publicKey !== undefined, trust.certRoot !== undefined, trust.sigstore !== undefined].filter(Boolean).length;
  if (given !== 1) {
    throw new InputError('USAGE', 'give exactly one of: a public key (--key), a root certificate (--cert-root), or a Sigstore identity and issuer (--sigstore-identity/--sigstore-issuer).');
  }
  if (trust.allowPartialChain === true && trust.certRoot === undefined) {
    throw new InputError('USAGE', 'allowPartialChain (--allow-partial-chain) applies only to certificate verification with a root certificate (--cert-root).');
  }
  const method = methodOf(b);
  const wanted: SignerInfo['method'] = trust.publicKey !== undefined ? 'key' : trust.certRoot !== undefined ? 'certificate' : 'sigstore';
  if (method !== wanted) {
    throw new InputError(
      'VERIFIER_MISMATCH',
      `the bundle was signed with the ${method} method but ${TRUST_FLAG[wanted]} was given; verify it with ${TRUST_FLAG[method]}.`,
      { details: { bundleMethod: method } },
    );
  }
  if (options.expectedPayloadType !== undefined && b.payloadType !== options.expectedPayloadType) {
    throw new InputError('DSSE_PAYLOAD_TYPE_UNSUPPORTED', `the envelope's payloadType is ${JSON.stringify(b.payloadType)}; expected ${options.expectedPayloadType}.`);
  }
  const warnings: string[] = [];
  if (b.signatures.length > 1) warnings.push(`the envelope has ${b.signatures.length} signatures; only the first is verified (as model_signing does)`);

  if (b.material.kind === 'public-key') {
    const key = loadPublicKey(trust.publicKey!);
    const curve = ecCurveOf(key, 'the verification key');
    const hint = publicKeyHint(key);
    const m = b.material;
    if (m.hint !== undefined && m.hint.toLowerCase() !== hint) {
      throw new VerificationError('KEY_MISMATCH', `the bundle was signed by the key with hint ${m.hint}, not by the given key (hint ${hint}); pass the signer's public key.`, {
        details: { bundleHint: m.hint, keyHint: hint },
      });
    }
    if (m.keyDetails !== undefined && Object.values(CURVE_KEY_DETAILS).includes(m.keyDetails) && m.keyDetails !== CURVE_KEY_DETAILS[curve]) {
      throw new VerificationError('KEY_MISMATCH', `the bundle was signed with a ${m.keyDetails} key, but the given key is ${CURVE_NAMES[curve]}; pass the signer's public key.`);
    }
    if (m.rawBytes !== undefined) {
      const embedded = keyFromRawBytes(m.rawBytes);
      if (embedded === undefined) warnings.push('publicKey.rawBytes in the bundle is not a readable key; ignored (the given key is used, as by model_signing)');
      else if (!embedded.equals(key)) {
        throw new VerificationError('KEY_MISMATCH', "the bundle names a different public key than the given one (publicKey.rawBytes); pass the signer's public key.");
      }
    }
    if (m.hint === undefined) warnings.push('the bundle carries no key hint; only the signature binds it to the given key');
    const encoding = checkSignature(b, key, undefined, curve);
    if (encoding === 'legacy-v0.2') warnings.push("signature uses model_signing v0.2's legacy DSSE encoding");
    return verifiedPayload(b, encoding, warnings, { method: 'key', description: `${CURVE_NAMES[curve]} key, hint ${hint}`, curve: CURVE_NAMES[curve], keyHint: hint });
  }

  if (b.material.kind === 'certificate-chain') {
    const rootSources = Array.isArray(trust.certRoot) ? trust.certRoot : [trust.certRoot!];
    const roots: X509Certificate[] = rootSources.flatMap((src) => {
      const text = Buffer.isBuffer(src) ? src.toString('utf8') : src.includes('-----BEGIN') ? src : readRootFile(src);
      return parsePemCertificates(text, 'the root certificate file');
    });
    const chain = verifyCertificateChain(b.material.certificates, roots, { allowPartialChain: trust.allowPartialChain === true });
    const key = chain.leaf.publicKey;
    const curve = ecCurveOf(key, "the signing certificate's key");
    // model_signing's legacy (v0.2) path hashes with SHA-256 for certificates, whatever the curve.
    const encoding = checkSignature(b, key, 'sha256', curve);
    if (encoding === 'legacy-v0.2') warnings.push("signature uses model_signing v0.2's legacy DSSE encoding (SHA-256)");
    warnings.push(`certificate validity was checked at the leaf's notBefore (${chain.checkedAt.toISOString()}), as model_signing does; expiry since then is not an error`);
    return verifiedPayload(b, encoding, warnings, {
      method: 'certificate',
      description: `${CURVE_NAMES[curve]} certificate, chain ${chain.path.join(' → ')}`,
      curve: CURVE_NAMES[curve],
      keyHint: publicKeyHint(key),
      certificatePath: chain.path,
    });
  }

  // Sigstore keyless.
  const ks = await verifySigstoreBundle(b.json, trust.sigstore!);
  const leaf = new X509Certificate(b.material.certificate);
  const key = leaf.publicKey;
  const curve = ecCurveOf(key, "the Fulcio certificate's key");
  // sigstore-js checked the signature too; ours is curve-aware and costs microseconds. Keyless
  // signing never used the v0.2 legacy encoding, so it is not accepted here.
  const encoding = checkSignature(b, key, false, curve);
  for (const l of ks.offlineLimits) warnings.push(`not checked offline: ${l}`);
  return verifiedPayload(b, encoding, warnings, {
    method: 'sigstore',
    description: `Sigstore keyless: ${ks.identity} (issuer ${ks.issuer})`,
    curve: CURVE_NAMES[curve],
    identity: ks.identity,
    issuer: ks.issuer,
    trustedRootSource: ks.trustedRootSource,
    offlineLimits: ks.offlineLimits,
  });
}

function readRootFile(path: string): string {
  try {
    return readInputText(path, 'certificate');
  } catch (e) {
    if (e instanceof InputError) throw e; // a refused input (not regular, too large) says so itself
    throw new InputError('CERT_FILE_UNREADABLE', `cannot read the root certificate ${path}: ${(e as Error).message}.`, { cause: e });
  }
}
