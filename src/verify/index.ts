/** Verification: OMS model bundles (whole model, ignore-unsigned, subsets), bundle signatures, inspection. */
export { verifyModel, type VerifyModelOptions, type VerifyModelResult } from './verify-model.js';
export { inspectBundle, type BundleInspection, type CertificateInfo } from './inspect.js';
export {
  readBundleFile,
  verifyBundleSignature,
  type SignerInfo,
  type TrustOptions,
  type VerifiedPayload,
} from './signature.js';
export { verifyCertificateChain, type ChainResult } from './cert-chain.js';
export { SIGSTORE_OFFLINE_LIMITS, loadTrustedRootJson, verifySigstoreBundle, type SigstorePolicy, type SigstoreResult } from './sigstore.js';
export { compareResources, globToRegExp, makeSelector, selectResources, type Comparison, type ResourceMismatch } from './compare.js';
export {
  checkAttestation,
  writeVerificationReceipt,
  type CheckAttestationOptions,
  type CheckAttestationResult,
  type VerificationReceiptOptions,
  type VerifiedModelRef,
} from './attestation.js';
export { loadAttestSteps, type AttestSteps } from './attest-steps-loader.js';
export { loadOpenVerified, type OpenVerifiedModule } from './open-verified-loader.js';
