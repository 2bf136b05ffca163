/**
 * The in-toto Statement v1 envelope (https://github.com/in-toto/attestation/blob/main/spec/v1/statement.md):
 * the one module for the statement shape that the OMS signature (manifest/statement.ts), the
 * attestation statement (attest/binding/statement.ts) and the verification receipt (attest/receipt/)
 * each fill with their own predicate.
 */

/** in-toto Statement v1 `_type`. */
export const IN_TOTO_STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
/** DSSE payload type of an in-toto statement. */
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

/** A subject named by its SHA-256 digest (hex): all our statements name the model root digest. */
export interface Sha256Subject {
  name: string;
  digest: { sha256: string };
}

/** An in-toto Statement v1 with predicate type `T` and predicate `P`. */
export interface InTotoStatement<T extends string, P> {
  _type: typeof IN_TOTO_STATEMENT_TYPE;
  subject: Sha256Subject[];
  predicateType: T;
  predicate: P;
}

/** A one-subject statement about `rootDigestHex`. */
export function modelStatement<T extends string, P>(subjectName: string, rootDigestHex: string, predicateType: T, predicate: P): InTotoStatement<T, P> {
  return { _type: IN_TOTO_STATEMENT_TYPE, subject: [{ name: subjectName, digest: { sha256: rootDigestHex } }], predicateType, predicate };
}

/**
 * The payload bytes we sign: compact JSON with a fixed key order. Nobody can reproduce the
 * reference tool's payload bytes (its key order varies run to run), so verifiers parse, never compare bytes.
 */
export function encodeStatement(statement: unknown): Buffer {
  return Buffer.from(JSON.stringify(statement), 'utf8');
}
