/**
 * Signers (EC private keys, optionally with a certificate chain) and DSSE/bundle signing of any
 * in-toto statement. `signStatement` is the one entry point for everything modelseal signs: OMS
 * model statements here, attestation statements in src/attest/ — same key, same bundle shape.
 */
import { X509Certificate, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { InputError } from '../errors.js';
import { IN_TOTO_PAYLOAD_TYPE, encodeStatement } from '../manifest/statement.js';
import { MAX_CHAIN_CERTIFICATES, buildBundle, type DsseEnvelopeJson, type MaterialJson, type SigstoreBundleJson } from './bundle.js';
import { CURVE_NAMES, dssePae, ecCurveOf, ecdsaSign, encodeBase64, publicKeyHint, type SupportedCurve } from '../crypto/dsse.js';
import { readInputFile, readInputText } from '../io/input-file.js';
import { pemToDer } from '../crypto/pem.js';

/** Something that signs DSSE PAE bytes and says how a verifier finds its key. */
export interface Signer {
  /** Public key (to verify with and to derive the hint from). */
  readonly publicKey: KeyObject;
  /**
   * DER SPKI of the public key. With `sign`, this makes every Signer usable as the attestation
   * DSSE module's `EnvelopeSigner` (src/crypto/dsse.ts), so model and attestation statements are
   * signed by the same key object.
   */
  readonly publicKeySpki: Uint8Array;
  readonly curve: SupportedCurve;
  /** The bundle's verificationMaterial for this signer. */
  readonly material: MaterialJson;
  /** One-line description for humans (`P-384 key, hint e845…`). */
  readonly description: string;
  /** ECDSA over `data` with the curve's digest, DER-encoded. */
  sign(data: Uint8Array): Buffer;
}

/** A PEM private key: file path, or the PEM itself (string starting with `-----BEGIN`), or a KeyObject. */
export type KeySource = string | Buffer | KeyObject;

function readPem(source: string | Buffer, what: string): Buffer {
  if (Buffer.isBuffer(source)) return source;
  if (source.trimStart().startsWith('-----BEGIN')) return Buffer.from(source, 'utf8');
  try {
    return readInputFile(source, 'key');
  } catch (e) {
    if (e instanceof InputError) throw e; // a refused input (not regular, too large) says so itself
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(
      code === 'ENOENT' ? 'KEY_FILE_NOT_FOUND' : 'KEY_FILE_UNREADABLE',
      `cannot read ${what} ${source}: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}.`,
      { cause: e },
    );
  }
}

/**
 * Loads an EC private key (SEC1 `EC PRIVATE KEY` or PKCS#8, optionally encrypted) on P-256,
 * P-384 or P-521.
 */
export function loadPrivateKey(source: KeySource, password?: string): KeyObject {
  if (typeof source === 'object' && !Buffer.isBuffer(source)) {
    if (source.type !== 'private') throw new InputError('KEY_INVALID', 'the signing key must be a private key.');
    ecCurveOf(source, 'the signing key');
    return source;
  }
  const pem = readPem(source, 'private key');
  let key: KeyObject;
  try {
    key = createPrivateKey(password === undefined ? { key: pem, format: 'pem' } : { key: pem, format: 'pem', passphrase: password });
  } catch (e) {
    const msg = (e as Error).message;
    // OpenSSL reports a missing password as "interrupted or cancelled" and a wrong one as "bad decrypt".
    const encrypted = /ENCRYPTED/.test(pem.toString('latin1')) || /passphrase|decrypt/i.test(msg);
    throw new InputError(
      encrypted ? 'KEY_PASSWORD' : 'KEY_INVALID',
      encrypted
        ? 'the private key is encrypted and the password is missing or wrong; set MODELSEAL_KEY_PASSWORD (or pass --password).'
        : `the private key is not a PEM private key (${msg}); pass an EC private key in PEM (SEC1 or PKCS#8).`,
      { cause: e },
    );
  }
  ecCurveOf(key, 'the signing key');
  return key;
}

/**
 * Loads a public key for verification from PEM: a public key (text before the PEM block, as in
 * certtool dumps, is skipped), a certificate (its key), or a private key (its public half).
 */
export function loadPublicKey(source: KeySource): KeyObject {
  if (typeof source === 'object' && !Buffer.isBuffer(source)) {
    const k = source.type === 'private' ? createPublicKey(source) : source;
    ecCurveOf(k, 'the verification key');
    return k;
  }
  const pem = readPem(source, 'public key');
  const text = pem.toString('utf8');
  let key: KeyObject;
  try {
    if (text.includes('-----BEGIN CERTIFICATE-----')) key = new X509Certificate(pem).publicKey;
    else {
      const begin = text.indexOf('-----BEGIN');
      key = createPublicKey({ key: begin > 0 ? text.slice(begin) : text, format: 'pem' });
    }
  } catch (e) {
    throw new InputError('KEY_INVALID', `the public key is not a PEM public key, certificate or private key (${(e as Error).message}).`, { cause: e });
  }
  ecCurveOf(key, 'the verification key');
  return key;
}

/** Parses every PEM certificate in a text (a chain file may hold several). */
export function parsePemCertificates(text: string, what: string): X509Certificate[] {
  const unparsable = (e: unknown) => new InputError('CERT_INVALID', `${what} holds a certificate that cannot be parsed (${(e as Error).message}).`, { cause: e });
  let ders: Uint8Array[];
  try {
    ders = pemToDer(text);
  } catch (e) {
    throw unparsable(e);
  }
  if (ders.length === 0) throw new InputError('CERT_INVALID', `${what} contains no PEM certificate.`);
  return ders.map((der) => {
    try {
      return new X509Certificate(der);
    } catch (e) {
      throw unparsable(e);
    }
  });
}

function readText(path: string, what: string): string {
  try {
    return readInputText(path, 'certificate');
  } catch (e) {
    if (e instanceof InputError) throw e; // a refused input (not regular, too large) says so itself
    throw new InputError('CERT_FILE_UNREADABLE', `cannot read ${what} ${path}: ${(e as Error).message}.`, { cause: e });
  }
}

/** A signer for a bare EC key: material `{publicKey: {hint}, tlogEntries: []}`. */
export function createKeySigner(privateKey: KeySource, options: { password?: string } = {}): Signer {
  const key = loadPrivateKey(privateKey, options.password);
  const publicKey = createPublicKey(key);
  const curve = ecCurveOf(publicKey, 'the signing key');
  const hint = publicKeyHint(publicKey);
  return {
    publicKey,
    publicKeySpki: publicKey.export({ type: 'spki', format: 'der' }),
    curve,
    material: { publicKey: { hint }, tlogEntries: [] },
    description: `${CURVE_NAMES[curve]} key, hint ${hint}`,
    sign: (data) => ecdsaSign(key, data),
  };
}

export interface CertificateSignerOptions {
  /** Leaf certificate (PEM path or PEM text) whose key is the private key's public half. */
  certificate: string | Buffer;
  /** Intermediate/root certificates, in order, to embed after the leaf (PEM paths or PEM texts). */
  chain?: Array<string | Buffer>;
  password?: string;
}

function pemText(src: string | Buffer, what: string): string {
  if (Buffer.isBuffer(src)) return src.toString('utf8');
  return src.includes('-----BEGIN') ? src : readText(src, what);
}

/**
 * A signer with a certificate chain, the shape model_signing's `sign certificate` writes:
 * `{x509CertificateChain: {certificates: [leaf, chain…]}, tlogEntries: []}` (DER, base64).
 */
export function createCertificateSigner(privateKey: KeySource, options: CertificateSignerOptions): Signer {
  const key = loadPrivateKey(privateKey, options.password);
  const publicKey = createPublicKey(key);
  const curve = ecCurveOf(publicKey, 'the signing key');
  const [leaf] = parsePemCertificates(pemText(options.certificate, 'certificate'), 'the signing certificate');
  if (!leaf!.publicKey.equals(publicKey)) {
    throw new InputError('CERT_KEY_MISMATCH', "the signing certificate's public key is not the private key's; pass the certificate issued for this key.");
  }
  const chain = (options.chain ?? []).flatMap((c) => parsePemCertificates(pemText(c, 'certificate chain'), 'the certificate chain'));
  // the same limit at both ends: a bundle verify would refuse is never written
  if (chain.length + 1 > MAX_CHAIN_CERTIFICATES) {
    throw new InputError('CHAIN_TOO_LONG', `the certificate chain has ${chain.length + 1} certificates with the leaf; at most ${MAX_CHAIN_CERTIFICATES} are accepted (verify refuses longer chains).`);
  }
  return {
    publicKey,
    publicKeySpki: publicKey.export({ type: 'spki', format: 'der' }),
    curve,
    material: {
      x509CertificateChain: { certificates: [leaf!, ...chain].map((c) => ({ rawBytes: encodeBase64(c.raw) })) },
      tlogEntries: [],
    },
    description: `${CURVE_NAMES[curve]} certificate ${(leaf!.subject ?? '').replace(/\n/g, ', ')} (issuer ${(leaf!.issuer ?? '').replace(/\n/g, ', ')})`,
    sign: (data) => ecdsaSign(key, data),
  };
}

/** Signs arbitrary payload bytes into a DSSE envelope (`keyid: ""`, as model_signing ≥ 1.1). */
export function signDsse(payloadType: string, payload: Uint8Array, signer: Signer): DsseEnvelopeJson {
  const sig = signer.sign(dssePae(payloadType, payload));
  return { payload: encodeBase64(payload), payloadType, signatures: [{ sig: encodeBase64(sig), keyid: '' }] };
}

/**
 * Signs an in-toto statement (any predicate) into a Sigstore bundle v0.3 JSON object with the
 * signer's verification material. Used for OMS model signatures and attestation statements alike.
 */
export function signStatement(statement: object, signer: Signer): SigstoreBundleJson {
  return buildBundle(signer.material, signDsse(IN_TOTO_PAYLOAD_TYPE, encodeStatement(statement), signer));
}
