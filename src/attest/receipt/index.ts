/**
 * Verification receipts for confidential inference. Inside a CVM, after verifying a model, modelseal
 * takes a FRESH CPU report whose REPORT_DATA binds (model root digest, verification result, the relying
 * party's nonce, the receipt signer's key) and signs a statement with that key:
 *
 *   REPORT_DATA = SHA-512(LABEL ‖ root(32) ‖ SHA-256(canonical JSON of the result) ‖ SHA-256(signer SPKI DER)
 *                         ‖ len(nonce) (1 byte) ‖ nonce)
 *
 * A customer checks, with its own nonce, that the receipt is fresh, that the CPU report verifies to the
 * vendor's root, that it vouches for exactly this root / result / key, and that the signature holds —
 * i.e. that this model was verified inside a TEE before use. The receipt key need not be known in
 * advance: the CPU report is what vouches for it (a fresh key per CVM is the default).
 */
import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { EvidenceVerdict } from '../core/types.js';
import { InputError } from '../../errors.js';
import { evidenceDigest, rootDigestBytes, spkiDer } from '../binding/digest.js';
import { bytesEqual as equal, toHex as hex } from '../../crypto/bytes.js';
import { decodeBase64, keySigner, onlyKeys, parseEnvelope, signEnvelope, verifyEnvelope, type DsseEnvelope, type EnvelopeSigner } from '../../crypto/dsse.js';
import { boundValueFromBytes, boundValueFromClaims } from '../binding/bound-values.js';
import { roleOf, type EvidenceEntry } from '../binding/statement.js';
import { IN_TOTO_STATEMENT_TYPE, type InTotoStatement } from '../../crypto/in-toto.js';
import type { EvidenceSource } from '../core/types.js';
import { verifyOne, type EvidenceVerifier, type TimedVerdict } from '../binding/verify.js';
import { verifyEvidence } from '../evidence/index.js';
import { MAX_JSON_DEPTH, jsonTooDeep } from '../../io/json-depth.js';

/** Domain-separation label of receipts. */
const RECEIPT_LABEL = 'modelseal/receipt/v1';
const RECEIPT_PREDICATE_TYPE = 'https://modelseal.dev/receipt/v1';
const RECEIPT_MEDIA_TYPE = 'application/vnd.modelseal.receipt.v1+json';
/** Relying-party nonces are 8 to 64 bytes (enough for a random challenge; fits one length byte). */
const RECEIPT_NONCE_MIN_BYTES = 8;
const RECEIPT_NONCE_MAX_BYTES = 64;

/** What the verification concluded; `verified` is required, other members are free-form JSON. */
export interface ReceiptResult {
  verified: boolean;
  [key: string]: unknown;
}

export interface CreateReceiptOptions {
  /** The verified model's root digest (raw 32 bytes or hex). */
  rootDigest: Uint8Array | string;
  /** The verification result to vouch for, e.g. {verified: true, resources: 12, subset: false}. */
  verifyResult: ReceiptResult;
  /** The relying party's nonce (8..64 bytes). */
  nonce: Uint8Array;
  /** Signing key or signer; default a fresh P-384 key that lives only in this process. */
  signer?: EnvelopeSigner | KeyObject | string;
  /** Where the fresh CPU report comes from (real hardware or the simulated platform). */
  platform: EvidenceSource;
  subjectName?: string;
  now?: () => Date;
  tool?: string;
}

export interface ReceiptPredicate {
  label: string;
  rootDigest: string;
  result: ReceiptResult;
  /** SHA-256 of the canonical JSON of `result` (hex). */
  resultDigest: string;
  signerKeyDigest: string;
  nonce: string;
  reportData: string;
  evidence: EvidenceEntry;
  simulated: boolean;
  createdAt: string;
  tool: string;
}

/** The receipt statement: an in-toto statement about the model root digest. */
export type ReceiptStatement = InTotoStatement<typeof RECEIPT_PREDICATE_TYPE, ReceiptPredicate>;

/** The receipt file: the signed statement and the signer's public key (vouched for by the CPU report). */
export interface ReceiptFile {
  mediaType: typeof RECEIPT_MEDIA_TYPE;
  signerPublicKey: string;
  dsseEnvelope: DsseEnvelope;
}


/**
 * JSON with object keys sorted and no whitespace, so the result digest does not depend on how a
 * serializer ordered members. Only plain JSON values are accepted.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new InputError('RECEIPT_INPUT', 'The verification result contains a non-finite number.');
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    const o = value as Record<string, unknown>;
    const keys = Object.keys(o).filter((k) => o[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
  }
  throw new InputError('RECEIPT_INPUT', `The verification result contains a ${typeof value}, which JSON cannot carry.`);
}

declare const RECEIPT_NONCE_BRAND: unique symbol;

/** A relying party's receipt nonce (8 to 64 bytes), checked where it entered; inner code trusts it. */
export type ReceiptNonce = Uint8Array & { readonly [RECEIPT_NONCE_BRAND]: true };

/**
 * Validates a receipt nonce once, at the boundary.
 * @throws TypeError when it is not a Uint8Array; InputError RECEIPT_INPUT when it is not 8 to 64 bytes.
 */
export function receiptNonce(nonce: Uint8Array): ReceiptNonce {
  if (!(nonce instanceof Uint8Array)) throw new TypeError('nonce must be a Uint8Array');
  if (nonce.length < RECEIPT_NONCE_MIN_BYTES || nonce.length > RECEIPT_NONCE_MAX_BYTES) {
    throw new InputError('RECEIPT_INPUT', `The nonce must be ${RECEIPT_NONCE_MIN_BYTES} to ${RECEIPT_NONCE_MAX_BYTES} bytes (got ${nonce.length}); pass it as hex with --nonce.`);
  }
  return nonce as ReceiptNonce;
}

/** The 64-byte REPORT_DATA of a receipt (see the module documentation). */
export function receiptReportData(root: Uint8Array, result: ReceiptResult, signerSpki: Uint8Array, nonce: Uint8Array): Uint8Array {
  return receiptBinding(root, result, signerSpki, receiptNonce(nonce));
}

function receiptBinding(root: Uint8Array, result: ReceiptResult, signerSpki: Uint8Array, nonce: ReceiptNonce): Uint8Array {
  const h = createHash('sha512');
  h.update(Buffer.from(RECEIPT_LABEL, 'ascii'));
  h.update(rootDigestBytes(root, 'RECEIPT_INPUT', 'The root digest'));
  h.update(createHash('sha256').update(canonicalJson(result), 'utf8').digest());
  h.update(createHash('sha256').update(signerSpki).digest());
  h.update(Uint8Array.of(nonce.length));
  h.update(nonce);
  return new Uint8Array(h.digest());
}

/**
 * Takes a fresh CPU report bound to (root, result, nonce, signer key) and returns the signed receipt
 * file's bytes. Throws RECEIPT_NO_CPU when the platform has no CPU TEE.
 */
export async function createReceipt(options: CreateReceiptOptions): Promise<{ bytes: Uint8Array; statement: ReceiptStatement; simulated: boolean }> {
  const now = options.now ?? (() => new Date());
  const nonce = receiptNonce(options.nonce);
  if (typeof options.verifyResult?.verified !== 'boolean') {
    throw new InputError('RECEIPT_INPUT', 'The verification result must say whether the model verified ({verified: boolean, ...}).');
  }
  const root = rootDigestBytes(options.rootDigest, 'RECEIPT_INPUT', 'The root digest');
  const signer: EnvelopeSigner =
    options.signer === undefined
      ? keySigner(generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey)
      : typeof options.signer === 'object' && 'sign' in options.signer && 'publicKeySpki' in options.signer
        ? options.signer
        : keySigner(options.signer as KeyObject | string);
  const spki = spkiDer(signer.publicKeySpki);
  // Round-trip through canonical JSON so what is signed is exactly what is hashed.
  const result = JSON.parse(canonicalJson(options.verifyResult)) as ReceiptResult;
  const reportData = receiptBinding(root, result, spki, nonce);
  const cpu = await options.platform.collectCpu(reportData);
  if (!cpu) throw new InputError('RECEIPT_NO_CPU', `A receipt needs a CPU TEE report (SEV-SNP or TDX), and ${options.platform.description} has none.`);
  if (roleOf(cpu.kind) !== 'cpu') throw new InputError('RECEIPT_NO_CPU', `The platform returned ${cpu.kind} evidence as its CPU report.`);
  const at = now();
  const simulated = cpu.simulated || options.platform.simulated;
  const statement: ReceiptStatement = {
    _type: IN_TOTO_STATEMENT_TYPE,
    subject: [{ name: options.subjectName ?? 'model', digest: { sha256: hex(root) } }],
    predicateType: RECEIPT_PREDICATE_TYPE,
    predicate: {
      label: RECEIPT_LABEL,
      rootDigest: hex(root),
      result,
      resultDigest: createHash('sha256').update(canonicalJson(result), 'utf8').digest('hex'),
      signerKeyDigest: createHash('sha256').update(spki).digest('hex'),
      nonce: hex(nonce),
      reportData: hex(reportData),
      evidence: {
        kind: cpu.kind,
        role: 'cpu',
        encoding: 'base64',
        data: Buffer.from(cpu.data).toString('base64'),
        certs: (cpu.certs ?? []).map((c) => Buffer.from(c).toString('base64')),
        provider: cpu.provider,
        simulated,
        collectedAt: (cpu.collectedAt ?? at).toISOString(),
        sha256: hex(evidenceDigest(cpu.data)),
        ...(cpu.details ? { details: cpu.details } : {}),
      },
      simulated,
      createdAt: at.toISOString(),
      tool: options.tool ?? 'modelseal',
    },
  };
  const file: ReceiptFile = {
    mediaType: RECEIPT_MEDIA_TYPE,
    signerPublicKey: Buffer.from(spki).toString('base64'),
    dsseEnvelope: await signEnvelope(Buffer.from(JSON.stringify(statement), 'utf8'), signer),
  };
  return { bytes: new Uint8Array(Buffer.from(JSON.stringify(file, null, 2) + '\n', 'utf8')), statement, simulated };
}

export interface VerifyReceiptOptions {
  /** The nonce the relying party sent (required: a receipt without the caller's nonce proves no freshness). */
  nonce: Uint8Array;
  /** The model root the relying party expects, when it knows it. */
  expectedRootDigest?: Uint8Array | string;
  allowSimulated?: boolean;
  at?: Date;
  collateralDir?: string;
  verifyEvidence?: EvidenceVerifier;
}

export interface ReceiptVerification {
  /** true only when the receipt is authentic, fresh, bound, and says the model verified. */
  ok: boolean;
  /** RECEIPT_SIGNATURE, RECEIPT_NONCE_MISMATCH, RECEIPT_ROOT_MISMATCH, RECEIPT_BINDING_MISMATCH, RECEIPT_EVIDENCE, RECEIPT_SIMULATED, RECEIPT_MODEL_NOT_VERIFIED. */
  code?: string;
  message: string;
  failures: Array<{ code: string; message: string }>;
  simulated: boolean;
  rootDigest?: string;
  result?: ReceiptResult;
  createdAt?: string;
  verdict?: EvidenceVerdict;
  /** The CPU verdict with its collection time, for validatePolicy. */
  verdicts: TimedVerdict[];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseReceiptFile(bytes: Uint8Array | string): ReceiptFile {
  let doc: unknown;
  const text = typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('utf8');
  try {
    if (jsonTooDeep(text)) throw new Error(`nested deeper than ${MAX_JSON_DEPTH} levels`);
    doc = JSON.parse(text);
  } catch (e) {
    throw new InputError('RECEIPT_FORMAT', 'The receipt is not JSON; pass the file written by `modelseal verify --receipt`.', { cause: e });
  }
  if (!isObject(doc) || doc.mediaType !== RECEIPT_MEDIA_TYPE) throw new InputError('RECEIPT_FORMAT', `The receipt's mediaType must be "${RECEIPT_MEDIA_TYPE}".`);
  onlyKeys(doc, ['mediaType', 'signerPublicKey', 'dsseEnvelope'], 'The receipt', 'RECEIPT_FORMAT');
  decodeBase64(doc.signerPublicKey, 'The receipt signerPublicKey', 'RECEIPT_FORMAT');
  return { mediaType: RECEIPT_MEDIA_TYPE, signerPublicKey: doc.signerPublicKey as string, dsseEnvelope: parseEnvelope(doc.dsseEnvelope, 'RECEIPT_FORMAT') };
}

const HEX = (bytes: number) => new RegExp(`^[0-9a-f]{${bytes * 2}}$`);

function parseReceiptStatement(payload: Uint8Array): ReceiptStatement {
  const fail = (m: string): never => {
    throw new InputError('RECEIPT_FORMAT', `Receipt statement: ${m}`);
  };
  let doc: unknown;
  const text = Buffer.from(payload).toString('utf8');
  try {
    if (jsonTooDeep(text)) throw new Error(`nested deeper than ${MAX_JSON_DEPTH} levels`);
    doc = JSON.parse(text);
  } catch {
    fail('not JSON.');
  }
  if (!isObject(doc) || doc._type !== IN_TOTO_STATEMENT_TYPE || doc.predicateType !== RECEIPT_PREDICATE_TYPE) fail(`not an in-toto statement of type ${RECEIPT_PREDICATE_TYPE}.`);
  const d = doc as Record<string, unknown>;
  if (!Array.isArray(d.subject) || d.subject.length !== 1 || !isObject(d.subject[0]) || !isObject((d.subject[0] as Record<string, unknown>).digest)) fail('exactly one subject is required.');
  const p = d.predicate;
  if (!isObject(p)) fail('predicate missing.');
  const pr = p as Record<string, unknown>;
  if (pr.label !== RECEIPT_LABEL) fail(`unknown label ${String(pr.label)}.`);
  for (const [k, n] of [['rootDigest', 32], ['resultDigest', 32], ['signerKeyDigest', 32], ['reportData', 64]] as const) {
    if (typeof pr[k] !== 'string' || !HEX(n).test(pr[k] as string)) fail(`predicate.${k} must be ${n} bytes of lowercase hex.`);
  }
  if (typeof pr.nonce !== 'string' || !/^([0-9a-f]{2})+$/.test(pr.nonce)) fail('predicate.nonce must be hex.');
  if (!isObject(pr.result) || typeof pr.result.verified !== 'boolean') fail('predicate.result.verified must be a boolean.');
  const e = pr.evidence;
  if (!isObject(e) || (e.kind !== 'sev-snp' && e.kind !== 'tdx') || e.encoding !== 'base64' || !Array.isArray(e.certs) || typeof e.simulated !== 'boolean' || typeof e.collectedAt !== 'string' || typeof e.sha256 !== 'string') {
    fail('predicate.evidence must be one CPU report (sev-snp or tdx).');
  }
  if (typeof pr.simulated !== 'boolean' || typeof pr.createdAt !== 'string') fail('predicate.simulated and createdAt are required.');
  return doc as unknown as ReceiptStatement;
}

/**
 * Verifies a receipt against the relying party's nonce. Throws InputError only for unreadable input;
 * every verification outcome is in the result.
 */
export async function verifyReceipt(bytes: Uint8Array | string, options: VerifyReceiptOptions): Promise<ReceiptVerification> {
  const expectedNonce = receiptNonce(options.nonce);
  const failures: Array<{ code: string; message: string }> = [];
  const file = parseReceiptFile(bytes);
  const spki = decodeBase64(file.signerPublicKey, 'The receipt signerPublicKey', 'RECEIPT_FORMAT');
  let payload: Uint8Array;
  try {
    payload = verifyEnvelope(file.dsseEnvelope, spki, undefined, 'RECEIPT_SIGNATURE');
  } catch (e) {
    if (e instanceof InputError && e.code === 'ATT_KEY') throw new InputError('RECEIPT_FORMAT', `The receipt's signer key is unusable: ${e.message}`);
    const message = (e as Error).message;
    return { ok: false, code: 'RECEIPT_SIGNATURE', message, failures: [{ code: 'RECEIPT_SIGNATURE', message }], simulated: false, verdicts: [] };
  }
  const st = parseReceiptStatement(payload);
  const p = st.predicate;
  const nonce = new Uint8Array(Buffer.from(p.nonce, 'hex'));
  if (!equal(nonce, expectedNonce)) {
    failures.push({ code: 'RECEIPT_NONCE_MISMATCH', message: 'The receipt was made for another nonce: it is not a fresh answer to this request.' });
  }
  if (options.expectedRootDigest !== undefined && hex(rootDigestBytes(options.expectedRootDigest, 'RECEIPT_INPUT', 'The root digest')) !== p.rootDigest) {
    failures.push({ code: 'RECEIPT_ROOT_MISMATCH', message: `The receipt is for model root ${p.rootDigest}, not the expected one.` });
  }
  if (st.subject[0]!.digest.sha256 !== p.rootDigest) failures.push({ code: 'RECEIPT_BINDING_MISMATCH', message: 'The receipt subject and its root digest differ.' });
  if (createHash('sha256').update(spki).digest('hex') !== p.signerKeyDigest) {
    failures.push({ code: 'RECEIPT_BINDING_MISMATCH', message: 'The receipt names another signer key than the one that signed it.' });
  }
  if (createHash('sha256').update(canonicalJson(p.result), 'utf8').digest('hex') !== p.resultDigest) {
    failures.push({ code: 'RECEIPT_BINDING_MISMATCH', message: 'The recorded result digest does not match the result.' });
  }
  const expected = receiptReportData(new Uint8Array(Buffer.from(p.rootDigest, 'hex')), p.result, spki, nonce);
  if (hex(expected) !== p.reportData) failures.push({ code: 'RECEIPT_BINDING_MISMATCH', message: 'The recorded REPORT_DATA does not match the receipt contents.' });

  const e = p.evidence;
  const data = decodeBase64(e.data, 'The receipt evidence', 'RECEIPT_FORMAT');
  const certs = e.certs.map((c, j) => decodeBase64(c, `The receipt evidence certs[${j}]`, 'RECEIPT_FORMAT'));
  const verify = options.verifyEvidence ?? verifyEvidence;
  const verdict = await verifyOne(verify, e.kind, data, certs, { at: options.at, allowSimulated: options.allowSimulated, collateralDir: options.collateralDir });
  const simulated = verdict.simulated || e.simulated || p.simulated;
  if (verdict.kind !== e.kind) failures.push({ code: 'RECEIPT_EVIDENCE', message: `The receipt's evidence is recorded as ${e.kind} but is ${verdict.kind}.` });
  else if (hex(evidenceDigest(data)) !== e.sha256) failures.push({ code: 'RECEIPT_BINDING_MISMATCH', message: 'The recorded evidence digest does not match its bytes.' });
  else if (verdict.simulated && !e.simulated) failures.push({ code: 'RECEIPT_EVIDENCE', message: 'The receipt evidence is labelled real but chains to a SIMULATED root.' });
  else if (simulated && !options.allowSimulated) {
    failures.push({ code: 'RECEIPT_SIMULATED', message: 'The receipt was made on the SIMULATED platform and proves nothing about real hardware; refused (pass --allow-simulated for tests and demos).' });
  } else if (!verdict.verified) failures.push({ code: 'RECEIPT_EVIDENCE', message: `The receipt's CPU report did not verify [${verdict.code ?? 'UNKNOWN'}]: ${verdict.message}` });
  else {
    const fromBytes = boundValueFromBytes(e.kind, data);
    const fromClaims = boundValueFromClaims(e.kind, verdict.claims);
    const value = fromBytes ?? fromClaims;
    if (!value || (fromBytes && fromClaims && !equal(fromBytes, fromClaims))) {
      failures.push({ code: 'RECEIPT_EVIDENCE', message: 'The REPORT_DATA of the receipt\'s CPU report could not be read consistently.' });
    } else if (!equal(value, expected)) {
      failures.push({ code: 'RECEIPT_BINDING_MISMATCH', message: 'The CPU report does not vouch for this receipt: its REPORT_DATA is not the binding of this root, result, nonce and key.' });
    }
  }
  if (!p.result.verified) failures.push({ code: 'RECEIPT_MODEL_NOT_VERIFIED', message: 'The receipt is authentic, but it records that the model did NOT verify.' });

  const ok = failures.length === 0;
  return {
    ok,
    ...(ok ? {} : { code: failures[0]!.code }),
    message: ok
      ? `Receipt verified: model ${p.rootDigest} was verified inside a ${e.kind} TEE at ${p.createdAt}, for this nonce${simulated ? ' (SIMULATED platform: proves nothing about real hardware)' : ''}.`
      : failures[0]!.message,
    failures,
    simulated,
    rootDigest: p.rootDigest,
    result: p.result,
    createdAt: p.createdAt,
    verdict,
    verdicts: [{ ...verdict, collectedAt: e.collectedAt, provider: e.provider }],
  };
}
