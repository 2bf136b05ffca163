/**
 * Simulated device evidence: an NVIDIA H100-like SPDM 1.1 measurement report in an nvtrust-style
 * envelope, the signed RIMs that match it, and a TDISP evidence bundle (interface report, TDI state
 * RUN, SPDM transcript binding both). Nonces are 32 bytes, checked by the caller.
 */
import { type KeyObject, randomBytes } from 'node:crypto';
import { ByteWriter, buf, concatBytes, toHex } from '../../crypto/bytes.js';
import { derToPem } from '../../crypto/pem.js';
import { buildSpdmMeasurements } from '../nvidia/spdm.js';
import { canonicalize, parseXml, type XmlElement } from '../nvidia/rim.js';
import { SIMULATED_MARKER } from '../roots/simulated.js';
import {
  TDISP_BINDING_BLOCK_INDEX,
  buildInterfaceReportMessage,
  buildInterfaceReportStruct,
  buildInterfaceStateMessage,
  tdispBindingDigest,
} from '../tdisp/index.js';
import { padTo, sha384, signRaw, type Issued, type SimulatedPki } from './pki.js';
import type { SimulatedEvidence } from './types.js';

export const GPU_DRIVER = '570.124.06';
const GPU_VBIOS_BYTES = new Uint8Array([0x00, 0xa5, 0x00, 0x96, 0x01, 0x00, 0x00, 0x00]); // 96.00.a5.00.01
export const GPU_VBIOS = '96.00.a5.00.01';
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


function spdmSigned(nonce: Uint8Array, blocks: { index: number; valueType: number; value: Uint8Array }[], tlvs: { type: number; value: Uint8Array }[], key: KeyObject): Uint8Array {
  const unsigned = buildSpdmMeasurements({ nonce, responderNonce: new Uint8Array(randomBytes(32)), blocks, tlvs });
  return concatBytes(unsigned, signRaw('sha384', unsigned, key));
}

/** NVIDIA SPDM report for `nonce`, signed by the GPU leaf key, in an nvtrust-style envelope with cc_mode "ON". */
export function nvidiaReport(k: SimulatedPki, nonce: Uint8Array): SimulatedEvidence {
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
    { type: 20, value: k.fwid },
    { type: 21, value: text('U', 1) },
  ];
  const spdm = spdmSigned(nonce, blocks, tlvs, k.leafKey.privateKey);
  const envelope = {
    arch: 'HOPPER',
    version: '1.0',
    nonce: toHex(nonce),
    evidence: buf(spdm).toString('base64'),
    certificate: buf(new Uint8Array(Buffer.from(k.gpuChain.map((c) => derToPem(c.der)).join(''), 'latin1'))).toString('base64'),
    driver_version: GPU_DRIVER,
    vbios_version: GPU_VBIOS.toUpperCase(),
    cc_mode: 'ON',
    simulated: true,
  };
  return { kind: 'nvidia-gpu', evidence: new Uint8Array(Buffer.from(JSON.stringify(envelope), 'utf8')), certs: k.gpuChain.map((c) => c.der), simulated: true, spdm };
}

/** Signed driver and VBIOS RIMs matching the simulated GPU's measurements. */
export function nvidiaRims(k: SimulatedPki): Uint8Array[] {
  return [
    signRim(rimXml('driver', GPU_DRIVER, [k.rimSigner, k.rimRoot]), k.rimSigner.key.privateKey),
    signRim(rimXml('vbios', GPU_VBIOS.toUpperCase(), [k.rimSigner, k.rimRoot]), k.rimSigner.key.privateKey),
  ];
}

const functionId = 0x0100; // bus 01, device 00, function 0

/** TDISP evidence for `nonce`: interface report, TDI state RUN and the DSM's signed SPDM transcript. */
export function tdispReport(k: SimulatedPki, nonce: Uint8Array): SimulatedEvidence {
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
  const spdm = spdmSigned(nonce, blocks, [], k.dsm.key.privateKey);
  return { kind: 'tdisp', evidence: concatBytes(reportMsg, stateMsg, spdm), certs: [k.dsm.der, k.tdRoot.der], simulated: true };
}
