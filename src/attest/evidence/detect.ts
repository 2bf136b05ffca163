/**
 * Recognises the kind of evidence from its content (never from a file name) and dispatches to the
 * platform's parser/verifier: SEV-SNP and TDX here; NVIDIA SPDM and TDISP in ./nvidia and ./tdisp,
 * loaded on demand so that a build without them still verifies CPU evidence (and says "not
 * available" for GPU evidence).
 */
import { InputError } from '../../errors.js';
import { parseNvidiaEvidence, verifyNvidiaEvidence } from '../nvidia/index.js';
import { parseSpdmMeasurements } from '../nvidia/spdm.js';
import { parseTdispReport, verifyTdispReport } from '../tdisp/index.js';
import { parseTdxQuote } from '../tdx/quote.js';
import { type AzureHclReport, looksAzureHcl, parseAzureHclReport } from '../azure/hcl.js';
import { type DecodedEvidenceInput, decodeEvidenceInput } from '../core/input.js';
import type { EvidenceKind } from '../core/types.js';

/** What the content is: an evidence kind, or a TDREPORT (TDX, but not remotely verifiable). */
export type DetectedFormat = 'sev-snp-report' | 'tdx-quote' | 'tdx-report' | 'nvidia-spdm' | 'nvidia-json' | 'tdisp-report';

/** The result of {@link detectEvidence}. */
export interface DetectedEvidence {
  kind: EvidenceKind;
  format: DetectedFormat;
  decoded: DecodedEvidenceInput;
  /**
   * The evidence bytes for the platform parser: unwrapped from any container and cut at the end its
   * own length fields give (bytes after that are counted in `trailingBytes`).
   */
  bytes: Uint8Array;
  /** Containers removed on the way (e.g. `azure-hcl`), stated in warnings. */
  unwrapped?: string;
  /** The Azure HCL report the evidence was unwrapped from (when `unwrapped` is `azure-hcl`). */
  hcl?: AzureHclReport;
  /**
   * Bytes after the evidence's own end (the report, quote or container as its length fields give
   * it), which no signature covers and which were ignored; 0 when there are none.
   */
  trailingBytes: number;
  /** True when every trailing byte is zero (padding of a fixed-size buffer). */
  trailingAllZero: boolean;
}

/** Human name of a format, for messages. */
const FORMAT_NAMES: Record<DetectedFormat, string> = {
  'sev-snp-report': 'SEV-SNP report',
  'tdx-quote': 'TDX quote',
  'tdx-report': 'TDREPORT',
  'nvidia-spdm': 'NVIDIA SPDM report',
  'nvidia-json': 'NVIDIA evidence JSON',
  'tdisp-report': 'TDISP evidence',
};

/** Length of the evidence by its own length fields; the whole input when they cannot be read (the parser then says why). */
function ownLength(format: DetectedFormat, b: Uint8Array): number {
  try {
    switch (format) {
      case 'sev-snp-report':
        return Math.min(b.length, 0x4a0);
      case 'tdx-report':
        return Math.min(b.length, 1024);
      case 'tdx-quote':
        return parseTdxQuote(b).quoteLength;
      case 'nvidia-spdm':
        return parseSpdmMeasurements(b, { allowTrailing: true }).length;
      case 'tdisp-report':
        return parseTdispReport(b, { allowTrailing: true }).length;
      case 'nvidia-json':
        return b.length;
    }
  } catch {
    return b.length;
  }
}

/**
 * The warning every evidence kind gives for bytes after its end, or undefined when there are none.
 * The same sentence for `attest verify` and `attest inspect`, human and JSON.
 */
export function trailingBytesWarning(d: DetectedEvidence): string | undefined {
  if (d.trailingBytes === 0) return undefined;
  const what = d.unwrapped === 'azure-hcl' ? 'Azure HCL report' : FORMAT_NAMES[d.format];
  const n = d.trailingBytes;
  return `${n} byte${n === 1 ? '' : 's'} after the end of the ${what} (by its own length fields)${d.trailingAllZero ? ', all zero,' : ''} were ignored: no signature covers them.`;
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
  if (b.length >= 4 && b[0] === 0x81 && b[1] === 0 && b[2]! <= 1) return { kind: 'tdx', format: 'tdx-report' };
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
  let hcl: AzureHclReport | undefined;
  let trailer: Uint8Array | undefined;
  if (decoded.envelope === 'nvidia-json') return { kind: 'nvidia-gpu', format: 'nvidia-json', decoded, bytes, trailingBytes: 0, trailingAllZero: true };
  // Azure CVM "HCL report": parsed by its own lengths (src/attest/azure/hcl.ts); the hardware report inside goes on.
  if (looksAzureHcl(bytes)) {
    hcl = parseAzureHclReport(bytes);
    trailer = bytes.subarray(hcl.length);
    bytes = hcl.hardwareReport;
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
  if (!trailer) {
    const own = ownLength(c.format, bytes);
    trailer = bytes.subarray(own);
    bytes = bytes.subarray(0, own);
  }
  const out: DetectedEvidence = { ...c, decoded, bytes, trailingBytes: trailer.length, trailingAllZero: trailer.every((x) => x === 0) };
  if (unwrapped) out.unwrapped = unwrapped;
  if (hcl) out.hcl = hcl;
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
