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
import { type KeyObject, createHash, generateKeyPair, generateKeyPairSync, randomBytes, sign as cryptoSign } from 'node:crypto';
import { promisify } from 'node:util';
import type { EvidenceKind } from '../core/types.js';
import type { CollectedEvidence, EvidenceSource } from '../core/types.js';
import { ByteWriter, buf, concatBytes, toHex } from '../../crypto/bytes.js';
import { derToPem } from '../../crypto/pem.js';
import { buildSpdmMeasurements } from '../nvidia/spdm.js';
import { canonicalize, parseXml, type XmlElement } from '../nvidia/rim.js';
import {
  TDISP_BINDING_BLOCK_INDEX,
  buildInterfaceReportMessage,
  buildInterfaceReportStruct,
  buildInterfaceStateMessage,
  tdispBindingDigest,
} from '../tdisp/index.js';
import { buildCertificate, ia5, int, octets, oid, seq, type SimExtension, type SimSignatureAlgorithm } from './certs.js';
import { SIMULATED_MARKER, registerSimulatedRoots } from '../roots/simulated.js';

export { SIMULATED_MARKER, EVIDENCE_SIMULATED, isSimulatedRoot, isSimulatedCertificate, simulatedTrustAnchors } from '../roots/simulated.js';

/** One piece of simulated evidence. */
export interface SimulatedEvidence {
  kind: EvidenceKind;
  /** The evidence in the platform's real layout (NVIDIA: nvtrust-style JSON envelope around the SPDM bytes). */
  evidence: Uint8Array;
  /** DER certificate chain, leaf first, ending with the simulated root. */
  certs: Uint8Array[];
  simulated: true;
  /** NVIDIA only: the raw SPDM GET_MEASUREMENTS request ‖ response inside `evidence`. */
  spdm?: Uint8Array;
}

/** The roots (DER) one simulated platform generated. */
export interface SimulatedRoots {
  amdArk: Uint8Array;
  intelRoot: Uint8Array;
  nvidiaDevice: Uint8Array;
  nvidiaRim: Uint8Array;
  tdispDevice: Uint8Array;
}

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

const genEc = (curve: 'P-256' | 'P-384'): { publicKey: KeyObject; privateKey: KeyObject } => generateKeyPairSync('ec', { namedCurve: curve });
const genRsa = promisify(generateKeyPair);

interface Issued {
  der: Uint8Array;
  key: { publicKey: KeyObject; privateKey: KeyObject };
  name: [string, string][];
}

function issue(
  name: [string, string][],
  key: { publicKey: KeyObject; privateKey: KeyObject },
  issuer: Issued | undefined,
  algorithm: SimSignatureAlgorithm,
  validity: { notBefore: Date; notAfter: Date },
  isCA: boolean,
  extensions: SimExtension[] = [],
): Issued {
  const der = buildCertificate({
    subject: name,
    issuer: issuer ? issuer.name : name,
    publicKey: key.publicKey,
    signingKey: issuer ? issuer.key.privateKey : key.privateKey,
    algorithm,
    ...validity,
    isCA,
    extensions,
  });
  return { der, key, name };
}

const sha384 = (s: string | Uint8Array): Uint8Array => new Uint8Array(createHash('sha384').update(s).digest());
const sha256 = (...parts: Uint8Array[]): Uint8Array => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};

/** ECDSA signature as raw big-endian r‖s. */
function signRaw(hash: 'sha256' | 'sha384', data: Uint8Array, key: KeyObject): Uint8Array {
  return new Uint8Array(cryptoSign(hash, buf(data), { key, dsaEncoding: 'ieee-p1363' }));
}

function padTo(b: Uint8Array, n: number, what: string): Uint8Array {
  if (b.length > n) throw new RangeError(`${what} must be at most ${n} bytes, got ${b.length}`);
  const out = new Uint8Array(n);
  out.set(b);
  return out;
}

function checkBytes(v: unknown, name: string): asserts v is Uint8Array {
  if (!(v instanceof Uint8Array)) throw new TypeError(`${name} must be a Uint8Array`);
}

// --- AMD SEV-SNP -------------------------------------------------------------------------------

const AMD_OID = '1.3.6.1.4.1.3704.1';
const SNP_TCB = { bootloader: 3, tee: 0, snp: 20, microcode: 209 };

function milanTcb(t: typeof SNP_TCB): Uint8Array {
  const b = new Uint8Array(8);
  b[0] = t.bootloader;
  b[1] = t.tee;
  b[6] = t.snp;
  b[7] = t.microcode;
  return b;
}

// --- Intel TDX ---------------------------------------------------------------------------------

const SGX_EXT = '1.2.840.113741.1.13.1';
const INTEL_QE_VENDOR_ID = new Uint8Array(Buffer.from('939a7233f79c4ca9940a0db3957f0607', 'hex'));

function pckExtension(fmspc: Uint8Array): Uint8Array {
  const tcb: Uint8Array[] = [];
  for (let i = 1; i <= 16; i++) tcb.push(seq(oid(`${SGX_EXT}.2.${i}`), int(i <= 2 ? 5 : 0)));
  tcb.push(seq(oid(`${SGX_EXT}.2.17`), int(13)));
  tcb.push(seq(oid(`${SGX_EXT}.2.18`), octets(new Uint8Array(16).fill(5, 0, 2))));
  return seq(
    seq(oid(`${SGX_EXT}.1`), octets(new Uint8Array(randomBytes(16)))),
    seq(oid(`${SGX_EXT}.2`), seq(...tcb)),
    seq(oid(`${SGX_EXT}.3`), octets(new Uint8Array([0, 0]))),
    seq(oid(`${SGX_EXT}.4`), octets(fmspc)),
    seq(oid(`${SGX_EXT}.5`), new Uint8Array([0x0a, 0x01, 0x00])),
  );
}

// --- NVIDIA ------------------------------------------------------------------------------------

const GPU_DRIVER = '570.124.06';
const GPU_VBIOS_BYTES = new Uint8Array([0x00, 0xa5, 0x00, 0x96, 0x01, 0x00, 0x00, 0x00]); // 96.00.a5.00.01
const GPU_VBIOS = '96.00.a5.00.01';
const GPU_MEASUREMENT_COUNT = 64;
/** RIM indices (0-based) the simulated VBIOS and driver RIMs mark active; the rest are inactive. */
const VBIOS_ACTIVE = (i: number): boolean => i < 20;
const DRIVER_ACTIVE = (i: number): boolean => i >= 20 && i < 40;

function gpuMeasurement(i: number): Uint8Array {
  return VBIOS_ACTIVE(i - 1) || DRIVER_ACTIVE(i - 1) ? sha384(`SIMULATED GH100 measurement ${i}`) : new Uint8Array(48);
}

function rimXml(kind: 'driver' | 'vbios', version: string, signerChain: Issued[]): string {
  const res: string[] = [];
  for (let i = 0; i < GPU_MEASUREMENT_COUNT; i++) {
    const active = kind === 'vbios' ? VBIOS_ACTIVE(i) : DRIVER_ACTIVE(i);
    const v = active ? toHex(gpuMeasurement(i + 1)) : '0'.repeat(96);
    res.push(`        <ns0:Resource type="Measurement" index="${i}" active="${active ? 'True' : 'False'}" alternatives="1" ns2:Hash0="${v}" name="Measurement_${i}" size="48"/>`);
  }
  const certs = signerChain.map((c) => `<ds:X509Certificate>${buf(c.der).toString('base64')}</ds:X509Certificate>`).join('');
  return [
    `<SoftwareIdentity xmlns="http://standards.iso.org/iso/19770/-2/2015/schema.xsd" xmlns:ns0="http://standards.iso.org/iso/19770/-2/2015/schema.xsd" xmlns:ns2="http://www.w3.org/2001/04/xmlenc#sha384" corpus="false" name="SIMULATED GH100" patch="false" supplemental="false" tagId="${toHex(sha384(`SIMULATED ${kind} RIM ${version}`))}" version="1.0" tagVersion="0">`,
    `    <ns0:Entity name="SIMULATED (not NVIDIA)" role="softwareCreator tagCreator"/>`,
    `    <ns0:Meta xmlns:ns1="https://trustedcomputinggroup.org/resource/tcg-reference-integrity-manifest-rim-information-model/" colloquialVersion="${version}" edition="${kind === 'driver' ? 'Driver' : 'GPU'}" product="GH100" revision="r1" PayloadType="direct" ns1:BindingSpec="RIMIM" ns1:BindingSpecVersion="1.01" ns1:PlatformManufacturerStr="${SIMULATED_MARKER}"/>`,
    `    <ns0:Payload>`,
    ...res,
    `    </ns0:Payload>`,
    `<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2006/12/xml-c14n11"/><ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384"/><ds:Reference URI=""><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/><ds:Transform Algorithm="http://www.w3.org/2006/12/xml-c14n11"/></ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#sha384"/><ds:DigestValue>@DIGEST@</ds:DigestValue></ds:Reference></ds:SignedInfo><ds:SignatureValue>@SIGNATURE@</ds:SignatureValue><ds:KeyInfo><ds:X509Data>${certs}</ds:X509Data></ds:KeyInfo></ds:Signature></SoftwareIdentity>`,
    '',
  ].join('\n');
}

function findChild(el: XmlElement, local: string): XmlElement {
  for (const c of el.children) {
    if (typeof c === 'string') continue;
    if (c.qname.endsWith(`:${local}`) || c.qname === local) return c;
    const r = (() => {
      try {
        return findChild(c, local);
      } catch {
        return undefined;
      }
    })();
    if (r) return r;
  }
  throw new Error(`no ${local}`);
}

/** Signs a RIM the way NVIDIA does: enveloped XML-DSig, C14N 1.1, ECDSA P-384 / SHA-384. */
function signRim(xml: string, signer: KeyObject): Uint8Array {
  const doc = parseXml(xml);
  const sig = findChild(doc, 'Signature');
  const digest = buf(sha384(canonicalize(doc, sig))).toString('base64');
  const withDigest = xml.replace('@DIGEST@', digest);
  const si = findChild(parseXml(withDigest), 'SignedInfo');
  const value = buf(signRaw('sha384', new Uint8Array(Buffer.from(canonicalize(si), 'utf8')), signer)).toString('base64');
  return new Uint8Array(Buffer.from(withDigest.replace('@SIGNATURE@', value), 'utf8'));
}

// --- the platform ------------------------------------------------------------------------------

/**
 * Creates a simulated platform with fresh keys and SIMULATED roots (a few hundred milliseconds:
 * two RSA keys for the AMD-like ARK/ASK). Certificates are valid from one day before creation for ten years.
 */
export async function createSimulatedPlatform(o: { now?: Date } = {}): Promise<SimulatedPlatform> {
  const now = o.now ?? new Date();
  const validity = { notBefore: new Date(now.getTime() - 86_400_000), notAfter: new Date(now.getTime() + 10 * 365 * 86_400_000) };
  const rsa = async (): Promise<{ publicKey: KeyObject; privateKey: KeyObject }> => genRsa('rsa', { modulusLength: 2048 });
  const [arkKey, askKey] = await Promise.all([rsa(), rsa()]);
  const amdO: [string, string] = ['O', `${SIMULATED_MARKER} AMD (not AMD)`];

  // AMD: ARK-Milan ← SEV-Milan ← SEV-VCEK, RSASSA-PSS like AMD's, VCEK EC P-384 with the KDS extensions.
  const chipId = new Uint8Array(randomBytes(64));
  const ark = issue([['CN', 'ARK-Milan'], amdO], arkKey, undefined, 'rsa-pss-sha384', validity, true);
  const ask = issue([['CN', 'SEV-Milan'], amdO], askKey, ark, 'rsa-pss-sha384', validity, true);
  const vcekExt = (suffix: string, value: Uint8Array): SimExtension => ({ oid: `${AMD_OID}.${suffix}`, value });
  const vcek = issue([['CN', 'SEV-VCEK'], amdO], genEc('P-384'), ask, 'rsa-pss-sha384', validity, false, [
    vcekExt('1', int(0)),
    vcekExt('2', ia5('Milan-B0')),
    vcekExt('3.1', int(SNP_TCB.bootloader)),
    vcekExt('3.2', int(SNP_TCB.tee)),
    vcekExt('3.3', int(SNP_TCB.snp)),
    vcekExt('3.4', int(0)),
    vcekExt('3.5', int(0)),
    vcekExt('3.6', int(0)),
    vcekExt('3.7', int(0)),
    vcekExt('3.8', int(SNP_TCB.microcode)),
    vcekExt('4', octets(chipId)),
  ]);
  const snpMeasurement = sha384('SIMULATED SEV-SNP launch measurement');

  // Intel: Root CA ← PCK Platform CA ← PCK certificate (P-256), QE attestation key.
  const intelO: [string, string] = ['O', `${SIMULATED_MARKER} Intel (not Intel)`];
  const intelRoot = issue([['CN', 'SIMULATED Intel SGX Root CA (NOT INTEL)'], intelO], genEc('P-256'), undefined, 'ecdsa-sha256', validity, true);
  const intelCa = issue([['CN', 'SIMULATED Intel SGX PCK Platform CA'], intelO], genEc('P-256'), intelRoot, 'ecdsa-sha256', validity, true);
  const fmspc = new Uint8Array([0x00, 0x80, 0x6f, 0x05, 0x00, 0x00]);
  const pck = issue([['CN', 'SIMULATED Intel SGX PCK Certificate'], intelO], genEc('P-256'), intelCa, 'ecdsa-sha256', validity, false, [{ oid: SGX_EXT, value: pckExtension(fmspc) }]);
  const attKey = genEc('P-256');
  const mrtd = sha384('SIMULATED TDX MRTD');
  const rtmrs = [0, 1, 2, 3].map((i) => sha384(`SIMULATED TDX RTMR${i}`));
  const pckPem = new Uint8Array(Buffer.from([pck, intelCa, intelRoot].map((c) => derToPem(c.der)).join('') + '\0', 'latin1'));

  // NVIDIA: 5-certificate GPU chain (P-384) with a TCG DICE FWID extension on the leaf; RIM signer chain.
  const nvO: [string, string] = ['O', `${SIMULATED_MARKER} NVIDIA (not NVIDIA)`];
  const nvRoot = issue([['CN', 'SIMULATED NVIDIA Device Identity CA'], nvO], genEc('P-384'), undefined, 'ecdsa-sha384', validity, true);
  const nvIdentity = issue([['CN', 'SIMULATED NVIDIA GH100 Identity'], nvO], genEc('P-384'), nvRoot, 'ecdsa-sha384', validity, true);
  const nvIca = issue([['CN', 'SIMULATED NVIDIA GH100 Provisioner ICA 1'], nvO], genEc('P-384'), nvIdentity, 'ecdsa-sha384', validity, true);
  const nvBrom = issue([['CN', 'SIMULATED GH100 A01 GSP BROM'], nvO], genEc('P-384'), nvIca, 'ecdsa-sha384', validity, true);
  const fwid = sha384('SIMULATED GH100 GSP FMC firmware');
  const leafKey = genEc('P-384');
  const diceKey = genEc('P-384');
  const tcbInfo = seq(int(1), new Uint8Array(diceKey.publicKey.export({ type: 'spki', format: 'der' })), seq(oid('2.16.840.1.101.3.4.2.2'), octets(fwid)));
  const nvLeaf = issue([['CN', 'SIMULATED GH100 A01 GSP FMC LF'], nvO], leafKey, nvBrom, 'ecdsa-sha384', validity, false, [{ oid: '2.23.133.5.4.1', value: tcbInfo }]);
  const gpuChain = [nvLeaf, nvBrom, nvIca, nvIdentity, nvRoot];
  const rimRoot = issue([['CN', 'SIMULATED NVIDIA CoRIM signing Root CA'], nvO], genEc('P-384'), undefined, 'ecdsa-sha384', validity, true);
  const rimSigner = issue([['CN', 'SIMULATED HCC RIM Signer'], nvO], genEc('P-384'), rimRoot, 'ecdsa-sha384', validity, false);

  // TDISP: a device (DSM) chain.
  const tdO: [string, string] = ['O', `${SIMULATED_MARKER} PCIe device (no vendor)`];
  const tdRoot = issue([['CN', 'SIMULATED TDISP Device Root CA'], tdO], genEc('P-384'), undefined, 'ecdsa-sha384', validity, true);
  const dsm = issue([['CN', 'SIMULATED TDISP DSM'], tdO], genEc('P-384'), tdRoot, 'ecdsa-sha384', validity, false);

  const roots: SimulatedRoots = { amdArk: ark.der, intelRoot: intelRoot.der, nvidiaDevice: nvRoot.der, nvidiaRim: rimRoot.der, tdispDevice: tdRoot.der };
  const trustAnchors = Object.values(roots);
  registerSimulatedRoots(trustAnchors);

  const snpReport = (reportData: Uint8Array): SimulatedEvidence => {
    checkBytes(reportData, 'reportData');
    const tcb = milanTcb(SNP_TCB);
    const w = new ByteWriter()
      .u32(3) // VERSION
      .u32(1) // GUEST_SVN
      .u64(0x30000n) // POLICY: SMT allowed, reserved bit 17, debug off
      .zeros(16) // FAMILY_ID
      .zeros(16) // IMAGE_ID
      .u32(0) // VMPL
      .u32(1) // SIGNATURE_ALGO: ECDSA P-384 / SHA-384
      .bytes(tcb) // CURRENT_TCB
      .u64(1n) // PLATFORM_INFO: SMT enabled
      .u32(0) // KEY_INFO: VCEK
      .u32(0)
      .bytes(padTo(reportData, 64, 'reportData'))
      .bytes(snpMeasurement)
      .zeros(32) // HOST_DATA
      .zeros(48) // ID_KEY_DIGEST
      .zeros(48) // AUTHOR_KEY_DIGEST
      .bytes(new Uint8Array(randomBytes(32))) // REPORT_ID
      .bytes(new Uint8Array(32).fill(0xff)) // REPORT_ID_MA: no migration agent
      .bytes(tcb) // REPORTED_TCB
      .u8(0x19)
      .u8(0x01)
      .u8(0x01) // CPUID family/model/stepping: Milan
      .zeros(21)
      .bytes(chipId)
      .bytes(tcb) // COMMITTED_TCB
      .u8(4)
      .u8(55)
      .u8(1)
      .u8(0) // CURRENT build/minor/major
      .u8(4)
      .u8(55)
      .u8(1)
      .u8(0) // COMMITTED build/minor/major
      .bytes(tcb); // LAUNCH_TCB
    w.zeros(0x2a0 - w.length);
    const signed = w.finish();
    const rs = signRaw('sha384', signed, vcek.key.privateKey);
    // R and S are stored little-endian, zero-extended to 72 bytes each.
    const le = (x: Uint8Array): Uint8Array => padTo(x.slice().reverse(), 72, 'signature component');
    const report = concatBytes(signed, le(rs.subarray(0, 48)), le(rs.subarray(48)), new Uint8Array(0x4a0 - 0x2a0 - 144));
    return { kind: 'sev-snp', evidence: report, certs: [vcek.der, ask.der, ark.der], simulated: true };
  };

  const tdxQuote = (reportData: Uint8Array): SimulatedEvidence => {
    checkBytes(reportData, 'reportData');
    const header = new ByteWriter().u16(4).u16(2).u32(0x81).u32(0).bytes(INTEL_QE_VENDOR_ID).zeros(20).finish();
    const bodyW = new ByteWriter()
      .bytes(new Uint8Array([0x03, 0x01, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])) // TEE_TCB_SVN
      .bytes(sha384('SIMULATED TDX module')) // MRSEAM
      .zeros(48) // MRSIGNERSEAM (Intel module: zero)
      .zeros(8) // SEAM_ATTRIBUTES
      .u64(0x10000000n) // TD_ATTRIBUTES: SEPT_VE_DISABLE, debug off
      .u64(0x61ae7n) // XFAM
      .bytes(mrtd)
      .zeros(48 * 3); // MRCONFIGID, MROWNER, MROWNERCONFIG
    for (const r of rtmrs) bodyW.bytes(r);
    bodyW.bytes(padTo(reportData, 64, 'reportData'));
    const signedRegion = concatBytes(header, bodyW.finish());
    const sig = signRaw('sha256', signedRegion, attKey.privateKey);
    const jwk = attKey.publicKey.export({ format: 'jwk' });
    const attPub = concatBytes(new Uint8Array(Buffer.from(jwk.x!, 'base64url')), new Uint8Array(Buffer.from(jwk.y!, 'base64url')));
    const authData = new Uint8Array(32).map((_, i) => i);
    const qeRd = concatBytes(sha256(attPub, authData), new Uint8Array(32));
    const qeReport = new ByteWriter()
      .bytes(new Uint8Array(16).fill(3)) // CPUSVN
      .u32(0) // MISCSELECT
      .zeros(28)
      .bytes(new Uint8Array([0x11, 0, 0, 0, 0, 0, 0, 0, 0xe7, 0, 0, 0, 0, 0, 0, 0])) // ATTRIBUTES
      .bytes(sha256(new Uint8Array(Buffer.from('SIMULATED TD QE MRENCLAVE'))))
      .zeros(32)
      .bytes(sha256(new Uint8Array(Buffer.from('SIMULATED TD QE MRSIGNER'))))
      .zeros(96)
      .u16(2) // ISVPRODID: TD QE
      .u16(8) // ISVSVN
      .zeros(60)
      .bytes(qeRd)
      .finish();
    const qeSig = signRaw('sha256', qeReport, pck.key.privateKey);
    const inner = new ByteWriter().u16(5).u32(pckPem.length).bytes(pckPem).finish();
    const certData = concatBytes(qeReport, qeSig, new ByteWriter().u16(authData.length).bytes(authData).finish(), inner);
    const sigData = concatBytes(sig, attPub, new ByteWriter().u16(6).u32(certData.length).finish(), certData);
    const quote = concatBytes(signedRegion, new ByteWriter().u32(sigData.length).finish(), sigData);
    return { kind: 'tdx', evidence: quote, certs: [pck.der, intelCa.der, intelRoot.der], simulated: true };
  };

  const spdmSigned = (nonce: Uint8Array, blocks: { index: number; valueType: number; value: Uint8Array }[], tlvs: { type: number; value: Uint8Array }[], key: KeyObject): Uint8Array => {
    const unsigned = buildSpdmMeasurements({ nonce, responderNonce: new Uint8Array(randomBytes(32)), blocks, tlvs });
    return concatBytes(unsigned, signRaw('sha384', unsigned, key));
  };

  const nvidiaReport = (nonce: Uint8Array): SimulatedEvidence => {
    checkBytes(nonce, 'nonce');
    if (nonce.length !== 32) throw new RangeError(`nonce must be 32 bytes, got ${nonce.length}`);
    const blocks = [];
    for (let i = 1; i <= GPU_MEASUREMENT_COUNT; i++) blocks.push({ index: i, valueType: 1, value: gpuMeasurement(i) });
    const text = (s: string, n = s.length + 1): Uint8Array => padTo(new Uint8Array(Buffer.from(s, 'latin1')), n, s);
    const counts = new ByteWriter();
    for (let i = 0; i < GPU_MEASUREMENT_COUNT; i++) counts.u32(VBIOS_ACTIVE(i) || DRIVER_ACTIVE(i) ? 1 : 0);
    const tlvs = [
      { type: 6, value: GPU_VBIOS_BYTES },
      { type: 14, value: new Uint8Array([0xb1, 0x03, 0, 0]) },
      { type: 15, value: text('882', 9) },
      { type: 16, value: text('0', 5) },
      { type: 17, value: text('1010') },
      { type: 18, value: text('0200') },
      { type: 19, value: new Uint8Array(2) },
      { type: 3, value: text(GPU_DRIVER) },
      { type: 4, value: new Uint8Array([0x80, 0x01, 0, 0, 0, 0, 0, 0]) },
      { type: 12, value: counts.finish() },
      { type: 13, value: new Uint8Array([0, 0xc0, 1, 0]) },
      { type: 11, value: text('U', 1) },
      { type: 20, value: fwid },
      { type: 21, value: text('U', 1) },
    ];
    const spdm = spdmSigned(nonce, blocks, tlvs, leafKey.privateKey);
    const envelope = {
      arch: 'HOPPER',
      version: '1.0',
      nonce: toHex(nonce),
      evidence: buf(spdm).toString('base64'),
      certificate: buf(new Uint8Array(Buffer.from(gpuChain.map((c) => derToPem(c.der)).join(''), 'latin1'))).toString('base64'),
      driver_version: GPU_DRIVER,
      vbios_version: GPU_VBIOS.toUpperCase(),
      cc_mode: 'ON',
      simulated: true,
    };
    return { kind: 'nvidia-gpu', evidence: new Uint8Array(Buffer.from(JSON.stringify(envelope), 'utf8')), certs: gpuChain.map((c) => c.der), simulated: true, spdm };
  };

  let rims: Uint8Array[] | undefined;
  const nvidiaRims = (): Uint8Array[] => {
    rims ??= [
      signRim(rimXml('driver', GPU_DRIVER, [rimSigner, rimRoot]), rimSigner.key.privateKey),
      signRim(rimXml('vbios', GPU_VBIOS.toUpperCase(), [rimSigner, rimRoot]), rimSigner.key.privateKey),
    ];
    return rims.map((r) => r.slice());
  };

  const functionId = 0x0100; // bus 01, device 00, function 0
  const tdispReport = (nonce: Uint8Array): SimulatedEvidence => {
    checkBytes(nonce, 'nonce');
    if (nonce.length !== 32) throw new RangeError(`nonce must be 32 bytes, got ${nonce.length}`);
    const report = buildInterfaceReportStruct({
      interfaceInfo: 0x01 | 0x02, // NO_UPDATE_AFTER_LOCK, DMA_WITHOUT_PASID
      msixMessageControl: 0x0007,
      lnrControl: 0,
      tphControl: 0,
      mmioRanges: [
        { firstPage: 0x80000n, numberOfPages: 256, attributes: 0, rangeId: 0 },
        { firstPage: 0x80100n, numberOfPages: 1, attributes: 0x01, rangeId: 1 },
        { firstPage: 0x80101n, numberOfPages: 1, attributes: 0x02, rangeId: 1 },
      ],
      deviceSpecificInfo: new Uint8Array(Buffer.from(`${SIMULATED_MARKER} device`, 'latin1')),
    });
    const reportMsg = buildInterfaceReportMessage(functionId, report);
    const stateMsg = buildInterfaceStateMessage(functionId, 2); // RUN
    const blocks = [
      { index: 1, valueType: 0, value: sha384('SIMULATED DSM ROM') },
      { index: 2, valueType: 1, value: sha384('SIMULATED DSM firmware') },
      { index: TDISP_BINDING_BLOCK_INDEX, valueType: 0x09, value: tdispBindingDigest(reportMsg, stateMsg) },
    ];
    const spdm = spdmSigned(nonce, blocks, [], dsm.key.privateKey);
    return { kind: 'tdisp', evidence: concatBytes(reportMsg, stateMsg, spdm), certs: [dsm.der, tdRoot.der], simulated: true };
  };

  const evidenceSource = (so: { cpu?: 'sev-snp' | 'tdx' | 'none'; gpu?: boolean; tdisp?: boolean } = {}): EvidenceSource => {
    const cpu = so.cpu ?? 'sev-snp';
    const collected = (e: SimulatedEvidence): CollectedEvidence => ({ kind: e.kind, data: e.evidence, certs: e.certs, provider: 'simulated', simulated: true, collectedAt: new Date() });
    return {
      description: `${SIMULATED_MARKER} platform (not real hardware): ${[cpu !== 'none' ? cpu : '', so.gpu !== false ? 'nvidia-gpu' : '', so.tdisp ? 'tdisp' : ''].filter(Boolean).join(' + ')}`,
      simulated: true,
      async collectDevices(nonce: Uint8Array): Promise<CollectedEvidence[]> {
        const out: CollectedEvidence[] = [];
        if (so.gpu !== false) out.push(collected(nvidiaReport(nonce)));
        if (so.tdisp) out.push(collected(tdispReport(nonce)));
        return out;
      },
      async collectCpu(reportData: Uint8Array): Promise<CollectedEvidence | null> {
        if (cpu === 'none') return null;
        return collected(cpu === 'tdx' ? tdxQuote(reportData) : snpReport(reportData));
      },
    };
  };

  return {
    roots,
    trustAnchors,
    measurements: { snp: toHex(snpMeasurement), mrtd: toHex(mrtd), rtmrs: rtmrs.map(toHex), gpuDriver: GPU_DRIVER, gpuVbios: GPU_VBIOS },
    snpReport,
    tdxQuote,
    nvidiaReport,
    nvidiaRims,
    tdispReport,
    evidenceSource,
  };
}
