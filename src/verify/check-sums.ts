/**
 * `hash --output` / `hash --check`: writing a plain manifest file, and checking a model against one
 * (re-hash with the recorded serialization, compare). Unsigned: an integrity check, not a signature.
 */
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { hashModel } from '../engine/hash-model.js';
import type { HashModelOptions } from '../engine/types.js';
import { InputError } from '../errors.js';
import { readCappedFile } from '../io/input-file.js';
import { writeOutputFile } from '../io/output-file.js';
import { formatSumsFile, parseSumsFile, type SumsFile } from '../manifest/sums.js';
import type { Manifest } from '../manifest/types.js';
import { compareResources, type ResourceMismatch } from './compare.js';

/** A manifest file over this size is refused (a million shards take about 100 MB). */
export const MAX_SUMS_BYTES = 256 * 2 ** 20;

/** Options of checkModelSums: how to hash (the serialization itself comes from the file). */
export type CheckSumsOptions = Pick<HashModelOptions, 'backend' | 'workers' | 'disableBackends' | 'kernels' | 'hybrid' | 'signal' | 'onProgress'> & {
  /** The model to check; default: the path recorded in the file, relative to the file's directory. */
  modelPath?: string;
};

/** The verdict of a check: every listed resource must match, and nothing unlisted may appear. */
export interface CheckSumsResult {
  ok: boolean;
  modelPath: string;
  rootDigest: string;
  /** Names that matched, in the file's order. */
  matched: string[];
  mismatches: ResourceMismatch[];
  /** Listed, but no longer in the model. */
  missing: string[];
  /** In the model, but not listed. */
  extra: string[];
  bytes: number;
  seconds: number;
  backend: string;
}

/** Writes `manifest` as a manifest file at `path` (atomically; `modelPath` as given on the command line). */
export function writeSumsFile(path: string, manifest: Manifest, modelPath: string): void {
  const abs = resolve(modelPath);
  const rel = relative(dirname(resolve(path)), abs) || '.';
  // straight to the one output writer: sign/'s wrapper named the file "the signature" in its errors,
  // and importing it put the signing code in `modelseal hash`'s start-up
  writeOutputFile(path, formatSumsFile(manifest, isAbsolute(rel) ? abs : rel), { force: true, what: 'the manifest file' });
}

/** Reads and parses a manifest file (a regular file, size-capped). */
export function readSumsFile(path: string): SumsFile {
  const bytes = readCappedFile(path, MAX_SUMS_BYTES, {
    open: (e) => new InputError(e.code === 'ENOENT' ? 'SUMS_NOT_FOUND' : 'SUMS_UNREADABLE', `cannot read the manifest file ${path}: ${e.message}.`, { cause: e }),
    notRegular: () => new InputError('SUMS_UNREADABLE', `${path} is not a regular file.`),
    tooLarge: (size) => new InputError('SUMS_TOO_LARGE', `${path} is ${size} bytes, over the ${MAX_SUMS_BYTES / 2 ** 20} MiB limit for manifest files; refused.`),
  });
  return parseSumsFile(bytes.toString('utf8'));
}

/**
 * Checks a model against a manifest file written by `hash --output` (like `sha256sum -c`): the model
 * is hashed with the file's serialization and compared resource by resource.
 */
export async function checkModelSums(sumsPath: string, options: CheckSumsOptions = {}): Promise<CheckSumsResult> {
  const sums = readSumsFile(sumsPath);
  const modelPath = options.modelPath ?? (isAbsolute(sums.modelPath) ? sums.modelPath : resolve(dirname(resolve(sumsPath)), sums.modelPath));
  const s = sums.serialization;
  const { modelPath: _m, ...hashing } = options;
  const res = await hashModel(modelPath, {
    ...hashing,
    hash: s.hashType,
    method: s.method,
    ...(s.shardSize !== undefined ? { shardSize: s.shardSize } : {}),
    allowSymlinks: s.allowSymlinks,
    // the recorded list already holds the git names when they were ignored
    ignoreGitPaths: false,
    ignorePaths: s.ignorePaths,
    allowEmpty: sums.resources.length === 0,
  });
  const cmp = compareResources(sums.resources, res.manifest.resources);
  const bad = new Set([...cmp.mismatches.map((m) => m.name), ...cmp.missing]);
  return {
    ok: cmp.mismatches.length === 0 && cmp.missing.length === 0 && cmp.extra.length === 0,
    modelPath,
    rootDigest: sums.rootDigest,
    matched: sums.resources.map((r) => r.name).filter((n) => !bad.has(n)),
    mismatches: cmp.mismatches,
    missing: cmp.missing,
    extra: cmp.extra,
    bytes: res.bytes,
    seconds: res.seconds,
    backend: res.backend,
  };
}
