#!/usr/bin/env node
import { statSync } from 'node:fs';
import module from 'node:module';

// Node >= 22.1 caches compiled modules on disk (in the OS temp dir): later runs skip compiling the
// CLI's module graph. Node 20 has no such API, hence the guard; a cache that cannot be written only
// costs the saving, never the run.
module.enableCompileCache?.();

// The CLI as built by scripts/bundle-cli.mjs (`npm run build:ts`, `prepare`): the invoked command's
// code in a few files instead of ~140 modules (issue 13: the ESM loader's per-module cost was most of
// the start-up). Used only while at least as new as tsc's output, so a plain `tsc` after it runs the
// fresh unbundled CLI rather than stale code; an installed package has both with one time stamp.
const BUNDLE = new URL('../dist/cli-bundle/main.js', import.meta.url);
const UNBUNDLED = new URL('../dist/cli/main.js', import.meta.url);
const mtime = (url) => statSync(url, { throwIfNoEntry: false })?.mtimeMs;
const bundled = mtime(BUNDLE);
const entry = bundled !== undefined && bundled >= (mtime(UNBUNDLED) ?? 0) ? BUNDLE : UNBUNDLED;

// imported after the cache is enabled: a static import would be compiled before this line runs
const { main } = await import(entry.href);

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`modelseal: internal error: ${e?.message ?? e}\n`);
    process.exitCode = 70;
  },
);
