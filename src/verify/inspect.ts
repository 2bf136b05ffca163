/**
 * inspectBundle: what a bundle says — format, signer material, decoded statement, resources —
 * WITHOUT verifying anything. Bundle-level problems still raise their specific codes.
 */
import { X509Certificate } from 'node:crypto';
import { createRequire } from 'node:module';

/**
 * @sigstore/core is loaded on first use, synchronously (it is CommonJS): importing it costs ~40 ms
 * that commands which never read a certificate (hash, digest, doctor) would pay at start-up.
 */
function sigstoreCert(): typeof import('@sigstore/core').X509Certificate {
  return (createRequire(import.meta.url)('@sigstore/core') as typeof import('@sigstore/core')).X509Certificate;
}
import { InputError, type ModelsealError } from '../errors.js';
import { parseStatementJson, statementToManifest, type ParsedStatement } from '../manifest/statement.js';
import type { Manifest } from '../manifest/types.js';
import type { ParsedBundle } from '../sign/bundle.js';
import { CURVE_NAMES, ecCurveOf, publicKeyHint, type SupportedCurve } from '../crypto/dsse.js';
import { createPublicKey } from 'node:crypto';
import { readBundleFile } from './signature.js';
import { tryReadDer } from '../crypto/der.js';

const OID_FULCIO_ISSUER_V1 = '1.3.6.1.4.1.57264.1.1';
const OID_FULCIO_ISSUER_V2 = '1.3.6.1.4.1.57264.1.8';

export interface CertificateInfo {
  subject: string;
  issuer: string;
  notBefore: string;
  notAfter: string;
  subjectAltName?: string;
  /** Fulcio OIDC issuer extension (keyless certificates). */
  oidcIssuer?: string;
  keyCurve?: string;
  isCA: boolean;
}

export interface BundleInspection {
  /** Nothing in this report is verified. */
  verified: false;
  mediaType: string;
  method: 'key' | 'certificate' | 'sigstore';
  signer: {
    keyHint?: string;
    keyDetails?: string;
    /** Key embedded by model_signing < 1.1 (`rawBytes`); informational, never trusted. */
    embeddedKey?: { curve: string; hint: string };
    certificates?: CertificateInfo[];
    tlogEntries?: number;
    rfc3161Timestamps?: number;
  };
  payloadType: string;
  signatures: number;
  /** The decoded payload (JSON) when it parses. */
  statement?: unknown;
  predicateType?: string;
  /** `v1.0` or `legacy-digests-v0.1` when the statement is an OMS one. */
  format?: ParsedStatement['format'];
  manifest?: Manifest;
  /** The subject digest as declared, and whether the listed resources hash to it. */
  declaredRootDigest?: string;
  rootDigestConsistent?: boolean;
  /** Why the statement is not a usable OMS statement, when it is not. */
  statementError?: { code: string; message: string };
  notes: string[];
}

/** The content of a DER UTF8String (Fulcio's v2 extensions wrap their value in one). */
function derUtf8String(b: Buffer): string | undefined {
  const n = tryReadDer(b, 0);
  return n && n.tag === 0x0c && n.end === b.length ? Buffer.from(n.value).toString('utf8') : undefined;
}

function certInfo(der: Buffer, i: number): CertificateInfo {
  try {
    return certInfoUnchecked(der);
  } catch (e) {
    throw new InputError('CERT_INVALID', `certificate ${i} in the bundle cannot be parsed (${(e as Error).message}); the bundle is corrupt.`, { cause: e });
  }
}

function certInfoUnchecked(der: Buffer): CertificateInfo {
  const c = new X509Certificate(der);
  const info: CertificateInfo = {
    // Fulcio certificates have an empty subject (node reports undefined): the identity is the SAN.
    subject: (c.subject ?? '').replace(/\n/g, ', '),
    issuer: (c.issuer ?? '').replace(/\n/g, ', '),
    notBefore: new Date(c.validFrom).toISOString(),
    notAfter: new Date(c.validTo).toISOString(),
    isCA: c.ca,
  };
  if (c.subjectAltName) info.subjectAltName = c.subjectAltName;
  try {
    info.keyCurve = CURVE_NAMES[ecCurveOf(c.publicKey, 'key')];
  } catch {
    info.keyCurve = c.publicKey.asymmetricKeyType ?? 'unknown';
  }
  try {
    const s = sigstoreCert().parse(Buffer.from(der));
    const v2 = s.extension(OID_FULCIO_ISSUER_V2);
    const v1 = s.extension(OID_FULCIO_ISSUER_V1);
    if (v2) info.oidcIssuer = derUtf8String(v2.value);
    else if (v1) info.oidcIssuer = v1.value.toString('utf8');
  } catch {
    /* informational only */
  }
  return info;
}

function signerOf(b: ParsedBundle, notes: string[]): { method: BundleInspection['method']; signer: BundleInspection['signer'] } {
  const m = b.material;
  if (m.kind === 'public-key') {
    const signer: BundleInspection['signer'] = {};
    if (m.hint) signer.keyHint = m.hint;
    if (m.keyDetails) signer.keyDetails = m.keyDetails;
    if (m.rawBytes) {
      try {
        const text = m.rawBytes.toString('utf8');
        const k = text.includes('-----BEGIN') ? createPublicKey(text) : createPublicKey({ key: m.rawBytes, format: 'der', type: 'spki' });
        signer.embeddedKey = { curve: CURVE_NAMES[ecCurveOf(k, 'embedded key') as SupportedCurve], hint: publicKeyHint(k) };
      } catch {
        notes.push('publicKey.rawBytes is not a readable EC key');
      }
    }
    return { method: 'key', signer };
  }
  if (m.kind === 'certificate-chain') return { method: 'certificate', signer: { certificates: m.certificates.map((c, i) => certInfo(c, i)) } };
  return { method: 'sigstore', signer: { certificates: [certInfo(m.certificate, 0)], tlogEntries: m.tlogEntries, rfc3161Timestamps: m.timestamps } };
}

/**
 * Reads a bundle and reports what it claims, without verifying the signature.
 * Throws the bundle-level codes of verification (BUNDLE_JSON_INVALID, BUNDLE_MEDIA_TYPE_UNSUPPORTED, …).
 */
export function inspectBundle(bundlePath: string): BundleInspection {
  const b = readBundleFile(bundlePath);
  const notes: string[] = [];
  const { method, signer } = signerOf(b, notes);
  const out: BundleInspection = {
    verified: false,
    mediaType: b.mediaType,
    method,
    signer,
    payloadType: b.payloadType,
    signatures: b.signatures.length,
    notes,
  };
  try {
    const statement = parseStatementJson(b.payload);
    out.statement = statement;
    if (typeof statement === 'object' && statement !== null && typeof (statement as { predicateType?: unknown }).predicateType === 'string') {
      out.predicateType = (statement as { predicateType: string }).predicateType;
    }
    const parsed = statementToManifest(statement, { checkRootDigest: false });
    out.format = parsed.format;
    out.manifest = parsed.manifest;
    out.declaredRootDigest = parsed.declaredRootDigest;
    out.rootDigestConsistent = parsed.declaredRootDigest === parsed.manifest.rootDigest;
    notes.push(...parsed.notes);
  } catch (e) {
    const err = e as ModelsealError;
    if (typeof err.code !== 'string') throw e;
    out.statementError = { code: err.code, message: err.message };
  }
  return out;
}
