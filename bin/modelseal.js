#!/usr/bin/env node
import module from 'node:module';

// Node >= 22.1 caches compiled modules on disk (in the OS temp dir): later runs skip compiling the
// CLI's module graph. Node 20 has no such API, hence the guard; a cache that cannot be written only
// costs the saving, never the run.
module.enableCompileCache?.();

// imported after the cache is enabled: a static import would be compiled before this line runs
const { main } = await import('../dist/cli/main.js');

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`modelseal: internal error: ${e?.message ?? e}\n`);
    process.exitCode = 70;
  },
);
