/**
 * Loads the attestation steps only when a command needs them. Imported statically they put ~420 KB
 * of JavaScript (evidence parsers, AMD/Intel/NVIDIA roots, X.509, binding, policy, receipts,
 * acquisition) into every `verify` and `sign` run, flags or not: the bundled `verify` loaded 35 files /
 * 662 KB against `hash`'s 20 / 246 KB (bench/startup.mjs, issue 13 target 5).
 */

// A module-level const, so scripts/bundle-cli.mjs can inline it and keep the module in the bundle.
const ATTEST_STEPS_MODULE = './attest-steps.js';

/** The attestation steps module: `checkAttestation`, `writeVerificationReceipt`, `attestBundle`, `evidenceSourceFor`, `attestationPathFor`. */
export type AttestSteps = typeof import('./attest-steps.js');

/** Imports the attestation steps (once; later calls get the same module). */
export async function loadAttestSteps(): Promise<AttestSteps> {
  return (await import(ATTEST_STEPS_MODULE)) as AttestSteps;
}
