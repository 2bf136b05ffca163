/**
 * OMS manifest rules shared by hashing, signing and verification: resource names, the reference
 * tool's order, algorithm names and the root digest. Pure functions.
 */
import { createHash } from 'node:crypto';
import type { HashAlgorithm } from '../hash/vocabulary.js';
import type { Resource } from './types.js';

/** Compares two strings by Unicode code point (Python `str` order), not by UTF-16 code unit. */
export function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done) return y.done ? 0 : -1;
    if (y.done) return 1;
    const cx = x.value.codePointAt(0)!;
    const cy = y.value.codePointAt(0)!;
    if (cx !== cy) return cx < cy ? -1 : 1;
  }
}

/** Path order of the reference tool (`PurePosixPath`): component by component. */
export function comparePaths(a: string, b: string): number {
  const pa = a.split('/');
  const pb = b.split('/');
  const n = Math.min(pa.length, pb.length);
  for (let i = 0; i < n; i++) {
    const c = compareCodePoints(pa[i]!, pb[i]!);
    if (c !== 0) return c;
  }
  return pa.length - pb.length;
}

/** A shard resource name `path:start:end` split from the right (names may contain ':'). */
export function parseShardName(name: string): { path: string; start: number; end: number } | undefined {
  const j = name.lastIndexOf(':');
  if (j <= 0) return undefined;
  const i = name.lastIndexOf(':', j - 1);
  if (i <= 0) return undefined;
  const start = name.slice(i + 1, j);
  const end = name.slice(j + 1);
  if (!/^\d+$/.test(start) || !/^\d+$/.test(end)) return undefined;
  return { path: name.slice(0, i), start: Number(start), end: Number(end) };
}

export function shardName(path: string, start: number, end: number): string {
  return `${path}:${start}:${end}`;
}

/** Reference order of resources: path components, then numeric shard offsets. */
export function compareResourceNames(a: string, b: string, sharded: boolean): number {
  if (!sharded) return comparePaths(a, b);
  const sa = parseShardName(a);
  const sb = parseShardName(b);
  if (!sa || !sb) return comparePaths(a, b);
  return comparePaths(sa.path, sb.path) || sa.start - sb.start || sa.end - sb.end;
}

/** OMS per-resource algorithm name: `sha256` for files, `sha256-sharded-<N>` for shards. */
export function resourceAlgorithm(hash: HashAlgorithm, shardSize?: number): string {
  return shardSize === undefined ? hash : `${hash}-sharded-${shardSize}`;
}

/** SHA-256 over the concatenated raw resource digests, in the listed order (lowercase hex). */
export function rootDigestOf(resources: readonly Pick<Resource, 'digest'>[]): string {
  const h = createHash('sha256');
  for (const r of resources) h.update(Buffer.from(r.digest, 'hex'));
  return h.digest('hex');
}

/** The OMS default ignores at the model root (`ignore_git_paths`). */
export const GIT_IGNORE_PATHS = ['.git', '.gitattributes', '.github', '.gitignore'] as const;
