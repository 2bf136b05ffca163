/**
 * The simulated platform: SEV-SNP reports, TDX quotes (v4, with QE report and a PCK-like chain),
 * NVIDIA SPDM reports (with a 5-certificate chain and signed RIMs) and TDISP evidence, in the REAL
 * byte layouts, signed by keys and roots generated fresh for each platform. Every certificate's
 * subject says SIMULATED, so every verifier recognises the evidence and refuses it unless
 * `allowSimulated` is set (code EVIDENCE_SIMULATED). It exists for tests and demos only; it proves
 * nothing about any hardware.
 *
 * Trust: the generated roots are returned (`roots`, `trustAnchors`) and also registered in this
 * process ({@link simulatedTrustAnchors}). The SNP and TDX verifiers accept them only through
 * `options.simulatedRoots`; the NVIDIA and TDISP verifiers also accept this process's registered roots.
 */
import type { CollectedEvidence, EvidenceSource } from '../core/types.js';
import { toHex } from '../../crypto/bytes.js';
import { SIMULATED_MARKER } from '../roots/simulated.js';
import { snpReport, tdxQuote } from './cpu.js';
import { GPU_DRIVER, GPU_VBIOS, nvidiaReport, nvidiaRims, tdispReport } from './devices.js';
import { checkBytes, createSimulatedPki, type SimulatedRoots } from './pki.js';
import type { SimulatedEvidence } from './types.js';

export { SIMULATED_MARKER, EVIDENCE_SIMULATED, isSimulatedRoot, isSimulatedCertificate, simulatedTrustAnchors } from '../roots/simulated.js';
export type { SimulatedEvidence } from './types.js';
export type { SimulatedRoots } from './pki.js';

export interface SimulatedPlatform {
  readonly roots: SimulatedRoots;
  /** All roots, for `VerifyEvidenceOptions.simulatedRoots`. */
  readonly trustAnchors: Uint8Array[];
  /** Launch measurements this platform reports (hex), for policies in tests and demos. */
  readonly measurements: { snp: string; mrtd: string; rtmrs: string[]; gpuDriver: string; gpuVbios: string };
  /** SEV-SNP ATTESTATION_REPORT v3 (Milan layout) with REPORT_DATA = reportData (≤ 64 bytes, zero-padded). */
  snpReport(reportData: Uint8Array): SimulatedEvidence;
  /** TDX quote v4 (ECDSA P-256, QE report certification data, PEM PCK chain inside). */
  tdxQuote(reportData: Uint8Array): SimulatedEvidence;
  /** NVIDIA H100-like SPDM 1.1 report for a 32-byte nonce, in an nvtrust-style envelope with cc_mode "ON". */
  nvidiaReport(nonce: Uint8Array): SimulatedEvidence;
  /** Signed driver and VBIOS RIMs matching this GPU's measurements. */
  nvidiaRims(): Uint8Array[];
  /** TDISP evidence bundle (interface report, TDI state RUN, signed SPDM transcript) for a 32-byte nonce. */
  tdispReport(nonce: Uint8Array): SimulatedEvidence;
  /** An evidence source for the binding code: devices (GPU, TDISP) first, then the CPU report. */
  evidenceSource(o?: { cpu?: 'sev-snp' | 'tdx' | 'none'; gpu?: boolean; tdisp?: boolean }): EvidenceSource;
}

function checkNonce(nonce: unknown): asserts nonce is Uint8Array {
  checkBytes(nonce, 'nonce');
  if (nonce.length !== 32) throw new RangeError(`nonce must be 32 bytes, got ${nonce.length}`);
}

/**
 * Creates a simulated platform with fresh keys and SIMULATED roots (a few hundred milliseconds:
 * two RSA keys for the AMD-like ARK/ASK). Certificates are valid from one day before creation for ten years.
 * Arguments of its methods are checked here, once; the builders trust them.
 */
export async function createSimulatedPlatform(o: { now?: Date } = {}): Promise<SimulatedPlatform> {
  const k = await createSimulatedPki(o.now ?? new Date());
  let rims: Uint8Array[] | undefined;
  const platform: SimulatedPlatform = {
    roots: k.roots,
    trustAnchors: k.trustAnchors,
    measurements: { snp: toHex(k.snpMeasurement), mrtd: toHex(k.mrtd), rtmrs: k.rtmrs.map(toHex), gpuDriver: GPU_DRIVER, gpuVbios: GPU_VBIOS },
    snpReport: (reportData) => {
      checkBytes(reportData, 'reportData');
      return snpReport(k, reportData);
    },
    tdxQuote: (reportData) => {
      checkBytes(reportData, 'reportData');
      return tdxQuote(k, reportData);
    },
    nvidiaReport: (nonce) => {
      checkNonce(nonce);
      return nvidiaReport(k, nonce);
    },
    nvidiaRims: () => (rims ??= nvidiaRims(k)).map((r) => r.slice()),
    tdispReport: (nonce) => {
      checkNonce(nonce);
      return tdispReport(k, nonce);
    },
    evidenceSource: (so = {}) => evidenceSource(platform, so),
  };
  return platform;
}

/**
 * The platform as an evidence source for the binding: devices (GPU, TDISP) first, then the CPU
 * report. The binding hands it a derived 32-byte nonce and a 64-byte REPORT_DATA.
 */
function evidenceSource(p: SimulatedPlatform, so: { cpu?: 'sev-snp' | 'tdx' | 'none'; gpu?: boolean; tdisp?: boolean }): EvidenceSource {
  const cpu = so.cpu ?? 'sev-snp';
  const collected = (e: SimulatedEvidence): CollectedEvidence => ({ kind: e.kind, data: e.evidence, certs: e.certs, provider: 'simulated', simulated: true, collectedAt: new Date() });
  return {
    description: `${SIMULATED_MARKER} platform (not real hardware): ${[cpu !== 'none' ? cpu : '', so.gpu !== false ? 'nvidia-gpu' : '', so.tdisp ? 'tdisp' : ''].filter(Boolean).join(' + ')}`,
    simulated: true,
    async collectDevices(nonce: Uint8Array): Promise<CollectedEvidence[]> {
      const out: CollectedEvidence[] = [];
      if (so.gpu !== false) out.push(collected(p.nvidiaReport(nonce)));
      if (so.tdisp) out.push(collected(p.tdispReport(nonce)));
      return out;
    },
    async collectCpu(reportData: Uint8Array): Promise<CollectedEvidence | null> {
      if (cpu === 'none') return null;
      return collected(cpu === 'tdx' ? p.tdxQuote(reportData) : p.snpReport(reportData));
    },
  };
}
