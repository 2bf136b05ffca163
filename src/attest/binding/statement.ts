/**
 * The attestation statement: an in-toto Statement v1 whose subject is the OMS model root digest and
 * whose predicate carries the binding inputs and the evidence, signed (DSSE) by the bundle's key and
 * written beside the bundle as `<bundle>.att`.
 */
import type { EvidenceKind } from '../core/types.js';
import { InputError } from '../../errors.js';
import { IN_TOTO_STATEMENT_TYPE, type InTotoStatement } from '../../crypto/in-toto.js';
import { decodeBase64, onlyKeys, parseEnvelope, type DsseEnvelope } from '../../crypto/dsse.js';
import { MAX_JSON_DEPTH, jsonTooDeep } from '../../io/json-depth.js';

/** predicateType of the attestation statement. */
export const ATTESTATION_PREDICATE_TYPE = 'https://modelseal.dev/attestation/v1';
/** mediaType of the `.att` file. */
export const ATTESTATION_MEDIA_TYPE = 'application/vnd.modelseal.attestation.v1+json';

/** Device evidence is taken first (bound through the GPU nonce); the CPU report last (its REPORT_DATA covers all). */
export type EvidenceRole = 'device' | 'cpu';

/** Kinds whose report carries REPORT_DATA (one CPU report vouches for everything). */
export const CPU_KINDS: readonly EvidenceKind[] = ['sev-snp', 'tdx'];

export function roleOf(kind: EvidenceKind): EvidenceRole {
  return CPU_KINDS.includes(kind) ? 'cpu' : 'device';
}

/** One piece of evidence as recorded in the predicate. */
export interface EvidenceEntry {
  kind: EvidenceKind;
  role: EvidenceRole;
  /** Always "base64": `data` is the evidence's raw bytes (report, quote, SPDM transcript), base64. */
  encoding: 'base64';
  data: string;
  /** Certificates (DER, base64) that came with the evidence: VCEK/VLEK and chain, GPU chain, PCK chain. */
  certs: string[];
  /** Where it came from: configfs-tsm, sev-guest, tdx-guest, nvml, pci-tsm, simulated. */
  provider: string;
  /** true for evidence of the simulated platform; such evidence proves nothing about real hardware. */
  simulated: boolean;
  /** When the evidence was taken (ISO 8601, UTC). */
  collectedAt: string;
  /** SHA-256 of the raw bytes, hex (what the CPU report covers for device evidence). */
  sha256: string;
  /** Provider details (kernel version, configfs generation, GPU index, ...). */
  details?: Record<string, unknown>;
}

export interface AttestationPredicate {
  bindingInputs: {
    label: string;
    rootDigest: string;
    statementsDigest: string;
    signerKeyDigest: string;
    nonce: string;
  };
  bindingDigest: string;
  /** Nonce given to the device evidence (hex), present when device evidence was taken. */
  gpuNonce: string;
  /** REPORT_DATA of the CPU report (hex), present when a CPU report was taken. */
  reportData: string;
  evidence: EvidenceEntry[];
  /** true when any evidence is simulated. */
  simulated: boolean;
  createdAt: string;
  tool: string;
}

/** The attestation statement: an in-toto statement about the model root digest. */
export type AttestationStatement = InTotoStatement<typeof ATTESTATION_PREDICATE_TYPE, AttestationPredicate>;

/** The `.att` file. */
export interface AttestationFile {
  mediaType: typeof ATTESTATION_MEDIA_TYPE;
  dsseEnvelope: DsseEnvelope;
}

const HEX_RE = /^[0-9a-f]*$/;

function fail(message: string): never {
  throw new InputError('ATT_FORMAT', `Attestation statement: ${message}`);
}

function hexField(o: Record<string, unknown>, key: string, bytes: number | 'any', where: string): string {
  const v = o[key];
  if (typeof v !== 'string' || !HEX_RE.test(v) || v.length % 2 !== 0) fail(`${where}.${key} must be lowercase hex.`);
  if (bytes !== 'any' && v.length !== bytes * 2) fail(`${where}.${key} must be ${bytes} bytes.`);
  return v;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const KINDS: readonly EvidenceKind[] = ['sev-snp', 'tdx', 'nvidia-gpu', 'tdisp'];

/** Reads the `.att` file's JSON (hostile input) into its envelope. */
export function parseAttestationFile(bytes: Uint8Array | string): AttestationFile {
  let doc: unknown;
  const text = typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('utf8');
  try {
    if (jsonTooDeep(text)) throw new Error(`nested deeper than ${MAX_JSON_DEPTH} levels`);
    doc = JSON.parse(text);
  } catch (e) {
    throw new InputError('ATT_FORMAT', 'The attestation file is not JSON; pass the <bundle>.att written by `modelseal sign --attest`.', { cause: e });
  }
  if (!isObject(doc) || doc.mediaType !== ATTESTATION_MEDIA_TYPE) {
    throw new InputError('ATT_FORMAT', `The attestation file's mediaType must be "${ATTESTATION_MEDIA_TYPE}".`);
  }
  onlyKeys(doc, ['mediaType', 'dsseEnvelope'], 'The attestation file', 'ATT_FORMAT');
  return { mediaType: ATTESTATION_MEDIA_TYPE, dsseEnvelope: parseEnvelope(doc.dsseEnvelope) };
}

/** Parses and checks the shape of a (signature-verified) statement payload. */
export function parseAttestationStatement(payload: Uint8Array): AttestationStatement {
  let doc: unknown;
  const text = Buffer.from(payload).toString('utf8');
  try {
    if (jsonTooDeep(text)) throw new Error(`nested deeper than ${MAX_JSON_DEPTH} levels`);
    doc = JSON.parse(text);
  } catch (e) {
    throw new InputError('ATT_FORMAT', 'The attestation statement is not JSON.', { cause: e });
  }
  if (!isObject(doc)) fail('not an object.');
  if (doc._type !== IN_TOTO_STATEMENT_TYPE) fail(`_type must be ${IN_TOTO_STATEMENT_TYPE}.`);
  if (doc.predicateType !== ATTESTATION_PREDICATE_TYPE) fail(`predicateType must be ${ATTESTATION_PREDICATE_TYPE}.`);
  if (!Array.isArray(doc.subject) || doc.subject.length !== 1) fail('exactly one subject (the model root digest) is required.');
  const subject = doc.subject[0] as unknown;
  if (!isObject(subject) || typeof subject.name !== 'string' || !isObject(subject.digest)) fail('subject must be {name, digest}.');
  hexField(subject.digest, 'sha256', 32, 'subject.digest');
  const p = doc.predicate;
  if (!isObject(p)) fail('predicate missing.');
  const bi = p.bindingInputs;
  if (!isObject(bi)) fail('predicate.bindingInputs missing.');
  if (typeof bi.label !== 'string') fail('bindingInputs.label missing.');
  for (const k of ['rootDigest', 'statementsDigest', 'signerKeyDigest', 'nonce']) hexField(bi, k, 32, 'bindingInputs');
  hexField(p, 'bindingDigest', 64, 'predicate');
  if (p.gpuNonce !== '') hexField(p, 'gpuNonce', 32, 'predicate');
  if (p.reportData !== '') hexField(p, 'reportData', 64, 'predicate');
  if (typeof p.simulated !== 'boolean') fail('predicate.simulated must be a boolean.');
  if (typeof p.createdAt !== 'string' || Number.isNaN(Date.parse(p.createdAt))) fail('predicate.createdAt must be a date.');
  if (!Array.isArray(p.evidence) || p.evidence.length === 0) fail('predicate.evidence must list at least one piece of evidence.');
  p.evidence.forEach((e: unknown, i: number) => {
    const where = `evidence[${i}]`;
    if (!isObject(e)) fail(`${where} is not an object.`);
    if (!KINDS.includes(e.kind as EvidenceKind)) fail(`${where}.kind must be one of ${KINDS.join(', ')}.`);
    if (e.role !== roleOf(e.kind as EvidenceKind)) fail(`${where}.role must be "${roleOf(e.kind as EvidenceKind)}" for ${String(e.kind)}.`);
    if (e.encoding !== 'base64') fail(`${where}.encoding must be "base64".`);
    decodeBase64(e.data, `${where}.data`);
    if (!Array.isArray(e.certs)) fail(`${where}.certs must be an array.`);
    e.certs.forEach((c: unknown, j: number) => decodeBase64(c, `${where}.certs[${j}]`));
    if (typeof e.provider !== 'string') fail(`${where}.provider must be a string.`);
    if (typeof e.simulated !== 'boolean') fail(`${where}.simulated must be a boolean.`);
    if (typeof e.collectedAt !== 'string' || Number.isNaN(Date.parse(e.collectedAt))) fail(`${where}.collectedAt must be a date.`);
    hexField(e, 'sha256', 32, where);
    if (e.details !== undefined && !isObject(e.details)) fail(`${where}.details must be an object.`);
  });
  if (typeof p.tool !== 'string') fail('predicate.tool must be a string.');
  return doc as unknown as AttestationStatement;
}
