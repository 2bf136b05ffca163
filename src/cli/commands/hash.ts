/** `modelseal hash`: the OMS manifest of a model, its root digest and throughput. */
import type { Command } from 'commander';
import { hashModel } from '../../index.js';
import { formatBytes } from '../args.js';
import { setExitCode } from '../exit-code.js';
import { addHashingOptions, hashingOptionsFrom, type HashingFlags } from '../hashing-options.js';
import { info, runCommand, writeJson } from '../output.js';
import { createProgress } from '../progress.js';

interface HashFlags extends HashingFlags {
  json?: boolean;
  quiet?: boolean;
  progress: boolean;
  manifest?: boolean;
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
