/**
 * The steps of `verifyModel` that can run while the model is being hashed: the bundle's signature
 * check (DSSE, keys, certificate chains, Sigstore) and the Merkle companion check. verify-model.ts
 * loads this module (deferred-steps-loader.ts) only once the hashing threads have started, so
 * compiling it overlaps the hashing instead of preceding it (issue 13 target 5).
 */
export { verifyBundleSignature } from './signature.js';
export { checkCompanion, checkCompanionLeaves, companionLeafBytes } from './companion-check.js';
