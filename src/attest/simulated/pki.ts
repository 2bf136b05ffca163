/**
 * The simulated platform's PKI: fresh keys and certificate chains in the vendors' shapes (AMD
 * ARK/ASK/VCEK with the KDS extensions, Intel root/PCK CA/PCK with the SGX extension, NVIDIA's
 * 5-certificate GPU chain with a TCG DICE FWID and a RIM signer, a TDISP device chain), every subject
 * marked SIMULATED, and the small signing helpers the evidence builders share.
 */
import { type KeyObject, createHash, generateKeyPair, generateKeyPairSync, randomBytes, sign as cryptoSign } from 'node:crypto';
import { promisify } from 'node:util';
import { buf } from '../../crypto/bytes.js';
import { derToPem } from '../../crypto/pem.js';
import { SIMULATED_MARKER, registerSimulatedRoots } from '../roots/simulated.js';
import { buildCertificate, ia5, int, octets, oid, seq, type SimExtension, type SimSignatureAlgorithm } from './certs.js';

const genEc = (curve: 'P-256' | 'P-384'): { publicKey: KeyObject; privateKey: KeyObject } => generateKeyPairSync('ec', { namedCurve: curve });
const genRsa = promisify(generateKeyPair);

export interface Issued {
  der: Uint8Array;
  key: { publicKey: KeyObject; privateKey: KeyObject };
  name: [string, string][];
}

export function issue(
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

export const sha384 = (s: string | Uint8Array): Uint8Array => new Uint8Array(createHash('sha384').update(s).digest());
export const sha256 = (...parts: Uint8Array[]): Uint8Array => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};

/** ECDSA signature as raw big-endian r‖s. */
export function signRaw(hash: 'sha256' | 'sha384', data: Uint8Array, key: KeyObject): Uint8Array {
  return new Uint8Array(cryptoSign(hash, buf(data), { key, dsaEncoding: 'ieee-p1363' }));
}

export function padTo(b: Uint8Array, n: number, what: string): Uint8Array {
  if (b.length > n) throw new RangeError(`${what} must be at most ${n} bytes, got ${b.length}`);
  const out = new Uint8Array(n);
  out.set(b);
  return out;
}

export function checkBytes(v: unknown, name: string): asserts v is Uint8Array {
  if (!(v instanceof Uint8Array)) throw new TypeError(`${name} must be a Uint8Array`);
}


const AMD_OID = '1.3.6.1.4.1.3704.1';
export const SNP_TCB = { bootloader: 3, tee: 0, snp: 20, microcode: 209 };

export function milanTcb(t: typeof SNP_TCB): Uint8Array {
  const b = new Uint8Array(8);
  b[0] = t.bootloader;
  b[1] = t.tee;
  b[6] = t.snp;
  b[7] = t.microcode;
  return b;
}


const SGX_EXT = '1.2.840.113741.1.13.1';
export const INTEL_QE_VENDOR_ID = new Uint8Array(Buffer.from('939a7233f79c4ca9940a0db3957f0607', 'hex'));

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


/** The roots (DER) one simulated platform generated. */
export interface SimulatedRoots {
  amdArk: Uint8Array;
  intelRoot: Uint8Array;
  nvidiaDevice: Uint8Array;
  nvidiaRim: Uint8Array;
  tdispDevice: Uint8Array;
}

/** Every key and certificate of one simulated platform. */
export interface SimulatedPki {
  chipId: Uint8Array;
  ark: Issued;
  ask: Issued;
  vcek: Issued;
  snpMeasurement: Uint8Array;
  intelRoot: Issued;
  intelCa: Issued;
  pck: Issued;
  attKey: { publicKey: KeyObject; privateKey: KeyObject };
  mrtd: Uint8Array;
  rtmrs: Uint8Array[];
  pckPem: Uint8Array;
  fwid: Uint8Array;
  leafKey: { publicKey: KeyObject; privateKey: KeyObject };
  gpuChain: Issued[];
  rimRoot: Issued;
  rimSigner: Issued;
  tdRoot: Issued;
  dsm: Issued;
  roots: SimulatedRoots;
  trustAnchors: Uint8Array[];
}

/**
 * Generates the keys and chains of one platform (a few hundred milliseconds: two RSA keys for the
 * AMD-like ARK/ASK) and registers its roots in this process. Certificates are valid from one day
 * before `now` for ten years.
 */
export async function createSimulatedPki(now: Date): Promise<SimulatedPki> {
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

  return { chipId, ark, ask, vcek, snpMeasurement, intelRoot, intelCa, pck, attKey, mrtd, rtmrs, pckPem, fwid, leafKey, gpuChain, rimRoot, rimSigner, tdRoot, dsm, roots, trustAnchors };
}
