/**
 * `verify` with a Merkle companion: after the OMS verdict, the companion's signature and subject,
 * and every file's Merkle root against the bytes (each leaf hashed against the sidecar entries,
 * which reproduce the signed root). It can only add a failure to the OMS verdict, never remove one.
 */
import { ModelsealError } from '../errors.js';
import { findCompanion } from './companion.js';
import { loadOpenVerified } from './open-verified-loader.js';
import type { TrustOptions } from './signature.js';

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
