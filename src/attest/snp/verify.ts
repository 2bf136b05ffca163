/**
 * Offline cryptographic verification of a SEV-SNP report (verify, not validate: no policy here).
 *
 * Steps (AMD's VCEK specification #57230 and the firmware ABI #56860): structural checks → pick the VCEK/VLEK named by KEY_INFO →
 * product from the certificate (cross-checked with CPUID on v3+) → VEK ← ASK/ASVK ← pinned ARK
 * (RSASSA-PSS, each certificate valid at `at`) → report signature (ECDSA P-384/SHA-384 over
 * bytes [0, 0x2A0), r/s little-endian) → the VEK's TCB extensions equal REPORTED_TCB and its hwID
 * equals CHIP_ID.
 */
import { ModelsealError, VerificationError, type VerificationCode } from '../../errors.js';
import { decodeHexStrict, parseSnpCertTable } from '../core/input.js';
import { bytesEqual, isAllZero } from '../../crypto/bytes.js';
import { AMD_ROOTS } from '../roots/amd.js';
import type { EvidenceVerdict, VerifyEvidenceOptions } from '../core/types.js';
import { type Certificate, parseCertificates, verifyChain, verifyEcdsaRaw } from '../../crypto/x509.js';
import { type SnpProduct, type SnpReport, type SnpTcb, parseSnpReport, snpSignatureRs, withSnpProduct } from './report.js';
import { type VekInfo, parseVekExtensions } from './vcek.js';

/** Extra inputs for SNP verification beyond the common options. */
export interface SnpVerifyInputs {
  /** Certificates that came with the evidence (envelope, certificate table). */
  evidenceCerts?: Uint8Array[];
}

let rootCache: Map<SnpProduct, { ark: Certificate; ask: Certificate; asvk: Certificate }> | undefined;

/** The pinned ARK and built-in ASK/ASVK of a product, parsed once. */
export function amdRoots(product: SnpProduct): { ark: Certificate; ask: Certificate; asvk: Certificate } {
  rootCache ??= new Map();
  let r = rootCache.get(product);
  if (!r) {
    const p = AMD_ROOTS[product];
    r = { ark: parseCertificates(p.ark)[0]!, ask: parseCertificates(p.ask)[0]!, asvk: parseCertificates(p.asvk)[0]! };
    rootCache.set(product, r);
  }
  return r;
}

/** The KDS URL where the VCEK for this report can be fetched (for error messages). */
export function vcekUrl(report: SnpReport, product: SnpProduct | undefined): string {
  const p = product ?? '{Milan|Genoa|Turin}';
  const t = report.reportedTcb;
  const hw = product === 'Turin' ? report.chipId.slice(0, 16) : report.chipId;
  let q = `blSPL=${t.bootloader}&teeSPL=${t.tee}&snpSPL=${t.snp}&ucodeSPL=${t.microcode}`;
  if (t.fmc !== undefined) q += `&fmcSPL=${t.fmc}`;
  return `https://kdsintf.amd.com/vcek/v1/${p}/${hw}?${q}`;
}

function tcbClaims(t: SnpTcb): Record<string, number> {
  const o: Record<string, number> = { bootloader: t.bootloader, tee: t.tee, snp: t.snp, microcode: t.microcode };
  if (t.fmc !== undefined) o.fmc = t.fmc;
  return o;
}

/** The decoded POLICY bits the policy engine checks (`snp.guestPolicy`). */
function snpGuestPolicyClaims(report: SnpReport): Record<string, unknown> {
  const p = report.policy;
  return {
    abiMajor: p.abiMajor,
    abiMinor: p.abiMinor,
    smt: p.smt,
    migrateMa: p.migrateMa,
    debug: p.debug,
    singleSocket: p.singleSocket,
    cxlAllow: p.cxlAllow,
    memAes256Xts: p.memAes256Xts,
    raplDis: p.raplDis,
    ciphertextHiding: p.ciphertextHiding,
    pageSwapDisable: p.pageSwapDisable,
  };
}

/** Claims for the policy engine (names documented in src/attest/core/types.ts). */
export function snpClaims(report: SnpReport): Record<string, unknown> {
  const c: Record<string, unknown> = {
    platform: 'sev-snp',
    product: report.product ?? null,
    reportVersion: report.version,
    measurement: report.measurement,
    reportData: report.reportData,
    hostData: report.hostData,
    debug: report.policy.debug,
    migrateMa: report.policy.migrateMa,
    policy: report.policy.value,
    vmpl: report.vmpl,
    guestSvn: report.guestSvn,
    familyId: report.familyId,
    imageId: report.imageId,
    idKeyDigest: report.idKeyDigest,
    authorKeyDigest: report.authorKeyDigest,
    signingKey: report.keyInfo.signingKey,
    chipId: report.chipId,
    tcb: tcbClaims(report.reportedTcb),
    currentTcb: tcbClaims(report.currentTcb),
    committedTcb: tcbClaims(report.committedTcb),
    launchTcb: tcbClaims(report.launchTcb),
    firmwareVersion: report.currentVersion,
    committedFirmwareVersion: report.committedVersion,
    guestPolicy: snpGuestPolicyClaims(report),
    reportId: report.reportId,
    reportIdMa: report.reportIdMa,
  };
  if (report.launchMitVector !== undefined) c.launchMitVector = report.launchMitVector;
  if (report.currentMitVector !== undefined) c.currentMitVector = report.currentMitVector;
  return c;
}

/**
 * REPORT_DATA equals `expected` zero-padded to 64 bytes (the way configfs `inblob` and the ioctls
 * fill it), so a short expected value cannot match a report whose remaining bytes say something else.
 */
export function reportDataMatches(expected: Uint8Array, actualHex: string): boolean {
  if (expected.length > 64) return false;
  const padded = new Uint8Array(64);
  padded.set(expected);
  return bytesEqual(padded, decodeHexStrict(actualHex));
}

function fail(code: VerificationCode, message: string, details?: Record<string, unknown>): never {
  throw new VerificationError(code, message, details ? { details } : {});
}

/**
 * Certificates from DER/PEM inputs; an input that is neither may be an SNP certificate table (the
 * configfs `auxblob` / SNP_GET_EXT_REPORT buffer), whose VCEK/VLEK/ASK/ARK entries are used.
 */
function parseAll(list: Uint8Array[] | undefined): Certificate[] {
  const out: Certificate[] = [];
  for (const b of list ?? []) {
    try {
      out.push(...parseCertificates(b));
    } catch (e) {
      let table: ReturnType<typeof parseSnpCertTable> | undefined;
      try {
        table = parseSnpCertTable(b);
      } catch {
        table = undefined;
      }
      const certs = table?.filter((t) => t.type !== 'CRL' && t.type !== 'unknown');
      if (!certs || certs.length === 0) throw e;
      for (const t of certs) out.push(...parseCertificates(t.der));
    }
  }
  return out;
}

function checkTcbBinding(report: SnpReport, vek: VekInfo): void {
  const t = report.reportedTcb;
  const pairs: Array<[string, number, number | undefined]> = [
    ['bootloader (blSPL)', t.bootloader, vek.blSpl],
    ['tee (teeSPL)', t.tee, vek.teeSpl],
    ['snp (snpSPL)', t.snp, vek.snpSpl],
    ['microcode (ucodeSPL)', t.microcode, vek.ucodeSpl],
  ];
  if (t.layout === 'turin') pairs.push(['fmc (fmcSPL)', t.fmc ?? 0, vek.fmcSpl]);
  for (const [name, reported, cert] of pairs) {
    if (cert !== reported) {
      fail(
        'SNP_TCB_MISMATCH',
        `The ${vek.kind.toUpperCase()} was issued for TCB ${name} = ${cert ?? 'absent'}, but the report's REPORTED_TCB has ${reported}: this certificate does not belong to this report's TCB. Fetch the matching one (${vek.kind === 'vcek' ? `AMD KDS: ${vcekUrl(report, report.product)}` : 'from the cloud provider'}).`,
        { component: name, reported, certificate: cert ?? null },
      );
    }
  }
}

/**
 * Verifies a SEV-SNP report. Never throws for a refused report (the verdict carries the code);
 * throws InputError for input that is not a report or not a certificate.
 */
export async function verifySnpReport(bytes: Uint8Array, options: VerifyEvidenceOptions = {}, inputs: SnpVerifyInputs = {}): Promise<EvidenceVerdict> {
  let report = parseSnpReport(bytes);
  const warnings: string[] = [];
  const chainNames: string[] = [];
  let simulated = false;
  try {
    const at = options.at ?? new Date();
    if (report.anomalies.length > 0) {
      fail('SNP_RESERVED_NONZERO', `The report is malformed: ${report.anomalies.join('; ')}.`, { anomalies: report.anomalies });
    }
    if (report.signatureAlgo !== 1) {
      fail('SNP_UNSUPPORTED_SIGNATURE_ALGO', `SIGNATURE_ALGO is ${report.signatureAlgo}; only 1 (ECDSA P-384 with SHA-384) is defined.`);
    }
    const sk = report.keyInfo.signingKey;
    if (sk === 'none') fail('SNP_UNSIGNED', 'KEY_INFO.SIGNING_KEY is 7: the firmware did not sign this report.');
    if (sk === 'reserved') fail('SNP_RESERVED_NONZERO', `KEY_INFO.SIGNING_KEY is ${report.keyInfo.signingKeyValue}, a reserved value.`);
    const pool = [...parseAll(inputs.evidenceCerts), ...parseAll(options.certs)];
    const wantCn = sk === 'vcek' ? 'SEV-VCEK' : 'SEV-VLEK';
    const candidates = pool.filter((c) => c.commonName === wantCn);
    if (candidates.length === 0) {
      fail(
        'SNP_VEK_MISSING',
        `The report is signed by a ${sk.toUpperCase()}, but no ${wantCn} certificate was supplied. ${
          sk === 'vcek' ? `Pass it with --certs (AMD KDS: ${vcekUrl(report, report.product)}).` : 'Pass the VLEK from the cloud provider with --certs.'
        }`,
      );
    }
    const rs = snpSignatureRs(report);
    // With several candidates, prefer the one whose key verifies the report.
    const signer = candidates.find((c) => c.x509.publicKey.asymmetricKeyDetails?.namedCurve === 'secp384r1' && verifyEcdsaRaw(c.x509.publicKey, 'sha384', report.signedBytes, rs));
    const vekCert = signer ?? candidates[0]!;
    const vek = parseVekExtensions(vekCert);
    // A productName we do not know is refused even when CPUID names a known product: the name
    // selects the root, and guessing it would let an unknown chain borrow a pinned one.
    const product = vek.productName !== undefined ? vek.product : report.product;
    if (!product) {
      fail(
        'SNP_UNKNOWN_PRODUCT',
        `The ${wantCn} names product "${vek.productName ?? '(none)'}", which has no pinned AMD root (known: Milan, Genoa, Turin).`,
        { productName: vek.productName ?? null },
      );
    }
    if (vek.product && report.product && report.productSource === 'cpuid' && vek.product !== report.product) {
      fail('SNP_PRODUCT_MISMATCH', `The report's CPUID says ${report.product} but the ${wantCn} is for ${vek.product}.`);
    }
    report = withSnpProduct(report, product);
    if (report.anomalies.length > 0) {
      fail('SNP_RESERVED_NONZERO', `The report is malformed for a ${product}: ${report.anomalies.join('; ')}.`, { anomalies: report.anomalies });
    }
    const roots = amdRoots(product);
    const simRoots = parseAll(options.simulatedRoots);
    const { chain, simulated: sim } = verifyChain(vekCert, [...pool.filter((c) => c !== vekCert), roots.ask, roots.asvk], {
      at,
      roots: [roots.ark],
      simulatedRoots: simRoots,
      allowSimulated: options.allowSimulated === true,
      chainCode: 'SNP_CHAIN_BROKEN',
      label: `${wantCn} chain (${product})`,
      maxDepth: 3,
    });
    simulated = sim;
    chainNames.push(...chain.map((c) => c.commonName || c.subject));
    const expectedIssuer = sk === 'vcek' ? `SEV-${product}` : `SEV-VLEK-${product}`;
    if (chain.length !== 3 || (!simulated && chain[1]!.commonName !== expectedIssuer)) {
      fail('SNP_CHAIN_BROKEN', `${wantCn} chain must be ${wantCn} ← ${expectedIssuer} ← ARK-${product}; got ${chainNames.join(' ← ')}.`);
    }
    if (simulated) warnings.push('SIMULATED evidence: the chain ends at a simulated root, not at AMD. Accepted only because allowSimulated was set.');
    const key = vekCert.x509.publicKey;
    if (key.asymmetricKeyDetails?.namedCurve !== 'secp384r1') {
      fail('SNP_CHAIN_BROKEN', `The ${wantCn} key is not an EC P-384 key.`);
    }
    // `signer` is the candidate whose key already verified the signature above.
    if (vekCert !== signer) {
      fail('SNP_BAD_SIGNATURE', `The report signature does not verify with the ${wantCn} key: the report was altered or the certificate belongs to another chip.`);
    }
    checkTcbBinding(report, vek);
    if (vek.kind === 'vcek') {
      const chip = decodeHexStrict(report.chipId);
      const idLen = product === 'Turin' ? 8 : 64;
      if (isAllZero(chip)) {
        warnings.push('CHIP_ID is masked (all zero): the VCEK hwID could not be bound to the report.');
      } else if (!vek.hwId) {
        fail('SNP_HWID_MISMATCH', 'The VCEK has no hwID extension, so it cannot be bound to this chip.');
      } else if (!bytesEqual(decodeHexStrict(vek.hwId), chip.subarray(0, idLen)) || (idLen === 8 && !isAllZero(chip.subarray(8)))) {
        fail('SNP_HWID_MISMATCH', `The VCEK hwID ${vek.hwId.slice(0, 16)}… does not equal the report's CHIP_ID ${report.chipId.slice(0, 16)}…: the VCEK is for another chip.`);
      }
    } else {
      warnings.push(`Signed by a VLEK (${vek.cspId ?? 'no CSP id'}): VLEKs carry no hwID, so the chip identity is vouched for by the cloud provider.`);
    }
    if (options.expectedReportData && !reportDataMatches(options.expectedReportData, report.reportData)) {
      fail('SNP_REPORT_DATA_MISMATCH', 'REPORT_DATA does not equal the expected value (zero-padded to 64 bytes): this report was not produced for this binding/nonce.');
    }
    const claims = snpClaims(report);
    claims.vekKind = vek.kind;
    if (vek.productName) claims.vekProductName = vek.productName;
    if (vek.cspId) claims.cspId = vek.cspId;
    return {
      kind: 'sev-snp',
      verified: true,
      simulated,
      message: `SEV-SNP report v${report.version} (${product}) verified: signature by ${wantCn}, chain to ${simulated ? 'a SIMULATED root (not AMD)' : `the pinned ARK-${product}`}, TCB and chip binding.`,
      chain: chainNames,
      claims,
      warnings,
    };
  } catch (e) {
    if (e instanceof VerificationError || (e instanceof ModelsealError && e.kind === 'verification')) {
      return {
        kind: 'sev-snp',
        verified: false,
        simulated: simulated || e.code === 'EVIDENCE_SIMULATED',
        code: e.code,
        message: e.message,
        chain: chainNames,
        claims: snpClaims(report),
        warnings,
      };
    }
    throw e;
  }
}
