/**
 * Recognises the kind of evidence from its content (never from a file name) and dispatches to the
 * platform's parser/verifier: SEV-SNP and TDX here; NVIDIA SPDM and TDISP in ./nvidia and ./tdisp,
 * loaded on demand so that a build without them still verifies CPU evidence (and says "not
 * available" for GPU evidence).
 */
import { InputError } from '../../errors.js';
import { parseNvidiaEvidence, verifyNvidiaEvidence } from '../nvidia/index.js';
import { parseTdispReport, verifyTdispReport } from '../tdisp/index.js';
import { type DecodedEvidenceInput, decodeEvidenceInput } from '../core/input.js';
import type { EvidenceKind } from '../core/types.js';

/** What the content is: an evidence kind, or a TDREPORT (TDX, but not remotely verifiable). */
export type DetectedFormat = 'sev-snp-report' | 'tdx-quote' | 'tdx-report' | 'nvidia-spdm' | 'nvidia-json' | 'tdisp-report';

/** The result of {@link detectEvidence}. */
export interface DetectedEvidence {
  kind: EvidenceKind;
  format: DetectedFormat;
  decoded: DecodedEvidenceInput;
  /** The evidence bytes for the platform parser (unwrapped from any container). */
  bytes: Uint8Array;
  /** Containers removed on the way (e.g. `azure-hcl`), stated in warnings. */
  unwrapped?: string;
}

const u16 = (b: Uint8Array, o: number) => (o + 2 <= b.length ? b[o]! | (b[o + 1]! << 8) : -1);
const u32 = (b: Uint8Array, o: number) => (o + 4 <= b.length ? (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0 : -1);

function looksSnp(b: Uint8Array): boolean {
  // VERSION u32 small, POLICY bit 17 (reserved, always 1) set: a cheap, specific signature.
  const v = u32(b, 0);
  return b.length >= 16 && v >= 1 && v <= 15 && (b[0x0a]! & 0x02) === 0x02;
}

function looksTdxQuote(b: Uint8Array): boolean {
  return b.length >= 8 && u16(b, 2) === 2 && u32(b, 4) === 0x81;
}

function classify(b: Uint8Array): { kind: EvidenceKind; format: DetectedFormat } | undefined {
  if (looksTdxQuote(b)) return { kind: 'tdx', format: 'tdx-quote' };
  if (b.length >= 4 && b[0] === 0x81 && b[1] === 0 && b[2]! <= 1 && b.length <= 1024) return { kind: 'tdx', format: 'tdx-report' };
  if (b.length >= 2 && b[0]! >= 0x10 && b[0]! <= 0x13 && b[1] === 0xe0) return { kind: 'nvidia-gpu', format: 'nvidia-spdm' };
  if (b.length >= 2 && b[0] === 0x10 && b[1] === 0x04) return { kind: 'tdisp', format: 'tdisp-report' };
  if (looksSnp(b)) return { kind: 'sev-snp', format: 'sev-snp-report' };
  return undefined;
}

/**
 * Decodes the input (binary / hex / base64 / JSON envelope) and recognises what it is.
 * @throws InputError EVIDENCE_UNRECOGNIZED (with a sentence saying what is accepted), or a decoding error
 */
export function detectEvidence(input: Uint8Array): DetectedEvidence {
  const decoded = decodeEvidenceInput(input);
  let bytes = decoded.bytes;
  let unwrapped: string | undefined;
  if (decoded.envelope === 'nvidia-json') return { kind: 'nvidia-gpu', format: 'nvidia-json', decoded, bytes };
  // Azure CVM "HCL report": 'HCLA' header (0x20 bytes), the hardware report in a 0x4A0-byte area,
  // then the runtime-data header whose third u32 is the report type (2 = SNP, 4 = TDX).
  if (bytes.length >= 0x20 && bytes[0] === 0x48 && bytes[1] === 0x43 && bytes[2] === 0x4c && bytes[3] === 0x41) {
    const type = u32(bytes, 0x4c0 + 8);
    const size = type === 2 ? 0x4a0 : type === 4 ? 1024 : 0;
    if (!size || bytes.length < 0x20 + size) {
      throw new InputError('EVIDENCE_UNRECOGNIZED', `Azure HCL report of type ${type} is not supported or is truncated (2 = SEV-SNP, 4 = TDX).`);
    }
    bytes = bytes.subarray(0x20, 0x20 + size);
    unwrapped = 'azure-hcl';
  }
  let c = classify(bytes);
  if (decoded.kindHint) {
    const hinted = decoded.kindHint;
    if (c && c.kind !== hinted) {
      throw new InputError('EVIDENCE_UNRECOGNIZED', `The envelope says kind "${hinted}" but the content looks like ${c.kind} evidence.`);
    }
    const json = bytes.length > 0 && (bytes[0] === 0x7b || bytes[0] === 0x5b);
    c ??= { kind: hinted, format: hinted === 'sev-snp' ? 'sev-snp-report' : hinted === 'tdx' ? 'tdx-quote' : hinted === 'tdisp' ? 'tdisp-report' : json ? 'nvidia-json' : 'nvidia-spdm' };
  }
  if (!c) {
    throw new InputError(
      'EVIDENCE_UNRECOGNIZED',
      'The input is not recognised as attestation evidence. Accepted: a SEV-SNP ATTESTATION_REPORT (1184 bytes), a TDX quote v4/v5 or TDREPORT, an NVIDIA SPDM GET_MEASUREMENTS report or nvtrust JSON, a TDISP interface report — as binary, hex, base64, or a JSON envelope {"evidence": ..., "certs": [...]}.',
    );
  }
  const out: DetectedEvidence = { ...c, decoded, bytes };
  if (unwrapped) out.unwrapped = unwrapped;
  return out;
}

/** The NVIDIA parser and verifier. */
export async function nvidiaModule(): Promise<{ parseNvidiaEvidence: typeof parseNvidiaEvidence; verifyNvidiaEvidence: typeof verifyNvidiaEvidence }> {
  return { parseNvidiaEvidence, verifyNvidiaEvidence };
}

/** The TDISP parser and verifier. */
export async function tdispModule(): Promise<{ parseTdispReport: typeof parseTdispReport; verifyTdispReport: typeof verifyTdispReport }> {
  return { parseTdispReport, verifyTdispReport };
}
