/** `modelseal digest MODEL`: the model's OMS root digest alone on stdout (model_signing's `digest`). */
import type { Command } from 'commander';
import { hashModel } from '../../index.js';
import { addHashingOptions, hashingOptionsFrom, type HashingFlags } from '../hashing-options.js';
import { contextOf, runAction, writeJson } from '../output.js';
import { withProgress } from '../progress.js';

export function register(program: Command): void {
  addHashingOptions(
    program
      .command('digest')
      .description("print the model's root digest (the one a signature over it carries), nothing else")
      .argument('<model>', 'model directory or single file'),
  )
    .option('--json', 'print one JSON result object on stdout')
    .option('--no-progress', 'no progress bar')
    .action(async (model: string, flags: HashingFlags & { json?: boolean; progress: boolean }) => {
      const ctx = contextOf(flags, true);
      await runAction(ctx, async () => {
        const options = hashingOptionsFrom(flags);
        const res = await withProgress({ json: false, quiet: ctx.json, progress: flags.progress }, (onProgress) => {
          options.onProgress = onProgress;
          return hashModel(model, options);
        });
        if (ctx.json) writeJson({ ok: true, model, rootDigest: res.manifest.rootDigest, serialization: res.manifest.serialization });
        else process.stdout.write(`${res.manifest.rootDigest}\n`);
        return 0;
      });
    });
}
