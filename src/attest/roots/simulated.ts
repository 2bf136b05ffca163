/**
 * How simulated evidence is recognised. Kept in its own dependency-free module so that every
 * verifier (SNP, TDX, NVIDIA, TDISP) can import it without pulling in the simulator.
 */
import { X509Certificate } from 'node:crypto';

/** Every certificate the simulated platform issues has this word in its subject (and issuer). */
export const SIMULATED_MARKER = 'SIMULATED';

/** Error code every verifier uses when it refuses simulated evidence (no `allowSimulated`). */
export const EVIDENCE_SIMULATED = 'EVIDENCE_SIMULATED';

function toCert(cert: Uint8Array | string | X509Certificate): X509Certificate | undefined {
  try {
    if (cert instanceof X509Certificate) return cert;
    return new X509Certificate(typeof cert === 'string' ? cert : Buffer.from(cert.buffer, cert.byteOffset, cert.byteLength));
  } catch {
    return undefined;
  }
}

/** True when the certificate's subject or issuer names the simulated platform. */
export function isSimulatedCertificate(cert: Uint8Array | string | X509Certificate): boolean {
  const c = toCert(cert);
  return c !== undefined && (c.subject.includes(SIMULATED_MARKER) || c.issuer.includes(SIMULATED_MARKER));
}

/**
 * True when `cert` (DER, PEM or X509Certificate) is a self-signed root whose subject contains
 * SIMULATED_MARKER: a trust anchor of the simulated platform, never of a real vendor.
 */
export function isSimulatedRoot(cert: Uint8Array | string | X509Certificate): boolean {
  const c = toCert(cert);
  if (!c || !c.subject.includes(SIMULATED_MARKER) || c.subject !== c.issuer) return false;
  try {
    return c.verify(c.publicKey);
  } catch {
    return false;
  }
}

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
