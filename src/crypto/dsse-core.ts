/**
 * The DSSE primitives shared by OMS bundle signing (sign/) and attestation statements (attest/):
 * the pre-authentication encoding and the digest each supported curve implies. It sits below both
 * (DESIGN §8 import order: attest/ must not import sign/), so each layer signs the same bytes.
 */

/** Named curves we sign and verify with, and the digest each implies (as the OMS reference does). */
export const CURVE_DIGESTS = {
  'prime256v1': 'sha256',
  'secp384r1': 'sha384',
  'secp521r1': 'sha512',
} as const;
export type SupportedCurve = keyof typeof CURVE_DIGESTS;
export type CurveDigest = (typeof CURVE_DIGESTS)[SupportedCurve];

/** The ECDSA digest for a named curve (node's names), or undefined for curves we do not sign with. */
export function digestForCurve(namedCurve: string | undefined): CurveDigest | undefined {
  return namedCurve !== undefined && Object.hasOwn(CURVE_DIGESTS, namedCurve) ? CURVE_DIGESTS[namedCurve as SupportedCurve] : undefined;
}

/**
 * DSSE v1 pre-authentication encoding:
 * `"DSSEv1" SP len(type) SP type SP len(body) SP body`, lengths as decimal byte counts.
 */
export function dssePae(payloadType: string, payload: Uint8Array): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  const head = Buffer.from(`DSSEv1 ${type.length} ${payloadType} ${payload.length} `, 'utf8');
  return Buffer.concat([head, payload]);
}
