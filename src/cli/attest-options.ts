/**
 * The attestation steps of `modelseal sign` and `modelseal verify`, as functions the commands call:
 *   sign   --attest auto|snp|tdx|nvidia|simulated [--attest-nonce HEX]   → attestBundle()
 *   verify --attestation FILE [--policy P.json] [--nonce HEX] [--allow-simulated] → checkAttestation()
 *   verify --receipt OUT --nonce HEX [--attest ...]                         → writeReceipt()
 * They live in cli/ because they join layers that must not import each other (sign/ and verify/ read
 * the bundle; attest/ knows nothing of bundles).
 */
import type { Command } from 'commander';
import { X509Certificate, createPublicKey, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { InputError, ModelsealError } from '../errors.js';
import { parseHex, parseTime } from './args.js';
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
import { createHardwareEvidenceSource } from '../attest/acquire/index.js';

/** What `--attest` accepts. */
export type AttestMode = 'auto' | 'snp' | 'tdx' | 'nvidia' | 'simulated';
export const ATTEST_MODES: readonly AttestMode[] = ['auto', 'snp', 'tdx', 'nvidia', 'simulated'];

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
  // Real hardware through the acquisition layer (configfs-tsm, ioctls, NVML): a kind that is absent is
  // an UnavailableError naming what was probed; nothing here ever falls back to simulated evidence.
  const gpu: boolean | 'auto' = o.gpu === false ? false : mode === 'nvidia' ? true : 'auto';
  const cpu = mode === 'snp' ? 'sev-snp' : mode === 'tdx' ? 'tdx' : mode === 'nvidia' ? 'none' : 'auto';
  return createHardwareEvidenceSource({ cpu, gpu });
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
  /** An evidence source made beforehand (see preflightSignAttest); default: one for `mode`. */
  source?: EvidenceSource;
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
  const source = o.source ?? (await evidenceSourceFor(o.mode, { ...(o.gpu !== undefined ? { gpu: o.gpu } : {}), ...(o.tdisp !== undefined ? { tdisp: o.tdisp } : {}) }));
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

// ---- hooks for the sign and verify commands ---------------------------------------------------------

/** Flags `addSignAttestOptions` adds to `modelseal sign`. */
export interface SignAttestFlags {
  attest?: string;
  attestNonce?: string;
  force?: boolean;
  password?: string;
}

/** Adds `--attest MODE` and `--attest-nonce HEX` to `modelseal sign`. */
export function addSignAttestOptions(cmd: Command): Command {
  return cmd
    .option('--attest <mode>', `attest the signature and write <bundle>.att: ${ATTEST_MODES.join(' | ')} (simulated: demo evidence that proves nothing)`)
    .option('--attest-nonce <hex>', '32-byte nonce for --attest (e.g. a relying party\'s challenge); default random');
}

/** The outcome of an attestation step, ready to print or merge into the command's JSON. */
export interface AttestStepOutcome {
  /** 0, or the exit code the step demands (1 refused, 2 input). */
  exitCode: number;
  /** Merge into the command's JSON result as `attestation` (undefined when the step did not run). */
  json?: Record<string, unknown>;
  /** Human lines for stdout. */
  lines: string[];
}

/**
 * Runs before `sign --attest` hashes anything: the checks that need no bundle (the mode and nonce
 * are valid, `<bundle>.att` does not exist unless --force, the evidence source can be made), so that
 * a usage mistake does not leave a fresh bundle behind without its attestation.
 */
export async function preflightSignAttest(flags: SignAttestFlags, bundlePath: string): Promise<EvidenceSource | undefined> {
  if (flags.attest === undefined) return undefined;
  const mode = flags.attest as AttestMode;
  if (flags.attestNonce) parseHex(flags.attestNonce, '--attest-nonce', 32);
  const att = attestationPathFor(bundlePath);
  if (flags.force !== true && existsSync(att)) {
    throw new InputError('ATT_EXISTS', `${att} already exists; pass --force to replace it (and the bundle), or -o to sign to another path.`);
  }
  return evidenceSourceFor(mode, mode === 'simulated' ? { gpu: true, tdisp: true } : {});
}

/**
 * Runs after `signModel` wrote the bundle when `--attest` was given. Errors (no TEE, evidence refused)
 * propagate as ModelsealErrors with their exit codes, saying that the bundle itself was written.
 */
export async function signAttestStep(
  flags: SignAttestFlags,
  o: { bundlePath: string | undefined; privateKey: string | KeyObject; source?: EvidenceSource },
): Promise<AttestStepOutcome> {
  if (flags.attest === undefined) return { exitCode: 0, lines: [] };
  if (!o.bundlePath) throw new InputError('USAGE', '--attest needs a written bundle (not with --dry-run).');
  const mode = flags.attest as AttestMode;
  let a: AttestBundleResult;
  try {
    a = await attestBundle({
      bundlePath: o.bundlePath,
      privateKey: o.privateKey,
      ...(flags.password ? { password: flags.password } : {}),
      mode,
      ...(flags.attestNonce ? { nonce: parseHex(flags.attestNonce, '--attest-nonce', 32) } : {}),
      force: flags.force === true,
      ...(mode === 'simulated' ? { gpu: true, tdisp: true } : {}),
      ...(o.source ? { source: o.source } : {}),
    });
  } catch (e) {
    if (!(e instanceof ModelsealError)) throw e;
    throw new ModelsealError(e.code, `${e.message} The bundle ${o.bundlePath} was written and is valid on its own; no attestation was written for it.`, {
      cause: e,
      kind: e.kind,
      ...(e.details ? { details: e.details } : {}),
    });
  }
  const sim = a.simulated ? ' — SIMULATED evidence: proves nothing about real hardware' : '';
  return {
    exitCode: 0,
    json: { path: a.path, simulated: a.simulated, evidence: a.kinds, nonce: a.nonce, bindingDigest: a.bindingDigest, source: a.source },
    lines: [`attestation written: ${a.path} (${a.kinds.join(' + ')} from ${a.source})${sim}`],
  };
}

/** Flags `addVerifyAttestOptions` adds to `modelseal verify`. */
export interface VerifyAttestFlags {
  attestation?: string | boolean;
  policy?: string;
  nonce?: string;
  receipt?: string;
  receiptAttest?: string;
  allowSimulated?: boolean;
  attestAt?: string;
  collateral?: string;
  force?: boolean;
}

/** Adds the attestation and receipt options to `modelseal verify`. */
export function addVerifyAttestOptions(cmd: Command): Command {
  return cmd
    .option('--attestation [file]', 'also verify the attestation of the signature (default <bundle>.att): evidence chains and the binding')
    .option('--policy <file>', 'validate the attestation evidence against this policy (docs/policy.md); implies --attestation')
    .option('--nonce <hex>', 'relying party nonce: with --receipt, bound into the receipt (8–64 bytes); otherwise the nonce the attestation must carry (32 bytes)')
    .option('--receipt <file>', 'after verifying, write a verification receipt bound to a fresh CPU report of this TEE (needs --nonce)')
    .option('--receipt-attest <mode>', `where the receipt's CPU report comes from: ${ATTEST_MODES.filter((m) => m !== 'nvidia').join(' | ')}`, 'auto')
    .option('--allow-simulated', 'accept / produce SIMULATED evidence (tests and demos only; it proves nothing about hardware)')
    .option('--attest-at <time>', 'verification time for evidence certificates and collateral (ISO 8601 or Unix seconds)')
    .option('--collateral <dir>', 'TDX collateral directory for the attestation evidence')
    .option('--force', 'replace an existing receipt file');
}


/**
 * Runs after `verifyModel` when any attestation / receipt option was given: the attestation and policy
 * (when asked), then the receipt (only for a verified model, with the result it records). Returns exit 1
 * when the attestation or policy refuses.
 */
export async function verifyAttestStep(
  flags: VerifyAttestFlags,
  o: { bundlePath: string; publicKey?: string; result: { verified: boolean; scope: string; rootDigest: string; checked?: number; total?: number } },
): Promise<AttestStepOutcome> {
  const wantAttestation = flags.attestation !== undefined || flags.policy !== undefined;
  if (!wantAttestation && flags.receipt === undefined) return { exitCode: 0, lines: [] };
  if (flags.receipt !== undefined && flags.nonce === undefined) throw new InputError('USAGE', '--receipt needs --nonce HEX (the relying party\'s challenge).');
  const json: Record<string, unknown> = {};
  const lines: string[] = [];
  let exitCode = 0;
  if (wantAttestation) {
    const c = await checkAttestation({
      bundlePath: o.bundlePath,
      ...(typeof flags.attestation === 'string' ? { attestationPath: flags.attestation } : {}),
      ...(o.publicKey ? { publicKey: o.publicKey } : {}),
      rootDigest: o.result.rootDigest,
      ...(flags.policy ? { policyPath: flags.policy } : {}),
      ...(flags.nonce && flags.receipt === undefined ? { nonce: parseHex(flags.nonce, '--nonce', 32) } : {}),
      allowSimulated: flags.allowSimulated === true,
      ...(flags.attestAt ? { at: parseTime(flags.attestAt, '--attest-at') } : {}),
      ...(flags.collateral ? { collateralDir: flags.collateral } : {}),
    });
    const a = c.attestation;
    json.ok = c.ok;
    if (c.code) json.code = c.code;
    json.simulated = c.simulated;
    json.message = c.message;
    json.failures = a.failures;
    json.evidence = a.evidence.map((e) => ({ kind: e.kind, provider: e.provider, simulated: e.simulated, collectedAt: e.collectedAt, verified: e.verdict.verified, bound: e.bound, code: e.verdict.code, chain: e.verdict.chain, warnings: e.verdict.warnings }));
    if (c.policy) json.policy = c.policy;
    const sim = c.simulated ? ' (SIMULATED evidence: proves nothing about real hardware)' : '';
    lines.push(`${a.ok ? 'attestation verified' : `attestation REFUSED [${a.code}]`}${sim}: ${a.message}`);
    for (const e of a.evidence) lines.push(`  ${e.verdict.verified && e.bound ? 'ok ' : 'BAD'} ${e.kind}${e.simulated ? ' [SIMULATED]' : ''} ${e.bound ? 'bound' : 'not bound'}${e.verdict.code ? ` [${e.verdict.code}]` : ''}`);
    if (c.policy) {
      lines.push(`${c.policy.ok ? 'policy satisfied' : `policy REFUSED [${c.policy.code}]`}: ${c.policy.message}`);
      for (const r of c.policy.rules.filter((x) => !x.ok)) lines.push(`  FAIL ${r.rule}: ${r.reason}`);
    }
    if (!c.ok) exitCode = 1;
  }
  if (flags.receipt !== undefined) {
    const mode = (flags.receiptAttest ?? 'auto') as AttestMode;
    if (mode === 'simulated' && !flags.allowSimulated) throw new InputError('USAGE', '--receipt-attest simulated needs --allow-simulated: a simulated receipt proves nothing about hardware.');
    const verifyResult: ReceiptResult = { verified: o.result.verified, scope: o.result.scope, ...(o.result.checked !== undefined ? { checked: o.result.checked } : {}), ...(o.result.total !== undefined ? { total: o.result.total } : {}), ...(wantAttestation ? { attestation: json.ok === true } : {}) };
    const w = await writeReceipt({ rootDigest: o.result.rootDigest, verifyResult, nonce: parseHex(flags.nonce!, '--nonce', 8, 64), out: flags.receipt, mode, force: flags.force === true });
    json.receipt = { path: w.path, simulated: w.simulated, source: w.source, result: verifyResult };
    lines.push(`receipt written: ${w.path} (fresh CPU report from ${w.source})${w.simulated ? ' — SIMULATED: proves nothing about real hardware' : ''}`);
  }
  return { exitCode, json, lines };
}
