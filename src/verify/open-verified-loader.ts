/**
 * Loads open-verified.ts (tensor index parsers, the unit pool, streaming reads: ~42 KB bundled, plus
 * node:stream and node:util) only for `verify --tensor` and a Merkle companion check: a plain `verify`
 * of a model without a companion never runs it (issue 13 target 5, the `verify` command's fixed cost).
 */

// A module-level const, so scripts/bundle-cli.mjs can inline it and keep the module in the bundle.
const OPEN_VERIFIED_MODULE = './open-verified.js';

/** The open-verified module: `openVerified`, `verifyTensors`, `VerifiedModel`, `MAX_UNIT_BYTES`. */
export type OpenVerifiedModule = typeof import('./open-verified.js');

/** Imports open-verified.ts (once; later calls get the same module). */
export async function loadOpenVerified(): Promise<OpenVerifiedModule> {
  return (await import(OPEN_VERIFIED_MODULE)) as OpenVerifiedModule;
}
