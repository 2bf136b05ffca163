#!/usr/bin/env node
/**
 * Bundles the CLI's module graph (tsc's dist/cli/main.js and everything it imports from dist/) into
 * dist/cli-bundle/ with esbuild: one CommonJS file per time-critical command (`hash.cjs`, `digest.cjs`,
 * `sign.cjs`, `verify.cjs`: main.js with that command's code only), `_version.cjs` (no command) and
 * `_all.cjs` (every command: help, unknown names, the other commands), each with a V8 code cache made
 * by running it once (`<name>.cjs.<build id>.v8cache`). bin/modelseal.js picks the file by the first
 * argument and, on Node 20, compiles it through vm with that cache; Node >= 22.1 require()s it with
 * its own compile cache. Measured on a `hash` of a 3 B file (issue 13): the ESM loader's per-module
 * cost was ~45 % of the unbundled start; of the ESM bundle's ~50 ms over `node -e 0`, compiling its
 * chunks without a cache, the ESM loader itself and the async file opens were most (CommonJS + cache:
 * ~15 ms). Run by `npm run build:ts` (so `prepare`, `build` and `test`) and by the test run's global
 * setup when stale; bin/modelseal.js uses a bundle only while it is at least as new as
 * dist/cli/main.js, so a later plain `tsc` never runs stale code.
 *
 *   node scripts/bundle-cli.mjs            build (after tsc)
 *   node scripts/bundle-cli.mjs --if-stale build only when missing or older than dist/cli/main.js
 *
 * The library (`import 'modelseal'`, dist/index.js) and the piscina worker (dist/engine/worker.js, in
 * its own thread) stay unbundled; npm packages stay external (resolved from node_modules at run time,
 * as before) except commander and @noble/hashes. Rewrites of each dist/ module on the way in
 * (rewriteModule, then the plugin below):
 *   - `import { a } from '../index.js'` (the CLI's one import, DESIGN §8) → imports from the modules
 *     defining the names, so a command's bundle holds only what it uses. This relies on our modules
 *     doing no work at import time (declarations and constant tables only);
 *   - `import.meta.url` → the URL of the module's own dist/ file (addon, worker, WASM, shaders,
 *     package.json and createRequire all resolve from there, whichever bundle the code lands in);
 *   - `import(NAME)` of a module-level `const NAME = './x.js'` (the lazy-loading idiom here) →
 *     `import('./x.js')`, so the module joins the bundle (initialized on first use): left as a run-time
 *     import it would load a second copy of errors.js & co. beside the bundle's, and `instanceof
 *     ModelsealError` would fail. Any other non-literal `import(…)` fails the build;
 *   - `import('package')` → the loader's import function (see banner()).
 * The layering check (scripts/check-layers.mjs) reads src/, where none of this shows.
 */
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const DIST = join(ROOT, 'dist');
const ENTRY = join(DIST, 'cli', 'main.js');
export const OUT_DIR = join(DIST, 'cli-bundle');
const OUT_ENTRY = join(OUT_DIR, '_all.cjs');
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const BUNDLED_PACKAGES = ['commander', '@noble/hashes'];

/** Whether the bundle is missing or older than tsc's output (the rule bin/modelseal.js applies). */
export function bundleIsStale() {
  if (!existsSync(OUT_ENTRY)) return true;
  return existsSync(ENTRY) && statSync(OUT_ENTRY).mtimeMs < statSync(ENTRY).mtimeMs;
}

const toPosix = (p) => p.split(sep).join('/');

/**
 * What a dist/ module exports: names it defines, names it re-exports (`export { a as b } from`) and
 * the modules it star-re-exports. tsc's output is regular enough for these patterns; a name they miss
 * is simply not redirected (the import keeps going through the barrel: correct, only less lean).
 */
const exportTables = new Map();
function exportTable(file) {
  let t = exportTables.get(file);
  if (t) return t;
  t = { local: new Set(), from: new Map(), star: [] };
  exportTables.set(file, t);
  if (!existsSync(file)) return t;
  const code = readFileSync(file, 'utf8');
  for (const m of code.matchAll(/^export (?:async )?(?:function\*?|class|const|let|var) ([A-Za-z_$][\w$]*)/gm)) t.local.add(m[1]);
  for (const m of code.matchAll(/^export \{([^}]*)\}( from '([^']+)')?;/gm)) {
    for (const spec of m[1].split(',').map((s) => s.trim()).filter(Boolean)) {
      const [orig, alias = orig] = spec.split(/\s+as\s+/);
      if (m[3]) t.from.set(alias, { file: resolve(dirname(file), m[3]), name: orig });
      else t.local.add(alias);
    }
  }
  for (const m of code.matchAll(/^export \* from '([^']+)';/gm)) t.star.push(resolve(dirname(file), m[1]));
  return t;
}

/** The module that defines `name` as exported from `file`, following re-exports; undefined if unsure. */
function definingModule(file, name, depth = 0) {
  if (depth > 16) return undefined;
  const t = exportTable(file);
  if (t.local.has(name)) return { file, name };
  const via = t.from.get(name);
  if (via) return definingModule(via.file, via.name, depth + 1);
  const found = t.star.map((f) => definingModule(f, name, depth + 1)).filter(Boolean);
  return found.length === 1 ? found[0] : undefined;
}

/**
 * `import { a, b as c } from './barrel.js'` → one import per module that defines the names. With code
 * splitting esbuild assigns a whole file to every entry that reaches it through any import, so a
 * command importing one name from src/index.ts (the barrel the CLI must use, DESIGN §8) would pull the
 * whole library into that command's chunks; importing from the defining modules keeps each command's
 * chunks to what it uses.
 */
function skipBarrels(code, importer) {
  return code.replace(/^import \{([^}]*)\} from '(\.{1,2}\/[^']+\.js)';$/gm, (whole, list, spec) => {
    const target = resolve(dirname(importer), spec);
    const groups = new Map();
    for (const item of list.split(',').map((s) => s.trim()).filter(Boolean)) {
      const [name, local = name] = item.split(/\s+as\s+/);
      const def = definingModule(target, name) ?? { file: target, name };
      let g = groups.get(def.file);
      if (!g) groups.set(def.file, (g = []));
      g.push(def.name === local ? local : `${def.name} as ${local}`);
    }
    if (groups.size === 1 && groups.has(target)) return whole;
    return [...groups]
      .map(([file, names]) => {
        let rel = toPosix(relative(dirname(importer), file));
        if (!rel.startsWith('.')) rel = `./${rel}`;
        return `import { ${names.join(', ')} } from '${rel}';`;
      })
      .join('\n');
  });
}

/**
 * The source of dist/ module `file` as the bundle takes it (the rewrites described at the top), or
 * `{ error }` when it has a dynamic import the bundle cannot take in.
 */
export function rewriteModule(code, file) {
  let out = skipBarrels(code, file);
  const self = toPosix(relative(OUT_DIR, file));
  out = out.replaceAll('import.meta.url', `new URL(${JSON.stringify(self)}, import.meta.url).href`);
  const consts = new Map();
  for (const m of out.matchAll(/^const ([A-Z][A-Z0-9_]*) = '(\.{1,2}\/[^']+\.js)';$/gm)) consts.set(m[1], m[2]);
  out = out.replace(/\bimport\(([A-Z][A-Z0-9_]*)\)/g, (whole, name) => (consts.has(name) ? `import(${JSON.stringify(consts.get(name))})` : whole));
  const left = /\bimport\((?!\s*['"])/.exec(out);
  if (left) {
    const line = out.slice(0, left.index).split('\n').length;
    return { error: `non-literal dynamic import in ${toPosix(relative(ROOT, file))}:${line}: make it a string literal or a module-level const the bundler can inline` };
  }
  return { code: out };
}

/**
 * The command table of dist/cli/main.js (the `// @commands` block): command name → the command files
 * its loaders import. One bundle is made per name, with only those files' code.
 */
export function commandTable(mainCode) {
  const block = /\/\/ @commands\n([\s\S]*?)\n\s*\};/.exec(mainCode);
  if (!block) throw new Error('dist/cli/main.js has no `// @commands` table: scripts/bundle-cli.mjs cannot tell the commands apart');
  const table = new Map();
  for (const line of block[1].split('\n')) {
    const m = /^\s*'?([a-z][a-z0-9-]*)'?: \[(.*)\],?$/.exec(line);
    if (!m) throw new Error(`unexpected line in the command table of dist/cli/main.js: ${line.trim()}`);
    table.set(m[1], [...m[2].matchAll(/import\('(\.\/commands\/[^']+\.js)'\)/g)].map((x) => x[1]));
  }
  return table;
}

/**
 * Commands with a bundle of their own: those whose start-up counts against the hashing they do
 * (issue 13). The others run from `_all.cjs`: each own bundle repeats the library code it uses (the
 * package's tarball grew from 1.1 to 4.4 MiB with one bundle per command).
 */
const OWN_BUNDLE = ['hash', 'digest', 'sign', 'verify'];

/**
 * The bundles: one per command in OWN_BUNDLE (`hash.cjs`: main.js and that command's files),
 * `_version.cjs` (none) and `_all.cjs` (all: help, unknown names and the other commands).
 * bin/modelseal.js picks one by the first argument.
 */
function bundlesOf(table, warmRuns) {
  const all = [...table.values()].flat();
  const missing = OWN_BUNDLE.filter((name) => !table.has(name));
  if (missing.length > 0) throw new Error(`scripts/bundle-cli.mjs OWN_BUNDLE names ${missing.join(', ')}, which dist/cli/main.js does not have`);
  // warmed by a run of the command itself where warmRuns has one (the start-up measured in issue 13),
  // the others' --help
  const warm = (name) => warmRuns[name] ?? [name, '--help'];
  return [...OWN_BUNDLE.map((name) => ({ name, files: table.get(name), warm: warm(name) })), { name: '_version', files: [], warm: ['--version'] }, { name: '_all', files: all, warm: ['--help'] }];
}

/**
 * The runs that warm the code caches of `hash`, `sign` and `verify`: a 3-byte model in `dir`, a fresh
 * P-256 key, and a bundle signed with it (signed by `sign` here, before any cache exists). A cache warmed by
 * `verify --help` left the bundle, statement and signature code to compile during each run: ~5 ms
 * of the ~11 ms verify's hashing started after hash's (strace, 2 GiB / 16 files, quiet 2-vCPU Milan).
 */
function warmRuns(dir) {
  const model = join(dir, 'model');
  mkdirSync(model);
  writeFileSync(join(model, 'w.bin'), 'abc');
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const key = join(dir, 'key.pem');
  const pub = join(dir, 'pub.pem');
  writeFileSync(key, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  writeFileSync(pub, publicKey.export({ type: 'spki', format: 'pem' }));
  return {
    hash: ['hash', model],
    sign: ['sign', model, '--key', key, '-o', join(dir, 'warm-sign.sig')],
    verify: ['verify', model, '--sig', join(dir, 'model.sig'), '--key', pub],
    presign: ['sign', model, '--key', key, '-o', join(dir, 'model.sig'), '-q'],
  };
}

/** The esbuild plugin applying rewriteModule to every file under dist/ and leaving out the other commands' files. */
const distPaths = (commandFiles) => ({
  name: 'modelseal-dist-paths',
  setup(build) {
    // another command's file, reached only through main.js's table, which never loads it for this
    // bundle's first argument: a stub that says so rather than a second copy of the library
    build.onResolve({ filter: /^\.\/commands\/[^/]+\.js$/ }, (args) => {
      if (args.importer !== ENTRY || commandFiles.includes(args.path)) return undefined;
      return { path: args.path, namespace: 'modelseal-other-command' };
    });
    build.onLoad({ filter: /.*/, namespace: 'modelseal-other-command' }, (args) => ({
      contents: `export function register() { throw new Error(${JSON.stringify(`this CLI bundle has no ${args.path} (scripts/bundle-cli.mjs)`)}); }\n`,
      loader: 'js',
    }));
    build.onLoad({ filter: /\.js$/ }, (args) => {
      if (args.path.startsWith(DIST + sep)) {
        const r = rewriteModule(readFileSync(args.path, 'utf8'), args.path);
        // CommonJS output: the bundle file's own URL (set in the banner) stands for import.meta.url
        if (r.error) return { errors: [{ text: r.error }] };
        // CommonJS output: the bundle file's own URL (set in the banner) stands for import.meta.url, and
        // a package's `import()` goes through the loader's function (see BANNER): vm-compiled code has
        // no working import() of its own on Node 20 (a code-cached script loses its callback)
        const code = r.code.replaceAll('import.meta.url', '__modelsealBundleUrl').replace(/\bimport\((['"])([^.'"][^'"]*)\1\)/g, (_, q, spec) => `__modelsealImport(${JSON.stringify(spec)})`);
        return { contents: code, loader: 'js' };
      }
      // commander requires child_process (and with it net, dgram, streams: ~4 ms of builtins) at load,
      // for executable subcommands this CLI does not have: required on first use instead
      if (args.path.endsWith(`${sep}commander${sep}lib${sep}command.js`)) {
        const code = readFileSync(args.path, 'utf8');
        const eager = "const childProcess = require('node:child_process');";
        const uses = [...code.matchAll(/\bchildProcess\.(\w+)/g)].map((m) => m[1]);
        if (!code.includes(eager) || uses.some((u) => u !== 'spawn')) throw new Error(`commander's lib/command.js changed (child_process import): update the lazy-require rewrite in scripts/bundle-cli.mjs`);
        return { contents: code.replace(eager, "const childProcess = { spawn: (...a) => require('node:child_process').spawn(...a) };"), loader: 'js' };
      }
      return undefined;
    });
  },
});

/**
 * The first lines of every bundle: the build id (its code cache carries the same, bin/modelseal.js
 * checks it), the file's own URL for import.meta.url, and `import()` of packages: the loader's
 * function when it runs the bundle through vm (bin/modelseal.js, Node 20), else the bundle's own
 * import() (required as a module, Node >= 22.1).
 */
function banner(id) {
  return [
    `// modelseal CLI bundle ${id} (scripts/bundle-cli.mjs); bundled packages' licenses: THIRD_PARTY_LICENSES`,
    'var __modelsealBundleUrl = require("node:url").pathToFileURL(__filename).href;',
    'var __modelsealImport = module.modelsealImport ?? ((specifier) => import(specifier));',
  ].join('\n');
}

/**
 * Makes `file`'s V8 code cache in a fresh `node` (no flags: V8 rejects a cache made under other
 * flags), through bin/modelseal.js's own compile function, after running the CLI once with `warm`
 * arguments so the functions that run compiled lazily join the cache.
 */
function makeCodeCache(file, warm) {
  const bin = join(ROOT, 'bin', 'modelseal.js');
  const script = `
const { readFileSync, writeFileSync } = require('node:fs');
const { cacheFileOf, compileBundle, runBundle } = require(${JSON.stringify(bin)});
const file = ${JSON.stringify(file)};
const source = readFileSync(file, 'latin1');
const script = compileBundle(file, source, undefined);
const done = () => writeFileSync(cacheFileOf(file, source), script.createCachedData());
runBundle(file, script).main([process.execPath, ${JSON.stringify(bin)}, ...${JSON.stringify(warm)}]).then((code) => {
  done();
  if (code !== 0) {
    process.stderr.write('the warm run ' + ${JSON.stringify(warm.join(' '))} + ' exited ' + code + ': the cache covers less of the command\\n');
    process.exitCode = 3;
  }
}, done);
`;
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  const r = spawnSync(process.execPath, ['-e', script], { env, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', timeout: 60_000 });
  // not fatal: without its cache a bundle compiles from source (slower, same behaviour); the test
  // suite requires every cache (test/unit/cli-bundle.test.ts)
  if (r.status === 3) process.stderr.write(`bundle-cli: ${toPosix(relative(ROOT, file))}: ${r.stderr}`);
  else if (r.status !== 0) process.stderr.write(`bundle-cli: no code cache for ${toPosix(relative(ROOT, file))}: ${r.stderr || r.error?.message || `exit ${r.status}`}\n`);
}

/** Builds dist/cli-bundle/ from dist/ (tsc's output), replacing the previous bundle in one rename. */
export async function bundleCli() {
  if (!existsSync(ENTRY)) throw new Error(`${toPosix(relative(ROOT, ENTRY))} is missing: run \`tsc -p tsconfig.json\` first.`);
  const { build } = await import('esbuild');
  // built beside the final folder and swapped in whole: a CLI starting meanwhile sees the old bundle
  // or none (then bin/modelseal.js runs dist/cli/)
  const tmp = `${OUT_DIR}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  const id = randomBytes(8).toString('hex');
  const tiny = mkdtempSync(join(tmpdir(), 'modelseal-bundle-warm-'));
  const warm = warmRuns(tiny);
  const bundles = bundlesOf(commandTable(readFileSync(ENTRY, 'utf8')), warm);
  try {
    const results = await Promise.all(
      bundles.map((b) =>
        build({
          entryPoints: [ENTRY],
          outfile: join(tmp, `${b.name}.cjs`),
          bundle: true,
          // CommonJS: Node 20 compiles it through vm with a code cache (bin/modelseal.js); ES modules
          // have no code cache before Node 22's compile cache
          format: 'cjs',
          platform: 'node',
          target: 'node20',
          // npm packages stay external (loaded from node_modules, at the version installed), except
          // commander, which every command loads first (bundled, its import took 25 ms instead of 63 ms,
          // medians of 21 paired runs, load 10), and @noble/hashes, an ES-module-only package that a
          // CommonJS bundle could not require() on Node 20.17-20.18
          external: [...Object.keys(PKG.dependencies ?? {}), ...Object.keys(PKG.peerDependencies ?? {})].filter((d) => !BUNDLED_PACKAGES.includes(d)),
          banner: { js: banner(id) },
          logLevel: 'warning',
          legalComments: 'none',
          plugins: [distPaths(b.files)],
          metafile: true,
        }),
      ),
    );
    // a package imported statically by CLI code would otherwise be copied in silently
    const copied = new Set(
      results.flatMap((result) =>
        Object.keys(result.metafile.inputs)
          .filter((f) => f.includes('node_modules/'))
          .map((f) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(f)[1]),
      ),
    );
    const unexpected = [...copied].filter((name) => !BUNDLED_PACKAGES.includes(name));
    if (unexpected.length > 0) throw new Error(`the CLI bundle would copy in ${unexpected.join(', ')}: list it in package.json dependencies (kept external) or in BUNDLED_PACKAGES`);
    const licenses = [...copied].sort().map((name) => {
      const dir = join(ROOT, 'node_modules', name);
      const file = readdirSync(dir).find((f) => /^licen[cs]e/i.test(f));
      const { version } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      return `${name}@${version}\n\n${file ? readFileSync(join(dir, file), 'utf8').trim() : '(no license file)'}\n`;
    });
    writeFileSync(join(tmp, 'THIRD_PARTY_LICENSES'), licenses.join('\n----\n\n'));
    for (const b of bundles) {
      const f = join(tmp, `${b.name}.cjs`);
      // esbuild escapes non-ASCII in code (charset ascii) but not in comments: escaped here, so the
      // bundle reads as latin1 (no UTF-8 decoding, a one-byte string for V8)
      const code = readFileSync(f, 'utf8').replace(/[^\x00-\x7f]/gu, (c) => `\\u{${c.codePointAt(0).toString(16)}}`);
      const imports = code.split('\n').filter((l) => /\bimport\(/.test(l) && !l.startsWith('var __modelsealImport = '));
      if (imports.length > 0) throw new Error(`${b.name}.cjs keeps an import() the vm-run bundle cannot make: ${imports[0].trim()}`);
      writeFileSync(f, code);
    }
    const old = `${OUT_DIR}.old-${process.pid}`;
    if (existsSync(OUT_DIR)) renameSync(OUT_DIR, old);
    renameSync(tmp, OUT_DIR);
    rmSync(old, { recursive: true, force: true });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  // code caches last, from the bundles in place; verify's warm run needs a signed bundle first
  try {
    const presign = spawnSync(process.execPath, [join(ROOT, 'bin', 'modelseal.js'), ...warm.presign], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', timeout: 60_000 });
    if (presign.status !== 0) process.stderr.write(`bundle-cli: could not sign the model that warms verify's code cache: ${presign.stderr || presign.error?.message}\n`);
    for (const b of bundles) makeCodeCache(join(OUT_DIR, `${b.name}.cjs`), b.warm);
  } finally {
    rmSync(tiny, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (!process.argv.includes('--if-stale') || bundleIsStale()) await bundleCli();
}
