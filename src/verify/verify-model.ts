/**
 * verifyModel: bundle → signature → statement → manifest → re-hash (same engine and backends as
 * `hash`, settings from the bundle) → compare → Merkle companion.
 *
 * The signature check and the hashing run at the same time. The hashing starts with the settings of
 * the bundle's statement as parsed before authentication, and its result is used only once the
 * signature over those very payload bytes has verified; a bad signature aborts it and is reported as
 * a bad signature (never as a digest mismatch), and no result is returned before both halves are done.
 * The statement and model checks (malformed statement, missing model, bad --only) are reported in the
 * order they always were: after the signature. Native hashing runs on its own threads, so the main
 * thread meanwhile loads and runs the signature check (deferred-steps.ts: DSSE, key, certificate
 * chain, Sigstore), which used to precede the hashing (issue 13 target 5).
 *
 * With a Merkle companion the same pass emits the companion's leaves (RFC 9162 leaf hashes for
 * SHA-256, subtree CVs for BLAKE3, as `sign --merkle`), and the companion check compares them: the
 * model is read once (issue 14 §1).
 */
import { existsSync, realpathSync, statSync } from 'node:fs';
import { basename, isAbsolute, relative, resolve, sep } from 'node:path';
import { hashModel } from '../engine/hash-model.js';
import type { HashModelOptions, HashResult } from '../engine/types.js';
import { InputError, ModelsealError } from '../errors.js';
import { parseShardName } from '../manifest/oms.js';
import { IN_TOTO_PAYLOAD_TYPE, checkStatementRootDigest, parseStatementJson, statementToManifest, type ParsedStatement } from '../manifest/statement.js';
import type { Manifest, Resource, Serialization } from '../manifest/types.js';
import type { ParsedBundle } from '../sign/bundle.js';
import { compareResources, resourceFile, selectResources, type ResourceMismatch } from './compare.js';
import { findCompanion, readBundleFile, trustOptionsOf, type TrustOptions } from './bundle-file.js';
import type { SignerInfo, VerifiedPayload } from './signature.js';
import type { CompanionVerdict } from './companion-check.js';
import { loadDeferredSteps, type DeferredSteps } from './deferred-steps-loader.js';

/**
 * Smallest shard size an unauthenticated statement may start hashing with: a forged bundle naming
 * tiny shards would otherwise make the plan (one leaf per shard) large before its signature fails.
 */
const EARLY_MIN_SHARD_BYTES = 2 ** 20;

/** Hashing-engine settings passed through unchanged (they never change a digest). */
export interface VerifyModelOptions extends TrustOptions, Pick<HashModelOptions, 'backend' | 'disableBackends' | 'workers' | 'signal'> {
  /** Tolerate files in the model that were not signed (every signed file must still match). */
  ignoreUnsignedFiles?: boolean;
  /**
   * Verify only these files, directories or globs (relative to the model root). The result is a
   * subset verdict ("subset verified: k of n resources"), never "model verified".
   */
  only?: string[];
  /** Further paths to ignore (absolute, or relative to the model root), as model_signing's --ignore-paths. */
  ignorePaths?: string[];
  /** Apply the default top-level git ignores (default true, as model_signing). */
  ignoreGitPaths?: boolean;
  /** Override the bundle's allow_symlinks. */
  allowSymlinks?: boolean;
  onProgress?: HashModelOptions['onProgress'];
  /** Merkle companion to check too (default `<bundle>.merkle` when present; `false`: ignore it). */
  companion?: string | false;
}

export interface VerifyModelResult {
  /** True only when everything in scope matched (and, for the whole model, nothing was missing or extra). */
  verified: boolean;
  /** `model` for whole-model verification (with or without ignoreUnsignedFiles), `subset` for `only`. */
  scope: 'model' | 'subset';
  /** One line: `model verified`, `subset verified: k of n resources`, or why it failed. */
  summary: string;
  /** The signed root digest (subject of the statement). */
  rootDigest: string;
  /** Resources compared / resources in the signed manifest. */
  checked: number;
  total: number;
  mismatches: ResourceMismatch[];
  missing: string[];
  extra: string[];
  /** `only` patterns that selected no signed resource. */
  unmatched: string[];
  signer: SignerInfo;
  /** Statement format (`v1.0` or model_signing v0.2's legacy one) and DSSE encoding. */
  format: ParsedStatement['format'];
  encoding: 'dsse-v1' | 'legacy-v0.2';
  serialization: Serialization;
  warnings: string[];
  hashing: { bytes: number; seconds: number; backend: string; workers: number };
  /** The Merkle companion's verdict, when one was found or given. */
  companion?: CompanionVerdict;
}

/** The model root as the walker sees it (realpath), for making the bundle path relative. */
function modelRoot(modelPath: string): { root: string; isFile: boolean } {
  let st;
  try {
    st = statSync(modelPath);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(code === 'ENOENT' ? 'MODEL_NOT_FOUND' : 'MODEL_UNREADABLE', `${modelPath}: ${code === 'ENOENT' ? 'no such file or directory; check the model path' : (e as Error).message}.`, {
      cause: e,
    });
  }
  return { root: realpathSync(modelPath), isFile: st.isFile() };
}

/** The bundle's path relative to the model root when it lies inside it (it is then not part of the model). */
function insideRoot(root: string, path: string): string | undefined {
  let abs: string;
  // a missing path (the usual .att/.merkle beside the bundle) is resolved without realpathSync's
  // thrown ENOENT: three of those took ~0.3 ms on verify's path to hashing (2-vCPU EPYC Milan)
  if (!existsSync(path)) abs = resolve(path);
  else {
    try {
      abs = realpathSync(path);
    } catch {
      abs = resolve(path);
    }
  }
  const rel = relative(root, abs);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return undefined;
  return rel.split(sep).join('/');
}

/**
 * The OMS spec names a single-file model's resource after the file; model_signing uses ".".
 * Accept both: rename basename-named resources to "." when the model is one file.
 */
function singleFileNames(m: Manifest, modelPath: string, notes: string[]): Resource[] {
  const sharded = m.serialization.method === 'shards';
  const base = basename(resolve(modelPath));
  const files = new Set(m.resources.map((r) => resourceFile(r.name, sharded)));
  if (files.size !== 1 || !files.has(base) || base === '.') return m.resources;
  notes.push(`single-file resource named "${base}" (OMS spec style) treated as "." (model_signing style)`);
  return m.resources.map((r) => {
    if (!sharded) return { ...r, name: '.' };
    const s = parseShardName(r.name)!;
    return { ...r, name: `.:${s.start}:${s.end}` };
  });
}

/** `--only` patterns are relative to the model root; an absolute path inside the model is made relative. */
function patternInModel(root: string, pattern: string): string {
  if (!isAbsolute(pattern)) return pattern;
  const rel = insideRoot(root, pattern);
  if (rel === undefined) {
    throw new InputError('ONLY_PATTERN_INVALID', `--only ${pattern} is outside the model ${root}; give paths relative to the model root.`);
  }
  return rel;
}

/** Everything verify derives from the statement and the options before hashing. Pure but for stat calls. */
interface VerifyPlan {
  parsed: ReturnType<typeof statementToManifest>;
  /** Notes on the statement and the model, in the order they are reported. */
  notes: string[];
  root: string;
  isFile: boolean;
  expected: Resource[];
  inScope: Resource[];
  unmatched: string[];
  subset: boolean;
  hashOpts: HashModelOptions;
  /** The companion to check, and the leaf size its (not yet verified) statement names. */
  companionPath: string | undefined;
}

/**
 * The statement, scope and hashing settings from a payload; throws what each step throws. With
 * `deferRootDigest` the statement's root digest is left unchecked (checkStatementRootDigest, later).
 */
function planVerify(payload: Buffer, modelPath: string, bundlePath: string, options: VerifyModelOptions, deferRootDigest = false): VerifyPlan {
  const parsed = statementToManifest(parseStatementJson(payload), { deferRootDigest });
  const expectedManifest = parsed.manifest;
  const s = expectedManifest.serialization;
  const sharded = s.method === 'shards';
  const notes = [...parsed.notes];
  if (expectedManifest.resources.length === 0) notes.push('the signed manifest lists no resources (an empty model)');

  // Scope.
  const { root, isFile } = modelRoot(modelPath);
  const expected = isFile ? singleFileNames(expectedManifest, modelPath, notes) : expectedManifest.resources;
  let inScope: Resource[] = expected;
  let unmatched: string[] = [];
  let only: ((rel: string) => boolean) | undefined;
  const subset = options.only !== undefined;
  if (subset) {
    if (!Array.isArray(options.only)) throw new ModelsealError('BAD_OPTION', 'only must be an array of path, directory or glob strings.', { kind: 'usage' });
    const patterns = options.only.map((p) => (typeof p === 'string' ? patternInModel(root, p) : p));
    const sel = selectResources(expected, patterns, sharded);
    inScope = sel.selected;
    unmatched = sel.unmatched;
    only = (rel) => sel.selector.matches(rel);
  } else if (options.ignoreUnsignedFiles) {
    const signedFiles = new Set(expected.map((r) => resourceFile(r.name, sharded)));
    only = (rel) => signedFiles.has(rel);
  }

  // Hashing settings: the bundle's.
  const ignorePaths = [...s.ignorePaths, ...(options.ignorePaths ?? [])];
  const bundleRel = isFile ? undefined : insideRoot(root, bundlePath);
  if (bundleRel !== undefined) ignorePaths.push(bundleRel);
  // the attestation written beside the bundle (<bundle>.att) is not a model file either
  const attRel = isFile ? undefined : insideRoot(root, `${bundlePath}.att`);
  if (attRel !== undefined) ignorePaths.push(attRel);
  // so are the Merkle companion and its sidecar (sign --merkle)
  for (const side of [`${bundlePath}.merkle`, `${bundlePath}.merkle.tree`]) {
    const rel = isFile ? undefined : insideRoot(root, side);
    if (rel !== undefined) ignorePaths.push(rel);
  }
  const hashOpts: HashModelOptions = {
    hash: s.hashType,
    method: s.method,
    ignorePaths,
    ignoreGitPaths: options.ignoreGitPaths !== false,
    allowSymlinks: options.allowSymlinks ?? s.allowSymlinks,
    allowEmpty: true,
  };
  if (s.shardSize !== undefined) hashOpts.shardSize = s.shardSize;
  if (only) hashOpts.only = only;
  if (options.backend !== undefined) hashOpts.backend = options.backend;
  if (options.disableBackends !== undefined) hashOpts.disableBackends = options.disableBackends;
  if (options.workers !== undefined) hashOpts.workers = options.workers;
  if (options.onProgress !== undefined) hashOpts.onProgress = options.onProgress;
  const companionPath = findCompanion(bundlePath, options.companion);
  return { parsed, notes, root, isFile, expected, inScope, unmatched, subset, hashOpts, companionPath };
}

/** A hashing run started before its settings were authenticated: cancellable, never an unhandled rejection. */
interface HashRun {
  /** Settles when hashModel does. */
  result: Promise<{ ok: true; value: HashResult } | { ok: false; error: unknown }>;
  /**
   * Resolves once hashing is under way, or when it settled: one macrotask after hashModel's first
   * progress event (sent once the plan is made), by when its remaining microtask steps have issued
   * the native call. Resolving on the event itself let the signature check's loading and work run
   * on the main thread before the threads were started: the hashing began ~12 ms later than in
   * `hash` (cpu profile, 2 GiB / 16 files, 2-vCPU EPYC Milan).
   */
  started: Promise<void>;
  /** Aborts the run and waits until it has stopped (no hashing left running). */
  cancel(): Promise<void>;
}

function startHash(modelPath: string, hashOpts: HashModelOptions, signal: AbortSignal | undefined): HashRun {
  const ac = new AbortController();
  const forward = () => ac.abort(signal!.reason);
  if (signal?.aborted) forward();
  else signal?.addEventListener('abort', forward, { once: true });
  let began!: () => void;
  const started = new Promise<void>((r) => (began = r));
  let kicked = false;
  const report = hashOpts.onProgress;
  const opts: HashModelOptions = {
    ...hashOpts,
    signal: ac.signal,
    onProgress: (e) => {
      if (!kicked) {
        kicked = true;
        setImmediate(began);
      }
      report?.(e);
    },
  };
  const result = (async () => {
    try {
      return { ok: true as const, value: await hashModel(modelPath, opts) };
    } catch (error) {
      return { ok: false as const, error };
    } finally {
      signal?.removeEventListener('abort', forward);
      began();
    }
  })();
  return {
    result,
    started,
    cancel: async () => {
      ac.abort(new ModelsealError('ABORTED', 'verification stopped: the bundle was refused.'));
      await result;
    },
  };
}

/** Hashes, treating "nothing of the model in scope" as no resources (every signed one is then missing). */
async function settleHash(run: HashRun | undefined): Promise<HashResult | undefined> {
  if (!run) return undefined;
  const r = await run.result;
  if (r.ok) return r.value;
  const e = r.error;
  if (e instanceof ModelsealError && (e.code === 'SUBSET_EMPTY' || e.code === 'MODEL_EMPTY')) return undefined;
  throw e;
}

/**
 * Verifies a model against an OMS bundle.
 *
 * Throws a ModelsealError (with `code`) when the comparison cannot be made: unreadable or malformed
 * bundle (InputError, exit 2), bad signature / wrong key / certificate not chaining / inconsistent
 * statement (VerificationError, exit 1). Returns `verified: false` with the differences listed by
 * name when the model differs from what was signed. The model is hashed while the signature is being
 * checked; a bad signature stops the hashing and is what is reported.
 *
 * @example
 * const r = await verifyModel('./model', './model.sig', { publicKey: 'pub.pem' });
 * if (!r.verified) console.error(r.summary, r.mismatches);
 */
export async function verifyModel(modelPath: string, bundlePath: string, options: VerifyModelOptions = {}): Promise<VerifyModelResult> {
  // 1. The bundle file, read and parsed (a malformed bundle stops here, before any model file is opened).
  const bundle = readBundleFile(bundlePath);
  const trust = trustOptionsOf(options);

  // 2. Hashing starts with the statement's settings as parsed now; the signature is checked meanwhile.
  const early = await earlyPlan(bundle, modelPath, bundlePath, options);
  let run = early ? startHash(modelPath, early.hashOpts, options.signal) : undefined;
  // the check's modules compile once the hashing threads are under way (they do not need the main thread)
  if (run) await Promise.race([run.started, run.result]);
  let steps: DeferredSteps;
  let verified: VerifiedPayload;
  try {
    steps = await loadDeferredSteps();
    verified = await steps.verifyBundleSignature(bundle, trust, { expectedPayloadType: IN_TOTO_PAYLOAD_TYPE });
  } catch (e) {
    await run?.cancel();
    throw e;
  }
  // 3. The authenticated statement. It is the payload the early plan parsed (the same bytes); if it
  // were not, that run is dropped and the model hashed again with the verified settings.
  let plan: VerifyPlan;
  if (early && verified.payload.equals(bundle.payload)) {
    plan = early;
    // the early plan left the statement's root digest unchecked: checked now, where planVerify would
    // have refused an inconsistent statement (nothing else of that plan can fail)
    try {
      checkStatementRootDigest(plan.parsed);
    } catch (e) {
      await run?.cancel();
      throw e;
    }
  } else {
    await run?.cancel();
    run = undefined;
    plan = planVerify(verified.payload, modelPath, bundlePath, options);
    if (!(plan.subset && plan.inScope.length === 0)) {
      if (plan.companionPath !== undefined) await withCompanionLeaves(plan);
      run = startHash(modelPath, plan.hashOpts, options.signal);
    }
  }
  const { parsed, inScope, unmatched, subset, expected } = plan;
  const s = parsed.manifest.serialization;
  const sharded = s.method === 'shards';
  const warnings = [...verified.warnings, ...plan.notes];
  const h = await settleHash(run);
  const actual = h?.manifest.resources ?? [];
  const hashing = h ? { bytes: h.bytes, seconds: h.seconds, backend: h.backend, workers: h.workers } : { bytes: 0, seconds: 0, backend: 'none', workers: 0 };

  // 4. Compare.
  const cmp = compareResources(inScope, actual);
  const extra = options.ignoreUnsignedFiles ? [] : cmp.extra;
  const ok = cmp.mismatches.length === 0 && cmp.missing.length === 0 && extra.length === 0 && unmatched.length === 0 && (!subset || inScope.length > 0);
  // 5. The Merkle companion, after an OMS pass only: it can add a failure, never excuse one.
  let companion: CompanionVerdict | undefined;
  if (ok && plan.companionPath !== undefined) {
    const files = new Set(inScope.map((r) => resourceFile(r.name, sharded)));
    const inCompanionScope = (f: string) => files.has(f);
    if (h?.merkle) {
      const digests = new Map(s.method === 'files' ? actual.map((r) => [r.name, r.digest] as const) : []);
      companion = await steps.checkCompanionLeaves(plan.companionPath, trust, verified.signer, parsed.manifest, { root: plan.root, isFile: plan.isFile, merkle: h.merkle, digests }, inCompanionScope);
    }
    // the pass did not produce this companion's leaves: read them
    companion ??= await steps.checkCompanion(modelPath, bundlePath, trust, plan.companionPath, inCompanionScope);
  }
  const total = expected.length;
  let summary: string;
  if (ok && companion && !companion.verified) summary = `verification FAILED: the model matches the OMS bundle, but ${companion.mismatches.length} file(s) do not match the Merkle companion's roots`;
  else if (ok) summary = subset ? `subset verified: ${cmp.matched} of ${total} resources` : options.ignoreUnsignedFiles ? 'model verified (unsigned files ignored)' : 'model verified';
  else {
    const parts: string[] = [];
    if (cmp.mismatches.length) parts.push(`${cmp.mismatches.length} mismatched`);
    if (cmp.missing.length) parts.push(`${cmp.missing.length} missing`);
    if (extra.length) parts.push(`${extra.length} unsigned (extra)`);
    if (unmatched.length) parts.push(`${unmatched.length} --only pattern(s) matched no signed resource`);
    summary = `verification FAILED${subset ? ' (subset)' : ''}: ${parts.join(', ')}`;
  }
  return {
    verified: ok && (companion === undefined || companion.verified),
    scope: subset ? 'subset' : 'model',
    summary,
    rootDigest: parsed.manifest.rootDigest,
    checked: inScope.length,
    total,
    mismatches: cmp.mismatches,
    missing: cmp.missing,
    extra,
    unmatched,
    signer: verified.signer,
    format: parsed.format,
    encoding: verified.encoding,
    serialization: s,
    warnings,
    hashing,
    ...(companion ? { companion } : {}),
  };
}

/**
 * The companion's leaf size into the hashing settings, so the pass emits its leaves. (The companion
 * module loads before hashing here: with a companion the check needs it anyway.)
 */
async function withCompanionLeaves(plan: VerifyPlan): Promise<void> {
  const leaf = (await loadDeferredSteps()).companionLeafBytes(plan.companionPath!);
  if (leaf !== undefined) plan.hashOpts.merkleLeafBytes = leaf;
}

/**
 * The plan from the not yet authenticated statement, when it can start hashing: undefined when any
 * step fails (the same step fails again after the signature check and reports then, in the usual
 * order), when nothing is in scope, or when its settings would widen what is read beyond the user's
 * choice (symlinks followed on the statement's word alone) or make a large plan (tiny shards).
 */
async function earlyPlan(bundle: ParsedBundle, modelPath: string, bundlePath: string, options: VerifyModelOptions): Promise<VerifyPlan | undefined> {
  if (bundle.payloadType !== IN_TOTO_PAYLOAD_TYPE) return undefined;
  let plan: VerifyPlan;
  try {
    plan = planVerify(bundle.payload, modelPath, bundlePath, options, true);
  } catch {
    return undefined;
  }
  const s = plan.parsed.manifest.serialization;
  if (plan.subset && plan.inScope.length === 0) return undefined;
  if (s.allowSymlinks && options.allowSymlinks === undefined) return undefined;
  if (s.method === 'shards' && (s.shardSize ?? 0) < EARLY_MIN_SHARD_BYTES) return undefined;
  if (plan.companionPath !== undefined) await withCompanionLeaves(plan);
  return plan;
}
