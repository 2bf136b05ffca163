/**
 * `verify` with a Merkle companion: after the OMS verdict, the companion's signature and subject,
 * and every file's Merkle root against the bytes (each leaf hashed against the sidecar entries,
 * which reproduce the signed root). It can only add a failure to the OMS verdict, never remove one.
 *
 * Two ways to the same verdict: {@link checkCompanionLeaves} compares the leaf hashes (RFC 9162) or
 * subtree CVs (BLAKE3) that verify's hashing pass already produced (`hashModel(…, { merkleLeafBytes })`,
 * as `sign --merkle` does), so the model is read once; {@link checkCompanion} reads the model again
 * leaf by leaf through openVerified, for the cases the pass could not cover.
 */
import { join } from 'node:path';
import { InputError, ModelsealError, VerificationError } from '../errors.js';
import { readRfc9162Leaves } from '../engine/merkle.js';
import type { MerkleLeaves } from '../engine/types.js';
import type { Manifest } from '../manifest/types.js';
import { loadFileEntries, verifyCompanion } from './companion.js';
import { isValidLeafSize, parseCompanionPayload } from '../manifest/companion.js';
import { findCompanion, readBundleFile } from './bundle-file.js';
import { loadOpenVerified } from './open-verified-loader.js';
import type { SignerInfo, TrustOptions } from './signature.js';

/** The companion part of a verify result. */
export interface CompanionVerdict {
  path: string;
  verified: boolean;
  /** Files whose leaves were checked. */
  files: number;
  leafSize: number;
  /** `rfc9162-sha256` or `blake3-outboard` (`none` when no file was in scope). */
  tree: string;
  /** Files whose bytes do not match their signed Merkle root, with the first failing range. */
  mismatches: Array<{ file: string; start?: number; end?: number; code: string }>;
  /**
   * Model bytes the companion check read itself: 0 when verify's hashing pass produced every leaf (the
   * usual case; a few leaves cut by a shard edge are read again), the checked files' size otherwise.
   */
  bytes: number;
}

/**
 * Checks the companion of `bundlePath` (the given path, or `<bundle>.merkle` when present), for the
 * files `inScope` selects. Undefined when there is none. Signature, subject and sidecar problems
 * throw their own codes (COMPANION_SIGNATURE_INVALID, COMPANION_SUBJECT_MISMATCH, SIDECAR_*).
 */
export async function checkCompanion(
  modelPath: string,
  bundlePath: string,
  trust: TrustOptions,
  companion: string | false | undefined,
  inScope: (file: string) => boolean = () => true,
): Promise<CompanionVerdict | undefined> {
  const path = findCompanion(bundlePath, companion);
  if (path === undefined) return undefined;
  const { openVerified } = await loadOpenVerified();
  const m = await openVerified(modelPath, { ...trust, signature: bundlePath, companion: path });
  try {
    const mismatches: CompanionVerdict['mismatches'] = [];
    let files = 0;
    let leafSize = 0;
    let tree = 'none';
    for (const f of m.files()) {
      if (f.granularity !== 'leaf' || !inScope(f.path)) continue;
      files++;
      leafSize = f.unitBytes;
      tree = f.tree ?? tree;
      try {
        await m.verifyRange(f.path, 0, f.size);
      } catch (e) {
        if (!(e instanceof ModelsealError) || e.kind !== 'verification') throw e;
        const d = e.details as { start?: number; end?: number } | undefined;
        mismatches.push({ file: f.path, ...(d?.start !== undefined ? { start: d.start, end: d.end } : {}), code: e.code });
      }
    }
    return { path, verified: mismatches.length === 0, files, leafSize, tree, mismatches, bytes: m.stats.bytesRead };
  } finally {
    await m.close();
  }
}

/**
 * The leaf size a companion's statement names, read before it is verified: it only chooses what
 * verify's hashing pass emits (`merkleLeafBytes`); {@link checkCompanionLeaves} verifies the statement
 * and compares only leaves of the size it then names. Undefined when unreadable or mixed: the check then
 * reads the model itself ({@link checkCompanion}) and reports what is wrong with the companion as before.
 */
export function companionLeafBytes(path: string): number | undefined {
  try {
    const c = parseCompanionPayload(readBundleFile(path).payload);
    const sizes = new Set(c.files.map((f) => f.leafSize));
    const [leaf] = sizes;
    return sizes.size === 1 && isValidLeafSize(leaf!) ? leaf : undefined;
  } catch {
    return undefined;
  }
}

/** What verify's hashing pass gives the companion check. */
export interface HashedLeaves {
  /** The model root (realpath) and whether the model is one file. */
  root: string;
  isFile: boolean;
  /** The leaves the pass emitted (`HashResult.merkle`). */
  merkle: MerkleLeaves;
  /** Hex digest of each file hashed (files method), by name: a one-leaf BLAKE3 file's root is its digest. */
  digests: ReadonlyMap<string, string>;
}

/**
 * The companion check from the leaves verify's hashing pass produced: the same verdicts and codes as
 * {@link checkCompanion} (COMPANION_* and SIDECAR_* thrown; RANGE_MISMATCH with the first failing
 * leaf's range, FILE_SIZE_MISMATCH or SIDECAR_MISMATCH listed per file) without reading the model
 * again. `omsSigner` and `manifest` come from the verified OMS bundle. Undefined when the leaves do not
 * fit this companion (another leaf size or tree, a file the pass did not cover): the caller then runs
 * {@link checkCompanion}.
 */
export async function checkCompanionLeaves(
  path: string,
  trust: TrustOptions,
  omsSigner: SignerInfo,
  manifest: Manifest,
  hashed: HashedLeaves,
  inScope: (file: string) => boolean = () => true,
): Promise<CompanionVerdict | undefined> {
  const vc = await verifyCompanion(path, trust, omsSigner, manifest);
  const byRel = new Map(hashed.merkle.files.map((f) => [f.rel, f]));
  // a single-file model's resource may be named after the file (OMS spec style) or "." (model_signing)
  const lookup = (name: string) => byRel.get(name) ?? (hashed.isFile && hashed.merkle.files.length === 1 ? hashed.merkle.files[0] : undefined);
  const files = vc.companion.files.filter((f) => inScope(f.name));
  for (const f of files) {
    const m = lookup(f.name);
    if (!m || f.leafSize !== hashed.merkle.leafBytes || f.tree !== hashed.merkle.tree) return undefined;
    // the pass's leaves line up with the sidecar's entries (a one-leaf BLAKE3 file has none: its digest)
    if (m.size === f.size && m.entries.length !== vc.byName.get(f.name)!.entries) return undefined;
    if (m.entries.length === 0 && f.size > 0 && lookupDigest(hashed, f.name) === undefined) return undefined;
  }
  const mismatches: CompanionVerdict['mismatches'] = [];
  let bytes = 0;
  let leafSize = 0;
  let tree = 'none';
  for (const f of files) {
    const m = lookup(f.name)!;
    leafSize = f.leafSize;
    tree = f.tree;
    if (m.size !== f.size) {
      mismatches.push({ file: f.name, code: 'FILE_SIZE_MISMATCH' });
      continue;
    }
    let signed: Uint8Array[];
    try {
      signed = loadFileEntries(vc, f.name);
    } catch (e) {
      if (!(e instanceof ModelsealError) || e.kind !== 'verification') throw e;
      mismatches.push({ file: f.name, code: e.code });
      continue;
    }
    if (f.size === 0) continue; // no byte to check (a verified read of it reads nothing either)
    if (signed.length === 0) {
      // BLAKE3, one leaf: the leaf is the whole file, its root the file's digest
      if (lookupDigest(hashed, f.name) !== f.root) mismatches.push({ file: f.name, start: 0, end: f.size, code: 'RANGE_MISMATCH' });
      continue;
    }
    const entries = m.entries;
    const missing = entries.flatMap((e, i) => (e === undefined ? [i] : []));
    if (missing.length > 0) {
      try {
        bytes += readRfc9162Leaves(hashed.isFile ? hashed.root : join(hashed.root, ...f.name.split('/')), f.name, f.size, f.leafSize, missing, entries, {
          open: (e) => new InputError('FILE_UNREADABLE', `${f.name}: ${e.message}.`, { cause: e }),
          changed: () => shorter(f.name),
        });
      } catch (e) {
        if (!(e instanceof ModelsealError) || e.kind !== 'verification') throw e;
        mismatches.push({ file: f.name, code: e.code });
        continue;
      }
    }
    const bad = signed.findIndex((e, i) => !Buffer.from(e).equals(entries[i]!));
    if (bad >= 0) mismatches.push({ file: f.name, start: bad * f.leafSize, end: Math.min(f.size, (bad + 1) * f.leafSize), code: 'RANGE_MISMATCH' });
  }
  return { path, verified: mismatches.length === 0, files: files.length, leafSize, tree, mismatches, bytes };
}

function lookupDigest(hashed: HashedLeaves, name: string): string | undefined {
  return hashed.digests.get(name) ?? (hashed.isFile && hashed.digests.size === 1 ? [...hashed.digests.values()][0] : undefined);
}

function shorter(name: string): VerificationError {
  return new VerificationError('FILE_SIZE_MISMATCH', `${name} changed size while being verified.`, { details: { file: name } });
}
