/**
 * verifyModel: bundle → signature → statement → manifest → re-hash (same engine and backends as
 * `hash`, settings from the bundle) → compare. Everything about the bundle is validated before any
 * model file is opened.
 */
import { realpathSync, statSync } from 'node:fs';
import { basename, isAbsolute, relative, resolve, sep } from 'node:path';
import { hashModel } from '../engine/hash-model.js';
import type { HashModelOptions } from '../engine/types.js';
import { InputError, ModelsealError } from '../errors.js';
import { parseShardName } from '../manifest/oms.js';
import { IN_TOTO_PAYLOAD_TYPE, parseStatementJson, statementToManifest, type ParsedStatement } from '../manifest/statement.js';
import type { Manifest, Resource, Serialization } from '../manifest/types.js';
import { compareResources, resourceFile, selectResources, type ResourceMismatch } from './compare.js';
import { readBundleFile, trustOptionsOf, verifyBundleSignature, type SignerInfo, type TrustOptions } from './signature.js';
import { checkCompanion, type CompanionVerdict } from './companion-check.js';

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
  try {
    abs = realpathSync(path);
  } catch {
    abs = resolve(path);
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

/**
 * Verifies a model against an OMS bundle.
 *
 * Throws a ModelsealError (with `code`) when the comparison cannot be made: unreadable or malformed
 * bundle (InputError, exit 2), bad signature / wrong key / certificate not chaining / inconsistent
 * statement (VerificationError, exit 1). Returns `verified: false` with the differences listed by
 * name when the model differs from what was signed.
 *
 * @example
 * const r = await verifyModel('./model', './model.sig', { publicKey: 'pub.pem' });
 * if (!r.verified) console.error(r.summary, r.mismatches);
 */
export async function verifyModel(modelPath: string, bundlePath: string, options: VerifyModelOptions = {}): Promise<VerifyModelResult> {
  // 1. Bundle and signature: no model file is opened until these pass.
  const bundle = readBundleFile(bundlePath);
  const trust = trustOptionsOf(options);
  const verified = await verifyBundleSignature(bundle, trust, { expectedPayloadType: IN_TOTO_PAYLOAD_TYPE });
  const parsed = statementToManifest(parseStatementJson(verified.payload));
  const expectedManifest = parsed.manifest;
  const s = expectedManifest.serialization;
  const sharded = s.method === 'shards';
  const warnings = [...verified.warnings, ...parsed.notes];
  if (expectedManifest.resources.length === 0) warnings.push('the signed manifest lists no resources (an empty model)');

  // 2. Scope.
  const { root, isFile } = modelRoot(modelPath);
  const expected = isFile ? singleFileNames(expectedManifest, modelPath, warnings) : expectedManifest.resources;
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

  // 3. Re-hash with the bundle's settings.
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
  if (options.signal !== undefined) hashOpts.signal = options.signal;
  if (options.onProgress !== undefined) hashOpts.onProgress = options.onProgress;

  let actual: Resource[] = [];
  let hashing = { bytes: 0, seconds: 0, backend: 'none', workers: 0 };
  if (!(subset && inScope.length === 0)) {
    try {
      const h = await hashModel(modelPath, hashOpts);
      actual = h.manifest.resources;
      hashing = { bytes: h.bytes, seconds: h.seconds, backend: h.backend, workers: h.workers };
    } catch (e) {
      // No file of the model is in scope: every signed resource in scope is missing.
      if (!(e instanceof ModelsealError && (e.code === 'SUBSET_EMPTY' || e.code === 'MODEL_EMPTY'))) throw e;
    }
  }

  // 4. Compare.
  const cmp = compareResources(inScope, actual);
  const extra = options.ignoreUnsignedFiles ? [] : cmp.extra;
  const ok = cmp.mismatches.length === 0 && cmp.missing.length === 0 && extra.length === 0 && unmatched.length === 0 && (!subset || inScope.length > 0);
  // 5. The Merkle companion, after an OMS pass only: it can add a failure, never excuse one.
  let companion: CompanionVerdict | undefined;
  if (ok) {
    const files = new Set(inScope.map((r) => resourceFile(r.name, sharded)));
    companion = await checkCompanion(modelPath, bundlePath, trust, options.companion, (f) => files.has(f));
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
