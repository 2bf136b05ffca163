/**
 * Binding of a model signature to TEE evidence (DESIGN §5): the binding digest, the signed attestation
 * statement (`<bundle>.att`), and its verification. Policy (validate) lives in ../policy/.
 */
export {
  BINDING_LABEL,
  REPORT_DATA_BYTES,
  bindingDigest,
  cpuReportData,
  evidenceDigest,
  gpuNonce,
  signerKeyDigest,
  spkiDer,
  statementsDigest,
  type BindingInputs,
} from './digest.js';
export { IN_TOTO_PAYLOAD_TYPE, keySigner, pae, signEnvelope, verifyEnvelope, type DsseEnvelope, type EnvelopeSigner } from './dsse.js';
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
  attestSignature,
  attestationPathFor,
  writeAttestationFile,
  type AttestSignatureOptions,
  type AttestSignatureResult,
  type CollectedEvidence,
  type EvidenceSource,
} from './attest.js';
export {
  verifyAttestation,
  type AttestationFailure,
  type AttestationVerification,
  type EvidenceVerifier,
  type TimedVerdict,
  type VerifiedEvidence,
  type VerifyAttestationOptions,
} from './verify.js';
