/** The hashing flags shared by `hash`, `sign` and `verify`'s re-hash: declared and parsed here once. */
import { Option, type Command } from 'commander';
import { BACKEND_NAMES, DEFAULT_SHARD_BYTES, HASH_ALGORITHMS, type BackendName, type HashModelOptions } from '../index.js';
import { collect, parseChoice, parseIntArg, parseKernels, parseSize } from './args.js';

/** What commander hands over for the flags `addHashingOptions` declares. */
export interface HashingFlags {
  hash: string;
  method: string;
  shardSize?: string;
  backend: string;
  workers?: string;
  ignorePath?: string[];
  ignorePaths?: string[];
  /** model_signing's spellings */
  ignore_paths?: string[];
  ignoreGitPaths: boolean;
  allowSymlinks?: boolean;
  allow_symlinks?: boolean;
  kernel?: string[];
  disableBackend?: string[];
  hybrid?: boolean;
}

/** Declares the hashing flags on a command. */
export function addHashingOptions(cmd: Command): Command {
  return cmd
    .option('--hash <algorithm>', `per-resource hash: ${HASH_ALGORITHMS.join(' | ')}`, 'sha256')
    .option('--method <method>', 'serialization: files | shards', 'files')
    .option('--shard-size <bytes>', `shard size for --method shards (default ${DEFAULT_SHARD_BYTES}; units like 16MiB accepted)`)
    .option('--backend <name>', `auto | ${BACKEND_NAMES.join(' | ')}`, 'auto')
    .option('--workers <n>', 'worker threads (default: available cores)')
    .option('--ignore-path <path>', 'ignore a file or directory (repeatable)', collect)
    .option('--ignore-paths <path>', 'alias of --ignore-path (model_signing spelling)', collect)
    .addOption(new Option('--ignore_paths <path>').argParser(collect).hideHelp())
    .option('--no-ignore-git-paths', 'also hash .git, .gitattributes, .github, .gitignore at the model root')
    .option('--allow-symlinks', 'follow file symlinks that stay inside the model')
    .addOption(new Option('--allow_symlinks').hideHelp())
    .option('--kernel <alg=kernel>', 'force a native kernel, e.g. sha256=avx2-x8 (testing, benchmarks)', collect)
    .option('--disable-backend <name>', 'never use this backend (repeatable)', collect)
    .option('--hybrid', 'CPU workers and the GPU share the work (needs a WebGPU adapter; pays only where the GPU outruns the host: see docs/gpu.md)');
}

/**
 * The walk and backend flags `verify` shares with the hashing flags (its re-hash follows the bundle's
 * algorithm and method, so those two are not offered), with verify's own help texts.
 */
export function addRehashOptions(cmd: Command): Command {
  return cmd
    .option('--ignore-path <path>', 'ignore a file or directory (repeatable)', collect)
    .option('--ignore-paths <path>', 'alias of --ignore-path (model_signing spelling)', collect)
    .addOption(new Option('--ignore_paths <path>').argParser(collect).hideHelp())
    .option('--no-ignore-git-paths', 'do not ignore .git, .gitattributes, .github, .gitignore at the model root')
    .option('--allow-symlinks', "follow file symlinks inside the model (default: the bundle's setting)")
    .option('--backend <name>', `auto | ${BACKEND_NAMES.join(' | ')}`, 'auto')
    .option('--workers <n>', 'worker threads (default: available cores)')
    .option('--disable-backend <name>', 'never use this backend (repeatable)', collect);
}

/** What commander hands over for the flags `addRehashOptions` declares. */
export type RehashFlags = Pick<HashingFlags, 'ignorePath' | 'ignorePaths' | 'ignore_paths' | 'ignoreGitPaths' | 'allowSymlinks' | 'allow_symlinks' | 'backend' | 'workers' | 'disableBackend'>;

/** The walk and backend part of the flags, as `hashModel` and `verifyModel` options. */
export type RehashOptions = Pick<HashModelOptions, 'backend' | 'workers' | 'ignorePaths' | 'ignoreGitPaths' | 'allowSymlinks' | 'disableBackends'>;

/** Relative ignore paths are relative to the current directory, as with model_signing. */
function ignorePathsFrom(flags: Pick<HashingFlags, 'ignorePath' | 'ignorePaths' | 'ignore_paths'>): string[] | undefined {
  const ignores = [...(flags.ignorePath ?? []), ...(flags.ignorePaths ?? []), ...(flags.ignore_paths ?? [])];
  return ignores.length ? ignores.map((p) => (p.startsWith('/') ? p : `${process.cwd()}/${p}`)) : undefined;
}

function disabledBackendsFrom(values: string[] | undefined): BackendName[] | undefined {
  return values?.length ? values.map((b) => parseChoice(b, '--disable-backend', BACKEND_NAMES)) : undefined;
}

/** Parses the flags `addRehashOptions` declares (`allowSymlinks` also from model_signing's spelling). */
export function rehashOptionsFrom(flags: RehashFlags): RehashOptions {
  const o: RehashOptions = {};
  const ignorePaths = ignorePathsFrom(flags);
  if (ignorePaths) o.ignorePaths = ignorePaths;
  o.ignoreGitPaths = flags.ignoreGitPaths;
  if (flags.allowSymlinks || flags.allow_symlinks) o.allowSymlinks = true;
  o.backend = parseChoice(flags.backend, '--backend', ['auto', ...BACKEND_NAMES] as const);
  if (flags.workers !== undefined) o.workers = parseIntArg(flags.workers, '--workers', 1, 256);
  const disabled = disabledBackendsFrom(flags.disableBackend);
  if (disabled) o.disableBackends = disabled;
  return o;
}

/** Parses the hashing flags into library options; every value is checked here, once. */
export function hashingOptionsFrom(flags: HashingFlags): HashModelOptions {
  const hash = parseChoice(flags.hash, '--hash', HASH_ALGORITHMS);
  const method = parseChoice(flags.method, '--method', ['files', 'shards'] as const);
  const o: HashModelOptions = { hash, method, backend: parseChoice(flags.backend, '--backend', ['auto', ...BACKEND_NAMES] as const) };
  if (flags.shardSize !== undefined) o.shardSize = parseSize(flags.shardSize, '--shard-size');
  if (flags.workers !== undefined) o.workers = parseIntArg(flags.workers, '--workers', 1, 256);
  const ignorePaths = ignorePathsFrom(flags);
  if (ignorePaths) o.ignorePaths = ignorePaths;
  o.ignoreGitPaths = flags.ignoreGitPaths;
  if (flags.allowSymlinks || flags.allow_symlinks) o.allowSymlinks = true;
  const kernels = parseKernels(flags.kernel);
  if (kernels) o.kernels = kernels;
  if (flags.hybrid) o.hybrid = true;
  const disabled = disabledBackendsFrom(flags.disableBackend);
  if (disabled) o.disableBackends = disabled;
  return o;
}
