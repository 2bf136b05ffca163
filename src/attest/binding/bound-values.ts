/**
 * Reads the value that binds a piece of evidence to our inputs straight from its raw bytes: REPORT_DATA
 * of an SNP report or a TDX quote, the requester nonce of an NVIDIA SPDM GET_MEASUREMENTS transcript.
 * These offsets lie inside each format's signed range, so once the platform verifier has checked the
 * signature the value read here is the one the hardware vouched for. When the verifier also reports the
 * value as a claim, both must agree (a disagreement means two parsers read different things: refuse).
 */
import type { EvidenceKind } from '../core/types.js';

/** SEV-SNP ATTESTATION_REPORT: REPORT_DATA at 0x50, 64 bytes; the report is 0x4A0 bytes. */
const SNP_REPORT_BYTES = 0x4a0;
const SNP_REPORT_DATA_OFFSET = 0x50;
/** TDX quote: 48-byte header; v4 body at 48, v5 body (after type u16 and size u32) at 54; REPORTDATA at body + 520. */
const TDX_HEADER_BYTES = 48;
const TDX_BODY_REPORT_DATA_OFFSET = 520;
/** SPDM GET_MEASUREMENTS request: version, code 0xE0, param1, param2, nonce[32] at 4. */
const SPDM_GET_MEASUREMENTS = 0xe0;
const SPDM_NONCE_OFFSET = 4;

/**
 * The 64-byte REPORT_DATA (CPU kinds) or 32-byte requester nonce (nvidia-gpu) carried by `data`, or
 * undefined when the bytes are too short or not of that kind, or the kind carries none (tdisp).
 */
export function boundValueFromBytes(kind: EvidenceKind, data: Uint8Array): Uint8Array | undefined {
  switch (kind) {
    case 'sev-snp':
      if (data.length < SNP_REPORT_BYTES) return undefined;
      return data.slice(SNP_REPORT_DATA_OFFSET, SNP_REPORT_DATA_OFFSET + 64);
    case 'tdx': {
      if (data.length < TDX_HEADER_BYTES + 6) return undefined;
      const version = data[0]! | (data[1]! << 8);
      let body: number;
      if (version === 4) body = TDX_HEADER_BYTES;
      else if (version === 5) {
        const bodyType = data[48]! | (data[49]! << 8);
        if (bodyType !== 2 && bodyType !== 3) return undefined;
        body = TDX_HEADER_BYTES + 6;
      } else return undefined;
      const at = body + TDX_BODY_REPORT_DATA_OFFSET;
      if (data.length < at + 64) return undefined;
      return data.slice(at, at + 64);
    }
    case 'nvidia-gpu':
      if (data.length < SPDM_NONCE_OFFSET + 32 || data[1] !== SPDM_GET_MEASUREMENTS) return undefined;
      return data.slice(SPDM_NONCE_OFFSET, SPDM_NONCE_OFFSET + 32);
    case 'tdisp':
      return undefined;
  }
}

function toBytes(v: unknown): Uint8Array | undefined {
  if (v instanceof Uint8Array) return v;
  if (typeof v === 'string' && /^([0-9a-fA-F]{2})+$/.test(v)) return new Uint8Array(Buffer.from(v, 'hex'));
  return undefined;
}

/** Claim names verifiers use for the bound value (first present wins). */
const CLAIM_NAMES: Record<EvidenceKind, readonly string[]> = {
  'sev-snp': ['reportData', 'report_data'],
  tdx: ['reportData', 'report_data'],
  'nvidia-gpu': ['nonce', 'requestNonce', 'request_nonce'],
  tdisp: ['nonce'],
};

/** The bound value as the verifier reported it in its claims, when it did (tdisp: the SPDM transcript nonce). */
export function boundValueFromClaims(kind: EvidenceKind, claims: Record<string, unknown>): Uint8Array | undefined {
  for (const name of CLAIM_NAMES[kind]) {
    const v = toBytes(claims[name]);
    if (v) return v;
  }
  return undefined;
}
