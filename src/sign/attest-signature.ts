/**
 * Signing an attestation: attest/binding binds the evidence into an unsigned statement; this signs
 * it with the bundle's key through the one DSSE module and returns the `.att` file.
 */
import type { KeyObject } from 'node:crypto';
import { keySigner, signEnvelope, type EnvelopeSigner } from '../crypto/dsse.js';
import {
  ATTESTATION_MEDIA_TYPE,
  attestationFileBytes,
  attestationNonce,
  bindEvidence,
  type AttestationFile,
  type AttestationStatement,
  type BindEvidenceOptions,
} from '../attest/binding/index.js';

/** Options of {@link attestSignature}: those of `bindEvidence`, with the signer in place of its public key. */
export type AttestSignatureOptions = Omit<BindEvidenceOptions, 'signerPublicKey' | 'nonce'> & {
  /** The bundle's signing key (EC private key: KeyObject or PEM) or a signer. */
  signer: EnvelopeSigner | KeyObject | string;
  /** 32-byte freshness nonce; default: 32 random bytes. */
  nonce?: Uint8Array;
};

/** The signed attestation of {@link attestSignature}. */
export interface AttestSignatureResult {
  statement: AttestationStatement;
  file: AttestationFile;
  /** The file's bytes (JSON, newline-terminated), ready for `writeAttestationFile`. */
  bytes: Uint8Array;
  simulated: boolean;
}

function isSigner(s: EnvelopeSigner | KeyObject | string): s is EnvelopeSigner {
  return typeof s === 'object' && 'sign' in s && 'publicKeySpki' in s;
}

/**
 * Attests a signature: binds evidence from `source` to (root, statements, signer key, nonce) and signs
 * the attestation statement with the bundle's key. Nothing is written; see `writeAttestationFile`.
 * @throws InputError ATT_INPUT for a nonce that is not 32 bytes or a root that is not 32 bytes; ATT_KEY for a key that cannot sign.
 */
export async function attestSignature(options: AttestSignatureOptions): Promise<AttestSignatureResult> {
  const signer = isSigner(options.signer) ? options.signer : keySigner(options.signer);
  const nonce = options.nonce === undefined ? undefined : attestationNonce(options.nonce);
  const bound = await bindEvidence({
    rootDigest: options.rootDigest,
    statements: options.statements,
    signerPublicKey: signer.publicKeySpki,
    source: options.source,
    ...(options.subjectName !== undefined ? { subjectName: options.subjectName } : {}),
    ...(nonce ? { nonce } : {}),
    ...(options.now ? { now: options.now } : {}),
    ...(options.tool !== undefined ? { tool: options.tool } : {}),
  });
  const file: AttestationFile = { mediaType: ATTESTATION_MEDIA_TYPE, dsseEnvelope: await signEnvelope(bound.payload, signer) };
  return { statement: bound.statement, file, bytes: attestationFileBytes(file), simulated: bound.simulated };
}
