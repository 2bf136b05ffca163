/**
 * The attestation modes by name, without the code behind them: `sign` and `verify` list them in their
 * help texts at start-up, and importing them from sources.ts put the acquisition layer (and, through
 * the attestation steps beside it, ~250 KB of evidence parsers, root certificates and policy code)
 * into every `sign`/`verify` run.
 */

/** What `--attest` accepts. */
export type AttestMode = 'auto' | 'snp' | 'tdx' | 'nvidia' | 'simulated';
/** Every {@link AttestMode}, in the order help texts list them. */
export const ATTEST_MODES: readonly AttestMode[] = ['auto', 'snp', 'tdx', 'nvidia', 'simulated'];
