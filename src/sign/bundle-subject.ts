/**
 * What attesting and checking an attestation need from a bundle: its bytes read and parsed, the
 * model root digest its statement names, and the key that signed it.
 */
import { X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { InputError } from '../errors.js';
import { parseBundleText, type ParsedBundle } from './bundle.js';
import { loadPublicKey } from './signer.js';

/** Reads and parses a bundle file. @throws InputError BUNDLE_UNREADABLE, or the parser's codes. */
export function readParsedBundle(bundlePath: string): ParsedBundle {
  let text: string;
  try {
    text = readFileSync(bundlePath, 'utf8');
  } catch (e) {
    throw new InputError('BUNDLE_UNREADABLE', `Cannot read the bundle ${bundlePath}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`);
  }
  return parseBundleText(text, bundlePath);
}

/** The OMS statement's subject: the model root digest (hex) and its name. @throws InputError BUNDLE_MALFORMED */
export function bundleSubject(bundle: ParsedBundle, where: string): { root: string; name: string } {
  let st: { subject?: Array<{ name?: string; digest?: { sha256?: string } }> };
  try {
    st = JSON.parse(bundle.payload.toString('utf8')) as typeof st;
  } catch {
    throw new InputError('BUNDLE_MALFORMED', `${where}: the signed statement is not JSON.`);
  }
  const s = st.subject?.[0];
  const root = s?.digest?.sha256;
  if (typeof root !== 'string' || !/^[0-9a-f]{64}$/.test(root)) throw new InputError('BUNDLE_MALFORMED', `${where}: the statement has no sha256 subject (model root digest).`);
  return { root, name: typeof s?.name === 'string' ? s.name : 'model' };
}

/** The leaf certificate's key of a certificate-signed bundle; undefined for a key-signed one. */
function bundleCertificateKey(bundle: ParsedBundle): KeyObject | undefined {
  if (bundle.material.kind === 'certificate-chain' && bundle.material.certificates.length > 0) {
    return new X509Certificate(bundle.material.certificates[0]!).publicKey;
  }
  if (bundle.material.kind === 'sigstore') return new X509Certificate(bundle.material.certificate).publicKey;
  return undefined;
}

/** The key that signed a bundle: the given public key, else the leaf certificate's key. @throws InputError ATT_KEY */
export function bundleSignerKey(bundle: ParsedBundle, publicKey: string | KeyObject | undefined): KeyObject {
  if (publicKey !== undefined) return loadPublicKey(publicKey);
  const k = bundleCertificateKey(bundle);
  if (k) return k;
  throw new InputError('ATT_KEY', 'This bundle is signed with a key: pass the public key (--key) to check the attestation.');
}
