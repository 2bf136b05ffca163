#!/usr/bin/env node
// What each bundled CLI command loads at start-up: its bundle file in dist/cli-bundle/ (its own, or
// _all.cjs for commands without one) and that bundle's V8 code cache, in bytes, with the dist/ source
// modules inside it; `--sources` lists them, split into those run when the bundle loads and those
// behind an init function that runs when the module is first imported (esbuild wraps every module
// reached through an `import()`: attestation, tensor readers, GPU and WASM backends, and the
// command itself; `test/unit/cli-bundle.test.ts` checks which of those a run initializes).
// Issue 13 (the fixed start of hash and verify).
//   npm run build:ts && node bench/cli-load-size.mjs [hash verify sign ...] [--sources]
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'cli-bundle');
const args = process.argv.slice(2);
const showSources = args.includes('--sources');
const commands = args.filter((a) => !a.startsWith('--'));
if (!existsSync(join(DIR, '_all.cjs'))) throw new Error('no dist/cli-bundle/_all.cjs: run `npm run build:ts` first');

for (const cmd of commands.length ? commands : ['hash', 'verify', 'sign', '--version']) {
  const name = cmd === '--version' || cmd === '-v' ? '_version' : existsSync(join(DIR, `${cmd}.cjs`)) ? cmd : '_all';
  const code = readFileSync(join(DIR, `${name}.cjs`), 'latin1');
  const cache = readdirSync(DIR).find((f) => f.startsWith(`${name}.cjs.`) && f.endsWith('.v8cache'));
  const cacheBytes = cache ? statSync(join(DIR, cache)).size : 0;
  const sources = [...code.matchAll(/^\/\/ (dist\/\S+\.js)$/gm)].map((m) => m[1]);
  const lazy = new Set([...code.matchAll(/^ {2}"(dist\/\S+\.js)"\(\) \{$/gm)].map((m) => m[1]));
  console.log(
    `${cmd.padEnd(9)} ${`${name}.cjs`.padEnd(12)} ${(code.length / 1024).toFixed(0).padStart(5)} KB + cache ${(cacheBytes / 1024).toFixed(0).padStart(4)} KB, ` +
      `${sources.length} modules (${lazy.size} behind an init function)`,
  );
  if (showSources) {
    console.log(`  run at load:        ${sources.filter((s) => !lazy.has(s)).sort().join(' ')}`);
    console.log(`  run when imported:  ${[...lazy].sort().join(' ')}`);
  }
}
