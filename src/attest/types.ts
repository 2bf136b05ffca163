/**
 * Common evidence types shared by every platform's parser and verifier.
 * verify = cryptography (signatures, chains to pinned vendor roots); validate = policy. Kept apart.
 */

export type EvidenceKind = 'sev-snp' | 'tdx' | 'nvidia-gpu' | 'tdisp';

export interface VerifyEvidenceOptions {
  /** Verification time (certificates and collateral of public vectors expire). Default: now. */
  at?: Date;
  /** Accept evidence from the simulated platform (refused by default, and always reported). */
  allowSimulated?: boolean;
  /** Extra certificates (DER or PEM; single certs or chains), e.g. a VCEK or a GPU chain. */
  certs?: Uint8Array[];
  /** Directory of collateral files (TDX TCB info, QE identity, CRLs). */
  collateralDir?: string;
  /** Expected nonce (NVIDIA) or REPORT_DATA (SNP/TDX), checked when given. */
  expectedNonce?: Uint8Array;
  expectedReportData?: Uint8Array;
  /**
   * Roots (DER) of the simulated platform that a verifier accepts in place of the vendor's pinned
   * root, and only when `allowSimulated` is true; every such root must carry the SIMULATED marker
   * (see `isSimulatedRoot` in src/attest/simulated/). Evidence chaining to them is reported with
   * `simulated: true` and, without `allowSimulated`, refused with code EVIDENCE_SIMULATED.
   */
  simulatedRoots?: Uint8Array[];
  /** NVIDIA RIMs (SWID tag XML, driver and/or VBIOS) to check signatures of and compare measurements with. */
  rims?: Uint8Array[];
}

/** The result of cryptographic verification of one piece of evidence. */
export interface EvidenceVerdict {
  kind: EvidenceKind;
  /** true only when every signature and chain check passed. */
  verified: boolean;
  /** Evidence from the simulated platform (roots whose subjects say SIMULATED). */
  simulated: boolean;
  /** Stable code on failure, e.g. SNP_BAD_SIGNATURE, TDX_PCK_CHAIN, NV_NONCE_MISMATCH. */
  code?: string;
  message: string;
  /** Subjects of the certificate chain, leaf first, ending with the pinned root. */
  chain: string[];
  /** Typed, JSON-serialisable fields the policy validator reads (measurement, TCB, debug, ...). */
  claims: Record<string, unknown>;
  /** Checks that could not be performed (e.g. missing collateral), stated plainly. */
  warnings: string[];
}
