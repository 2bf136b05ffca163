/**
 * Sigstore bundle v0.3 JSON as OMS uses it: reading (defensive, with a specific error code for
 * every way a bundle can be wrong) and writing (the shape model_signing ≥ 1.1 writes).
 */
import { InputError } from '../errors.js';
import { decodeBase64Strict } from '../crypto/base64.js';
import { MAX_JSON_DEPTH, jsonTooDeep } from '../io/json-depth.js';

/** The only bundle media type model_signing's key/certificate verifier accepts. */
export const BUNDLE_MEDIA_TYPE_V03 = 'application/vnd.dev.sigstore.bundle.v0.3+json';
/** Bundles larger than this are refused before they are parsed. */
export const MAX_BUNDLE_BYTES = 64 * 1024 * 1024;

/** JSON of a DSSE envelope. */
export interface DsseEnvelopeJson {
  payload: string;
  payloadType: string;
  signatures: Array<{ sig: string; keyid?: string | null }>;
}

/** JSON of a Sigstore bundle v0.3 (the parts OMS writes; others are kept as unknown). */
export interface SigstoreBundleJson {
  mediaType: string;
  verificationMaterial: {
    publicKey?: { hint?: string; rawBytes?: string; keyDetails?: string };
    x509CertificateChain?: { certificates: Array<{ rawBytes: string }> };
    certificate?: { rawBytes: string };
    tlogEntries?: unknown[];
    timestampVerificationData?: unknown;
  };
  dsseEnvelope: DsseEnvelopeJson;
}

/** How the bundle says it was signed. */
export type BundleMaterial =
  | { kind: 'public-key'; hint?: string; rawBytes?: Buffer; keyDetails?: string }
  | { kind: 'certificate-chain'; certificates: Buffer[] }
  | { kind: 'sigstore'; certificate: Buffer; tlogEntries: number; timestamps: number };

/** A bundle after structural validation; nothing here is verified yet. */
export interface ParsedBundle {
  json: SigstoreBundleJson;
  mediaType: string;
  material: BundleMaterial;
  payloadType: string;
  payload: Buffer;
  /** Only signatures[0] is used for verification, as model_signing does. */
  signatures: Array<{ sig: Buffer; keyid: string | null | undefined }>;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function bad(message: string): InputError {
  return new InputError('BUNDLE_MALFORMED', message);
}

/** The most certificates (leaf included) a bundle's chain may carry: verify refuses more, so sign does too. */
export const MAX_CHAIN_CERTIFICATES = 16;

/**
 * Parses bundle text: JSON, media type, verification material, envelope, base64 fields.
 * @param source name used in messages (a file path).
 */
export function parseBundleText(text: string, source = 'the bundle'): ParsedBundle {
  if (Buffer.byteLength(text, 'utf8') > MAX_BUNDLE_BYTES) {
    throw new InputError('BUNDLE_TOO_LARGE', `${source} is larger than ${MAX_BUNDLE_BYTES / 1048576} MiB; OMS bundles of real models are far smaller, so it is refused.`);
  }
  if (text.trim().length === 0) throw new InputError('BUNDLE_JSON_INVALID', `${source} is empty; it is not a signature bundle.`);
  if (jsonTooDeep(text)) {
    throw new InputError('BUNDLE_JSON_INVALID', `${source} nests deeper than ${MAX_JSON_DEPTH} levels; it is not a signature bundle.`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new InputError('BUNDLE_JSON_INVALID', `${source} is not valid JSON (${(e as Error).message}); pass the .sig bundle that the signer wrote.`, { cause: e });
  }
  return parseBundleJson(json, source);
}

/** Validates a parsed bundle object (see parseBundleText). */
export function parseBundleJson(json: unknown, source = 'the bundle'): ParsedBundle {
  if (!isObject(json)) throw bad(`${source} is not a JSON object; it is not a Sigstore bundle.`);
  const mediaType = json.mediaType;
  if (mediaType !== BUNDLE_MEDIA_TYPE_V03) {
    throw new InputError(
      'BUNDLE_MEDIA_TYPE_UNSUPPORTED',
      mediaType === undefined
        ? `${source} has no mediaType field; OMS bundles must be ${BUNDLE_MEDIA_TYPE_V03}.`
        : `${source} has mediaType ${JSON.stringify(mediaType)}; OMS bundles must be ${BUNDLE_MEDIA_TYPE_V03} (other versions are refused, as by model_signing).`,
    );
  }
  const vm = json.verificationMaterial;
  if (!isObject(vm)) throw new InputError('BUNDLE_MATERIAL_MISSING', `${source} has no verificationMaterial; it cannot be verified.`);
  const env = json.dsseEnvelope;
  if (!isObject(env)) {
    throw new InputError('BUNDLE_ENVELOPE_MISSING', `${source} has no dsseEnvelope; OMS bundles carry a DSSE envelope (message-signature bundles are not model signatures).`);
  }
  const material = parseMaterial(vm, source);
  const payloadType = env.payloadType;
  if (typeof payloadType !== 'string') throw bad(`${source}: dsseEnvelope.payloadType is missing.`);
  const payload = decodeBase64Strict(env.payload, 'dsseEnvelope.payload');
  if (payload.length === 0) throw bad(`${source}: dsseEnvelope.payload is empty.`);
  const sigs = env.signatures;
  if (!Array.isArray(sigs) || sigs.length === 0) throw new InputError('BUNDLE_SIGNATURE_MISSING', `${source}: dsseEnvelope has no signatures.`);
  const signatures = sigs.map((s: unknown, i: number) => {
    if (!isObject(s)) throw bad(`${source}: dsseEnvelope.signatures[${i}] is not an object.`);
    const keyid = s.keyid;
    if (keyid !== undefined && keyid !== null && typeof keyid !== 'string') throw bad(`${source}: dsseEnvelope.signatures[${i}].keyid must be a string, null or absent.`);
    const sig = decodeBase64Strict(s.sig, `dsseEnvelope.signatures[${i}].sig`);
    if (sig.length === 0) throw new InputError('BUNDLE_SIGNATURE_MISSING', `${source}: dsseEnvelope.signatures[${i}].sig is empty.`);
    return { sig, keyid: keyid as string | null | undefined };
  });
  return { json: json as unknown as SigstoreBundleJson, mediaType, material, payloadType, payload, signatures };
}

function parseMaterial(vm: Record<string, unknown>, source: string): BundleMaterial {
  const kinds = ['publicKey', 'x509CertificateChain', 'certificate'].filter((k) => vm[k] !== undefined && vm[k] !== null);
  if (kinds.length !== 1) {
    throw new InputError(
      'BUNDLE_MATERIAL_MISSING',
      kinds.length === 0
        ? `${source}: verificationMaterial has no publicKey, x509CertificateChain or certificate.`
        : `${source}: verificationMaterial has several kinds of key material (${kinds.join(', ')}); exactly one is allowed.`,
    );
  }
  const tlog = vm.tlogEntries;
  if (tlog !== undefined && !Array.isArray(tlog)) throw bad(`${source}: verificationMaterial.tlogEntries must be an array.`);
  if (isObject(vm.publicKey)) {
    const pk = vm.publicKey;
    if (pk.hint !== undefined && typeof pk.hint !== 'string') throw bad(`${source}: publicKey.hint must be a string.`);
    if (pk.keyDetails !== undefined && typeof pk.keyDetails !== 'string') throw bad(`${source}: publicKey.keyDetails must be a string.`);
    const out: BundleMaterial = { kind: 'public-key' };
    if (typeof pk.hint === 'string' && pk.hint.length > 0) out.hint = pk.hint;
    if (pk.rawBytes !== undefined) out.rawBytes = decodeBase64Strict(pk.rawBytes, 'publicKey.rawBytes');
    if (typeof pk.keyDetails === 'string') out.keyDetails = pk.keyDetails;
    return out;
  }
  if (isObject(vm.x509CertificateChain)) {
    const certs = vm.x509CertificateChain.certificates;
    if (!Array.isArray(certs) || certs.length === 0) throw bad(`${source}: x509CertificateChain.certificates is empty.`);
    if (certs.length > MAX_CHAIN_CERTIFICATES) throw bad(`${source}: x509CertificateChain has ${certs.length} certificates; at most ${MAX_CHAIN_CERTIFICATES} are accepted.`);
    return {
      kind: 'certificate-chain',
      certificates: certs.map((c: unknown, i: number) => {
        if (!isObject(c)) throw bad(`${source}: x509CertificateChain.certificates[${i}] is not an object.`);
        return decodeBase64Strict(c.rawBytes, `x509CertificateChain.certificates[${i}].rawBytes`);
      }),
    };
  }
  if (isObject(vm.certificate)) {
    // Sigstore keyless: the OMS schema requires at least one transparency-log entry.
    if (!Array.isArray(tlog) || tlog.length === 0) {
      throw new InputError(
        'BUNDLE_TLOG_MISSING',
        `${source} is a Sigstore (keyless) bundle without tlogEntries; keyless signatures must carry a transparency-log entry.`,
      );
    }
    const tvd = vm.timestampVerificationData;
    const timestamps = isObject(tvd) && Array.isArray(tvd.rfc3161Timestamps) ? tvd.rfc3161Timestamps.length : 0;
    return {
      kind: 'sigstore',
      certificate: decodeBase64Strict(vm.certificate.rawBytes, 'certificate.rawBytes'),
      tlogEntries: tlog.length,
      timestamps,
    };
  }
  throw bad(`${source}: verificationMaterial.${kinds[0]} is not an object.`);
}

/** Key material written into a bundle we produce. */
export type MaterialJson = SigstoreBundleJson['verificationMaterial'];

/**
 * Assembles a bundle in the shape model_signing ≥ 1.1 writes: `keyid: ""`, `tlogEntries: []`.
 */
export function buildBundle(material: MaterialJson, envelope: DsseEnvelopeJson): SigstoreBundleJson {
  return { mediaType: BUNDLE_MEDIA_TYPE_V03, verificationMaterial: material, dsseEnvelope: envelope };
}

/** Bundle bytes as written to disk: compact JSON, like the reference. */
export function serializeBundle(bundle: SigstoreBundleJson): string {
  return JSON.stringify(bundle);
}
