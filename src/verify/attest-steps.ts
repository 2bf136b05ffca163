/**
 * The attestation steps of `sign --attest` and `verify --attestation / --policy / --receipt`, as one
 * module that {@link loadAttestSteps} imports on demand (see attest-steps-loader.ts).
 */
export { checkAttestation, writeVerificationReceipt } from './attestation.js';
export { attestBundle } from '../sign/attest-bundle.js';
export { evidenceSourceFor } from '../attest/sources.js';
export { attestationPathFor } from '../attest/binding/index.js';
