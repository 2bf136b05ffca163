/**
 * How a certificate of the simulated platform is recognised: the one "is this simulated" test, kept
 * in the crypto layer so the chain verifier (src/crypto/chain.ts) and every evidence verifier can
 * apply it without importing the simulator. src/attest/roots/simulated.ts re-exports it beside the
 * registry of simulated roots created in this process.
 */
import { X509Certificate } from 'node:crypto';

/** Every certificate the simulated platform issues has this word in its subject (and issuer). */
export const SIMULATED_MARKER = 'SIMULATED';

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
