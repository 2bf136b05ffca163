/**
 * Binding of a model signature to TEE evidence (DESIGN §5): the binding digest, the unsigned
 * attestation statement (signed by sign/ into `<bundle>.att`), and its verification. Policy
 * (validate) lives in ../policy/.
 */
export {
  BINDING_LABEL,
  REPORT_DATA_BYTES,
  attestationNonce,
  bindingDigest,
  cpuReportData,
  evidenceDigest,
  gpuNonce,
  signerKeyDigest,
  spkiDer,
  statementsDigest,
  type AttestationNonce,
  type BindingInputs,
} from './digest.js';
export {
  ATTESTATION_MEDIA_TYPE,
  ATTESTATION_PREDICATE_TYPE,
  parseAttestationFile,
  parseAttestationStatement,
  type AttestationFile,
  type AttestationPredicate,
  type AttestationStatement,
  type EvidenceEntry,
} from './statement.js';
export {
  attestationFileBytes,
  attestationPathFor,
  bindEvidence,
  writeAttestationFile,
  type BindEvidenceOptions,
  type BoundEvidence,
} from './attest.js';
export type { CollectedEvidence, EvidenceSource } from '../core/types.js';
export {
  verifyAttestation,
  type AttestationFailure,
  type AttestationVerification,
  type EvidenceVerifier,
  type TimedVerdict,
  type VerifiedEvidence,
  type VerifyAttestationOptions,
} from './verify.js';
