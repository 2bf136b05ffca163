/**
 * `checkAttestation`: check a bundle's attestation against the model it verified — the attestation's
 * signature (the bundle's key), its evidence (vendor chains to pinned roots) and the binding, then the
 * relying party's policy. `writeVerificationReceipt`: after a verification inside a TEE, a receipt bound
 * to a fresh CPU report of this machine.
 */
import type { KeyObject } from 'node:crypto';
import { InputError } from '../errors.js';
import { readInputFile } from '../io/input-file.js';
import {
  attestationNonce,
  attestationPathFor,
  verifyAttestation,
  writeAttestationFile,
  type AttestationVerification,
  type EvidenceSource,
} from '../attest/binding/index.js';
import { loadPolicy, validatePolicy, type Policy, type PolicyResult } from '../attest/policy/index.js';
import { createReceipt, receiptNonce, type ReceiptResult } from '../attest/receipt/index.js';
import { evidenceSourceFor, type AttestMode } from '../attest/sources.js';
import type { ParsedBundle } from '../sign/bundle.js';
import { bundleSignerKey, bundleSubject, readParsedBundle } from '../sign/bundle-subject.js';

/** The model an attestation is checked for: its verified root digest (hex), or a result that carries it (verifyModel's, openVerified's `VerifiedModel`). */
export type VerifiedModelRef = string | { rootDigest: string };

/** Options of {@link checkAttestation}. */
export interface CheckAttestationOptions {
  /** The key that signed the bundle (path to PEM, PEM text, KeyObject); default: the bundle's leaf certificate key. */
  publicKey?: string | KeyObject;
  /** A policy (docs/policy.md) to validate the verified evidence against: a file path or a parsed policy. */
  policy?: string | Policy;
  /**
   * The nonce the attestation must have been taken with (32 bytes, raw or hex): the relying party's
   * challenge. Without it freshness is not checked.
   */
  expectedNonce?: Uint8Array | string;
  /** Accept SIMULATED evidence (tests and demos); a policy with `allowSimulated` accepts it too. */
  allowSimulated?: boolean;
  /** Verification time for evidence certificates and collateral (default now). */
  at?: Date;
  /** TDX collateral directory. */
  collateralDir?: string;
}

/** The result of {@link checkAttestation}. */
export interface CheckAttestationResult {
  /** true only when the attestation verified and the policy (when given) is satisfied. */
  ok: boolean;
  /** The first failure's code (ATT_* from the attestation, POLICY_* from the policy). */
  code?: string;
  message: string;
  /** true when any evidence is simulated: it then proves nothing about real hardware. */
  simulated: boolean;
  attestation: AttestationVerification;
  policy?: PolicyResult;
}

function readAttestation(path: string): Uint8Array {
  try {
    return new Uint8Array(readInputFile(path, 'attestation'));
  } catch (e) {
    if (e instanceof InputError) throw e; // a refused input (not regular, too large) says so itself
    throw new InputError('ATT_UNREADABLE', `Cannot read the attestation ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`);
  }
}

/**
 * Checks a bundle's attestation: the signature over the attestation statement (with the bundle's key),
 * the binding to this model, this bundle's statements and key (and the expected nonce), every piece of
 * evidence with its platform verifier, then the policy when given (only over evidence that verified).
 * Refusals are results (`ok: false` with a code); unreadable input throws.
 *
 * @param model the verified model's root digest, or `undefined` to take the bundle subject as given.
 * @param bundle the bundle's path, or a parsed bundle.
 * @param attestation the `.att` file's path or bytes; default `<bundle>.att` beside a bundle path.
 * @example
 * ```ts
 * const v = await verifyModel('model/', 'model.sig', { publicKey: 'key.pub.pem' });
 * const a = await checkAttestation(v, 'model.sig', undefined, { publicKey: 'key.pub.pem', policy: 'policy.json' });
 * if (!a.ok) console.error(a.code, a.message);
 * ```
 * @throws InputError ATT_INPUT (root digest differs from the bundle's subject, or a bad nonce),
 *   ATT_UNREADABLE, ATT_FORMAT, ATT_KEY, BUNDLE_* for unreadable input.
 */
export async function checkAttestation(
  model: VerifiedModelRef | undefined,
  bundle: string | ParsedBundle,
  attestation: string | Uint8Array | undefined,
  options: CheckAttestationOptions = {},
): Promise<CheckAttestationResult> {
  const parsed = typeof bundle === 'string' ? readParsedBundle(bundle) : bundle;
  const { root } = bundleSubject(parsed, typeof bundle === 'string' ? bundle : 'the bundle');
  const rootDigest = typeof model === 'string' ? model : model?.rootDigest;
  if (rootDigest !== undefined && rootDigest !== root) {
    throw new InputError('ATT_INPUT', 'The verified root digest and the bundle subject differ.');
  }
  const expectedNonce = options.expectedNonce === undefined ? undefined : attestationNonce(options.expectedNonce);
  let bytes: Uint8Array;
  if (attestation instanceof Uint8Array) bytes = attestation;
  else if (attestation !== undefined) bytes = readAttestation(attestation);
  else if (typeof bundle === 'string') bytes = readAttestation(attestationPathFor(bundle));
  else throw new InputError('ATT_INPUT', 'Pass the attestation (its path or bytes) when the bundle is not given as a path.');
  const policy = typeof options.policy === 'string' ? loadPolicy(options.policy) : options.policy;
  // Simulated evidence is accepted when the caller says so: allowSimulated, or a policy that sets
  // allowSimulated (the relying party's own file); it is reported as simulated either way.
  const allowSimulated = options.allowSimulated === true || policy?.allowSimulated === true;
  const att = await verifyAttestation(bytes, {
    rootDigest: root,
    statements: [parsed.payload],
    signerPublicKey: bundleSignerKey(parsed, options.publicKey),
    allowSimulated,
    ...(expectedNonce ? { expectedNonce } : {}),
    ...(options.at ? { at: options.at } : {}),
    ...(options.collateralDir ? { collateralDir: options.collateralDir } : {}),
  });
  // validate only what verified: a policy says nothing about evidence that failed its cryptography.
  const pol = policy && att.ok ? validatePolicy(att.verdicts, { ...policy, allowSimulated }, options.at ?? new Date()) : undefined;
  const ok = att.ok && (pol?.ok ?? true);
  const code = !att.ok ? att.code : pol && !pol.ok ? pol.code : undefined;
  return { ok, ...(code ? { code } : {}), message: !att.ok ? att.message : pol ? pol.message : att.message, simulated: att.simulated, attestation: att, ...(pol ? { policy: pol } : {}) };
}

/** Options of {@link writeVerificationReceipt}. */
export interface VerificationReceiptOptions {
  /** The relying party's nonce (8 to 64 bytes). */
  nonce: Uint8Array;
  /** The receipt file to write (atomically; never over an existing file unless `force`). */
  out: string;
  /** Where the fresh CPU report comes from (ignored when `source` is given); default `auto`. */
  mode?: AttestMode;
  source?: EvidenceSource;
  force?: boolean;
}

/**
 * Writes a verification receipt: a fresh CPU report of this TEE (or the simulated platform) whose
 * REPORT_DATA binds the model root digest, the verification result, the relying party's nonce and a
 * fresh receipt key, in a statement signed with that key. Check it with `verifyReceipt`.
 * @throws InputError RECEIPT_INPUT (nonce not 8–64 bytes), ATT_EXISTS; UnavailableError without a CPU TEE.
 */
export async function writeVerificationReceipt(
  rootDigest: string,
  verifyResult: ReceiptResult,
  options: VerificationReceiptOptions,
): Promise<{ path: string; simulated: boolean; source: string }> {
  const nonce = receiptNonce(options.nonce);
  const source = options.source ?? (await evidenceSourceFor(options.mode ?? 'auto', { gpu: false }));
  const r = await createReceipt({ rootDigest, verifyResult, nonce, platform: source });
  writeAttestationFile(options.out, r.bytes, { force: options.force === true });
  return { path: options.out, simulated: r.simulated, source: source.description };
}
