/**
 * Offline cryptographic verification of an Intel TDX quote (verify, not validate):
 * PCK chain → pinned Intel SGX Root CA (each certificate valid at `at`); QE report signature by the
 * PCK key; QE REPORTDATA = SHA-256(attestation key ‖ QE auth data) ‖ 0^32; quote signature by the
 * attestation key; then, when collateral is given, QE Identity and TCB Info signatures (signing chain
 * to the same root), CRLs, and the resulting TCB status. Without collateral the verdict says plainly
 * that TCB status and revocation were not checked.
 */
import { createHash } from 'node:crypto';
import { ModelsealError, VerificationError, type VerificationCode } from '../../errors.js';
import { decodeHexStrict } from '../core/input.js';
import { bytesEqual, isAllZero } from '../../crypto/bytes.js';
import { INTEL_SGX_ROOT_CA_PEM } from '../roots/intel.js';
import type { EvidenceVerdict, VerifyEvidenceOptions } from '../core/types.js';
import { type Certificate, ecPublicKeyFromXY, normalizedSerial, parseCertificates, verifyChain, verifyCrlSignature, verifyEcdsaRaw } from '../../crypto/x509.js';
import {
  type CollateralSet,
  collateralSignatureValid,
  evaluateQeIdentity,
  evaluateTdxTcb,
  loadCollateralDir,
  pickCollateral,
  type SignedCollateral,
  worstStatus,
} from './collateral.js';
import { type PckInfo, parsePckExtension } from './pck.js';
import { INTEL_QE_VENDOR_ID, type TdxQuote, parseTdxQuote } from './quote.js';
import { reportDataMatches } from '../snp/verify.js';

let intelRoot: Certificate | undefined;
/** The pinned Intel SGX Root CA, parsed once. */
export function intelSgxRoot(): Certificate {
  intelRoot ??= parseCertificates(INTEL_SGX_ROOT_CA_PEM)[0]!;
  return intelRoot;
}

function fail(code: VerificationCode, message: string, details?: Record<string, unknown>): never {
  throw new VerificationError(code, message, details ? { details } : {});
}

/** Claims for the policy engine (names documented in src/attest/core/types.ts). */
export function tdxClaims(q: TdxQuote): Record<string, unknown> {
  const b = q.body;
  const c: Record<string, unknown> = {
    platform: 'tdx',
    product: b.bodyType === 3 ? 'TDX 1.5' : 'TDX 1.0',
    quoteVersion: q.version,
    mrtd: b.mrTd,
    measurement: b.mrTd,
    rtmrs: [...b.rtmrs],
    reportData: b.reportData,
    debug: b.attributes.debug,
    tdAttributes: b.attributes.value,
    xfam: b.xfam,
    mrConfigId: b.mrConfigId,
    mrOwner: b.mrOwner,
    mrOwnerConfig: b.mrOwnerConfig,
    mrSeam: b.mrSeam,
    mrSignerSeam: b.mrSignerSeam,
    seamAttributes: b.seamAttributes,
    teeTcbSvn: b.teeTcbSvn,
    tcb: { teeTcbSvn: b.teeTcbSvn, qeIsvSvn: q.qeReport.isvSvn },
  };
  if (b.teeTcbSvn2) c.teeTcbSvn2 = b.teeTcbSvn2;
  if (b.mrServiceTd) c.mrServiceTd = b.mrServiceTd;
  return c;
}

/**
 * The PCK chain of the quote, read strictly: PEM CERTIFICATE blocks separated only by line breaks,
 * optionally followed by NUL padding. Anything else is refused, so that no byte of the
 * certification data is silently ignored.
 */
function pemChain(q: TdxQuote): Certificate[] {
  const text = Buffer.from(q.pckChainData).toString('latin1');
  const outside = text.replace(/-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\r\n]*-----END CERTIFICATE-----/g, '');
  if (!/^[\r\n]*\0*$/.test(outside)) {
    fail('TDX_PCK_CHAIN', 'The PCK certification data is not a clean PEM chain (stray bytes between or around the certificates).');
  }
  try {
    return parseCertificates(q.pckChainData);
  } catch (e) {
    fail('TDX_PCK_CHAIN', `The PCK certificate chain in the quote does not parse: ${(e as Error).message}`);
  }
}

interface CollateralOutcome {
  claims: Record<string, unknown>;
  warnings: string[];
}

function verifySignedDoc<T>(doc: SignedCollateral<T>, set: CollateralSet, at: Date, options: VerifyEvidenceOptions, kind: string): Certificate[] {
  const pool = [...set.certs];
  for (const c of options.certs ?? []) pool.push(...parseCertificates(c));
  const signers = pool.filter((c) => /TCB Signing/i.test(c.commonName));
  if (signers.length === 0) {
    fail('TDX_COLLATERAL_CHAIN', `No "Intel SGX TCB Signing" certificate in ${set.dir} or --certs: add the ${kind} issuer chain (PEM) to the collateral directory.`);
  }
  const signer = signers.find((s) => collateralSignatureValid(doc, s));
  if (!signer) {
    fail('TDX_COLLATERAL_SIGNATURE', `The signature of ${kind} ${doc.file} does not verify with the TCB signing key: the document was altered or is not from Intel.`);
  }
  const { chain } = verifyChain(signer, pool, {
    at: options.collateralAt ?? at,
    roots: [intelSgxRoot()],
    chainCode: 'TDX_COLLATERAL_CHAIN',
    label: `${kind} signing chain`,
    maxDepth: 3,
  });
  return chain;
}

function checkCollateral(q: TdxQuote, pck: PckInfo, pckChain: Certificate[], set: CollateralSet, at: Date, options: VerifyEvidenceOptions): CollateralOutcome {
  const warnings: string[] = [];
  const claims: Record<string, unknown> = {};
  for (const name of set.ignored) warnings.push(`Collateral file ${name} was not recognised and was ignored.`);
  // collateral checks were asked for (a directory was given): none of them possible is a failure
  if (set.tcbInfos.length === 0 && set.qeIdentities.length === 0) {
    if (options.signatureOnly === true) {
      warnings.push(`${set.dir} holds no TCB Info and no QE Identity: TCB status and revocation were not checked (signature-only checks were asked for).`);
      return { claims, warnings };
    }
    fail('TDX_COLLATERAL_UNUSABLE', `${set.dir} holds no TCB Info and no QE Identity, so the collateral checks that were asked for cannot be made; point --collateral at the directory with the Intel PCS collateral for this platform.`);
  }
  // CRLs: every CRL must be signed by a certificate we trust (the root or a chain certificate);
  // then no certificate of the PCK chain may be listed.
  const trusted = [intelSgxRoot(), ...pckChain.slice(1), ...set.certs.filter((c) => c.isCA)];
  let crlChecked = 0;
  for (const { file, crl } of set.crls) {
    const issuer = trusted.find((c) => c.subject === crl.issuer && verifyCrlSignature(crl, c));
    if (!issuer) {
      const named = trusted.some((c) => c.subject === crl.issuer);
      if (named) fail('TDX_COLLATERAL_SIGNATURE', `The signature of CRL ${file} does not verify with its issuer's key.`);
      warnings.push(`CRL ${file} (issuer ${crl.issuer}) is not from this chain's issuers and was ignored.`);
      continue;
    }
    crlChecked++;
    if (crl.nextUpdate && at.getTime() > crl.nextUpdate.getTime()) warnings.push(`CRL ${file} is stale (nextUpdate ${crl.nextUpdate.toISOString()}).`);
    for (const c of pckChain) {
      if (c.issuer === crl.issuer && crl.revokedSerials.has(normalizedSerial(c))) {
        fail('TDX_PCK_REVOKED', `Certificate "${c.commonName}" (serial ${c.serialHex}) is revoked by ${file}.`);
      }
    }
  }
  claims.crlsChecked = crlChecked;
  if (crlChecked === 0) warnings.push('No CRL was given: revocation of the PCK chain was not checked.');

  const qeDocs = set.qeIdentities.filter((d) => d.value?.id === 'TD_QE');
  const qeDoc = pickCollateral(qeDocs, at);
  let qeStatus: string | undefined;
  const advisories = new Set<string>();
  if (!qeDoc) warnings.push(`No TD_QE identity in ${set.dir}: the quoting enclave's identity and TCB were not checked.`);
  else {
    verifySignedDoc(qeDoc, set, at, options, 'QE Identity');
    const r = evaluateQeIdentity(qeDoc.value, q.qeReport);
    qeStatus = r.status;
    r.advisoryIds.forEach((a) => advisories.add(a));
    claims.qeIdentity = { file: qeDoc.file, issueDate: qeDoc.value.issueDate, nextUpdate: qeDoc.value.nextUpdate, tcbEvaluationDataNumber: qeDoc.value.tcbEvaluationDataNumber };
    freshness('QE Identity', qeDoc.file, qeDoc.value, at, warnings, claims);
  }
  const tdxInfos = set.tcbInfos.filter((d) => d.value?.id === 'TDX');
  const tcbDocs = tdxInfos.filter((d) => typeof d.value.fmspc === 'string' && d.value.fmspc.toLowerCase() === pck.fmspc && String(d.value.pceId).toLowerCase() === pck.pceId);
  const tcbDoc = pickCollateral(tcbDocs, at);
  if (!tcbDoc) {
    const others = [...new Set(tdxInfos.map((d) => `${String(d.value.fmspc).toLowerCase()}/${String(d.value.pceId).toLowerCase()}`))];
    // TCB Info for another platform was given: the TCB status the caller asked for cannot be judged,
    // which is a failure, not a footnote — unless only signatures and chains were asked for.
    if (others.length > 0 && options.signatureOnly !== true) {
      fail(
        'TDX_COLLATERAL_FMSPC_MISMATCH',
        `The TDX TCB Info in ${set.dir} is for FMSPC/PCE ID ${others.join(', ')}, not for this quote's ${pck.fmspc}/${pck.pceId}, so its TCB status cannot be judged. Fetch the TCB Info for FMSPC ${pck.fmspc} from Intel PCS, or pass --signature-only (signatureOnly) to check signatures and chains only.`,
        { quoteFmspc: pck.fmspc, quotePceId: pck.pceId, collateralFmspcs: others },
      );
    }
    warnings.push(
      others.length > 0
        ? `The TDX TCB Info in ${set.dir} is for FMSPC/PCE ID ${others.join(', ')}, not this quote's ${pck.fmspc}/${pck.pceId}: TCB status was not checked (signature-only checks were asked for).`
        : `No TDX TCB Info for FMSPC ${pck.fmspc} in ${set.dir}: TCB status was not checked.`,
    );
  } else {
    verifySignedDoc(tcbDoc, set, at, options, 'TCB Info');
    if (tcbDoc.value.version !== 3) fail('TDX_COLLATERAL_UNSUPPORTED', `TCB Info version ${tcbDoc.value.version} is not supported (3).`);
    const body = q.body;
    const ev = evaluateTdxTcb(tcbDoc.value, {
      sgxTcbComponents: pck.sgxTcbComponents,
      pceSvn: pck.pceSvn,
      teeTcbSvn: decodeHexStrict(body.teeTcbSvn),
      mrSignerSeam: decodeHexStrict(body.mrSignerSeam),
      seamAttributes: decodeHexStrict(body.seamAttributes),
    });
    ev.advisoryIds.forEach((a) => advisories.add(a));
    claims.tcbInfo = { file: tcbDoc.file, fmspc: tcbDoc.value.fmspc, issueDate: tcbDoc.value.issueDate, nextUpdate: tcbDoc.value.nextUpdate, tcbEvaluationDataNumber: tcbDoc.value.tcbEvaluationDataNumber };
    freshness('TCB Info', tcbDoc.file, tcbDoc.value, at, warnings, claims);
    const detail: Record<string, string> = { platform: ev.platformStatus };
    if (ev.tdxModuleStatus) detail.tdxModule = ev.tdxModuleStatus;
    if (ev.tdxModuleId) detail.tdxModuleId = ev.tdxModuleId;
    if (qeStatus) detail.qe = qeStatus;
    if (ev.tcbDate) claims.tcbDate = ev.tcbDate;
    claims.tcbStatusDetail = detail;
    claims.tcbStatus = worstStatus(ev.platformStatus, ...(ev.tdxModuleStatus ? [ev.tdxModuleStatus] : []), ...(qeStatus ? [qeStatus] : []));
  }
  if (qeStatus && !tcbDoc) claims.tcbStatusDetail = { qe: qeStatus };
  claims.advisoryIds = [...advisories].sort();
  return { claims, warnings };
}

function freshness(kind: string, file: string, v: { issueDate: string; nextUpdate: string }, at: Date, warnings: string[], claims: Record<string, unknown>): void {
  const issued = Date.parse(v.issueDate);
  const next = Date.parse(v.nextUpdate);
  if (Number.isFinite(next) && at.getTime() > next) {
    warnings.push(`${kind} ${file} is past its nextUpdate (${v.nextUpdate}) at the verification time: TCB status may be stale; fetch fresh collateral.`);
    claims.collateralExpired = true;
  }
  if (Number.isFinite(issued) && at.getTime() < issued) {
    warnings.push(`${kind} ${file} was issued (${v.issueDate}) after the verification time ${at.toISOString()}.`);
  }
}

/** Extra inputs for TDX verification beyond the common options. */
export interface TdxVerifyInputs {
  /** An already loaded collateral directory (the CLI and benchmarks reuse one). */
  collateral?: CollateralSet;
}

/**
 * Verifies a TDX quote. Never throws for a refused quote (the verdict carries the code); throws
 * InputError for input that is not a quote or for unreadable collateral.
 */
export async function verifyTdxQuote(bytes: Uint8Array, options: VerifyEvidenceOptions = {}, inputs: TdxVerifyInputs = {}): Promise<EvidenceVerdict> {
  const q = parseTdxQuote(bytes);
  const at = options.at ?? new Date();
  const warnings: string[] = [];
  const chainNames: string[] = [];
  let simulated = false;
  let claims = tdxClaims(q);
  try {
    if (q.attestationKeyType !== 2) fail('TDX_UNSUPPORTED_KEY_TYPE', `Attestation key type ${q.attestationKeyType} is not supported (2 = ECDSA P-256).`);
    if (q.qeVendorId !== INTEL_QE_VENDOR_ID) fail('TDX_QE_VENDOR', `QE vendor id ${q.qeVendorId} is not Intel's (${INTEL_QE_VENDOR_ID}).`);
    if (q.trailingBytes > 0 && !q.trailingAllZero) warnings.push(`${q.trailingBytes} non-zero bytes follow the quote; they are not covered by any signature and were ignored.`);
    // 1. PCK chain to the pinned root.
    const certs = pemChain(q);
    if (certs.length === 0) fail('TDX_PCK_CHAIN', 'The quote carries no PCK certificate.');
    const leaf = certs[0]!;
    const simRoots: Certificate[] = [];
    for (const r of options.simulatedRoots ?? []) simRoots.push(...parseCertificates(r));
    const extra: Certificate[] = [];
    for (const c of options.certs ?? []) extra.push(...parseCertificates(c));
    const { chain, simulated: sim } = verifyChain(leaf, [...certs.slice(1), ...extra], {
      at,
      roots: [intelSgxRoot()],
      simulatedRoots: simRoots,
      allowSimulated: options.allowSimulated === true,
      chainCode: 'TDX_PCK_CHAIN',
      label: 'PCK certificate chain',
      maxDepth: 4,
    });
    simulated = sim;
    chainNames.push(...chain.map((c) => c.commonName || c.subject));
    // Every certificate the quote carries must be the one the chain used, in order (the quote may
    // omit the root): a stray or altered copy is refused rather than ignored.
    if (certs.length > chain.length || certs.some((c, i) => !bytesEqual(c.der, chain[i]!.der))) {
      fail('TDX_PCK_CHAIN', `The quote's PCK chain (${certs.map((c) => c.commonName).join(' ← ')}) is not the verified chain (${chainNames.join(' ← ')}).`);
    }
    if (simulated) warnings.push('SIMULATED evidence: the PCK chain ends at a simulated root, not at Intel. Accepted only because allowSimulated was set.');
    const pck = parsePckExtension(leaf);
    claims.fmspc = pck.fmspc;
    claims.pceId = pck.pceId;
    claims.pckTcb = { sgxTcbComponents: pck.sgxTcbComponents, pceSvn: pck.pceSvn };
    const pckKey = leaf.x509.publicKey;
    if (pckKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') fail('TDX_PCK_CHAIN', 'The PCK key is not an EC P-256 key.');
    // 2. QE report signed by the PCK key.
    if (!verifyEcdsaRaw(pckKey, 'sha256', q.qeReport.raw, q.qeReportSignature)) {
      fail('TDX_QE_REPORT_SIGNATURE', 'The QE report signature does not verify with the PCK certificate key: the QE report or the PCK chain was altered.');
    }
    // 3. The QE vouches for the attestation key.
    const expect = createHash('sha256').update(q.attestationKey).update(q.qeAuthData).digest();
    const rd = decodeHexStrict(q.qeReport.reportData);
    if (!bytesEqual(rd.subarray(0, 32), expect) || !isAllZero(rd.subarray(32))) {
      fail('TDX_QE_BINDING', 'QE REPORTDATA is not SHA-256(attestation key ‖ QE auth data) ‖ zeros: the attestation key is not the one the QE certified.');
    }
    // 4. The quote signed by the attestation key.
    const attKey = ecPublicKeyFromXY(q.attestationKey, 'P-256');
    if (!verifyEcdsaRaw(attKey, 'sha256', q.signedBytes, q.signature)) {
      fail('TDX_QUOTE_SIGNATURE', 'The quote signature does not verify with the attestation key: the TD report body or header was altered.');
    }
    if (options.expectedReportData && !reportDataMatches(options.expectedReportData, q.body.reportData)) {
      fail('TDX_REPORT_DATA_MISMATCH', 'REPORTDATA does not equal the expected value (zero-padded to 64 bytes): this quote was not produced for this binding/nonce.');
    }
    // 5. Collateral.
    const collateral = inputs.collateral ?? (options.collateralDir ? loadCollateralDir(options.collateralDir) : undefined);
    if (collateral) {
      const out = checkCollateral(q, pck, chain, collateral, at, options);
      claims = { ...claims, ...out.claims };
      warnings.push(...out.warnings);
    } else {
      warnings.push('No collateral given (--collateral DIR): TCB status (UpToDate/OutOfDate/...) and certificate revocation were not checked.');
    }
    return {
      kind: 'tdx',
      verified: true,
      simulated,
      message: `TDX quote v${q.version} (${q.body.bodyType === 3 ? 'TDX 1.5' : 'TDX 1.0'} body) verified: quote signature, QE report signature, QE binding, PCK chain to ${simulated ? 'a SIMULATED root (not Intel)' : 'the pinned Intel SGX Root CA'}${claims.tcbStatus ? `; TCB status ${String(claims.tcbStatus)}` : ''}.`,
      chain: chainNames,
      claims,
      warnings,
    };
  } catch (e) {
    if (e instanceof ModelsealError && e.kind === 'verification') {
      return { kind: 'tdx', verified: false, simulated: simulated || e.code === 'EVIDENCE_SIMULATED', code: e.code, message: e.message, chain: chainNames, claims, warnings };
    }
    throw e;
  }
}
