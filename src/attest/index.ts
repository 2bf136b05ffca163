/**
 * Attestation evidence of every supported platform: verify (cryptography, offline, pinned vendor
 * roots) and inspect, whatever the kind and encoding (evidence/). Binding, policy, receipts,
 * acquisition and the simulated platform have their own folders.
 */
export * from './evidence/index.js';
