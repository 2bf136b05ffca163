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
  /**
   * Verification time for the collateral signing chain only (the "Intel SGX TCB Signing"
   * certificate that signs TDX TCB Info / QE Identity). Default: `at`. Intel re-issues that
   * certificate with the same key, so an older copy of the chain can be expired while the
   * collateral it verifies is current; set this to a time inside the copy's validity to accept
   * it, knowingly. Collateral freshness (issueDate / nextUpdate) is still judged at `at`.
   */
  collateralAt?: Date;
  /**
   * Check signatures and certificate chains only: TDX collateral that cannot give a TCB status for
   * this quote (TCB Info for another FMSPC, or none usable) is then a warning instead of a failure
   * (TDX_COLLATERAL_FMSPC_MISMATCH, TDX_COLLATERAL_UNUSABLE). Default false. CLI: `--signature-only`.
   */
  signatureOnly?: boolean;
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
  /**
   * Typed, JSON-serialisable fields the policy validator reads. Byte strings are lower-case hex.
   * On a refused verdict (`verified: false`) they are what the evidence says, unverified.
   *
   * Common to SEV-SNP and TDX (src/attest/snp/verify.ts `snpClaims`, src/attest/tdx/verify.ts `tdxClaims`):
   * - `platform`: 'sev-snp' | 'tdx'
   * - `product`: SNP 'Milan' | 'Genoa' | 'Turin' (null when unknown); TDX 'TDX 1.0' | 'TDX 1.5'
   * - `measurement`: SNP MEASUREMENT (48 B); TDX = `mrtd`
   * - `reportData`: REPORT_DATA / REPORTDATA (64 B)
   * - `debug`: boolean (SNP POLICY bit 19; TDX TD_ATTRIBUTES bit 0)
   * - `tcb`: SNP reported TCB {bootloader, tee, snp, microcode, fmc?}; TDX {teeTcbSvn (hex), qeIsvSvn}
   *
   * SEV-SNP only: `reportVersion`, `hostData`, `vmpl`, `policy` (hex u64), `migrateMa`, `guestSvn`,
   * `familyId`, `imageId`, `idKeyDigest`, `authorKeyDigest`, `signingKey` ('vcek' | 'vlek'), `chipId`,
   * `currentTcb`, `committedTcb`, `launchTcb`, `firmwareVersion` ('major.minor.build'), `vekKind`,
   * `vekProductName`, `cspId` (VLEK), `committedFirmwareVersion` ('major.minor.build'), `guestPolicy`
   * {abiMajor, abiMinor, smt, migrateMa, debug, singleSocket, cxlAllow, memAes256Xts, raplDis,
   * ciphertextHiding, pageSwapDisable}, `reportId`, `reportIdMa`; v5 reports: `launchMitVector`,
   * `currentMitVector` (hex u64, '0x…').
   *
   * TDX only: `quoteVersion`, `mrtd`, `rtmrs` (4 × 48 B), `tdAttributes` (hex u64), `xfam`, `mrConfigId`,
   * `mrOwner`, `mrOwnerConfig`, `mrSeam`, `mrSignerSeam`, `seamAttributes`, `teeTcbSvn`, `teeTcbSvn2`,
   * `mrServiceTd` (TDX 1.5), `fmspc`, `pceId`, `pckTcb` {sgxTcbComponents[16], pceSvn}; with collateral:
   * `tcbStatus` (worst of platform / TDX module / QE: UpToDate, SWHardeningNeeded, ConfigurationNeeded,
   * ConfigurationAndSWHardeningNeeded, OutOfDate, OutOfDateConfigurationNeeded, Revoked,
   * NoMatchingTcbLevel), `tcbStatusDetail` {platform, tdxModule?, tdxModuleId?, qe?}, `tcbDate`,
   * `advisoryIds`, `tcbInfo` / `qeIdentity` {file, issueDate, nextUpdate, tcbEvaluationDataNumber},
   * `collateralExpired` (true when past nextUpdate at `at`), `crlsChecked`. Without collateral `tcbStatus`
   * is absent and a warning says so.
   */
  claims: Record<string, unknown>;
  /** Checks that could not be performed (e.g. missing collateral), stated plainly. */
  warnings: string[];
  /**
   * Bytes after the evidence's own end (by its length fields) that were ignored, with a warning;
   * absent when there were none. Every evidence kind treats them alike: no signature covers them.
   */
  trailingBytes?: number;
}

/** One piece of evidence as an evidence source returns it. */
export interface CollectedEvidence {
  kind: EvidenceKind;
  /** Raw evidence bytes in the platform's own layout (SNP report, TDX quote, SPDM request‖response, TDISP report). */
  data: Uint8Array;
  /** DER certificates that came with it (VCEK and chain from the cert table, GPU chain from NVML, ...). */
  certs?: Uint8Array[];
  /** configfs-tsm, sev-guest, tdx-guest, nvml, pci-tsm, simulated. */
  provider: string;
  simulated: boolean;
  collectedAt?: Date;
  details?: Record<string, unknown>;
}

/**
 * Where evidence comes from: real hardware (acquire/) or the simulated platform. The binding code only
 * sees this interface, so the order (devices first, CPU last) is enforced in one place.
 */
export interface EvidenceSource {
  /** Shown to the user, e.g. "SIMULATED platform (not real hardware)" or "sev-snp via configfs-tsm". */
  readonly description: string;
  readonly simulated: boolean;
  /** GPU / TDISP evidence taken with the 32-byte nonce; [] when the source has no devices. */
  collectDevices(nonce: Uint8Array): Promise<CollectedEvidence[]>;
  /** The CPU report with this 64-byte REPORT_DATA; null when the source has no CPU TEE (GPU only). */
  collectCpu(reportData: Uint8Array): Promise<CollectedEvidence | null>;
}
