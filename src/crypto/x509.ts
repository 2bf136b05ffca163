/**
 * Certificate helpers shared by the evidence verifiers: a small strict DER reader, PEM/DER parsing
 * (single certificates and concatenated chains), extension access, chain building to a pinned root
 * at a given verification time, and ECDSA with raw r‖s signatures.
 *
 * Signatures on certificates are checked by node:crypto (OpenSSL), which handles the RSASSA-PSS
 * certificates of AMD's ARK/ASK as well as ECDSA. Everything read from the input is treated as
 * hostile: every length is checked and parse failures become {@link InputError}s with a code.
 */
import { X509Certificate, createPublicKey, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { verifyCertChain } from './chain.js';
import { InputError, VerificationError, type VerificationCode } from '../errors.js';
import { toHex } from './bytes.js';
import { decodeDirectoryString, derChildren, derError, decodeOid, decodeTime, expectTag, readDer, type DerNode } from './der.js';
import { pemToDer } from './pem.js';

export { pemToDer } from './pem.js';

const NAME_OIDS: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.5': 'serialNumber',
};

function decodeName(n: DerNode): { text: string; cn: string } {
  const parts: string[] = [];
  let cn = '';
  for (const rdn of derChildren(expectTag(n, 0x30, 'Name'))) {
    for (const atv of derChildren(expectTag(rdn, 0x31, 'RDN'))) {
      const [oid, val] = derChildren(expectTag(atv, 0x30, 'AttributeTypeAndValue'));
      const key = NAME_OIDS[decodeOid(expectTag(oid, 0x06, 'attribute OID').value)] ?? decodeOid(oid!.value);
      const text = decodeDirectoryString(val);
      if (key === 'CN') cn = text;
      parts.push(`${key}=${text}`);
    }
  }
  return { text: parts.join(', '), cn };
}

// ---------------------------------------------------------------------------------------------
// Certificates

/** One X.509 extension: OID, criticality and the contents of extnValue (the inner DER). */
export interface CertExtension {
  oid: string;
  critical: boolean;
  value: Uint8Array;
}

/** A parsed certificate: node:crypto's object plus the fields the verifiers need. */
export interface Certificate {
  der: Uint8Array;
  x509: X509Certificate;
  subject: string;
  issuer: string;
  /** Subject common name ('' when absent). */
  commonName: string;
  serialHex: string;
  notBefore: Date;
  notAfter: Date;
  /** basicConstraints cA. */
  isCA: boolean;
  extensions: CertExtension[];
  /** SHA-256 fingerprint, lower-case hex without separators. */
  fingerprint256: string;
}

/** Parses one DER certificate. @throws InputError CERT_MALFORMED */
export function parseCertificate(der: Uint8Array): Certificate {
  let x509: X509Certificate;
  let top: DerNode;
  try {
    top = readDer(der, 0);
    if (top.end !== der.length) throw derError('trailing bytes after the certificate');
    x509 = new X509Certificate(der);
    // Decode the key now: a damaged SubjectPublicKeyInfo must fail here, as input, not later.
    void x509.publicKey;
  } catch (e) {
    throw new InputError('CERT_MALFORMED', `A certificate does not parse: ${(e as Error).message}`, { cause: e });
  }
  try {
    const [tbs] = derChildren(expectTag(top, 0x30, 'Certificate'));
    const f = derChildren(expectTag(tbs, 0x30, 'TBSCertificate'));
    let i = 0;
    if (f[0]?.tag === 0xa0) i++; // explicit version
    const serial = expectTag(f[i++], 0x02, 'serialNumber');
    i++; // signature algorithm (checked by OpenSSL)
    const issuer = decodeName(f[i++]!);
    const validity = derChildren(expectTag(f[i++], 0x30, 'Validity'));
    const subject = decodeName(f[i++]!);
    i++; // SubjectPublicKeyInfo
    const extensions: CertExtension[] = [];
    for (; i < f.length; i++) {
      if (f[i]!.tag !== 0xa3) continue;
      for (const ext of derChildren(expectTag(derChildren(f[i]!)[0], 0x30, 'Extensions'))) {
        const parts = derChildren(expectTag(ext, 0x30, 'Extension'));
        const oid = decodeOid(expectTag(parts[0], 0x06, 'extnID').value);
        const critical = parts.length === 3 && parts[1]!.tag === 0x01 && parts[1]!.value[0] !== 0;
        const value = expectTag(parts[parts.length - 1], 0x04, 'extnValue').value;
        extensions.push({ oid, critical, value });
      }
    }
    return {
      der,
      x509,
      subject: subject.text,
      issuer: issuer.text,
      commonName: subject.cn,
      serialHex: toHex(serial.value),
      notBefore: decodeTime(validity[0]!),
      notAfter: decodeTime(validity[1]!),
      isCA: x509.ca,
      extensions,
      fingerprint256: x509.fingerprint256.replace(/:/g, '').toLowerCase(),
    };
  } catch (e) {
    if (e instanceof InputError && e.code !== 'DER_MALFORMED') throw e;
    throw new InputError('CERT_MALFORMED', `A certificate does not parse: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * Parses certificates from PEM text (one or many, concatenated, NUL-terminated as in TDX quotes)
 * or DER (one certificate or several concatenated).
 * @throws InputError CERT_MALFORMED when nothing parses as a certificate
 */
export function parseCertificates(input: Uint8Array | string): Certificate[] {
  const bytes = typeof input === 'string' ? new Uint8Array(Buffer.from(input, 'utf8')) : input;
  const asText = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  if (asText.includes('-----BEGIN CERTIFICATE-----')) {
    const ders = pemToDer(asText);
    return ders.map(parseCertificate);
  }
  const out: Certificate[] = [];
  let off = 0;
  while (off < bytes.length) {
    if (bytes[off] === 0 && bytes.subarray(off).every((b) => b === 0)) break;
    let n: DerNode;
    try {
      n = readDer(bytes, off);
    } catch (e) {
      throw new InputError('CERT_MALFORMED', 'Certificate input is neither PEM nor DER.', { cause: e });
    }
    out.push(parseCertificate(bytes.subarray(off, n.end)));
    off = n.end;
  }
  if (out.length === 0) throw new InputError('CERT_MALFORMED', 'No certificate found in the certificate input.');
  return out;
}

/** The extension with `oid`, if present. */
export function findExtension(cert: Certificate, oid: string): CertExtension | undefined {
  return cert.extensions.find((e) => e.oid === oid);
}

/** Options of {@link verifyChain}. */
export interface ChainOptions {
  /** Verification time. */
  at: Date;
  /** Pinned trust anchors (DER-equal match required). */
  roots: Certificate[];
  /** Roots of the simulated platform, honoured only with allowSimulated. */
  simulatedRoots?: Certificate[];
  allowSimulated?: boolean;
  /** Error code when the chain does not link up or ends at an unpinned root. */
  chainCode: VerificationCode;
  /** Human label of the chain for messages, e.g. "VCEK chain". */
  label: string;
  /** Maximum number of certificates, leaf and root included. */
  maxDepth?: number;
}

/** A verified chain, leaf first, ending with the trust anchor. */
export interface ChainResult {
  chain: Certificate[];
  simulated: boolean;
}

/**
 * Builds and verifies the chain from `leaf` through `pool` to a pinned root with the chain
 * verifier of chain.ts: each certificate's signature must verify with its issuer's key, each
 * issuer must be a CA, every certificate must be valid at `opts.at`, and the chain must end at a
 * self-signed certificate DER-equal to one of `opts.roots` (or, with allowSimulated, of
 * `opts.simulatedRoots`).
 * @throws VerificationError with `opts.chainCode`, CERT_EXPIRED, CERT_NOT_YET_VALID or EVIDENCE_SIMULATED
 */
export function verifyChain(leaf: Certificate, pool: Certificate[], opts: ChainOptions): ChainResult {
  const maxDepth = opts.maxDepth ?? 8;
  const v = verifyCertChain(leaf, pool, {
    at: opts.at,
    anchors: opts.roots,
    simulatedAnchors: opts.simulatedRoots ?? [],
    allowSimulated: opts.allowSimulated === true,
    order: 'search',
    maxLength: maxDepth,
    requireCA: true,
    validity: 'each-step',
  });
  if (v.ok) return { chain: v.path, simulated: v.simulated };
  const { label, chainCode: code, at } = opts;
  const c = v.cert;
  const name = c.commonName || c.subject;
  switch (v.reason) {
    case 'expired':
      throw new VerificationError(
        'CERT_EXPIRED',
        `${label}: certificate "${name}" expired on ${c.notAfter.toISOString()} (verification time ${at.toISOString()}). Use current certificates, or pass --at with the time the evidence was produced.`,
        { details: { subject: c.subject, notAfter: c.notAfter.toISOString(), at: at.toISOString() } },
      );
    case 'not-yet-valid':
      throw new VerificationError(
        'CERT_NOT_YET_VALID',
        `${label}: certificate "${name}" is valid only from ${c.notBefore.toISOString()} (verification time ${at.toISOString()}).`,
        { details: { subject: c.subject, notBefore: c.notBefore.toISOString(), at: at.toISOString() } },
      );
    case 'anchor-not-self-signed':
      throw new VerificationError(code, `${label}: the root "${c.commonName}" is not validly self-signed.`);
    case 'simulated-anchor':
      throw new VerificationError(
        'EVIDENCE_SIMULATED',
        `${label} ends at the simulated root "${c.subject}": this evidence comes from the simulated platform, not real hardware. Pass --allow-simulated (allowSimulated) only in tests and demos.`,
      );
    case 'untrusted-self-signed':
      if (v.marked) {
        throw new VerificationError(
          'EVIDENCE_SIMULATED',
          `${label} ends at "${c.subject}", a root of the simulated platform, not a vendor root. Simulated evidence is accepted only with --allow-simulated and the simulated roots.`,
        );
      }
      throw new VerificationError(code, `${label} ends at the self-signed certificate "${name}", which is not the pinned vendor root (SHA-256 ${c.fingerprint256}).`);
    case 'too-long':
      throw new VerificationError(code, `${label}: no pinned root within ${maxDepth} certificates.`);
    case 'no-issuer':
      throw new VerificationError(
        code,
        v.candidates.length > 0
          ? `${label}: the signature on "${name}" does not verify with the key of its issuer "${v.candidates[0]!.commonName}" — the certificate was altered or the chain is wrong.`
          : `${label}: the issuer of "${name}" (${c.issuer}) is missing; supply it with --certs.`,
        { details: { subject: c.subject, issuer: c.issuer } },
      );
    case 'issuer-not-ca':
      throw new VerificationError(code, `${label}: "${v.issuer.commonName}" signs "${c.commonName}" but is not a CA certificate.`);
  }
}

// ---------------------------------------------------------------------------------------------
// ECDSA with raw r‖s

/** An EC public key from the raw big-endian x‖y coordinates. */
export function ecPublicKeyFromXY(xy: Uint8Array, curve: 'P-256' | 'P-384'): KeyObject {
  const n = curve === 'P-256' ? 32 : 48;
  if (xy.length !== 2 * n) throw new InputError('EVIDENCE_MALFORMED', `An ${curve} public key needs ${2 * n} bytes, got ${xy.length}.`);
  try {
    return createPublicKey({
      key: { kty: 'EC', crv: curve, x: Buffer.from(xy.subarray(0, n)).toString('base64url'), y: Buffer.from(xy.subarray(n)).toString('base64url') },
      format: 'jwk',
    });
  } catch (e) {
    // Not a point on the curve: whatever it signs cannot verify.
    throw new VerificationError('EC_KEY_INVALID', `The ${curve} public key in the evidence is not a valid curve point.`, { cause: e });
  }
}

/**
 * Verifies an ECDSA signature given as big-endian r‖s (IEEE P1363). Never throws for a bad
 * signature or malformed key material: returns false.
 */
export function verifyEcdsaRaw(key: KeyObject, hash: 'sha256' | 'sha384', data: Uint8Array, rs: Uint8Array): boolean {
  try {
    return cryptoVerify(hash, data, { key, dsaEncoding: 'ieee-p1363' }, rs);
  } catch {
    return false;
  }
}

/** Parses a certificate-revocation list enough to check its signature and look up serials. */
export interface Crl {
  der: Uint8Array;
  tbs: Uint8Array;
  signatureAlgorithm: string;
  signature: Uint8Array;
  issuer: string;
  thisUpdate: Date;
  nextUpdate?: Date;
  revokedSerials: Set<string>;
}

/** Parses a DER CRL. @throws InputError CRL_MALFORMED */
export function parseCrl(der: Uint8Array): Crl {
  try {
    const top = readDer(der, 0);
    const [tbsNode, algNode, sigNode] = derChildren(expectTag(top, 0x30, 'CertificateList'));
    const f = derChildren(expectTag(tbsNode, 0x30, 'TBSCertList'));
    let i = 0;
    if (f[0]?.tag === 0x02) i++;
    i++; // signature algorithm
    const issuer = decodeName(f[i++]!);
    const thisUpdate = decodeTime(f[i++]!);
    let nextUpdate: Date | undefined;
    if (f[i] && (f[i]!.tag === 0x17 || f[i]!.tag === 0x18)) nextUpdate = decodeTime(f[i++]!);
    const revokedSerials = new Set<string>();
    if (f[i] && f[i]!.tag === 0x30) {
      for (const r of derChildren(f[i]!)) revokedSerials.add(toHex(expectTag(derChildren(r)[0], 0x02, 'serial').value).replace(/^(00)+(?=.)/, ''));
    }
    const alg = decodeOid(expectTag(derChildren(expectTag(algNode, 0x30, 'AlgorithmIdentifier'))[0], 0x06, 'algorithm').value);
    const bits = expectTag(sigNode, 0x03, 'signature');
    const crl: Crl = { der, tbs: tbsNode!.raw, signatureAlgorithm: alg, signature: bits.value.subarray(1), issuer: issuer.text, thisUpdate, revokedSerials };
    if (nextUpdate) crl.nextUpdate = nextUpdate;
    return crl;
  } catch (e) {
    throw new InputError('CRL_MALFORMED', `A CRL does not parse: ${(e as Error).message}`, { cause: e });
  }
}

/** Verifies an ECDSA-SHA256/384 CRL signature (DER-encoded signature) with the issuer's key. */
export function verifyCrlSignature(crl: Crl, issuer: Certificate): boolean {
  const hash = crl.signatureAlgorithm === '1.2.840.10045.4.3.2' ? 'sha256' : crl.signatureAlgorithm === '1.2.840.10045.4.3.3' ? 'sha384' : undefined;
  if (!hash) return false;
  try {
    return cryptoVerify(hash, crl.tbs, issuer.x509.publicKey, crl.signature);
  } catch {
    return false;
  }
}

/** Serial number as lower-case hex without leading zero bytes (CRL lookup form). */
export function normalizedSerial(c: Certificate): string {
  return c.serialHex.replace(/^(00)+(?=.)/, '');
}
