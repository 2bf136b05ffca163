#!/usr/bin/env node
'use strict';
// CommonJS (bin/package.json): an ES module entry starts Node's ESM loader first, ~5-8 ms of a run
// whose whole CLI part is ~50 ms (issue 13); nothing below needs it.
const fs = require('node:fs');
const path = require('node:path');

const BUNDLE_DIR = path.join(__dirname, '..', 'dist', 'cli-bundle');
const UNBUNDLED = path.join(__dirname, '..', 'dist', 'cli', 'main.js');

/**
 * The bundle made for these arguments by scripts/bundle-cli.mjs: the command's own (`hash.cjs`: the
 * CLI with only that command's code), `_version.cjs` (no command), or `_all.cjs` (help, unknown
 * names, no command). The choice follows src/cli/main.ts's own: a name with no bundle file of its own
 * is not a command, and `_all` then answers it as main.ts does.
 */
function bundleName(argv) {
  const a = argv[2];
  if (a === '-v' || a === '--version') return '_version';
  return a !== undefined && /^[a-z][a-z0-9-]*$/.test(a) ? a : '_all';
}

/** Node's own CommonJS wrapper: the bundle compiles to the same function whether required or run through vm. */
const HEAD = '(function (exports, require, module, __filename, __dirname) { ';
const TAIL = '\n});';

/** The build id on the bundle's first line; its code cache carries the same id in its name. */
function cacheFileOf(file, source) {
  const m = /^\/\/ modelseal CLI bundle ([0-9a-f]{16})/.exec(source);
  return m ? `${file}.${m[1]}.v8cache` : undefined;
}

/**
 * Compiles a bundle through vm with V8's code cache (`cachedData`): Node 20 has no compile cache, and
 * compiling the `hash` bundle cost ~10 ms against ~1.5 ms to take it from the cache (in-process, quiet
 * machine). A cache that V8 rejects (another Node or V8 flags) only costs that saving.
 */
function compileBundle(file, source, cachedData) {
  const vm = require('node:vm');
  return new vm.Script(HEAD + source + TAIL, { filename: file, cachedData });
}

/** Runs a compiled bundle as the CommonJS module `file`; its exports. */
function runBundle(file, script) {
  // import() of packages from here (the bundle's own would need vm's experimental import callback,
  // which a code-cached script loses); bare names resolve as from the bundle (same package root)
  const mod = { exports: {}, filename: file, id: file, loaded: false, modelsealImport: (specifier) => import(specifier) };
  script.runInThisContext()(mod.exports, require('node:module').createRequire(file), mod, file, path.dirname(file));
  mod.loaded = true;
  return mod.exports;
}

/** The CLI's `main` for these arguments: from its bundle while that is at least as new as tsc's output, else from dist/cli/. */
async function loadMain(argv) {
  const mtime = (f) => fs.statSync(f, { throwIfNoEntry: false })?.mtimeMs;
  let file = path.join(BUNDLE_DIR, `${bundleName(argv)}.cjs`);
  let bundled = mtime(file);
  if (bundled === undefined) bundled = mtime((file = path.join(BUNDLE_DIR, '_all.cjs')));
  const unbundled = mtime(UNBUNDLED) ?? 0;
  // used only while at least as new as tsc's output, so a plain `tsc` after bundling never runs stale
  // code; an installed package has both with one time stamp
  if (bundled === undefined || bundled < unbundled) return (await import(require('node:url').pathToFileURL(UNBUNDLED).href)).main;
  const Module = require('node:module');
  if (Module.enableCompileCache) {
    // Node >= 22.1 caches compiled CommonJS itself (in the OS temp dir)
    Module.enableCompileCache();
    return require(file).main;
  }
  const source = fs.readFileSync(file, 'latin1'); // ASCII only (scripts/bundle-cli.mjs checks)
  const cacheFile = cacheFileOf(file, source);
  let cachedData;
  try {
    if (cacheFile) cachedData = fs.readFileSync(cacheFile);
  } catch {
    // no cache: compiled from source
  }
  return runBundle(file, compileBundle(file, source, cachedData)).main;
}

if (require.main === module) {
  loadMain(process.argv)
    .then((main) => main(process.argv))
    .then(
      (code) => {
        process.exitCode = code;
        // main() has answered and its output is written: ending then skips tearing down the heap and
        // Node's threads (~3-5 ms of a `hash` run, paired runs at load 4). After one more turn of the
        // event loop, so a signal that came meanwhile is handled as before (Ctrl-C still ends by
        // SIGINT); not while output is queued (a slow pipe) or a stream failed (a closed pipe still
        // answers through io/stdio.ts).
        const done = (s) => s.writableLength === 0 && !s.destroyed && !s.errored;
        setImmediate(() => {
          if (done(process.stdout) && done(process.stderr)) process.exit(code);
        });
      },
      (e) => {
        process.stderr.write(`modelseal: internal error: ${e?.message ?? e}\n`);
        process.exitCode = 70;
      },
    );
} else {
  // for scripts/bundle-cli.mjs, which makes each bundle's code cache through these same functions
  module.exports = { bundleName, cacheFileOf, compileBundle, runBundle };
}
