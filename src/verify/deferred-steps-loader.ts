/**
 * Loads deferred-steps.ts (signature.ts with sign/signer, cert-chain, Sigstore; the companion check):
 * verify-model.ts imports it once hashing has started, so its compile runs beside the hashing threads.
 */

// A module-level const, so scripts/bundle-cli.mjs can inline it and keep the module in the bundle.
const DEFERRED_STEPS_MODULE = './deferred-steps.js';

/** The deferred verify steps: `verifyBundleSignature`, `checkCompanion`, `checkCompanionLeaves`, `companionLeafBytes`. */
export type DeferredSteps = typeof import('./deferred-steps.js');

/** Imports deferred-steps.ts (once; later calls get the same module). */
export async function loadDeferredSteps(): Promise<DeferredSteps> {
  return (await import(DEFERRED_STEPS_MODULE)) as DeferredSteps;
}
