/**
 * Attestation evidence: one entry point to verify (cryptography, offline, pinned vendor roots) and
 * to inspect any supported evidence, whatever its kind and encoding. Policy (allowed measurements,
 * minimum TCB, debug, age) is not decided here: see src/attest/policy/.
 */
import { type DetectedEvidence, type DetectedFormat, detectEvidence, nvidiaModule, tdispModule, trailingBytesWarning } from './detect.js';
import { checkHclRuntimeData, hclRuntimeSummary } from '../azure/hcl.js';
import { opaqueFields } from '../nvidia/spdm.js';
import { toHex } from '../../crypto/bytes.js';
import { parseSnpReport } from '../snp/report.js';
import { parseVekExtensions } from '../snp/vcek.js';
import { vcekUrl, verifySnpReport } from '../snp/verify.js';
import { parsePckExtension } from '../tdx/pck.js';
import { parseTdxQuote } from '../tdx/quote.js';
import { parseTdReport } from '../tdx/tdreport.js';
import { tdxClaims, verifyTdxQuote } from '../tdx/verify.js';
import type { EvidenceKind, EvidenceVerdict, VerifyEvidenceOptions } from '../core/types.js';
import { type Certificate, parseCertificates } from '../../crypto/x509.js';

export type { EvidenceKind, EvidenceVerdict, VerifyEvidenceOptions } from '../core/types.js';
export { detectEvidence } from './detect.js';
export type { DetectedEvidence, DetectedFormat } from './detect.js';
export { decodeEvidenceInput, parseSnpCertTable } from '../core/input.js';
export type { DecodedEvidenceInput, InputEncoding } from '../core/input.js';
export { parseSnpReport, parseVekExtensions, verifySnpReport } from '../snp/index.js';
export type { SnpReport, SnpTcb, SnpProduct, VekInfo } from '../snp/index.js';
export { parseTdxQuote, parseTdReport, parsePckExtension, verifyTdxQuote, loadCollateralDir } from '../tdx/index.js';
export type { TdxQuote, TdReport, PckInfo, CollateralSet } from '../tdx/index.js';
export { parseAzureHclReport, checkHclRuntimeData } from '../azure/hcl.js';
export { parseRim, verifyRim } from '../nvidia/rim.js';
export type { ParsedRim } from '../nvidia/rim.js';
export type { AzureHclReport, HclRuntimeDataCheck } from '../azure/hcl.js';
export { parseCertificates } from '../../crypto/x509.js';
export type { Certificate } from '../../crypto/x509.js';

function simulatedRefusal(kind: EvidenceKind): EvidenceVerdict {
  return {
    kind,
    verified: false,
    simulated: true,
    code: 'EVIDENCE_SIMULATED',
    message: 'This evidence is tagged platform "simulated": it comes from the simulated platform, not real hardware, and is refused. Pass --allow-simulated (allowSimulated) only in tests and demos.',
    chain: [],
    claims: {},
    warnings: [],
  };
}

/**
 * Verifies evidence of any supported kind (recognised from its content) cryptographically.
 *
 * Returns a verdict for evidence that parses — `verified: false` with a stable `code` when a
 * signature, chain, binding or certificate time check fails. Throws InputError for input
 * that is not evidence or is malformed (EVIDENCE_TRUNCATED, EVIDENCE_UNSUPPORTED_VERSION,
 * EVIDENCE_MALFORMED, EVIDENCE_UNRECOGNIZED, CERT_MALFORMED, ...) and UnavailableError when the
 * kind's verifier is not in this build.
 */
export async function verifyEvidence(bytes: Uint8Array, options: VerifyEvidenceOptions = {}): Promise<EvidenceVerdict> {
  const d = detectEvidence(bytes);
  if (d.decoded.platform === 'simulated' && !options.allowSimulated) return simulatedRefusal(d.kind);
  let verdict: EvidenceVerdict;
  const envelopeCerts = d.decoded.certs;
  switch (d.format) {
    case 'sev-snp-report':
      verdict = await verifySnpReport(d.bytes, options, { evidenceCerts: envelopeCerts });
      break;
    case 'tdx-quote':
      verdict = await verifyTdxQuote(d.bytes, envelopeCerts.length ? { ...options, certs: [...(options.certs ?? []), ...envelopeCerts] } : options);
      break;
    case 'tdx-report': {
      const r = parseTdReport(d.bytes);
      verdict = {
        kind: 'tdx',
        verified: false,
        simulated: false,
        code: 'TDX_TDREPORT_NOT_VERIFIABLE',
        message: `A TDREPORT is MAC'd with a key only its own platform holds, so it cannot be verified remotely (internal hashes ${r.teeTcbInfoHashValid && r.teeInfoHashValid ? 'are consistent' : 'do NOT match'}). Verify the TDX quote made from it instead.`,
        chain: [],
        claims: { platform: 'tdx', mrtd: r.tdInfo.mrTd, measurement: r.tdInfo.mrTd, rtmrs: [...r.tdInfo.rtmrs], reportData: r.reportData, debug: r.tdInfo.debug },
        warnings: [],
      };
      break;
    }
    case 'nvidia-spdm':
    case 'nvidia-json': {
      const m = await nvidiaModule();
      const opts = envelopeCerts.length ? { ...options, certs: [...(options.certs ?? []), ...envelopeCerts] } : options;
      verdict = await m.verifyNvidiaEvidence(d.bytes, opts);
      break;
    }
    case 'tdisp-report': {
      const m = await tdispModule();
      verdict = await m.verifyTdispReport(d.bytes, options);
      break;
    }
  }
  if (d.hcl) verdict = azureVerdict(d, verdict);
  const trailing = trailingBytesWarning(d);
  if (trailing) verdict = { ...verdict, trailingBytes: d.trailingBytes, warnings: [...verdict.warnings, trailing] };
  if (d.decoded.platform === 'simulated' && !verdict.simulated) {
    // Tagged simulated by its envelope: never reported as real, whatever chain it carries.
    verdict = { ...verdict, simulated: true, warnings: [...verdict.warnings, 'The envelope tags this evidence as simulated.'] };
  }
  return verdict;
}

/** What an Azure HCL verdict leaves unchecked, said in its message and its `claims.azure.notChecked`. */
const AZURE_NOT_CHECKED = ['the vTPM quote (TPM2_Quote over the PCRs, signed by HCLAkPub)', 'the PCR values'];

/**
 * Azure HCL report: the hash of the runtime data (vTPM keys, VM configuration, user data) must be the
 * start of the hardware report's REPORT_DATA; the vTPM quote is not part of this evidence and is said
 * to be unchecked, in the message itself.
 */
function azureVerdict(d: DetectedEvidence, v: EvidenceVerdict): EvidenceVerdict {
  const hcl = d.hcl!;
  const rt = checkHclRuntimeData(hcl);
  const alg = rt.hashAlgorithm.toUpperCase().replace('SHA', 'SHA-');
  const claims = {
    ...v.claims,
    azure: { container: 'azure-hcl', runtimeData: hclRuntimeSummary(hcl), hashAlgorithm: rt.hashAlgorithm, runtimeDataHash: rt.runtimeDataHash, runtimeDataBound: rt.bound, notChecked: AZURE_NOT_CHECKED },
  };
  const notChecked = `NOT checked: ${AZURE_NOT_CHECKED.join(' and ')} — not part of this evidence.`;
  const warnings = [...v.warnings, `Azure HCL report: ${notChecked}`];
  if (!rt.bound) {
    return {
      ...v,
      verified: false,
      code: 'AZURE_RUNTIME_DATA_MISMATCH',
      message: `The Azure HCL runtime data does not match the hardware report: ${alg}(runtime data) is ${rt.runtimeDataHash} but REPORT_DATA starts with ${rt.reportDataPrefix}; the runtime claims (vTPM keys, VM configuration) were altered or belong to another report.`,
      claims,
      warnings,
    };
  }
  const bound = `Azure HCL runtime data (vTPM keys, VM configuration) bound: ${alg}(runtime data) = REPORT_DATA[0:${rt.runtimeDataHash.length / 2}]`;
  return { ...v, message: `${v.message.replace(/\.?$/, '.')} ${bound}; ${notChecked}`, claims, warnings };
}

/** Certificate summary for display. */
export interface CertificateSummary {
  subject: string;
  issuer: string;
  serial: string;
  notBefore: string;
  notAfter: string;
  sha256: string;
  /** Vendor extensions decoded (AMD VCEK/VLEK TCB and hwID, Intel PCK FMSPC/TCB). */
  extensions?: Record<string, unknown>;
}

/** The result of {@link inspectEvidence}. */
export interface InspectedEvidence {
  kind: EvidenceKind;
  format: DetectedFormat;
  encoding: string;
  envelope?: string;
  unwrapped?: string;
  /** All fields of the parsed evidence, JSON-friendly (bytes as hex). */
  fields: Record<string, unknown>;
  /** Certificates carried by the evidence or its envelope. */
  certificates: CertificateSummary[];
  /** Envelope metadata (provider, platform, ...). */
  meta?: Record<string, unknown>;
  /** Bytes after the evidence's own end that were ignored (0 when none). */
  trailingBytes: number;
  /** What the reader should know (e.g. ignored trailing bytes), as `attest verify` would warn. */
  warnings: string[];
}

/** Copies a parsed structure, dropping raw byte buffers and turning bigints into strings. */
function jsonFriendly(v: unknown): unknown {
  if (v instanceof Uint8Array) return undefined;
  if (typeof v === 'bigint') return v.toString();
  if (Array.isArray(v)) return v.map(jsonFriendly);
  if (typeof v === 'object' && v !== null) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      const y = jsonFriendly(x);
      if (y !== undefined) o[k] = y;
    }
    return o;
  }
  return v;
}

/** Summarises a certificate, decoding AMD / Intel extensions when present. */
function summarizeCertificate(c: Certificate): CertificateSummary {
  const s: CertificateSummary = {
    subject: c.subject,
    issuer: c.issuer,
    serial: c.serialHex,
    notBefore: c.notBefore.toISOString(),
    notAfter: c.notAfter.toISOString(),
    sha256: c.fingerprint256,
  };
  try {
    if (c.commonName === 'SEV-VCEK' || c.commonName === 'SEV-VLEK') s.extensions = { ...parseVekExtensions(c) };
    else if (c.extensions.some((e) => e.oid === '1.2.840.113741.1.13.1')) s.extensions = { ...parsePckExtension(c) };
  } catch (e) {
    s.extensions = { error: (e as Error).message };
  }
  return s;
}

/**
 * Parses evidence of any supported kind and returns all of its fields (no verification).
 * @throws InputError for input that is not evidence or is malformed
 */
export async function inspectEvidence(bytes: Uint8Array): Promise<InspectedEvidence> {
  const d = detectEvidence(bytes);
  let fields: Record<string, unknown>;
  const certs: Certificate[] = [];
  for (const c of d.decoded.certs) certs.push(...parseCertificates(c));
  switch (d.format) {
    case 'sev-snp-report': {
      const r = parseSnpReport(d.bytes);
      fields = jsonFriendly(r) as Record<string, unknown>;
      if (r.keyInfo.signingKey === 'vcek') fields.vcekUrl = vcekUrl(r, r.product);
      break;
    }
    case 'tdx-quote': {
      const q = parseTdxQuote(d.bytes);
      fields = jsonFriendly(q) as Record<string, unknown>;
      fields.signature = toHex(q.signature);
      fields.attestationKey = toHex(q.attestationKey);
      fields.qeReportSignature = toHex(q.qeReportSignature);
      fields.qeAuthData = toHex(q.qeAuthData);
      fields.claims = tdxClaims(q);
      try {
        certs.push(...parseCertificates(q.pckChainData));
      } catch (e) {
        fields.pckChainError = (e as Error).message;
      }
      break;
    }
    case 'tdx-report':
      fields = jsonFriendly(parseTdReport(d.bytes)) as Record<string, unknown>;
      break;
    case 'nvidia-spdm':
    case 'nvidia-json': {
      const m = await nvidiaModule();
      const ev = m.parseNvidiaEvidence(d.bytes);
      fields = jsonFriendly(ev) as Record<string, unknown>;
      // The measurement values (dropped with the other raw bytes above) are what RIMs are compared with.
      const entries = fields.entries as Record<string, unknown>[];
      ev.entries.forEach((e, i) => {
        const measurements: Record<string, string> = {};
        for (const b of e.report.response.blocks) measurements[String(b.index)] = toHex(b.value);
        entries[i]!.measurements = measurements;
        entries[i]!.opaqueFields = opaqueFields(e.report.response.tlvs);
      });
      break;
    }
    case 'tdisp-report': {
      const m = await tdispModule();
      fields = jsonFriendly(m.parseTdispReport(d.bytes)) as Record<string, unknown>;
      break;
    }
  }
  const warnings: string[] = [];
  if (d.format === 'tdx-quote') {
    // The quote's own fields describe the input as given, trailer included.
    fields.trailingBytes = d.trailingBytes;
    fields.trailingAllZero = d.trailingAllZero;
  }
  if (d.hcl) {
    const rt = checkHclRuntimeData(d.hcl);
    fields.azure = { container: 'azure-hcl', version: d.hcl.version, runtimeData: hclRuntimeSummary(d.hcl), hashAlgorithm: rt.hashAlgorithm, runtimeDataHash: rt.runtimeDataHash, reportDataPrefix: rt.reportDataPrefix, runtimeDataBound: rt.bound };
    if (!rt.bound) warnings.push('Azure HCL report: the hash of the runtime data is not the start of REPORT_DATA (attest verify refuses it).');
  }
  const trailing = trailingBytesWarning(d);
  if (trailing) warnings.push(trailing);
  const out: InspectedEvidence = {
    kind: d.kind,
    format: d.format,
    encoding: d.decoded.encoding,
    fields,
    certificates: certs.map(summarizeCertificate),
    trailingBytes: d.trailingBytes,
    warnings,
  };
  if (d.decoded.envelope) out.envelope = d.decoded.envelope;
  if (d.unwrapped) out.unwrapped = d.unwrapped;
  if (d.decoded.meta && Object.keys(d.decoded.meta).length) out.meta = d.decoded.meta;
  return out;
}
