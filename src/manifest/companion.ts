/**
 * The Merkle companion statement (DESIGN §2.1, docs/companion.md, docs/companion.schema.json): an
 * in-toto Statement v1 signed by the OMS bundle's signer, whose subject is the OMS root digest and
 * whose predicate carries, per file, the size, the leaf size and the root of a Merkle tree over the
 * file's leaves. The tree's leaf level travels in an unsigned sidecar (`<bundle>.merkle.tree`) that
 * is checked against these signed roots before it is used.
 *
 * Parsing treats the statement and the sidecar as hostile: every field is type-checked and bounded.
 */
import { InputError, VerificationError } from '../errors.js';
import { IN_TOTO_STATEMENT_TYPE } from './statement.js';

/** Predicate type of the companion statement (versioned: a change of meaning is a new URI). */
export const COMPANION_PREDICATE_TYPE = 'https://modelseal.dev/merkle-companion/v1';
/** First 8 bytes of a sidecar file: `MSMERKLE`. */
export const SIDECAR_MAGIC = Buffer.from('MSMERKLE', 'ascii');
/** Default and bounds of the leaf size. */
export const DEFAULT_LEAF_BYTES = 1024 * 1024;
export const MIN_LEAF_BYTES = 1024;
export const MAX_LEAF_BYTES = 1024 * 1024 * 1024;
/** Most files one companion may list (as many as an OMS manifest may). */
export const MAX_COMPANION_FILES = 1_000_000;
const HEX64 = /^[0-9a-f]{64}$/;

export type CompanionTree = 'rfc9162-sha256' | 'blake3-outboard';

/** One file of the companion. */
export interface CompanionFile {
  /** Path relative to the model root, `/`-separated (`.` for a single-file model), as in the OMS manifest. */
  name: string;
  size: number;
  leafSize: number;
  tree: CompanionTree;
  /** Lowercase hex root of the file's tree (for `blake3-outboard`: the file's BLAKE3 digest). */
  root: string;
}

/** A companion as the library uses it. */
export interface Companion {
  /** The OMS root digest it is bound to (its subject). */
  omsRoot: string;
  modelName: string;
  files: CompanionFile[];
}

/** The JSON shape of the companion statement. */
export interface CompanionStatement {
  _type: typeof IN_TOTO_STATEMENT_TYPE;
  subject: [{ name: string; digest: { sha256: string } }];
  predicateType: typeof COMPANION_PREDICATE_TYPE;
  predicate: {
    version: 1;
    files: Array<{ name: string; size: number; leaf_size: number; tree: CompanionTree; root: string }>;
  };
}

/** Checks a leaf size given by a user or read from a statement. */
export function isValidLeafSize(n: number): boolean {
  return Number.isSafeInteger(n) && n >= MIN_LEAF_BYTES && n <= MAX_LEAF_BYTES && (n & (n - 1)) === 0;
}

export function companionToStatement(c: Companion): CompanionStatement {
  return {
    _type: IN_TOTO_STATEMENT_TYPE,
    subject: [{ name: c.modelName, digest: { sha256: c.omsRoot } }],
    predicateType: COMPANION_PREDICATE_TYPE,
    predicate: {
      version: 1,
      files: c.files.map((f) => ({ name: f.name, size: f.size, leaf_size: f.leafSize, tree: f.tree, root: f.root })),
    },
  };
}

function malformed(detail: string): InputError {
  return new InputError('COMPANION_MALFORMED', `the Merkle companion ${detail}; re-create it with \`modelseal sign --merkle\`.`);
}

/** Parses an authenticated companion payload (hostile JSON) into a Companion. */
export function parseCompanionPayload(payload: Uint8Array): Companion {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(payload).toString('utf8'));
  } catch {
    throw malformed('payload is not JSON');
  }
  const o = doc as Record<string, unknown>;
  if (typeof doc !== 'object' || doc === null || o._type !== IN_TOTO_STATEMENT_TYPE) throw malformed('is not an in-toto Statement v1');
  if (o.predicateType !== COMPANION_PREDICATE_TYPE) {
    throw new VerificationError('COMPANION_PREDICATE_UNKNOWN', `the companion's predicate type ${JSON.stringify(o.predicateType)} is not ${COMPANION_PREDICATE_TYPE}; this file is not a Merkle companion this version reads.`);
  }
  const subj = o.subject;
  if (!Array.isArray(subj) || subj.length !== 1) throw malformed('must have exactly one subject');
  const s0 = subj[0] as { name?: unknown; digest?: { sha256?: unknown } };
  if (typeof s0?.name !== 'string' || typeof s0.digest?.sha256 !== 'string' || !HEX64.test(s0.digest.sha256)) throw malformed('subject is not a name with a sha256 digest');
  const p = o.predicate as Record<string, unknown> | undefined;
  if (typeof p !== 'object' || p === null || p.version !== 1 || !Array.isArray(p.files)) throw malformed('predicate must be {version: 1, files: [...]}');
  if (p.files.length > MAX_COMPANION_FILES) throw malformed(`lists more than ${MAX_COMPANION_FILES} files`);
  const seen = new Set<string>();
  const files: CompanionFile[] = (p.files as unknown[]).map((f, i) => {
    const r = f as Record<string, unknown>;
    const where = `file #${i}`;
    if (typeof r !== 'object' || r === null) throw malformed(`${where} is not an object`);
    if (typeof r.name !== 'string' || r.name.length === 0 || r.name.startsWith('/') || r.name.split('/').some((c) => c === '..' || c === '')) {
      throw malformed(`${where} has an invalid name`);
    }
    if (seen.has(r.name)) throw malformed(`lists ${r.name} twice`);
    seen.add(r.name);
    if (typeof r.size !== 'number' || !Number.isSafeInteger(r.size) || r.size < 0) throw malformed(`${where} (${r.name}) has an invalid size`);
    if (typeof r.leaf_size !== 'number' || !isValidLeafSize(r.leaf_size)) throw malformed(`${where} (${r.name}) has an invalid leaf_size`);
    if (r.tree !== 'rfc9162-sha256' && r.tree !== 'blake3-outboard') throw malformed(`${where} (${r.name}) has unknown tree ${JSON.stringify(r.tree)}`);
    if (typeof r.root !== 'string' || !HEX64.test(r.root)) throw malformed(`${where} (${r.name}) has an invalid root`);
    return { name: r.name, size: r.size, leafSize: r.leaf_size, tree: r.tree, root: r.root };
  });
  return { omsRoot: s0.digest.sha256, modelName: s0.name, files };
}

/** Bytes of each file's entries in the sidecar, in companion order (32 bytes per entry). */
export function encodeSidecar(entries: readonly (readonly Uint8Array[])[]): Buffer {
  const parts: Uint8Array[] = [SIDECAR_MAGIC];
  for (const list of entries) for (const e of list) parts.push(e);
  return Buffer.concat(parts);
}
