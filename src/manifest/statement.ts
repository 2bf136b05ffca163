/**
 * OMS manifest ⇄ in-toto Statement v1 (predicate `https://model_signing/signature/v1.0`).
 *
 * Producing follows the reference tool `model_signing` where it and the OMS v1.0 spec disagree:
 * shard resources are `<hash>-sharded-<N>`, single-file models name
 * their one resource `"."`, resources come in the manifest's (reference) order, and — unlike the
 * reference — `shard_size` is a JSON integer (schema-valid, and the reference's auto-detection
 * only works with integers).
 *
 * Parsing treats the statement as hostile: every field is type-checked, resource names are
 * validated before anything touches the file system, and each failure has its own error code.
 * Accepted on input: `shard_size` integer or integral float, shard `algorithm` `<hash>-sharded-<N>`
 * or bare `<hash>` (spec), resources in any order, unknown predicate fields (ignored), and the
 * legacy `https://model_signing/Digests/v0.1` statement of model_signing v0.2.
 */
import { createHash } from 'node:crypto';
import { InputError, VerificationError, type InputCode } from '../errors.js';
import type { HashAlgorithm } from '../hash/vocabulary.js';
import type { Manifest, Resource, Serialization } from './types.js';
import { parseShardName, resourceAlgorithm, rootDigestOf } from './oms.js';
import { IN_TOTO_STATEMENT_TYPE } from '../crypto/in-toto.js';
import { MAX_JSON_DEPTH, jsonTooDeep } from '../io/json-depth.js';

export { IN_TOTO_PAYLOAD_TYPE, IN_TOTO_STATEMENT_TYPE, encodeStatement } from '../crypto/in-toto.js';
/** The OMS predicate type (model_signing v0.3 and later, OMS spec v1.0). */
export const OMS_PREDICATE_TYPE = 'https://model_signing/signature/v1.0';
/** The only legacy predicate model_signing v1.x still accepts (written by v0.2). */
export const OMS_LEGACY_DIGESTS_PREDICATE_TYPE = 'https://model_signing/Digests/v0.1';

/** Most resources a statement may list; larger manifests are refused before any file is opened. */
export const MAX_RESOURCES = 1_000_000;

const HASHES: readonly HashAlgorithm[] = ['sha256', 'blake2b', 'blake3'];
const DIGEST_HEX_CHARS: Record<HashAlgorithm, number> = { sha256: 64, blake2b: 128, blake3: 64 };
const HEX_RE = /^[0-9a-fA-F]+$/;

/** The JSON shape of an OMS statement as we emit it. */
export interface OmsStatement {
  _type: typeof IN_TOTO_STATEMENT_TYPE;
  subject: [{ name: string; digest: { sha256: string } }];
  predicateType: typeof OMS_PREDICATE_TYPE;
  predicate: {
    serialization: {
      method: 'files' | 'shards';
      hash_type: HashAlgorithm;
      allow_symlinks: boolean;
      shard_size?: number;
      ignore_paths?: string[];
    };
    resources: Array<{ name: string; algorithm: string; digest: string }>;
  };
}

/**
 * Builds the OMS in-toto statement of a manifest. Resources are emitted in the manifest's order
 * (the engine produces the reference order); the subject digest is the manifest's root digest.
 */
export function manifestToStatement(manifest: Manifest): OmsStatement {
  const s = manifest.serialization;
  const serialization: OmsStatement['predicate']['serialization'] = {
    method: s.method,
    hash_type: s.hashType,
    allow_symlinks: s.allowSymlinks,
  };
  if (s.method === 'shards') {
    if (s.shardSize === undefined || !Number.isSafeInteger(s.shardSize) || s.shardSize <= 0) {
      throw new RangeError('manifest.serialization.shardSize must be a positive integer for method "shards"');
    }
    serialization.shard_size = s.shardSize;
  }
  // The reference records ignore_paths only when there are some.
  if (s.ignorePaths.length > 0) serialization.ignore_paths = [...s.ignorePaths];
  return {
    _type: IN_TOTO_STATEMENT_TYPE,
    subject: [{ name: manifest.modelName, digest: { sha256: manifest.rootDigest } }],
    predicateType: OMS_PREDICATE_TYPE,
    predicate: {
      serialization,
      resources: manifest.resources.map((r) => ({ name: r.name, algorithm: r.algorithm, digest: r.digest })),
    },
  };
}


/** What a parsed statement says, besides the manifest. */
export interface ParsedStatement {
  manifest: Manifest;
  /** `v1.0` (current) or `legacy-digests-v0.1` (model_signing v0.2). */
  format: 'v1.0' | 'legacy-digests-v0.1';
  predicateType: string;
  /** The subject digest the signer declared (for legacy statements: recomputed, none is declared). */
  declaredRootDigest: string;
  /** Non-fatal observations (unknown fields ignored, spec-style names accepted, …). */
  notes: string[];
}

export interface ParseStatementOptions {
  /**
   * Check that the declared subject digest equals SHA-256 over the listed resource digests
   * (default true). `inspect` turns it off to show inconsistent statements instead of refusing them.
   */
  checkRootDigest?: boolean;
  /**
   * Leave the root digest to {@link checkStatementRootDigest}: the manifest's `rootDigest` is then the
   * declared one until that check has passed. `verify` parses the not yet authenticated statement
   * this way to start hashing, and checks once the hashing threads run (the first SHA-256 of a process
   * costs ~0.5 ms, all of it before the hashing otherwise; 2-vCPU EPYC Milan). Legacy statements,
   * which declare none, are computed as usual.
   */
  deferRootDigest?: boolean;
}

function malformed(code: InputCode, message: string, details?: Record<string, unknown>): InputError {
  return new InputError(code, message, details ? { details } : {});
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Validates one resource file path (the part before `:start:end` for shards) as a POSIX path
 * relative to the model root. Rejects what could escape the root or alias another name:
 * absolute paths, `..`, `.` components (except the single-file name `"."`), empty components,
 * backslashes and NUL. Returns a reason, or undefined when the path is acceptable.
 */
export function resourcePathProblem(path: string): string | undefined {
  if (path.length === 0) return 'is empty';
  if (path === '.') return undefined;
  if (path.charCodeAt(0) === 0x2f) return 'is an absolute path';
  if (/^[A-Za-z]:\//.test(path)) return 'looks like a Windows drive path';
  // One pass over the characters (this runs for up to a million names): components between '/'.
  let start = 0;
  for (let i = 0; i <= path.length; i++) {
    const c = i < path.length ? path.charCodeAt(i) : 0x2f;
    if (c === 0x5c) return 'contains a backslash (resource names are POSIX paths)';
    if (c === 0) return 'contains a NUL character';
    if (c !== 0x2f) continue;
    const len = i - start;
    if (len === 0) return 'contains an empty component (a leading, trailing or doubled /)';
    if (path.charCodeAt(start) === 0x2e && (len === 1 || (len === 2 && path.charCodeAt(start + 1) === 0x2e))) {
      return len === 1 ? "contains a '.' component" : "contains a '..' component";
    }
    start = i + 1;
  }
  return undefined;
}

/** Lowercases and checks a hex digest of the given algorithm. */
function checkDigest(hex: unknown, hash: HashAlgorithm, where: string): string {
  if (typeof hex !== 'string' || !HEX_RE.test(hex) || hex.length !== DIGEST_HEX_CHARS[hash]) {
    throw malformed(
      'RESOURCE_DIGEST_INVALID',
      `${where} has digest ${JSON.stringify(typeof hex === 'string' ? hex.slice(0, 140) : hex)}, not ${DIGEST_HEX_CHARS[hash]} hex characters of ${hash}; the statement is malformed.`,
    );
  }
  return /[A-F]/.test(hex) ? hex.toLowerCase() : hex;
}

function parseSerialization(v: unknown, notes: string[]): Serialization {
  if (!isObject(v)) throw malformed('STATEMENT_SERIALIZATION_INVALID', 'predicate.serialization is missing or not an object; the statement is not an OMS v1.0 statement.');
  const method = v.method;
  if (method !== 'files' && method !== 'shards') {
    throw malformed('STATEMENT_SERIALIZATION_INVALID', `predicate.serialization.method is ${JSON.stringify(method)}; expected "files" or "shards".`);
  }
  const hashType = v.hash_type;
  if (typeof hashType !== 'string' || !(HASHES as readonly string[]).includes(hashType)) {
    throw malformed(
      'STATEMENT_HASH_UNSUPPORTED',
      `predicate.serialization.hash_type is ${JSON.stringify(hashType)}; supported: ${HASHES.join(', ')}.`,
    );
  }
  let allowSymlinks = false;
  if (v.allow_symlinks !== undefined) {
    if (typeof v.allow_symlinks !== 'boolean') throw malformed('STATEMENT_SERIALIZATION_INVALID', 'predicate.serialization.allow_symlinks must be a boolean.');
    allowSymlinks = v.allow_symlinks;
  } else {
    notes.push('serialization.allow_symlinks is absent; assuming false');
  }
  const out: Serialization = { method, hashType: hashType as HashAlgorithm, allowSymlinks, ignorePaths: [] };
  if (method === 'shards') {
    const n = v.shard_size;
    // The reference writes it as a protobuf double (1000000000.0); JSON.parse gives the same number.
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n <= 0) {
      throw malformed('STATEMENT_SERIALIZATION_INVALID', `predicate.serialization.shard_size is ${JSON.stringify(n)}; expected a positive integer number of bytes.`);
    }
    out.shardSize = n;
  }
  if (v.ignore_paths !== undefined) {
    if (!Array.isArray(v.ignore_paths) || v.ignore_paths.length > MAX_RESOURCES) {
      throw malformed('STATEMENT_SERIALIZATION_INVALID', 'predicate.serialization.ignore_paths must be an array of relative paths.');
    }
    for (const p of v.ignore_paths) {
      const problem = typeof p === 'string' ? resourcePathProblem(p) : 'is not a string';
      if (problem !== undefined || p === '.') {
        throw malformed('STATEMENT_IGNORE_PATH_INVALID', `ignore path ${JSON.stringify(p)} ${problem ?? 'would ignore the whole model'}; the statement is malformed.`);
      }
      out.ignorePaths.push(p as string);
    }
  }
  return out;
}

function parseResources(list: unknown, s: Serialization, notes: string[]): Resource[] {
  if (!Array.isArray(list)) throw malformed('STATEMENT_RESOURCES_INVALID', 'predicate.resources is missing or not an array.');
  if (list.length > MAX_RESOURCES) {
    throw malformed('STATEMENT_TOO_MANY_RESOURCES', `the statement lists ${list.length} resources; more than ${MAX_RESOURCES} are refused.`, { count: list.length });
  }
  const shardAlg = s.method === 'shards' ? resourceAlgorithm(s.hashType, s.shardSize) : undefined;
  let bareShardAlgorithm = false;
  const seen = new Set<string>();
  const out: Resource[] = new Array(list.length);
  for (let i = 0; i < list.length; i++) {
    const r = list[i] as unknown;
    if (!isObject(r)) throw malformed('STATEMENT_RESOURCES_INVALID', `predicate.resources[${i}] is not an object.`);
    const name = r.name;
    if (typeof name !== 'string') throw malformed('RESOURCE_NAME_INVALID', `predicate.resources[${i}].name is not a string.`);
    let filePath = name;
    if (s.method === 'shards') {
      const parsed = parseShardName(name);
      if (!parsed) throw malformed('RESOURCE_NAME_INVALID', `shard resource ${JSON.stringify(name)} is not "<path>:<start>:<end>".`);
      if (!(parsed.start < parsed.end) || !Number.isSafeInteger(parsed.end) || parsed.end - parsed.start > s.shardSize! || parsed.start % s.shardSize! !== 0) {
        throw malformed('RESOURCE_NAME_INVALID', `shard resource ${JSON.stringify(name)} is not a shard of size ${s.shardSize} (start must be a multiple of it, start < end).`);
      }
      filePath = parsed.path;
    }
    const problem = resourcePathProblem(filePath);
    if (problem !== undefined) {
      throw malformed('RESOURCE_NAME_INVALID', `resource name ${JSON.stringify(name.slice(0, 300))} ${problem}; such a statement is refused before any file is opened.`);
    }
    if (seen.has(name)) throw malformed('RESOURCE_DUPLICATE', `resource ${JSON.stringify(name.slice(0, 300))} is listed twice; the statement is malformed.`);
    seen.add(name);
    const algorithm = r.algorithm;
    if (s.method === 'files') {
      if (algorithm !== s.hashType) {
        throw malformed('RESOURCE_ALGORITHM_MISMATCH', `resource ${JSON.stringify(name)} has algorithm ${JSON.stringify(algorithm)} but serialization.hash_type is ${s.hashType}.`);
      }
    } else if (algorithm !== shardAlg) {
      // The OMS v1.0 spec (and its schema) write the bare hash name for shards; accept it.
      if (algorithm !== s.hashType) {
        throw malformed('RESOURCE_ALGORITHM_MISMATCH', `shard resource ${JSON.stringify(name)} has algorithm ${JSON.stringify(algorithm)}; expected ${shardAlg} (or ${s.hashType}).`);
      }
      bareShardAlgorithm = true;
    }
    const digest = checkDigest(r.digest, s.hashType, `resource ${JSON.stringify(name)}`);
    // Normalise to the reference's algorithm names so comparisons with a fresh hash are exact.
    out[i] = { name, algorithm: s.method === 'shards' ? shardAlg! : s.hashType, digest };
  }
  if (bareShardAlgorithm) notes.push(`shard resources use the spec's bare algorithm name "${s.hashType}"; treated as ${shardAlg}`);
  return out;
}

/**
 * Parses and validates an OMS statement (a decoded DSSE payload, already JSON-parsed) into a
 * manifest. Throws InputError (malformed statement: exit 2) or VerificationError (the statement
 * is well formed but inconsistent: subject digest ≠ SHA-256 over the listed digests: exit 1).
 */
export function statementToManifest(statement: unknown, options: ParseStatementOptions = {}): ParsedStatement {
  const notes: string[] = [];
  if (!isObject(statement)) throw malformed('STATEMENT_MALFORMED', 'the signed payload is not a JSON object; it is not an in-toto statement.');
  if (statement._type !== IN_TOTO_STATEMENT_TYPE) {
    throw malformed('STATEMENT_TYPE_UNSUPPORTED', `the statement _type is ${JSON.stringify(statement._type)}; expected ${IN_TOTO_STATEMENT_TYPE}.`);
  }
  const predicateType = statement.predicateType;
  if (predicateType === OMS_LEGACY_DIGESTS_PREDICATE_TYPE) return parseLegacyDigests(statement, notes);
  if (predicateType !== OMS_PREDICATE_TYPE) {
    throw malformed('STATEMENT_PREDICATE_UNSUPPORTED', `the predicate type is ${JSON.stringify(predicateType)}; expected ${OMS_PREDICATE_TYPE}. This is not an OMS model signature.`);
  }
  const subjects = statement.subject;
  if (!Array.isArray(subjects) || subjects.length !== 1) {
    throw malformed('STATEMENT_SUBJECT_INVALID', `an OMS statement has exactly one subject (the model); this one has ${Array.isArray(subjects) ? subjects.length : 'none'}.`);
  }
  const subject = subjects[0] as unknown;
  if (!isObject(subject) || !isObject(subject.digest)) throw malformed('STATEMENT_SUBJECT_INVALID', 'the statement subject has no digest object.');
  const declared = subject.digest.sha256;
  if (typeof declared !== 'string' || declared.length !== 64 || !HEX_RE.test(declared)) {
    throw malformed('STATEMENT_SUBJECT_INVALID', 'the statement subject has no SHA-256 digest (64 hex characters).');
  }
  const modelName = typeof subject.name === 'string' ? subject.name : '';
  const predicate = statement.predicate;
  if (!isObject(predicate)) throw malformed('STATEMENT_MALFORMED', 'the statement has no predicate object.');
  const serialization = parseSerialization(predicate.serialization, notes);
  const resources = parseResources(predicate.resources, serialization, notes);
  for (const k of Object.keys(predicate)) if (k !== 'serialization' && k !== 'resources') notes.push(`unknown predicate field "${k}" ignored`);
  const declaredRootDigest = declared.toLowerCase();
  if (options.deferRootDigest) {
    return { manifest: { modelName, serialization, resources, rootDigest: declaredRootDigest }, format: 'v1.0', predicateType, declaredRootDigest, notes };
  }
  const rootDigest = rootDigestOf(resources);
  if (options.checkRootDigest !== false) refuseInconsistent(declaredRootDigest, rootDigest);
  return {
    manifest: { modelName, serialization, resources, rootDigest },
    format: 'v1.0',
    predicateType,
    declaredRootDigest,
    notes,
  };
}

/** The statement's subject digest must be SHA-256 over its resource digests (ROOT_DIGEST_MISMATCH otherwise). */
function refuseInconsistent(declaredRootDigest: string, rootDigest: string): void {
  if (rootDigest === declaredRootDigest) return;
  throw new VerificationError(
    'ROOT_DIGEST_MISMATCH',
    `the statement is inconsistent: its subject digest is ${declaredRootDigest}, but its resources hash to ${rootDigest}. The bundle was not produced by a correct signer; do not trust it.`,
    { details: { declared: declaredRootDigest, computed: rootDigest } },
  );
}

/**
 * The root-digest check that {@link statementToManifest} left out under `deferRootDigest`: throws the
 * VerificationError it would have thrown (ROOT_DIGEST_MISMATCH). After it passes, the manifest's
 * `rootDigest` (the declared one) is the computed one.
 */
export function checkStatementRootDigest(parsed: ParsedStatement): void {
  refuseInconsistent(parsed.declaredRootDigest, rootDigestOf(parsed.manifest.resources));
}

/**
 * model_signing v0.2 statements: one subject per file (sha256 of the file), no root digest, no
 * serialization block. model_signing v1.x still verifies them as files/sha256/no symlinks.
 */
function parseLegacyDigests(statement: Record<string, unknown>, notes: string[]): ParsedStatement {
  const subjects = statement.subject;
  if (!Array.isArray(subjects)) throw malformed('STATEMENT_SUBJECT_INVALID', 'the legacy statement has no subject list.');
  if (subjects.length > MAX_RESOURCES) {
    throw malformed('STATEMENT_TOO_MANY_RESOURCES', `the statement lists ${subjects.length} resources; more than ${MAX_RESOURCES} are refused.`, { count: subjects.length });
  }
  const serialization: Serialization = { method: 'files', hashType: 'sha256', allowSymlinks: false, ignorePaths: [] };
  const list = subjects.map((sub: unknown, i: number) => {
    if (!isObject(sub) || !isObject(sub.digest)) throw malformed('STATEMENT_SUBJECT_INVALID', `legacy subject ${i} has no digest.`);
    return { name: sub.name, algorithm: 'sha256', digest: sub.digest.sha256 };
  });
  const resources = parseResources(list, serialization, notes);
  notes.push('legacy model_signing v0.2 statement (Digests/v0.1): per-file SHA-256, no signed root digest');
  const rootDigest = rootDigestOf(resources);
  return {
    manifest: { modelName: '', serialization, resources, rootDigest },
    format: 'legacy-digests-v0.1',
    predicateType: OMS_LEGACY_DIGESTS_PREDICATE_TYPE,
    declaredRootDigest: rootDigest,
    notes,
  };
}

/** Decodes DSSE payload bytes as JSON (UTF-8, no BOM) with a specific error code. */
export function parseStatementJson(payload: Uint8Array): unknown {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(payload);
  } catch (e) {
    throw new InputError('STATEMENT_MALFORMED', 'the signed payload is not valid UTF-8; it is not an in-toto statement.', { cause: e });
  }
  if (jsonTooDeep(text)) {
    throw new InputError('STATEMENT_MALFORMED', `the signed payload nests deeper than ${MAX_JSON_DEPTH} levels; it is not an in-toto statement.`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new InputError('STATEMENT_MALFORMED', `the signed payload is not valid JSON (${(e as Error).message}).`, { cause: e });
  }
}

/** SHA-256 hex of bytes (used for hints and summaries). */
export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}
