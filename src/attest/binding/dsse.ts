/**
 * A minimal DSSE envelope (https://github.com/secure-systems-lab/dsse) for the attestation statement and
 * the verification receipt. attest/ sits below sign/ in the import order, so it carries its own few lines
 * of DSSE instead of importing the bundle signer: standard PAE, ECDSA with the hash that follows the curve
 * (P-256/SHA-256, P-384/SHA-384, P-521/SHA-512, as OMS does), DER signatures, base64 everywhere.
 */
import { createPrivateKey, createPublicKey, sign as nodeSign, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { InputError, VerificationError, type InputCode, type VerificationCode } from '../../errors.js';
import { digestForCurve, dssePae, type CurveDigest } from '../../crypto/dsse-core.js';

/** DSSE payload type of an in-toto statement. */
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

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

/** DSSE pre-authentication encoding (shared with OMS bundle signing). */
export const pae = dssePae;

/** The digest that ECDSA uses with a key, following its curve; undefined for non-EC keys. */
export function hashForKey(key: KeyObject): CurveDigest | undefined {
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
  return { publicKeySpki, keyid, sign: (data) => new Uint8Array(nodeSign(hash, data, key)) };
}

/** Signs `payload` into a one-signature DSSE envelope. */
export async function signEnvelope(payload: Uint8Array, signer: EnvelopeSigner, payloadType = IN_TOTO_PAYLOAD_TYPE): Promise<DsseEnvelope> {
  const sig = await signer.sign(pae(payloadType, payload));
  return {
    payloadType,
    payload: Buffer.from(payload).toString('base64'),
    signatures: [{ sig: Buffer.from(sig).toString('base64'), keyid: signer.keyid ?? '' }],
  };
}

const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;

/** Strict base64 decode (standard alphabet, padding optional): Buffer.from would skip bad characters silently. */
export function decodeBase64(text: unknown, what: string, code: InputCode = 'ATT_FORMAT'): Uint8Array {
  if (typeof text !== 'string' || !BASE64_RE.test(text) || text.length % 4 === 1) {
    throw new InputError(code, `${what} is not valid base64.`);
  }
  const bytes = Buffer.from(text, 'base64');
  // Refuse non-canonical encodings (stray low bits in the last character): one byte string, one text.
  if (bytes.toString('base64').replace(/=+$/, '') !== text.replace(/=+$/, '')) {
    throw new InputError(code, `${what} is not canonical base64.`);
  }
  return new Uint8Array(bytes);
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
    ok = nodeVerify(hash, pae(envelope.payloadType, payload), key, sig);
  } catch {
    ok = false; // malformed DER is a failed signature, not a crash
  }
  if (!ok) throw new VerificationError(code, 'The signature over the statement does not verify with the signer\'s key: the file was altered or signed by another key.');
  return payload;
}
