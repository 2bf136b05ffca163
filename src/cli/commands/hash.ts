/** `modelseal hash`: the OMS manifest of a model, its root digest and throughput. */
import type { Command } from 'commander';
import { hashModel } from '../../engine/hash-model.js';
import { DEFAULT_SHARD_BYTES, type HashModelOptions } from '../../engine/types.js';
import { HASH_ALGORITHMS, BACKEND_NAMES, type BackendName } from '../../backends/types.js';
import { collect, formatBytes, parseChoice, parseIntArg, parseKernels, parseSize } from '../args.js';
import { setExitCode } from '../main.js';
import { info, runCommand, writeJson } from '../output.js';
import { createProgress } from '../progress.js';

interface HashFlags {
  hash: string;
  method: string;
  shardSize?: string;
  backend: string;
  workers?: string;
  json?: boolean;
  quiet?: boolean;
  progress: boolean;
  ignorePath?: string[];
  ignoreGitPaths: boolean;
  allowSymlinks?: boolean;
  kernel?: string[];
  disableBackend?: string[];
  hybrid?: boolean;
  manifest?: boolean;
}

/** Shared by hash/sign: the hashing flags. */
export function addHashingOptions(cmd: Command): Command {
  return cmd
    .option('--hash <algorithm>', `per-resource hash: ${HASH_ALGORITHMS.join(' | ')}`, 'sha256')
    .option('--method <method>', 'serialization: files | shards', 'files')
    .option('--shard-size <bytes>', `shard size for --method shards (default ${DEFAULT_SHARD_BYTES}; units like 16MiB accepted)`)
    .option('--backend <name>', `auto | ${BACKEND_NAMES.join(' | ')}`, 'auto')
    .option('--workers <n>', 'worker threads (default: available cores)')
    .option('--ignore-path <path>', 'ignore a file or directory (repeatable)', collect)
    .option('--ignore-paths <path>', 'alias of --ignore-path (model_signing spelling)', collect)
    .option('--no-ignore-git-paths', 'also hash .git, .gitattributes, .github, .gitignore at the model root')
    .option('--allow-symlinks', 'follow file symlinks that stay inside the model')
    .option('--kernel <alg=kernel>', 'force a native kernel, e.g. sha256=avx2-x8 (testing, benchmarks)', collect)
    .option('--disable-backend <name>', 'never use this backend (repeatable)', collect)
    .option('--hybrid', 'CPU workers and the GPU share the work (needs a WebGPU adapter; pays only where the GPU outruns the host: see docs/gpu.md)');
}

export function hashingOptionsFrom(flags: HashFlags & { ignorePaths?: string[] }): HashModelOptions {
  const hash = parseChoice(flags.hash, '--hash', HASH_ALGORITHMS);
  const method = parseChoice(flags.method, '--method', ['files', 'shards'] as const);
  const o: HashModelOptions = { hash, method, backend: parseChoice(flags.backend, '--backend', ['auto', ...BACKEND_NAMES] as const) };
  if (flags.shardSize !== undefined) o.shardSize = parseSize(flags.shardSize, '--shard-size');
  if (flags.workers !== undefined) o.workers = parseIntArg(flags.workers, '--workers', 1, 256);
  const ignores = [...(flags.ignorePath ?? []), ...(flags.ignorePaths ?? [])];
  if (ignores.length) o.ignorePaths = ignores.map((p) => (p.startsWith('/') ? p : `${process.cwd()}/${p}`));
  o.ignoreGitPaths = flags.ignoreGitPaths;
  if (flags.allowSymlinks) o.allowSymlinks = true;
  const kernels = parseKernels(flags.kernel);
  if (kernels) o.kernels = kernels;
  if (flags.hybrid) o.hybrid = true;
  if (flags.disableBackend?.length) o.disableBackends = flags.disableBackend.map((b) => parseChoice(b, '--disable-backend', BACKEND_NAMES)) as BackendName[];
  return o;
}

export function register(program: Command): void {
  addHashingOptions(
    program
      .command('hash')
      .description('hash a model (directory or file) into an OMS manifest and print its root digest and throughput')
      .argument('<model>', 'model directory or single file'),
  )
    .option('--json', 'print NDJSON progress events, then one JSON result object, on stdout')
    .option('--manifest', 'print the resources (name, algorithm, digest) in human output too')
    .option('-q, --quiet', 'no human output on stderr')
    .option('--no-progress', 'no progress bar')
    .action(async (model: string, flags: HashFlags) => {
      const ctx = { json: flags.json === true, quiet: flags.quiet === true };
      setExitCode(
        await runCommand(ctx, async () => {
          const options = hashingOptionsFrom(flags);
          const progress = createProgress({ json: ctx.json, quiet: ctx.quiet, progress: flags.progress });
          options.onProgress = (e) => progress.update(e);
          let res;
          try {
            res = await hashModel(model, options);
          } finally {
            progress.stop();
          }
          const m = res.manifest;
          const gbps = res.bytes / 1e9 / Math.max(res.seconds, 1e-9);
          if (ctx.json) {
            writeJson({
              type: 'result',
              ok: true,
              model: model,
              modelName: m.modelName,
              rootDigest: m.rootDigest,
              serialization: m.serialization,
              resources: m.resources,
              bytes: res.bytes,
              seconds: res.seconds,
              bytesPerSecond: res.bytes / Math.max(res.seconds, 1e-9),
              backend: res.backend,
              workers: res.workers,
              backendBytes: res.backendBytes,
              // process-wide peak resident set (worker threads included), for the memory bound
              peakRssBytes: process.resourceUsage().maxRSS * 1024,
            });
          } else {
            if (flags.manifest) for (const r of m.resources) process.stdout.write(`${r.digest}  ${r.algorithm}  ${r.name}\n`);
            process.stdout.write(`${m.rootDigest}  ${m.modelName}\n`);
            info(
              ctx,
              `root digest ${m.rootDigest} (sha256 over ${m.resources.length} ${m.serialization.method === 'shards' ? 'shard' : 'file'} resource${m.resources.length === 1 ? '' : 's'}, ${m.serialization.hashType})\n` +
                `hashed ${formatBytes(res.bytes)} in ${res.seconds.toFixed(3)} s, ${gbps.toFixed(2)} GB/s, backend=${res.backend}, workers=${res.workers}`,
            );
          }
          return 0;
        }),
      );
    });
}
