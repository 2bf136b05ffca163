/**
 * Pure comparison of a signed manifest with a fresh one, and subset selection. Order-independent:
 * resources are compared as name → digest maps (digests in constant time), so a bundle listing its
 * resources in any order verifies.
 */
import { InputError, ModelsealError } from '../errors.js';
import { parseShardName } from '../manifest/oms.js';
import type { Resource } from '../manifest/types.js';
import { compileGlob, type GlobMatcher } from '../match/glob.js';

/** A resource whose digest differs. */
export interface ResourceMismatch {
  name: string;
  algorithm: string;
  expected: string;
  actual: string;
}

export interface Comparison {
  /** Resources whose digests matched. */
  matched: number;
  mismatches: ResourceMismatch[];
  /** Signed resources that are not in the model (in the expected manifest's order). */
  missing: string[];
  /** Resources of the model that were not signed. */
  extra: string[];
}

/** The file a resource belongs to (`path` of `path:start:end` for shards). */
export function resourceFile(name: string, sharded: boolean): string {
  if (!sharded) return name;
  return parseShardName(name)?.path ?? name;
}

/**
 * Constant-time equality of two lowercase hex digests (both validated upstream: the statement
 * parser and the engine only produce lowercase hex). Time depends on the length only.
 */
function digestEquals(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/**
 * Compares expected (signed) resources with actual (freshly hashed) ones. Names and algorithms
 * must match exactly; `extra` lists actual resources that were not signed.
 */
export function compareResources(expected: readonly Resource[], actual: readonly Resource[]): Comparison {
  const act = new Map<string, Resource>();
  for (const r of actual) act.set(r.name, r);
  const mismatches: ResourceMismatch[] = [];
  const missing: string[] = [];
  let matched = 0;
  const seen = new Set<string>();
  for (const e of expected) {
    seen.add(e.name);
    const a = act.get(e.name);
    if (!a) {
      missing.push(e.name);
      continue;
    }
    if (a.algorithm !== e.algorithm || !digestEquals(e.digest, a.digest)) {
      mismatches.push({ name: e.name, algorithm: e.algorithm, expected: e.digest, actual: a.algorithm === e.algorithm ? a.digest : `${a.algorithm}:${a.digest}` });
    } else matched++;
  }
  const extra = actual.filter((r) => !seen.has(r.name)).map((r) => r.name);
  return { matched, mismatches, missing, extra };
}


/**
 * Compiles a glob over POSIX relative paths: `**` any number of path components, `*` any run of
 * characters within one component, `?` one character within a component, `[...]` a class. Linear in
 * the path length (see src/match/glob.ts); the name is kept from when it returned a RegExp.
 */
export function globToRegExp(glob: string): GlobMatcher {
  return compileGlob(glob);
}

const GLOB_CHARS = /[*?[]/;

/** A compiled subset selector over file paths relative to the model root. */
export interface Selector {
  /** True when the file path is selected. */
  matches(file: string): boolean;
  /** Patterns that selected no signed resource (filled by selectResources). */
  patterns: readonly string[];
}

/**
 * Builds a selector from `--only` patterns: a file path, a directory (everything under it) or a
 * glob. Patterns are POSIX paths relative to the model root; `./` prefixes and trailing `/` are
 * dropped. Patterns that try to leave the root are refused.
 */
export function makeSelector(patterns: readonly string[]): Selector {
  if (!Array.isArray(patterns) || patterns.some((p) => typeof p !== 'string')) {
    throw new ModelsealError('BAD_OPTION', 'only must be an array of path, directory or glob strings.', { kind: 'usage' });
  }
  if (patterns.length === 0) throw new InputError('USAGE', '--only needs at least one path, directory or glob.');
  const tests = patterns.map((raw: string) => {
    if (raw.length === 0) throw new ModelsealError('ONLY_PATTERN_EMPTY', 'an --only pattern is empty; give a file, directory or glob relative to the model root (use . for everything).', { kind: 'usage' });
    if (raw.includes('\\')) throw new InputError('ONLY_PATTERN_INVALID', `--only ${raw}: use / as the path separator.`);
    if (raw.includes('\0')) throw new InputError('ONLY_PATTERN_INVALID', '--only patterns cannot contain NUL characters.');
    if (raw.startsWith('/')) {
      throw new InputError('ONLY_PATTERN_INVALID', `--only ${raw}: give paths relative to the model root (no leading / or ..).`);
    }
    // normalise: `sub/./t.txt`, `./sub//t.txt/` and `sub/t.txt` name the same file
    const parts = raw.split('/').filter((c: string) => c !== '' && c !== '.');
    if (parts.includes('..')) {
      throw new InputError('ONLY_PATTERN_INVALID', `--only ${raw}: give paths relative to the model root (no leading / or ..).`);
    }
    const p = parts.join('/');
    if (p === '') return () => true;
    if (GLOB_CHARS.test(p)) {
      let re: GlobMatcher;
      try {
        re = compileGlob(p);
      } catch (e) {
        throw new InputError('ONLY_PATTERN_INVALID', `--only ${raw}: ${(e as Error).message}; fix the character class.`, { cause: e });
      }
      return (f: string) => re.test(f);
    }
    return (f: string) => f === p || f.startsWith(p + '/');
  });
  return { matches: (f) => tests.some((t) => t(f)), patterns };
}

/**
 * Which signed resources a selector picks, and which patterns picked none (those are reported:
 * asking to verify something that was not signed must not look like success).
 */
export function selectResources(
  expected: readonly Resource[],
  patterns: readonly string[],
  sharded: boolean,
): { selected: Resource[]; selector: Selector; unmatched: string[] } {
  const selector = makeSelector(patterns);
  const single = patterns.map((p) => makeSelector([p]));
  const hit = new Array<boolean>(patterns.length).fill(false);
  const selected: Resource[] = [];
  for (const r of expected) {
    const f = resourceFile(r.name, sharded);
    let any = false;
    for (let i = 0; i < single.length; i++) {
      if (single[i]!.matches(f)) {
        hit[i] = true;
        any = true;
      }
    }
    if (any) selected.push(r);
  }
  return { selected, selector, unmatched: patterns.filter((_, i) => !hit[i]) };
}
