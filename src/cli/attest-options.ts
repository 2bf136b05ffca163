/**
 * The attestation steps of `modelseal sign` and `modelseal verify`, as functions the commands call:
 *   sign   --attest auto|snp|tdx|nvidia|simulated [--attest-nonce HEX]   → attestBundle()
 *   verify --attestation FILE [--policy P.json] [--nonce HEX] [--allow-simulated] → checkAttestation()
 *   verify --receipt OUT --nonce HEX [--attest ...]                         → writeReceipt()
 * They live in cli/ because they join layers that must not import each other (sign/ and verify/ read
 * the bundle; attest/ knows nothing of bundles).
 */
import { X509Certificate, createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { InputError, UnavailableError } from '../errors.js';
import { parseBundleText, type ParsedBundle } from '../sign/bundle.js';
import { loadPrivateKey, loadPublicKey } from '../sign/signer.js';
import {
  attestSignature,
  attestationPathFor,
  keySigner,
  verifyAttestation,
  writeAttestationFile,
  type AttestationVerification,
  type EvidenceSource,
} from '../attest/binding/index.js';
import { loadPolicy, validatePolicy, type PolicyResult } from '../attest/policy/index.js';
import { createReceipt, type ReceiptResult } from '../attest/receipt/index.js';

/** What `--attest` accepts. */
export type AttestMode = 'auto' | 'snp' | 'tdx' | 'nvidia' | 'simulated';
export const ATTEST_MODES: readonly AttestMode[] = ['auto', 'snp', 'tdx', 'nvidia', 'simulated'];

/** Parses a hex argument of exactly `bytes` bytes (or between min and max). */
export function hexOption(value: string, name: string, min: number, max = min): Uint8Array {
  const v = value.trim().replace(/^0x/i, '');
  if (!/^([0-9a-fA-F]{2})*$/.test(v)) throw new InputError('USAGE', `${name} must be hex (got "${value}").`);
  const b = new Uint8Array(Buffer.from(v, 'hex'));
  if (b.length < min || b.length > max) {
    throw new InputError('USAGE', `${name} must be ${min === max ? `${min}` : `${min} to ${max}`} bytes (${min * 2}${min === max ? '' : `–${max * 2}`} hex digits), got ${b.length}.`);
  }
  return b;
}

/**
 * The evidence source for a mode: the simulated platform, or this machine's TEE through the acquisition
 * layer (src/attest/acquire/). Real hardware that is absent is a clear UnavailableError.
 */
export async function evidenceSourceFor(mode: AttestMode, o: { gpu?: boolean; tdisp?: boolean } = {}): Promise<EvidenceSource> {
  if (!ATTEST_MODES.includes(mode)) throw new InputError('USAGE', `--attest must be one of ${ATTEST_MODES.join(', ')} (got "${mode}").`);
  if (mode === 'simulated') {
    const { createSimulatedPlatform } = await import('../attest/simulated/index.js');
    const platform = await createSimulatedPlatform();
    return platform.evidenceSource({ cpu: 'sev-snp', gpu: o.gpu !== false, tdisp: o.tdisp === true });
  }
  // Resolved at run time: the acquisition layer is optional in a build.
  const spec = '../attest/acquire/index.js';
  let mod: Record<string, unknown> = {};
  try {
    mod = (await import(spec)) as Record<string, unknown>;
  } catch {
    /* not built */
  }
  const make = mod.evidenceSource ?? mod.hardwareEvidenceSource ?? mod.createEvidenceSource;
  if (typeof make !== 'function') {
    throw new UnavailableError('ATT_UNAVAILABLE', 'Collecting evidence on this machine is not available in this build (src/attest/acquire). Use --attest simulated for a demonstration.');
  }
  return (await (make as (kind: string) => Promise<EvidenceSource> | EvidenceSource)(mode)) as EvidenceSource;
}

function readBundle(bundlePath: string): ParsedBundle {
  let text: string;
  try {
    text = readFileSync(bundlePath, 'utf8');
  } catch (e) {
    throw new InputError('BUNDLE_UNREADABLE', `Cannot read the bundle ${bundlePath}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`);
  }
  return parseBundleText(text, bundlePath);
}

/** The OMS statement's subject: the model root digest (hex) and its name. */
function subjectOf(bundle: ParsedBundle, bundlePath: string): { root: string; name: string } {
  let st: { subject?: Array<{ name?: string; digest?: { sha256?: string } }> };
  try {
    st = JSON.parse(bundle.payload.toString('utf8')) as typeof st;
  } catch {
    throw new InputError('BUNDLE_MALFORMED', `${bundlePath}: the signed statement is not JSON.`);
  }
  const s = st.subject?.[0];
  const root = s?.digest?.sha256;
  if (typeof root !== 'string' || !/^[0-9a-f]{64}$/.test(root)) throw new InputError('BUNDLE_MALFORMED', `${bundlePath}: the statement has no sha256 subject (model root digest).`);
  return { root, name: typeof s?.name === 'string' ? s.name : 'model' };
}

/** The key that signed a bundle: the given public key, else the leaf certificate's key. */
function signerKeyOf(bundle: ParsedBundle, publicKey: string | KeyObject | undefined): KeyObject {
  if (publicKey !== undefined) return loadPublicKey(publicKey);
  if (bundle.material.kind === 'certificate-chain' && bundle.material.certificates.length > 0) {
    return new X509Certificate(bundle.material.certificates[0]!).publicKey;
  }
  if (bundle.material.kind === 'sigstore') return new X509Certificate(bundle.material.certificate).publicKey;
  throw new InputError('ATT_KEY', 'This bundle is signed with a key: pass the public key (--key) to check the attestation.');
}

export interface AttestBundleOptions {
  bundlePath: string;
  /** The key that signed the bundle (path to PEM, or KeyObject). */
  privateKey: string | KeyObject;
  password?: string;
  mode: AttestMode;
  /** 32-byte nonce (e.g. a relying party's challenge); default random. */
  nonce?: Uint8Array;
  /** Default `<bundle>.att`. */
  output?: string;
  force?: boolean;
  gpu?: boolean;
  tdisp?: boolean;
}

export interface AttestBundleResult {
  path: string;
  simulated: boolean;
  kinds: string[];
  nonce: string;
  bindingDigest: string;
  source: string;
}

/** `sign --attest`: attests the bundle's signature and writes `<bundle>.att` (atomically, no clobber without force). */
export async function attestBundle(o: AttestBundleOptions): Promise<AttestBundleResult> {
  const bundle = readBundle(o.bundlePath);
  const { root, name } = subjectOf(bundle, o.bundlePath);
  const key = loadPrivateKey(o.privateKey, o.password);
  const signer = keySigner(key);
  // The attestation must name the bundle's key: refuse a different key before collecting anything.
  const bundleKey = bundle.material.kind === 'certificate-chain' ? new X509Certificate(bundle.material.certificates[0]!).publicKey : undefined;
  if (bundleKey && !bundleKey.equals(createPublicKey(key))) {
    throw new InputError('ATT_KEY', 'The key given is not the one whose certificate signed the bundle; attest with the bundle\'s key.');
  }
  const path = o.output ?? attestationPathFor(o.bundlePath);
  const source = await evidenceSourceFor(o.mode, { ...(o.gpu !== undefined ? { gpu: o.gpu } : {}), ...(o.tdisp !== undefined ? { tdisp: o.tdisp } : {}) });
  const r = await attestSignature({ rootDigest: root, subjectName: name, statements: [bundle.payload], signer, source, ...(o.nonce ? { nonce: o.nonce } : {}) });
  writeAttestationFile(path, r.bytes, { force: o.force === true });
  return {
    path,
    simulated: r.simulated,
    kinds: r.statement.predicate.evidence.map((e) => e.kind),
    nonce: r.statement.predicate.bindingInputs.nonce,
    bindingDigest: r.statement.predicate.bindingDigest,
    source: source.description,
  };
}

export interface CheckAttestationOptions {
  bundlePath: string;
  attestationPath?: string;
  publicKey?: string | KeyObject;
  /** The root digest the model verified with (checked against the bundle's subject). */
  rootDigest?: string;
  policyPath?: string;
  nonce?: Uint8Array;
  allowSimulated?: boolean;
  at?: Date;
  collateralDir?: string;
}

export interface CheckAttestationResult {
  ok: boolean;
  code?: string;
  message: string;
  simulated: boolean;
  attestation: AttestationVerification;
  policy?: PolicyResult;
}

/** `verify --attestation`: the attestation's signature, evidence and binding, then the policy when given. */
export async function checkAttestation(o: CheckAttestationOptions): Promise<CheckAttestationResult> {
  const bundle = readBundle(o.bundlePath);
  const { root } = subjectOf(bundle, o.bundlePath);
  if (o.rootDigest !== undefined && o.rootDigest !== root) {
    throw new InputError('ATT_INPUT', 'The verified root digest and the bundle subject differ.');
  }
  const attPath = o.attestationPath ?? attestationPathFor(o.bundlePath);
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(attPath));
  } catch (e) {
    throw new InputError('ATT_UNREADABLE', `Cannot read the attestation ${attPath}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`);
  }
  const policy = o.policyPath ? loadPolicy(o.policyPath) : undefined;
  // Simulated evidence is accepted when the caller says so: --allow-simulated, or a policy that sets
  // allowSimulated (the relying party's own file); it is reported as simulated either way.
  const allowSimulated = o.allowSimulated === true || policy?.allowSimulated === true;
  const att = await verifyAttestation(bytes, {
    rootDigest: root,
    statements: [bundle.payload],
    signerPublicKey: signerKeyOf(bundle, o.publicKey),
    allowSimulated,
    ...(o.nonce ? { expectedNonce: o.nonce } : {}),
    ...(o.at ? { at: o.at } : {}),
    ...(o.collateralDir ? { collateralDir: o.collateralDir } : {}),
  });
  // validate only what verified: a policy says nothing about evidence that failed its cryptography.
  const pol = policy && att.ok ? validatePolicy(att.verdicts, { ...policy, allowSimulated }, o.at ?? new Date()) : undefined;
  const ok = att.ok && (pol?.ok ?? true);
  const code = !att.ok ? att.code : pol && !pol.ok ? pol.code : undefined;
  return { ok, ...(code ? { code } : {}), message: !att.ok ? att.message : pol ? pol.message : att.message, simulated: att.simulated, attestation: att, ...(pol ? { policy: pol } : {}) };
}

export interface WriteReceiptOptions {
  rootDigest: string;
  verifyResult: ReceiptResult;
  nonce: Uint8Array;
  out: string;
  mode: AttestMode;
  force?: boolean;
}

/** `verify --receipt OUT --nonce HEX`: a receipt from a fresh CPU report of this machine (or the simulated platform). */
export async function writeReceipt(o: WriteReceiptOptions): Promise<{ path: string; simulated: boolean; source: string }> {
  const source = await evidenceSourceFor(o.mode, { gpu: false });
  const r = await createReceipt({ rootDigest: o.rootDigest, verifyResult: o.verifyResult, nonce: o.nonce, platform: source });
  writeAttestationFile(o.out, r.bytes, { force: o.force === true });
  return { path: o.out, simulated: r.simulated, source: source.description };
}
