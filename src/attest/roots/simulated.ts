/**
 * How simulated evidence is recognised. Kept in its own dependency-free module so that every
 * verifier (SNP, TDX, NVIDIA, TDISP) can import it without pulling in the simulator. The
 * certificate tests themselves live in src/crypto/simulated-marker.ts, where the chain verifier
 * applies them too; this module adds the registry of roots created in this process.
 */
import { isSimulatedRoot } from '../../crypto/simulated-marker.js';

export { SIMULATED_MARKER, isSimulatedCertificate, isSimulatedRoot } from '../../crypto/simulated-marker.js';

/** Error code every verifier uses when it refuses simulated evidence (no `allowSimulated`). */
export const EVIDENCE_SIMULATED = 'EVIDENCE_SIMULATED';

const registry: Uint8Array[] = [];

/** Records roots created by a simulated platform in this process (called by createSimulatedPlatform). */
export function registerSimulatedRoots(roots: Uint8Array[]): void {
  for (const r of roots) if (isSimulatedRoot(r)) registry.push(r);
}

/**
 * The roots of every simulated platform created in this process. Verifiers accept evidence chaining
 * to one of these (or to `options.simulatedRoots`) only when `allowSimulated` is true.
 */
export function simulatedTrustAnchors(): Uint8Array[] {
  return registry.slice();
}
