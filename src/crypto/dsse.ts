/**
 * DSSE (Dead Simple Signing Envelope, https://github.com/secure-systems-lab/dsse): the one module that
 * signs and verifies envelopes, for OMS bundles (sign/, verify/), attestation statements and receipts
 * (attest/). It sits below all three (DESIGN §8), so every layer signs the same bytes.
 *
 * The digest follows the curve (P-256 → SHA-256, P-384 → SHA-384, P-521 → SHA-512), as the OMS
 * reference tool does; sigstore-js 3.x verifies raw P-384 keys with SHA-256 and so mis-verifies
 * them, which is why this is ours. Signatures are ASN.1 DER, as in Sigstore bundles.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  sign as cryptoSign,
  verify as cryptoVerify,
  type KeyObject,
} from 'node:crypto';
import { InputError, VerificationError, type InputCode, type VerificationCode } from '../errors.js';
import { decodeBase64Text } from './base64.js';
import { tryDerChildren, tryReadDer } from './der.js';
import { IN_TOTO_PAYLOAD_TYPE } from './in-toto.js';

export { encodeBase64 } from './base64.js';

/** Named curves we sign and verify with, and the digest each implies (as the OMS reference does). */
export const CURVE_DIGESTS = {
  'prime256v1': 'sha256',
  'secp384r1': 'sha384',
  'secp521r1': 'sha512',
} as const;
export type SupportedCurve = keyof typeof CURVE_DIGESTS;
export type CurveDigest = (typeof CURVE_DIGESTS)[SupportedCurve];

/** The ECDSA digest for a named curve (node's names), or undefined for curves we do not sign with. */
function digestForCurve(namedCurve: string | undefined): CurveDigest | undefined {
  return namedCurve !== undefined && Object.hasOwn(CURVE_DIGESTS, namedCurve) ? CURVE_DIGESTS[namedCurve as SupportedCurve] : undefined;
}

/**
 * DSSE v1 pre-authentication encoding:
 * `"DSSEv1" SP len(type) SP type SP len(body) SP body`, lengths as decimal byte counts.
 */
export function dssePae(payloadType: string, payload: Uint8Array): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  const head = Buffer.from(`DSSEv1 ${type.length} ${payloadType} ${payload.length} `, 'utf8');
  return Buffer.concat([head, payload]);
}
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

// in base64.ts, so that parsing a bundle (sign/bundle.ts) does not load the DSSE/ECDSA code
export { decodeBase64Strict } from './base64.js';

/**
 * Checks that `sig` is a well-formed DER ECDSA signature, SEQUENCE { INTEGER r, INTEGER s }, with
 * nothing trailing. Lets a truncated signature be reported as such rather than as a bad signature.
 */
export function isDerEcdsaSignature(sig: Uint8Array): boolean {
  const top = tryReadDer(sig, 0);
  if (!top || top.tag !== 0x30 || top.end !== sig.length) return false;
  const ints = tryDerChildren(top);
  return ints !== undefined && ints.length === 2 && ints.every((n) => n.tag === 0x02 && n.value.length > 0);
}

/** ECDSA-sign `data` with the curve's digest; DER output. */
export function ecdsaSign(privateKey: KeyObject, data: Uint8Array): Buffer {
  const curve = ecCurveOf(privateKey, 'the signing key');
  return cryptoSign(CURVE_DIGESTS[curve], data, { key: privateKey, dsaEncoding: 'der' });
}

/** ECDSA-verify a DER signature over `data` with the given digest (never throws on bad input). */
function ecdsaVerify(publicKey: KeyObject, digest: CurveDigest, data: Uint8Array, sig: Uint8Array): boolean {
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

// ---- envelopes (attestation statements and receipts) ----



export interface DsseSignature {
  sig: string;
  keyid: string;
}

export interface DsseEnvelope {
  payloadType: string;
  payload: string;
  signatures: DsseSignature[];
}

/**
 * Something that signs DSSE PAE bytes. Lets callers plug in their own signer (a KMS, PKCS#11, the bundle
 * signer of sign/) instead of handing over a private key.
 */
export interface EnvelopeSigner {
  /** DER SPKI of the public key, recorded in the binding. */
  publicKeySpki: Uint8Array;
  /** Returns a DER ECDSA signature over `pae`. */
  sign(pae: Uint8Array): Promise<Uint8Array> | Uint8Array;
  keyid?: string;
}


/** The digest that ECDSA uses with a key, following its curve; undefined for non-EC keys. */
function hashForKey(key: KeyObject): CurveDigest | undefined {
  return key.asymmetricKeyType === 'ec' ? digestForCurve(key.asymmetricKeyDetails?.namedCurve) : undefined;
}

/** Builds an {@link EnvelopeSigner} from an EC private key (KeyObject or PEM). */
export function keySigner(privateKey: KeyObject | string | Uint8Array, keyid = ''): EnvelopeSigner {
  let key: KeyObject;
  try {
    key = typeof privateKey === 'object' && !(privateKey instanceof Uint8Array)
      ? privateKey
      : createPrivateKey(typeof privateKey === 'string' ? privateKey : Buffer.from(privateKey));
  } catch (e) {
    throw new InputError('ATT_KEY', 'The signing key could not be read (an EC private key in PEM is expected).', { cause: e });
  }
  if (key.type !== 'private') throw new InputError('ATT_KEY', 'A private key is needed to sign the attestation statement.');
  const hash = hashForKey(key);
  if (!hash) {
    throw new InputError('ATT_KEY', 'The signing key must be an EC key on P-256, P-384 or P-521 (the curves OMS bundles use).');
  }
  const publicKeySpki = new Uint8Array(createPublicKey(key).export({ format: 'der', type: 'spki' }));
  return { publicKeySpki, keyid, sign: (data) => new Uint8Array(cryptoSign(hash, data, key)) };
}

/** Signs `payload` into a one-signature DSSE envelope. */
export async function signEnvelope(payload: Uint8Array, signer: EnvelopeSigner, payloadType = IN_TOTO_PAYLOAD_TYPE): Promise<DsseEnvelope> {
  const sig = await signer.sign(dssePae(payloadType, payload));
  return {
    payloadType,
    payload: Buffer.from(payload).toString('base64'),
    signatures: [{ sig: Buffer.from(sig).toString('base64'), keyid: signer.keyid ?? '' }],
  };
}

/**
 * Strict base64 decoding for our own files (standard alphabet, padding optional, canonical): one byte
 * string, one text.
 */
export function decodeBase64(text: unknown, what: string, code: InputCode = 'ATT_FORMAT'): Uint8Array {
  const bytes = typeof text === 'string' ? decodeBase64Text(text, { alphabet: 'standard', canonical: true }) : undefined;
  if (!bytes) throw new InputError(code, `${what} is not valid base64.`);
  return bytes;
}

/** Throws InputError `code` when `obj` has a member not in `allowed`. */
export function onlyKeys(obj: object, allowed: readonly string[], what: string, code: InputCode): void {
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k)) throw new InputError(code, `${what} has an unexpected member "${k}".`);
  }
}

/** Reads an envelope object defensively; throws InputError `code` when it is not one. */
export function parseEnvelope(value: unknown, code: InputCode = 'ATT_FORMAT'): DsseEnvelope {
  const v = value as Partial<DsseEnvelope> | null;
  if (typeof v !== 'object' || v === null || typeof v.payloadType !== 'string' || typeof v.payload !== 'string' || !Array.isArray(v.signatures)) {
    throw new InputError(code, 'Not a DSSE envelope (payloadType, payload and signatures are required).');
  }
  // Our own files are read strictly: an unknown or misspelt member is an error, not something to skip.
  onlyKeys(v, ['payloadType', 'payload', 'signatures'], 'The DSSE envelope', code);
  if (v.signatures.length === 0) throw new InputError(code, 'The DSSE envelope has no signature.');
  for (const s of v.signatures) {
    if (typeof s !== 'object' || s === null || typeof (s as DsseSignature).sig !== 'string') {
      throw new InputError(code, 'A DSSE signature entry has no "sig" string.');
    }
    onlyKeys(s, ['sig', 'keyid'], 'A DSSE signature entry', code);
    if ((s as DsseSignature).keyid !== undefined && typeof (s as DsseSignature).keyid !== 'string') {
      throw new InputError(code, 'A DSSE signature keyid must be a string.');
    }
  }
  return { payloadType: v.payloadType, payload: v.payload, signatures: v.signatures as DsseSignature[] };
}

/**
 * Verifies the envelope's first signature (as OMS does) with `publicKey` and returns the payload bytes.
 * Throws VerificationError `code` (default ATT_SIGNATURE) when it does not verify.
 */
export function verifyEnvelope(
  envelope: DsseEnvelope,
  publicKey: KeyObject | string | Uint8Array,
  expectedPayloadType = IN_TOTO_PAYLOAD_TYPE,
  code: VerificationCode = 'ATT_SIGNATURE',
): Uint8Array {
  let key: KeyObject;
  try {
    key = typeof publicKey === 'string'
      ? createPublicKey(publicKey)
      : publicKey instanceof Uint8Array
        ? createPublicKey({ key: Buffer.from(publicKey), format: 'der', type: 'spki' })
        : publicKey.type === 'public' ? publicKey : createPublicKey(publicKey);
  } catch (e) {
    throw new InputError('ATT_KEY', 'The verification key could not be read as a public key.', { cause: e });
  }
  const hash = hashForKey(key);
  if (!hash) throw new InputError('ATT_KEY', 'The verification key must be an EC key on P-256, P-384 or P-521.');
  if (envelope.payloadType !== expectedPayloadType) {
    throw new VerificationError(code, `The DSSE payload type is "${envelope.payloadType}", expected "${expectedPayloadType}".`);
  }
  const payload = decodeBase64(envelope.payload, 'The DSSE payload');
  const sig = decodeBase64(envelope.signatures[0]!.sig, 'The DSSE signature');
  let ok = false;
  try {
    ok = cryptoVerify(hash, dssePae(envelope.payloadType, payload), key, sig);
  } catch {
    ok = false; // malformed DER is a failed signature, not a crash
  }
  if (!ok) throw new VerificationError(code, 'The signature over the statement does not verify with the signer\'s key: the file was altered or signed by another key.');
  return payload;
}
