/**
 * DSSE (Dead Simple Signing Envelope) primitives: pre-authentication encoding, strict base64, and
 * curve-aware ECDSA signing / verification with node:crypto.
 *
 * The digest follows the curve (P-256 → SHA-256, P-384 → SHA-384, P-521 → SHA-512), as the OMS
 * reference tool does; sigstore-js 3.x verifies raw P-384 keys with SHA-256 and so mis-verifies
 * them, which is why this is ours. Signatures are ASN.1 DER, as in Sigstore bundles.
 */
import { createHash, sign as cryptoSign, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { InputError } from '../errors.js';

import { CURVE_DIGESTS, dssePae, type CurveDigest, type SupportedCurve } from '../crypto/dsse-core.js';

export { CURVE_DIGESTS, dssePae, type CurveDigest, type SupportedCurve } from '../crypto/dsse-core.js';

/** Sigstore `keyDetails` names per curve (written by model_signing < 1.1 next to `rawBytes`). */
export const CURVE_KEY_DETAILS: Record<SupportedCurve, string> = {
  prime256v1: 'PKIX_ECDSA_P256_SHA_256',
  secp384r1: 'PKIX_ECDSA_P384_SHA_384',
  secp521r1: 'PKIX_ECDSA_P521_SHA_512',
};

/** Human names of the curves (for messages). */
export const CURVE_NAMES: Record<SupportedCurve, string> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };

/**
 * The curve of an EC key, or an error naming what the key is. Only P-256/P-384/P-521 are
 * accepted (model_signing's set; secp256k1 was removed upstream).
 */
export function ecCurveOf(key: KeyObject, what: string): SupportedCurve {
  if (key.asymmetricKeyType !== 'ec') {
    throw new InputError(
      'KEY_UNSUPPORTED',
      `${what} is a ${key.asymmetricKeyType ?? 'non-asymmetric'} key; OMS signatures use EC keys on P-256, P-384 or P-521.`,
    );
  }
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (curve === undefined || !(curve in CURVE_DIGESTS)) {
    throw new InputError('KEY_UNSUPPORTED', `${what} is on curve ${curve ?? 'unknown'}; OMS signatures use P-256, P-384 or P-521.`);
  }
  return curve as SupportedCurve;
}

/**
 * The buggy encoding model_signing v0.2 signed (its "pae_compat"), accepted on verification only:
 * UTF-8 of `"DSSEV1 " + len(type) + " " + type + " " + len(payload) + " " + repr(payload)`, where
 * repr is Python's `repr(bytes)` (`b'…'`). Lengths are those of the raw payload.
 */
export function dsseLegacyPaeV02(payloadType: string, payload: Uint8Array): Buffer {
  const typeLen = Buffer.byteLength(payloadType, 'utf8');
  return Buffer.from(`DSSEV1 ${typeLen} ${payloadType} ${payload.length} ${pythonBytesRepr(payload)}`, 'utf8');
}

/** Python's `repr(bytes)`: `b'…'`, or `b"…"` when the data has `'` and no `"`. */
export function pythonBytesRepr(data: Uint8Array): string {
  let hasSingle = false;
  let hasDouble = false;
  for (const b of data) {
    if (b === 0x27) hasSingle = true;
    else if (b === 0x22) hasDouble = true;
  }
  const quote = hasSingle && !hasDouble ? '"' : "'";
  let out = 'b' + quote;
  for (const b of data) {
    if (b === 0x5c) out += '\\\\';
    else if (b === quote.charCodeAt(0)) out += '\\' + quote;
    else if (b === 0x09) out += '\\t';
    else if (b === 0x0a) out += '\\n';
    else if (b === 0x0d) out += '\\r';
    else if (b < 0x20 || b >= 0x7f) out += '\\x' + b.toString(16).padStart(2, '0');
    else out += String.fromCharCode(b);
  }
  return out + quote;
}

const B64_STD = /^[A-Za-z0-9+/]*={0,2}$/;
const B64_URL = /^[A-Za-z0-9_-]*={0,2}$/;

/**
 * Strict base64 decoding (standard or URL-safe alphabet, padding optional, as DSSE allows; the
 * encoding must be canonical). Node's decoder silently skips invalid characters; a bundle with them
 * is refused instead.
 */
export function decodeBase64Strict(text: unknown, field: string): Buffer {
  if (typeof text !== 'string') throw new InputError('BUNDLE_MALFORMED', `${field} is missing or not a string.`);
  const std = B64_STD.test(text);
  if ((!std && !B64_URL.test(text)) || text.length % 4 === 1 || (text.includes('=') && text.length % 4 !== 0)) {
    throw new InputError('BUNDLE_BASE64_INVALID', `${field} is not valid base64; the bundle is corrupt.`);
  }
  const bytes = Buffer.from(text, std ? 'base64' : 'base64url');
  // Stray low bits in the last character (or padding in the middle) decode to the same bytes as the
  // canonical text: refuse them, as docs/oms.md says, so one byte string has one encoding.
  if (bytes.toString(std ? 'base64' : 'base64url').replace(/=+$/, '') !== text.replace(/=+$/, '')) {
    throw new InputError('BUNDLE_BASE64_INVALID', `${field} is not canonical base64 (stray bits in its last character); the bundle is corrupt.`);
  }
  return bytes;
}

/** Standard base64 with padding (what Sigstore bundles and model_signing write). */
export function encodeBase64(data: Uint8Array): string {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64');
}

/**
 * Checks that `sig` is a well-formed DER ECDSA signature, SEQUENCE { INTEGER r, INTEGER s }, with
 * nothing trailing. Lets a truncated signature be reported as such rather than as a bad signature.
 */
export function isDerEcdsaSignature(sig: Uint8Array): boolean {
  let i = 0;
  const readLen = (): number => {
    if (i >= sig.length) return -1;
    const first = sig[i++]!;
    if (first < 0x80) return first;
    const n = first & 0x7f;
    if (n === 0 || n > 2 || i + n > sig.length) return -1;
    let len = 0;
    for (let k = 0; k < n; k++) len = (len << 8) | sig[i++]!;
    return len;
  };
  if (sig[i++] !== 0x30) return false;
  const seqLen = readLen();
  if (seqLen < 0 || i + seqLen !== sig.length) return false;
  for (let k = 0; k < 2; k++) {
    if (sig[i++] !== 0x02) return false;
    const len = readLen();
    if (len <= 0 || i + len > sig.length) return false;
    i += len;
  }
  return i === sig.length;
}

/** ECDSA-sign `data` with the curve's digest; DER output. */
export function ecdsaSign(privateKey: KeyObject, data: Uint8Array): Buffer {
  const curve = ecCurveOf(privateKey, 'the signing key');
  return cryptoSign(CURVE_DIGESTS[curve], data, { key: privateKey, dsaEncoding: 'der' });
}

/** ECDSA-verify a DER signature over `data` with the given digest (never throws on bad input). */
export function ecdsaVerify(publicKey: KeyObject, digest: CurveDigest, data: Uint8Array, sig: Uint8Array): boolean {
  try {
    return cryptoVerify(digest, data, { key: publicKey, dsaEncoding: 'der' }, sig);
  } catch {
    return false;
  }
}

/** The result of checking a DSSE signature. */
export type DsseCheck = { ok: true; encoding: 'dsse-v1' | 'legacy-v0.2' } | { ok: false; malformed: boolean };

/**
 * Verifies a DSSE signature with a public key: the standard PAE with the curve's digest, then, if
 * allowed, model_signing v0.2's legacy PAE (with `legacyDigest`: the curve's digest for keys,
 * SHA-256 for certificates, as the reference does).
 */
export function verifyDsseSignature(
  publicKey: KeyObject,
  payloadType: string,
  payload: Uint8Array,
  sig: Uint8Array,
  options: { legacyDigest?: CurveDigest | false } = {},
): DsseCheck {
  const curve = ecCurveOf(publicKey, 'the verification key');
  const digest = CURVE_DIGESTS[curve];
  if (!isDerEcdsaSignature(sig)) return { ok: false, malformed: true };
  if (ecdsaVerify(publicKey, digest, dssePae(payloadType, payload), sig)) return { ok: true, encoding: 'dsse-v1' };
  const legacy = options.legacyDigest === undefined ? digest : options.legacyDigest;
  if (legacy !== false && ecdsaVerify(publicKey, legacy, dsseLegacyPaeV02(payloadType, payload), sig)) {
    return { ok: true, encoding: 'legacy-v0.2' };
  }
  return { ok: false, malformed: false };
}

/** SHA-256 of the canonical SPKI PEM of a public key: model_signing's `publicKey.hint`. */
export function publicKeyHint(publicKey: KeyObject): string {
  const pem = publicKey.export({ type: 'spki', format: 'pem' });
  return createHash('sha256').update(pem).digest('hex');
}
