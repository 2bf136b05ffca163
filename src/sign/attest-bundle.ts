/**
 * `attestBundle`: attest a signed bundle — bind TEE evidence to its signature and sign the
 * attestation statement with the bundle's key (`<bundle>.att`).
 */
import { X509Certificate, createPublicKey, type KeyObject } from 'node:crypto';
import { InputError } from '../errors.js';
import { keySigner } from '../crypto/dsse.js';
import { attestationNonce, attestationPathFor, writeAttestationFile, type EvidenceSource } from '../attest/binding/index.js';
import { evidenceSourceFor, type AttestMode } from '../attest/sources.js';
import type { ParsedBundle } from './bundle.js';
import { bundleSubject, readParsedBundle } from './bundle-subject.js';
import { loadPrivateKey } from './signer.js';
import { attestSignature, type AttestSignatureResult } from './attest-signature.js';

/** Options of {@link attestBundle}. */
export interface AttestBundleOptions {
  /** The key that signed the bundle (path to PEM, PEM text, or KeyObject). */
  privateKey: string | KeyObject;
  /** Password of an encrypted private key. */
  password?: string;
  /** Where the evidence comes from (ignored when `source` is given); default `auto`. */
  mode?: AttestMode;
  /** An evidence source made beforehand; default: the one for `mode`. */
  source?: EvidenceSource;
  /** 32-byte nonce (e.g. a relying party's challenge), raw or hex; default random. */
  nonce?: Uint8Array | string;
  /**
   * Where to write the `.att` file. Default `<bundle>.att` when the bundle is given as a path; with a
   * parsed bundle and no `output`, nothing is written (the bytes are in the result).
   */
  output?: string;
  /** Replace an existing attestation file. */
  force?: boolean;
  /** Include GPU evidence (see `evidenceSourceFor`). */
  gpu?: boolean;
  /** Include a TDISP interface report (simulated platform). */
  tdisp?: boolean;
}

/** The result of {@link attestBundle}. */
export interface AttestBundleResult {
  /** The file written, or undefined when nothing was written. */
  path?: string;
  simulated: boolean;
  /** Evidence kinds, in the order taken (devices first, CPU report last). */
  kinds: string[];
  /** The attestation nonce (hex). */
  nonce: string;
  bindingDigest: string;
  /** Description of the evidence source (says SIMULATED for the simulated platform). */
  source: string;
  /** The signed attestation (statement, file and its bytes). */
  attestation: AttestSignatureResult;
}

/**
 * Attests a signed bundle: reads its statement (the model root digest), checks that `privateKey` is the
 * bundle's key, takes evidence (devices first, CPU report last) bound to the signature, signs the
 * attestation statement with the same key and writes it atomically, never over an existing file
 * unless `force`.
 *
 * @example
 * ```ts
 * const r = await attestBundle('model.sig', { privateKey: 'key.pem', mode: 'auto' });
 * console.log(r.path, r.kinds); // model.sig.att [ 'nvidia-gpu', 'sev-snp' ]
 * ```
 * @throws InputError ATT_KEY (another key than the bundle's), ATT_INPUT (nonce not 32 bytes),
 *   ATT_EXISTS (file exists, no force); UnavailableError when the TEE named by `mode` is absent.
 */
export async function attestBundle(bundle: string | ParsedBundle, options: AttestBundleOptions): Promise<AttestBundleResult> {
  const where = typeof bundle === 'string' ? bundle : 'the bundle';
  const parsed = typeof bundle === 'string' ? readParsedBundle(bundle) : bundle;
  const { root, name } = bundleSubject(parsed, where);
  const nonce = options.nonce === undefined ? undefined : attestationNonce(options.nonce);
  const key = loadPrivateKey(options.privateKey, options.password);
  const signer = keySigner(key);
  // The attestation must name the bundle's key: refuse a different key before collecting anything.
  const bundleKey = parsed.material.kind === 'certificate-chain' ? new X509Certificate(parsed.material.certificates[0]!).publicKey : undefined;
  if (bundleKey && !bundleKey.equals(createPublicKey(key))) {
    throw new InputError('ATT_KEY', 'The key given is not the one whose certificate signed the bundle; attest with the bundle\'s key.');
  }
  const path = options.output ?? (typeof bundle === 'string' ? attestationPathFor(bundle) : undefined);
  const source = options.source ?? (await evidenceSourceFor(options.mode ?? 'auto', { ...(options.gpu !== undefined ? { gpu: options.gpu } : {}), ...(options.tdisp !== undefined ? { tdisp: options.tdisp } : {}) }));
  const r = await attestSignature({ rootDigest: root, subjectName: name, statements: [parsed.payload], signer, source, ...(nonce ? { nonce } : {}) });
  if (path !== undefined) writeAttestationFile(path, r.bytes, { force: options.force === true });
  return {
    ...(path !== undefined ? { path } : {}),
    simulated: r.simulated,
    kinds: r.statement.predicate.evidence.map((e) => e.kind),
    nonce: r.statement.predicate.bindingInputs.nonce,
    bindingDigest: r.statement.predicate.bindingDigest,
    source: source.description,
    attestation: r,
  };
}
