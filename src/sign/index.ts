/**
 * Signing: OMS model bundles, and DSSE / Sigstore-bundle signing of any in-toto statement
 * (attestation statements use `signStatement` with the same signers).
 */
export { signModel, defaultBundlePath, hashModelForSigning, writeFileAtomic, type SignModelOptions, type SignModelResult } from './sign-model.js';
export {
  createKeySigner,
  createCertificateSigner,
  loadPrivateKey,
  loadPublicKey,
  parsePemCertificates,
  signDsse,
  signStatement,
  type CertificateSignerOptions,
  type KeySource,
  type Signer,
} from './signer.js';
export {
  dssePae,
  dsseLegacyPaeV02,
  verifyDsseSignature,
  publicKeyHint,
  decodeBase64Strict,
  encodeBase64,
  CURVE_DIGESTS,
  type DsseCheck,
  type SupportedCurve,
} from '../crypto/dsse.js';
export {
  BUNDLE_MEDIA_TYPE_V03,
  MAX_BUNDLE_BYTES,
  buildBundle,
  parseBundleJson,
  parseBundleText,
  serializeBundle,
  type BundleMaterial,
  type DsseEnvelopeJson,
  type ParsedBundle,
  type SigstoreBundleJson,
} from './bundle.js';
export { attestSignature, type AttestSignatureOptions, type AttestSignatureResult } from './attest-signature.js';
export { attestBundle, type AttestBundleOptions, type AttestBundleResult } from './attest-bundle.js';
export { signModelKeyless, identityTokenClaims, readIdentityToken, SIGSTORE_PUBLIC_GOOD, SIGSTORE_STAGING, type KeylessSignOptions } from './keyless.js';
