/**
 * The attestation flags of `modelseal sign` and `modelseal verify`, and how their outcome is printed:
 *   sign   --attest auto|snp|tdx|nvidia|simulated [--attest-nonce HEX]        → attestBundle()
 *   verify --attestation FILE [--policy P.json] [--attestation-nonce HEX] [--allow-simulated]
 *                                                                             → checkAttestation()
 *   verify --receipt OUT --receipt-nonce HEX [--receipt-attest ...]          → writeVerificationReceipt()
 * `verify --nonce HEX` is the older spelling of both nonces, kept as an alias: with --receipt it is the
 * receipt nonce, otherwise the attestation nonce. Every domain step is a library function (src/index.ts).
 */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import { InputError, ModelsealError } from '../errors.js';
import { parseHex, parseTime } from './args.js';
import {
  ATTEST_MODES,
  loadAttestSteps,
  type AttestBundleResult,
  type AttestMode,
  type CheckAttestationResult,
  type EvidenceSource,
  type ReceiptResult,
} from '../index.js';

// The steps themselves (evidence parsers, roots, policy, receipts, acquisition: ~420 KB) load only when
// an attestation flag is given (loadAttestSteps): a plain `verify --key` / `sign --key` never runs them.
export { ATTEST_MODES, type AttestMode };

/** The flag-shaped form of the library's `attestBundle` that the sign hook passes. */
export interface AttestBundleFlags {
  bundlePath: string;
  privateKey: string | KeyObject;
  password?: string;
  mode: AttestMode;
  nonce?: Uint8Array;
  output?: string;
  force?: boolean;
  gpu?: boolean;
  tdisp?: boolean;
  source?: EvidenceSource;
}

/** `sign --attest`: the library's `attestBundle` on the bundle just written. */
export async function attestBundle(o: AttestBundleFlags): Promise<AttestBundleResult & { path: string }> {
  const { bundlePath, ...options } = o;
  const r = await (await loadAttestSteps()).attestBundle(bundlePath, options);
  return { ...r, path: r.path! };
}

/** The flag-shaped form of the library's `checkAttestation` that the verify hook passes. */
export interface CheckAttestationFlags {
  bundlePath: string;
  attestationPath?: string;
  publicKey?: string | KeyObject;
  rootDigest?: string;
  policyPath?: string;
  nonce?: Uint8Array;
  allowSimulated?: boolean;
  at?: Date;
  collateralDir?: string;
}

/** `verify --attestation`: the library's `checkAttestation`. */
export async function checkAttestation(o: CheckAttestationFlags): Promise<CheckAttestationResult> {
  return (await loadAttestSteps()).checkAttestation(o.rootDigest, o.bundlePath, o.attestationPath, {
    ...(o.publicKey !== undefined ? { publicKey: o.publicKey } : {}),
    ...(o.policyPath !== undefined ? { policy: o.policyPath } : {}),
    ...(o.nonce !== undefined ? { expectedNonce: o.nonce } : {}),
    ...(o.allowSimulated !== undefined ? { allowSimulated: o.allowSimulated } : {}),
    ...(o.at !== undefined ? { at: o.at } : {}),
    ...(o.collateralDir !== undefined ? { collateralDir: o.collateralDir } : {}),
  });
}

/** `verify --receipt`: the library's `writeVerificationReceipt`. */
export async function writeReceipt(o: { rootDigest: string; verifyResult: ReceiptResult; nonce: Uint8Array; out: string; mode: AttestMode; force?: boolean }): Promise<{ path: string; simulated: boolean; source: string }> {
  return (await loadAttestSteps()).writeVerificationReceipt(o.rootDigest, o.verifyResult, { nonce: o.nonce, out: o.out, mode: o.mode, ...(o.force !== undefined ? { force: o.force } : {}) });
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
  const { attestationPathFor, evidenceSourceFor } = await loadAttestSteps();
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
  /** The nonce the attestation must carry (32 bytes, hex). */
  attestationNonce?: string;
  /** The relying party's nonce bound into the receipt (8–64 bytes, hex). */
  receiptNonce?: string;
  /** Alias of --receipt-nonce with --receipt, else of --attestation-nonce (the older single spelling). */
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
    .option('--attestation-nonce <hex>', 'the nonce the attestation must carry (32 bytes): your challenge to the signer')
    .option('--receipt-nonce <hex>', 'relying party nonce bound into the receipt (8–64 bytes)')
    .option('--nonce <hex>', 'alias: --receipt-nonce with --receipt, otherwise --attestation-nonce')
    .option('--receipt <file>', 'after verifying, write a verification receipt bound to a fresh CPU report of this TEE (needs --receipt-nonce)')
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
  // --nonce, the older spelling, means the receipt nonce with --receipt and the attestation nonce otherwise.
  const receiptNonceHex = flags.receiptNonce ?? (flags.receipt !== undefined ? flags.nonce : undefined);
  const attestationNonceHex = flags.attestationNonce ?? (flags.receipt === undefined ? flags.nonce : undefined);
  const receiptNonce = flags.receipt !== undefined && receiptNonceHex !== undefined ? parseHex(receiptNonceHex, flags.receiptNonce !== undefined ? '--receipt-nonce' : '--nonce', 8, 64) : undefined;
  if (flags.receipt !== undefined && receiptNonce === undefined) throw new InputError('USAGE', '--receipt needs --nonce HEX (the relying party\'s challenge).');
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
      ...(attestationNonceHex ? { nonce: parseHex(attestationNonceHex, flags.attestationNonce !== undefined ? '--attestation-nonce' : '--nonce', 32) } : {}),
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
    const w = await writeReceipt({ rootDigest: o.result.rootDigest, verifyResult, nonce: receiptNonce!, out: flags.receipt, mode, force: flags.force === true });
    json.receipt = { path: w.path, simulated: w.simulated, source: w.source, result: verifyResult };
    lines.push(`receipt written: ${w.path} (fresh CPU report from ${w.source})${w.simulated ? ' — SIMULATED: proves nothing about real hardware' : ''}`);
  }
  return { exitCode, json, lines };
}
