/**
 * NVIDIA GPU / NVSwitch confidential-computing evidence: parse and verify (cryptography only; the
 * policy validator reads the claims). See docs/attestation-nvidia.md for what is and is not proven.
 *
 * Accepted inputs: the raw SPDM 1.1 GET_MEASUREMENTS request ‖ response (binary, hex or base64 text),
 * and JSON envelopes: nvtrust's evidence entries `{arch, evidence (base64), certificate (base64 PEM
 * chain), nonce, driver_version, vbios_version}` (one object, a list — e.g. the PPCIe 8-GPU and
 * 4-NVSwitch files — or `{evidence_list: [...]}`), optionally with `cc_mode` recorded from NVML at
 * acquisition and `simulated`.
 */
import { X509Certificate, verify as cryptoVerify } from 'node:crypto';
import { InputError } from '../../errors.js';
import type { EvidenceVerdict, VerifyEvidenceOptions } from '../core/types.js';
import { asciiText, buf, bytesEqual, decodeHexText, toHex } from '../../crypto/bytes.js';
import { VENDOR_TEXT_BASE64, decodeBase64Text } from '../../crypto/base64.js';
import { decodeOid, rawEcdsaToDer, tryDerChildren, tryReadDer } from '../../crypto/der.js';
import { certificatesFromBytes } from '../../crypto/pem.js';
import { parseCertificate } from '../../crypto/x509.js';

const fromBase64Text = (text: string): Uint8Array | undefined => decodeBase64Text(text, VENDOR_TEXT_BASE64);
const fromHexText = (text: string): Uint8Array | undefined => decodeHexText(text, { nonEmpty: true });
import { subjectName, verifyDeviceChain } from './chain.js';
import { nvidiaDeviceRoots } from './roots.js';
import { verifyRim, type ParsedRim } from './rim.js';
import { opaqueFields, parseSpdmMeasurements, type SpdmMeasurementReport } from './spdm.js';

export { parseSpdmMeasurements, buildSpdmMeasurements, parseOpaque, formatVbiosVersion, NV_OPAQUE_TYPES } from './spdm.js';
export type { SpdmMeasurementReport, SpdmMeasurementBlock, OpaqueTlv } from './spdm.js';
export { parseRim, verifyRim } from './rim.js';
export type { ParsedRim, RimMeasurement } from './rim.js';
export {
  NVIDIA_DEVICE_IDENTITY_CA_PEM,
  NVIDIA_DEVICE_IDENTITY_CA_SHA256,
  NVIDIA_CORIM_ROOT_CA_PEM,
  NVIDIA_CORIM_ROOT_CA_SHA256,
  nvidiaDeviceRoots,
  nvidiaRimRoots,
} from './roots.js';

/** TCG DICE TcbInfo extension carrying the FWID on Hopper leaves; Blackwell uses the .1 child arc. */
const OID_TCG_DICE_TCBINFO = '2.23.133.5.4.1';
const OID_TCG_DICE_TCBINFO_BLACKWELL = '2.23.133.5.4.1.1';
const OID_SHA384 = '2.16.840.1.101.3.4.2.2';

/** One device's evidence: its SPDM report and (when the envelope carries it) its certificate chain. */
export interface NvidiaEvidenceEntry {
  report: SpdmMeasurementReport;
  /** The SPDM bytes as given. */
  raw: Uint8Array;
  /** DER chain, leaf first (from the envelope; otherwise from options.certs at verification). */
  certs?: Uint8Array[];
  /** Unsigned fields an envelope declared (checked against the signed report where both exist). */
  declared: { arch?: string; nonce?: string; driverVersion?: string; vbiosVersion?: string; ccMode?: string; simulated?: boolean };
}

export interface NvidiaEvidence {
  format: 'spdm' | 'nvtrust-json';
  entries: NvidiaEvidenceEntry[];
}

/** Stable codes a verdict can carry (besides EVIDENCE_SIMULATED and chain codes NV_CHAIN_*). */
export type NvidiaVerifyCode =
  | 'EVIDENCE_TRUNCATED'
  | 'NV_MALFORMED_REPORT'
  | 'NV_UNSUPPORTED_VERSION'
  | 'NV_UNSIGNED_REPORT'
  | 'NV_CHAIN_MISSING'
  | 'NV_CHAIN_MALFORMED'
  | 'NV_CHAIN_INCOMPLETE'
  | 'NV_CHAIN_BROKEN'
  | 'NV_UNTRUSTED_ROOT'
  | 'NV_CERT_EXPIRED'
  | 'NV_BAD_SIGNATURE'
  | 'NV_NONCE_MISMATCH'
  | 'NV_FWID_MISMATCH'
  | 'NV_RIM_SIGNATURE'
  | 'NV_RIM_VERSION_MISMATCH'
  | 'NV_RIM_INCOMPLETE'
  | 'NV_MEASUREMENT_MISMATCH';

function malformed(msg: string): InputError {
  return new InputError('NV_MALFORMED_REPORT', `The NVIDIA evidence could not be read: ${msg}.`);
}

function looksLikeSpdm(b: Uint8Array): boolean {
  return b.length >= 2 && b[0]! >= 0x10 && b[0]! <= 0x13 && b[1] === 0xe0;
}

function entryFromJson(o: unknown, i: number): NvidiaEvidenceEntry {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw malformed(`entry ${i} is not an object`);
  const e = o as Record<string, unknown>;
  if (typeof e.evidence !== 'string') throw malformed(`entry ${i} has no "evidence" string (base64 SPDM report)`);
  const raw = fromBase64Text(e.evidence) ?? fromHexText(e.evidence);
  if (!raw) throw malformed(`entry ${i}: "evidence" is neither base64 nor hex`);
  const report = parseSpdmMeasurements(raw, { allowTrailing: true });
  let certs: Uint8Array[] | undefined;
  if (typeof e.certificate === 'string') {
    const trimmed = e.certificate.trim();
    const pemText = trimmed.startsWith('-----BEGIN') ? trimmed : buf(fromBase64Text(trimmed) ?? new Uint8Array()).toString('latin1');
    certs = certificatesFromBytes(new Uint8Array(Buffer.from(pemText, 'latin1')));
    if (certs.length === 0) throw malformed(`entry ${i}: "certificate" holds no PEM certificate`);
  }
  const s = (k: string): string | undefined => (typeof e[k] === 'string' ? (e[k] as string) : undefined);
  const declared: NvidiaEvidenceEntry['declared'] = {};
  if (s('arch')) declared.arch = s('arch')!;
  if (s('nonce')) declared.nonce = s('nonce')!.toLowerCase();
  if (s('driver_version')) declared.driverVersion = s('driver_version')!;
  if (s('vbios_version')) declared.vbiosVersion = s('vbios_version')!;
  if (s('cc_mode')) declared.ccMode = s('cc_mode')!;
  if (typeof e.simulated === 'boolean') declared.simulated = e.simulated;
  return { report, raw, ...(certs ? { certs } : {}), declared };
}

/**
 * Parses NVIDIA evidence (see the module comment for the accepted forms). Throws InputError with
 * EVIDENCE_TRUNCATED, NV_MALFORMED_REPORT or NV_UNSUPPORTED_VERSION; never returns partial data.
 */
export function parseNvidiaEvidence(bytes: Uint8Array): NvidiaEvidence {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('bytes must be a Uint8Array');
  if (looksLikeSpdm(bytes)) return { format: 'spdm', entries: [{ report: parseSpdmMeasurements(bytes, { allowTrailing: true }), raw: bytes, declared: {} }] };
  const text = asciiText(bytes);
  if (text === undefined || text.length === 0) {
    throw new InputError('NV_MALFORMED_REPORT', 'The input is neither an SPDM GET_MEASUREMENTS report (it must start with 0x11 0xe0) nor hex, base64 or JSON text of one.');
  }
  if (text.startsWith('{') || text.startsWith('[')) {
    let j: unknown;
    try {
      j = JSON.parse(text);
    } catch (e) {
      throw new InputError('NV_MALFORMED_REPORT', `The NVIDIA evidence JSON does not parse: ${(e as Error).message}.`);
    }
    let list: unknown[];
    if (Array.isArray(j)) list = j;
    else if (typeof j === 'object' && j !== null && Array.isArray((j as { evidence_list?: unknown }).evidence_list)) list = (j as { evidence_list: unknown[] }).evidence_list;
    else list = [j];
    if (list.length === 0) throw malformed('the evidence list is empty');
    if (list.length > 256) throw malformed(`the evidence list has ${list.length} entries (at most 256 devices are accepted)`);
    return { format: 'nvtrust-json', entries: list.map((o, i) => entryFromJson(o, i)) };
  }
  const raw = fromHexText(text) ?? fromBase64Text(text);
  if (raw && looksLikeSpdm(raw)) return { format: 'spdm', entries: [{ report: parseSpdmMeasurements(raw, { allowTrailing: true }), raw, declared: {} }] };
  throw new InputError('NV_MALFORMED_REPORT', 'The text is not hex or base64 of an SPDM GET_MEASUREMENTS report, nor an nvtrust evidence JSON.');
}

/**
 * The FWID a leaf certificate commits to: the first SHA-384 FWID `SEQUENCE {OID sha384, OCTET
 * STRING(48)}` inside the TCG DICE TcbInfo extension (Hopper: 2.23.133.5.4.1; Blackwell:
 * 2.23.133.5.4.1.1, DiceTcbInfo.fwids[0]). Undefined when the certificate has neither extension.
 */
export function leafFwid(der: Uint8Array): Uint8Array | undefined {
  const ext = findExtension(der, [OID_TCG_DICE_TCBINFO, OID_TCG_DICE_TCBINFO_BLACKWELL]);
  if (!ext) return undefined;
  const found = findSha384Fwid(ext, 0);
  if (found) return found;
  // Fallback documented by nvtrust for Hopper: the last 48 bytes of the extension value.
  return ext.length >= 48 ? ext.slice(ext.length - 48) : undefined;
}

function oidOf(n: { value: Uint8Array }): string {
  try {
    return decodeOid(n.value);
  } catch {
    return '';
  }
}

function findSha384Fwid(b: Uint8Array, depth: number): Uint8Array | undefined {
  if (depth > 16) return undefined;
  let off = 0;
  while (off < b.length) {
    const n = tryReadDer(b, off);
    if (!n) return undefined;
    if (n.tag === 0x30) {
      const kids = tryDerChildren(n);
      if (kids && kids.length === 2 && kids[0]!.tag === 0x06 && oidOf(kids[0]!) === OID_SHA384 && kids[1]!.tag === 0x04 && kids[1]!.value.length === 48) {
        return kids[1]!.value.slice();
      }
    }
    if (n.constructed) {
      const r = findSha384Fwid(n.value, depth + 1);
      if (r) return r;
    }
    off = n.end;
  }
  return undefined;
}

/** extnValue contents of the first extension with one of `oids`, from a certificate's DER. */
function findExtension(der: Uint8Array, oids: string[]): Uint8Array | undefined {
  let cert;
  try {
    cert = parseCertificate(der);
  } catch {
    return undefined;
  }
  return cert.extensions.find((e) => oids.includes(e.oid))?.value.slice();
}

/** One GPU / switch entry's verdict, before the entries are combined into one EvidenceVerdict. */
type EntryResult = Omit<EvidenceVerdict, 'kind' | 'verified'> & { ok: boolean };

function deviceKind(arch: string | undefined, leafCn: string | undefined): 'gpu' | 'nvswitch' {
  if ((arch ?? '').toUpperCase().startsWith('LS') || (leafCn ?? '').startsWith('LS_')) return 'nvswitch';
  return 'gpu';
}

function entryClaims(e: NvidiaEvidenceEntry, leafCn: string | undefined): Record<string, unknown> {
  const f = opaqueFields(e.report.response.tlvs);
  const measurements: Record<string, string> = {};
  for (const b of e.report.response.blocks) measurements[String(b.index)] = toHex(b.value);
  const cc = e.declared.ccMode?.toUpperCase();
  return {
    platform: 'nvidia-gpu',
    device: deviceKind(e.declared.arch, leafCn),
    arch: e.declared.arch ?? (leafCn ? leafCn.split(' ')[0] : undefined),
    spdmVersion: `${e.report.version >> 4}.${e.report.version & 0xf}`,
    nonce: e.report.request.nonce ? toHex(e.report.request.nonce) : null,
    driverVersion: (f.driver_version as string | undefined) ?? null,
    vbiosVersion: (f.vbios_version as string | undefined) ?? null,
    fwid: (f.fwid as string | undefined) ?? null,
    // CC mode is not a signed field of the report: it is what NVML said at acquisition (unsigned).
    ccMode: cc === undefined ? null : cc === 'ON' || cc === 'PPCIE' || cc === 'PROTECTED_PCIE',
    ccModeSource: cc === undefined ? 'not recorded in the evidence' : `NVML at acquisition (unsigned): ${cc}`,
    measurements,
    opaque: f,
  };
}

function rimChecks(e: NvidiaEvidenceEntry, claims: Record<string, unknown>, o: VerifyEvidenceOptions, at: Date): { code?: string; message?: string; summary?: Record<string, unknown> } {
  if (!o.rims || o.rims.length === 0) return {};
  const verified: ParsedRim[] = [];
  for (const r of o.rims) {
    const v = verifyRim(r, { at, allowSimulated: o.allowSimulated === true, simulatedRoots: o.simulatedRoots });
    // Codes pass through: NV_RIM_SIGNATURE, NV_RIM_MALFORMED, NV_RIM_UNSUPPORTED, NV_RIM_CHAIN_*, NV_RIM_CERT_EXPIRED, ...
    if (!v.ok) return { code: v.code, message: v.message };
    verified.push(v.rim);
  }
  // A firmware verdict needs the VBIOS RIM and, for a GPU, the driver RIM too (nvtrust fetches and
  // checks both): one alone leaves part of the measurements without reference values. The role is
  // told by the version's form (VBIOS: five dotted hex bytes; driver: 550.90.07), before versions are
  // compared, so a missing RIM is named as missing rather than as a version mismatch.
  const isVbios = (r: ParsedRim) => /^[0-9a-f]{2}(\.[0-9a-f]{2}){4}$/i.test(r.colloquialVersion ?? '');
  const needed = claims.device === 'nvswitch' ? ['VBIOS'] : ['driver', 'VBIOS'];
  const have = new Set<string>(verified.map((r) => (isVbios(r) ? 'VBIOS' : 'driver')));
  const missing = needed.filter((n) => !have.has(n));
  if (missing.length > 0) {
    return {
      code: 'NV_RIM_INCOMPLETE',
      message: `no ${missing.join(' and no ')} RIM among the ${verified.length} given (versions ${verified.map((r) => r.colloquialVersion ?? '(none)').join(', ')}): a firmware verdict needs ${needed.join(' and ')} RIMs for driver ${String(claims.driverVersion ?? '(none)')} / VBIOS ${String(claims.vbiosVersion ?? '(none)')}; give them all with --rims.`,
    };
  }
  const drv = String(claims.driverVersion ?? '').toLowerCase();
  const vb = String(claims.vbiosVersion ?? '').toLowerCase();
  const used: Record<string, string> = {};
  const golden = new Map<number, { alts: string[]; rim: string }>();
  for (const rim of verified) {
    const v = (rim.colloquialVersion ?? '').toLowerCase();
    const role = v === drv ? 'driver' : v === vb ? 'vbios' : undefined;
    if (!role) {
      return { code: 'NV_RIM_VERSION_MISMATCH', message: `RIM ${rim.tagId.slice(0, 16)}… is for version ${rim.colloquialVersion ?? '(none)'}, but the report says driver ${claims.driverVersion ?? '(none)'} and VBIOS ${claims.vbiosVersion ?? '(none)'}; supply the RIMs for this driver and VBIOS.` };
    }
    used[role] = rim.colloquialVersion ?? '';
    for (const m of rim.measurements) {
      if (!m.active) continue;
      if (golden.has(m.index)) return { code: 'NV_MEASUREMENT_MISMATCH', message: `measurement index ${m.index} is active in more than one RIM; the RIM set is inconsistent.` };
      golden.set(m.index, { alts: m.alternatives, rim: role });
    }
  }
  const byIndex = new Map(e.report.response.blocks.map((b) => [b.index, toHex(b.value)]));
  const mismatched: number[] = [];
  for (const [idx, g] of golden) {
    // RIM indices are 0-based; SPDM measurement blocks are numbered from 1.
    const actual = byIndex.get(idx + 1);
    if (actual === undefined || !g.alts.includes(actual)) mismatched.push(idx);
  }
  const summary = { driver: used.driver ?? null, vbios: used.vbios ?? null, compared: golden.size, mismatched };
  if (mismatched.length > 0) {
    return { code: 'NV_MEASUREMENT_MISMATCH', message: `${mismatched.length} measurement(s) differ from the signed reference values (RIM indices ${mismatched.slice(0, 8).join(', ')}${mismatched.length > 8 ? ', …' : ''}).`, summary };
  }
  return { summary };
}

function verifyEntry(e: NvidiaEvidenceEntry, o: VerifyEvidenceOptions, at: Date): EntryResult {
  const warnings: string[] = [];
  let ders = e.certs;
  if (!ders && o.certs) ders = o.certs.flatMap((c) => certificatesFromBytes(c));
  ders = ders ?? [];
  const leafCn = (() => {
    try {
      return ders.length > 0 ? subjectName(new X509Certificate(buf(ders[0]!))) : undefined;
    } catch {
      return undefined;
    }
  })();
  const claims = entryClaims(e, leafCn);
  const fail = (code: string, message: string, simulated = false, chain: string[] = []): EntryResult => ({ ok: false, simulated, code, message, chain, claims, warnings });

  const chain = verifyDeviceChain(ders, { pinnedRoots: nvidiaDeviceRoots(), at, allowSimulated: o.allowSimulated === true, simulatedRoots: o.simulatedRoots, prefix: 'NV' });
  if (!chain.ok) return fail(chain.code, chain.message, chain.simulated, chain.subjects);
  // An envelope that calls itself simulated is treated as simulated whatever chain it carries.
  if (e.declared.simulated === true && !chain.simulated) {
    if (o.allowSimulated !== true) return fail('EVIDENCE_SIMULATED', 'the evidence envelope is tagged simulated; it is refused unless simulated evidence is explicitly allowed (--allow-simulated).', true, chain.subjects);
    chain.simulated = true;
  }
  if (chain.certs.length < 2 || ders.length === 0 || chain.certs[0]!.subject === chain.certs[0]!.issuer) {
    return fail('NV_CHAIN_INCOMPLETE', `the chain has no device attestation (leaf) certificate, only "${chain.subjects[0]}"; supply the full chain the GPU returned (leaf first).`, chain.simulated, chain.subjects);
  }
  if (e.report.version !== 0x11) {
    return fail('NV_UNSUPPORTED_VERSION', `SPDM ${e.report.version >> 4}.${e.report.version & 0xf} reports are signed over a signing context this verifier does not implement; only SPDM 1.1 (Hopper, Blackwell, NVSwitch LS10) is supported.`, chain.simulated, chain.subjects);
  }
  if (!e.report.signature || !e.report.request.nonce) {
    return fail('NV_UNSIGNED_REPORT', 'the GET_MEASUREMENTS request did not ask for a signature, so the report proves nothing; request it with a nonce.', chain.simulated, chain.subjects);
  }
  let sigOk = false;
  try {
    sigOk = cryptoVerify('sha384', buf(e.report.signedBytes), chain.certs[0]!.publicKey, buf(rawEcdsaToDer(e.report.signature)));
  } catch {
    sigOk = false;
  }
  if (!sigOk) {
    return fail('NV_BAD_SIGNATURE', `the SPDM measurement signature does not verify with the key of "${chain.subjects[0]}": the report was altered or the chain belongs to another device.`, chain.simulated, chain.subjects);
  }
  const nonce = e.report.request.nonce;
  if (o.expectedNonce) {
    if (!bytesEqual(nonce, o.expectedNonce)) {
      return fail('NV_NONCE_MISMATCH', `the report's nonce ${toHex(nonce)} is not the expected ${toHex(o.expectedNonce)}: the report was taken for another request (replay?).`, chain.simulated, chain.subjects);
    }
  } else {
    warnings.push('nonce not checked: no expected nonce was given, so freshness is not proven');
  }
  if (e.declared.nonce !== undefined && e.declared.nonce !== toHex(nonce)) {
    return fail('NV_NONCE_MISMATCH', `the envelope declares nonce ${e.declared.nonce} but the signed report carries ${toHex(nonce)}.`, chain.simulated, chain.subjects);
  }
  const certFwid = leafFwid(ders[0]!);
  const fwidTlv = e.report.response.tlvs.find((t) => t.type === 20)?.value;
  if (certFwid && fwidTlv) {
    if (!bytesEqual(certFwid, fwidTlv)) {
      return fail('NV_FWID_MISMATCH', `the report's FWID ${toHex(fwidTlv)} differs from the FWID ${toHex(certFwid)} in the leaf certificate: the firmware that signed is not the one the certificate was issued to.`, chain.simulated, chain.subjects);
    }
    claims.fwidBound = true;
  } else if (!fwidTlv && claims.device === 'nvswitch') {
    // NVSwitch (LS10) reports carry no FWID opaque field (nvtrust checks none for switches).
    claims.fwidBound = false;
    warnings.push('NVSwitch report: no FWID opaque field, firmware binding to the leaf certificate not checked');
  } else if (certFwid || fwidTlv) {
    return fail('NV_FWID_MISMATCH', certFwid ? 'the leaf certificate carries an FWID but the report has no FWID opaque field.' : 'the report carries an FWID but the leaf certificate has no TCG DICE FWID extension.', chain.simulated, chain.subjects);
  } else {
    claims.fwidBound = false;
    warnings.push('no FWID in the report or leaf certificate (NVSwitch reports have none): firmware binding not checked');
  }
  const f = claims.opaque as Record<string, unknown>;
  if (e.declared.driverVersion && f.driver_version && e.declared.driverVersion !== f.driver_version) {
    warnings.push(`the envelope says driver ${e.declared.driverVersion}, the signed report says ${String(f.driver_version)}; the signed value is used`);
  }
  if (e.declared.vbiosVersion && f.vbios_version && e.declared.vbiosVersion.toLowerCase() !== String(f.vbios_version).toLowerCase()) {
    warnings.push(`the envelope says VBIOS ${e.declared.vbiosVersion}, the signed report says ${String(f.vbios_version)}; the signed value is used`);
  }
  const rim = rimChecks(e, claims, o, at);
  if (rim.summary) claims.rim = rim.summary;
  if (rim.code) return fail(rim.code, rim.message ?? rim.code, chain.simulated, chain.subjects);
  if (!o.rims || o.rims.length === 0) warnings.push('no RIMs given: measurements were not compared with NVIDIA reference values (and certificate revocation (OCSP) is never checked offline)');
  if (claims.ccMode === null) warnings.push('GPU CC mode is not recorded in this evidence (the SPDM report has no CC-mode field)');
  if (e.report.trailingBytes > 0) {
    claims.trailingBytes = e.report.trailingBytes;
    warnings.push(`${e.report.trailingBytes} byte${e.report.trailingBytes === 1 ? '' : 's'} after the end of the SPDM report (by its own length fields) were ignored: no signature covers them.`);
  }
  if (chain.simulated) warnings.unshift('SIMULATED evidence: accepted only because allowSimulated was set; it says nothing about real hardware');
  return { ok: true, simulated: chain.simulated, message: 'verified', chain: chain.subjects, claims, warnings };
}

/**
 * Verifies NVIDIA evidence cryptographically (throws InputError — NV_MALFORMED_REPORT,
 * EVIDENCE_TRUNCATED, NV_UNSUPPORTED_VERSION — for evidence that cannot be read, like the SEV-SNP
 * and TDX verifiers): for every device, the certificate chain to the pinned
 * NVIDIA Device Identity CA (valid at `options.at`), the SPDM 1.1 report signature (ECDSA P-384 over
 * SHA-384 of request ‖ response-without-signature) with the leaf key, the request nonce against
 * `options.expectedNonce`, the FWID binding (leaf TCG DICE extension == opaque FWID), and, when
 * `options.rims` are given, each RIM's XML signature and chain to the pinned CoRIM root, its version
 * and the measurements. Evidence that parses never throws: failures are verdicts with a stable code.
 */
export async function verifyNvidiaEvidence(bytes: Uint8Array, options: VerifyEvidenceOptions = {}): Promise<EvidenceVerdict> {
  const at = options.at ?? new Date();
  // Unreadable evidence throws (exit 2), as for SEV-SNP and TDX: it is bad input, not a refusal.
  const ev = parseNvidiaEvidence(bytes);
  const results = ev.entries.map((e) => verifyEntry(e, options, at));
  const simulated = results.some((r) => r.simulated);
  const bad = results.findIndex((r) => !r.ok);
  const first = results[0]!;
  if (results.length === 1) {
    const message = first.ok ? `NVIDIA ${String(first.claims.device)} report verified: ${headline([first.claims], simulated, options)}` : first.message;
    return { kind: 'nvidia-gpu', verified: first.ok, simulated, ...(first.code ? { code: first.code } : {}), message, chain: first.chain, claims: first.claims, warnings: first.warnings };
  }
  const devices = results.map((r) => r.claims);
  const nonces = new Set(devices.map((d) => d.nonce));
  const ccModes = devices.map((d) => d.ccMode);
  const claims: Record<string, unknown> = {
    platform: 'nvidia-gpu',
    deviceCount: results.length,
    nonce: nonces.size === 1 ? devices[0]!.nonce : null,
    ccMode: ccModes.every((c) => c === true) ? true : ccModes.some((c) => c === false) ? false : null,
    driverVersion: devices.find((d) => d.device === 'gpu')?.driverVersion ?? null,
    vbiosVersion: devices.find((d) => d.device === 'gpu')?.vbiosVersion ?? null,
    devices,
  };
  const warnings = results.flatMap((r, i) => r.warnings.map((w) => `device ${i}: ${w}`));
  if (bad >= 0) {
    const r = results[bad]!;
    return { kind: 'nvidia-gpu', verified: false, simulated, code: r.code!, message: `device ${bad} of ${results.length}: ${r.message}`, chain: r.chain, claims, warnings };
  }
  return { kind: 'nvidia-gpu', verified: true, simulated, message: `${results.length} NVIDIA device reports verified: ${headline(devices, simulated, options)}`, chain: first.chain, claims, warnings };
}

/**
 * What a verified NVIDIA verdict proves, in three words each: the device (genuine: chain to the
 * NVIDIA Device Identity CA and a valid signature), the nonce (fresh only when an expected nonce was
 * compared) and the firmware (checked only when driver and VBIOS RIMs were compared).
 */
function headline(devices: Record<string, unknown>[], simulated: boolean, o: VerifyEvidenceOptions): string {
  const kinds = new Set(devices.map((d) => (d.device === 'nvswitch' ? 'NVSwitch' : 'GPU')));
  const what = kinds.size === 1 ? [...kinds][0]! + (devices.length > 1 ? 's' : '') : 'devices';
  const device = simulated ? `SIMULATED ${what} (not real hardware)` : `genuine ${what}`;
  const nonce = o.expectedNonce ? 'fresh nonce' : 'nonce not checked (no expected nonce given)';
  const rims = devices.map((d) => d.rim as { compared?: number } | undefined);
  const firmware = rims.every((r) => r !== undefined)
    ? `firmware matches the signed RIMs (${rims.reduce((n, r) => n + (r!.compared ?? 0), 0)} measurements compared)`
    : 'firmware not checked (no RIMs given)';
  return `${device}, ${nonce}, ${firmware}`;
}
