/** `modelseal hash`: the OMS manifest of a model, its root digest and throughput; `hash --check`. */
import type { Command } from 'commander';
import { InputError } from '../../errors.js';
import { checkModelSums, hashModel, writeSumsFile } from '../../index.js';
import { formatBytes, formatRate } from '../args.js';
import { addHashingOptions, hashingOptionsFrom, type HashingFlags } from '../hashing-options.js';
import { contextOf, info, runAction, writeJson } from '../output.js';
import { withProgress } from '../progress.js';

interface HashFlags extends HashingFlags {
  json?: boolean;
  quiet?: boolean;
  progress: boolean;
  manifest?: boolean;
}

/** Flags that set the serialization: with --check it comes from the file instead. */
const SERIALIZATION_FLAGS = ['hash', 'method', 'shardSize', 'ignorePath', 'ignorePaths', 'ignoreGitPaths', 'allowSymlinks'] as const;

export function register(program: Command): void {
  const cmd = addHashingOptions(
    program
      .command('hash')
      .description('hash a model (directory or file) into an OMS manifest and print its root digest and throughput; or check a model against a manifest file (--check)')
      .argument('[model]', 'model directory or single file (with --check: default the model recorded in the file)'),
  )
    .option('--json', 'print NDJSON progress events, then one JSON result object, on stdout')
    .option('--manifest', 'print the resources (name, algorithm, digest) in human output too')
    .option('-o, --output <file>', 'also write the manifest as a plain (unsigned) manifest file, for `hash --check`')
    .option('-c, --check <file>', 'check the model against a manifest file written by --output (like sha256sum -c): exit 0 all match, 1 otherwise')
    .option('-q, --quiet', 'no human output on stderr (with --check: print only the failures)')
    .option('--no-progress', 'no progress bar');
  cmd.action(async (model: string | undefined, flags: HashFlags & { output?: string; check?: string }) => {
      const ctx = contextOf(flags);
      await runAction(ctx, async () => {
        if (flags.check !== undefined) return checkCommand(cmd, model, flags.check, flags, ctx);
        if (model === undefined) throw new InputError('USAGE', 'hash needs a model: modelseal hash MODEL (or hash --check FILE).');
        const options = hashingOptionsFrom(flags);
        const res = await withProgress({ json: ctx.json, quiet: ctx.quiet, progress: flags.progress }, (onProgress) => {
          options.onProgress = onProgress;
          return hashModel(model, options);
        });
        const m = res.manifest;
        if (flags.output !== undefined) writeSumsFile(flags.output, m, model);
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
            phases: res.phases,
            // process-wide peak resident set (worker threads included), for the memory bound
            peakRssBytes: process.resourceUsage().maxRSS * 1024,
            ...(flags.output !== undefined ? { output: flags.output } : {}),
          });
        } else {
          if (flags.manifest) for (const r of m.resources) process.stdout.write(`${r.digest}  ${r.algorithm}  ${r.name}\n`);
          process.stdout.write(`${m.rootDigest}  ${m.modelName}\n`);
          info(
            ctx,
            `root digest ${m.rootDigest} (sha256 over ${m.resources.length} ${m.serialization.method === 'shards' ? 'shard' : 'file'} resource${m.resources.length === 1 ? '' : 's'}, ${m.serialization.hashType})\n` +
              `hashed ${formatBytes(res.bytes)} in ${res.seconds.toFixed(3)} s, ${formatRate(res.bytes, res.seconds)}, backend=${res.backend}${res.workers > 0 ? `, workers=${res.workers}` : ''}` +
              (flags.output !== undefined ? `\nmanifest file written to ${flags.output} (check with: modelseal hash --check ${flags.output})` : ''),
          );
        }
        return 0;
      });
    });
}

/** `hash --check FILE [MODEL]`: one line per resource on stdout (OK / FAILED), like sha256sum -c. */
async function checkCommand(cmd: Command, model: string | undefined, file: string, flags: HashFlags & { output?: string }, ctx: { json: boolean; quiet: boolean }): Promise<number> {
  const given = SERIALIZATION_FLAGS.filter((f) => cmd.getOptionValueSource(f) === 'cli');
  if (given.length > 0 || flags.output !== undefined || flags.kernel !== undefined) {
    throw new InputError('USAGE', '--check takes the serialization (hash, method, shard size, ignores, symlinks) from the manifest file; drop the other hashing flags and --output.');
  }
  const hashing = hashingOptionsFrom(flags);
  const r = await withProgress({ json: ctx.json, quiet: ctx.quiet, progress: flags.progress }, (onProgress) =>
    checkModelSums(file, {
      ...(model !== undefined ? { modelPath: model } : {}),
      backend: hashing.backend ?? 'auto',
      ...(hashing.workers !== undefined ? { workers: hashing.workers } : {}),
      ...(hashing.disableBackends ? { disableBackends: hashing.disableBackends } : {}),
      ...(hashing.hybrid ? { hybrid: true } : {}),
      onProgress,
    }),
  );
  if (ctx.json) {
    writeJson({ type: 'result', ...r });
    return r.ok ? 0 : 1;
  }
  if (!ctx.quiet) for (const n of r.matched) process.stdout.write(`${n}: OK\n`);
  for (const m of r.mismatches) process.stdout.write(`${m.name}: FAILED\n`);
  for (const n of r.missing) process.stdout.write(`${n}: FAILED (missing)\n`);
  for (const n of r.extra) process.stdout.write(`${n}: FAILED (not in the manifest file)\n`);
  const failed = r.mismatches.length + r.missing.length + r.extra.length;
  if (failed > 0) process.stderr.write(`modelseal: WARNING: ${failed} of ${r.matched.length + failed} resources did NOT match ${file}\n`);
  info(ctx, `checked ${r.modelPath} against ${file}: ${formatBytes(r.bytes)} in ${r.seconds.toFixed(3)} s, ${formatRate(r.bytes, r.seconds)}, backend=${r.backend}`);
  return failed === 0 ? 0 : 1;
}
