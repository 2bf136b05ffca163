#!/usr/bin/env node
/**
 * Bundles the CLI's module graph (tsc's dist/cli/main.js and everything it imports from dist/) into
 * dist/cli-bundle/ with esbuild: an entry file plus chunks split per lazily loaded command, so
 * `modelseal hash` loads 21 files (commander included) instead of ~140 modules; the ESM loader's
 * per-module resolve/read/link cost was ~45 % of a `hash` run of a 3-byte file (issue 13 target 3).
 * Run by `npm run build:ts` (so `prepare`, `build` and `test`) and by the test run's global setup when
 * stale; bin/modelseal.js uses the bundle only while it is at least as new as dist/cli/main.js, so a
 * later plain `tsc` never runs stale code.
 *
 *   node scripts/bundle-cli.mjs            build (after tsc)
 *   node scripts/bundle-cli.mjs --if-stale build only when missing or older than dist/cli/main.js
 *
 * The library (`import 'modelseal'`, dist/index.js) and the piscina worker (dist/engine/worker.js, in
 * its own thread; bundling it did not shorten its start here) stay unbundled; npm packages stay
 * external (resolved from node_modules at run time, as before) except commander. Rewrites of each
 * dist/ module on the way in (rewriteModule):
 *   - `import { a } from '../index.js'` (the CLI's one import, DESIGN §8) → imports from the modules
 *     defining the names: esbuild's code splitting assigns whole files to every command that reaches
 *     them, so through the barrel every command pulled in the whole library. This relies on our
 *     modules doing no work at import time (declarations and constant tables only);
 *   - `import.meta.url` → the URL of the module's own dist/ file (addon, worker, WASM, shaders,
 *     package.json and createRequire all resolve from there, whichever chunk the code lands in);
 *   - `import(NAME)` of a module-level `const NAME = './x.js'` (the lazy-loading idiom here) →
 *     `import('./x.js')`, so the module joins the bundle: left as a run-time import it would load a
 *     second copy of errors.js & co. beside the bundle's, and `instanceof ModelsealError` would fail.
 *     Any other non-literal `import(…)` fails the build rather than load a second copy.
 * The layering check (scripts/check-layers.mjs) reads src/, where none of this shows.
 */
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const DIST = join(ROOT, 'dist');
const ENTRY = join(DIST, 'cli', 'main.js');
export const OUT_DIR = join(DIST, 'cli-bundle');
const OUT_ENTRY = join(OUT_DIR, 'main.js');
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const BUNDLED_PACKAGES = ['commander'];

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

/** The esbuild plugin applying rewriteModule to every file under dist/. */
const distPaths = {
  name: 'modelseal-dist-paths',
  setup(build) {
    build.onLoad({ filter: /\.js$/ }, (args) => {
      if (!args.path.startsWith(DIST + sep)) return undefined;
      const r = rewriteModule(readFileSync(args.path, 'utf8'), args.path);
      return r.error ? { errors: [{ text: r.error }] } : { contents: r.code, loader: 'js' };
    });
  },
};

/** Builds dist/cli-bundle/ from dist/ (tsc's output), replacing the previous bundle in one rename. */
export async function bundleCli() {
  if (!existsSync(ENTRY)) throw new Error(`${toPosix(relative(ROOT, ENTRY))} is missing: run \`tsc -p tsconfig.json\` first.`);
  const { build } = await import('esbuild');
  // built beside the final folder (same depth, so the relative paths above hold) and swapped in whole:
  // a CLI starting meanwhile sees the old bundle or none (then bin/modelseal.js runs dist/cli/)
  const tmp = `${OUT_DIR}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  try {
    const result = await build({
      entryPoints: { main: ENTRY },
      outdir: tmp,
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      // npm packages stay external (loaded from node_modules, at the version installed), except
      // commander, which every command loads first: bundled, its import took 25 ms instead of 63 ms
      // (medians of 21 paired runs, load 10), without the CommonJS loader and ESM-to-CJS export scan.
      external: [...Object.keys(PKG.dependencies ?? {}), ...Object.keys(PKG.peerDependencies ?? {})].filter((d) => !BUNDLED_PACKAGES.includes(d)),
      banner: { js: `// modelseal CLI bundle (scripts/bundle-cli.mjs); bundled packages' licenses: THIRD_PARTY_LICENSES` },
      chunkNames: '[name]-[hash]',
      logLevel: 'warning',
      legalComments: 'none',
      plugins: [distPaths],
      metafile: true,
    });
    // a package imported statically by CLI code would otherwise be copied in silently
    const copied = new Set(
      Object.keys(result.metafile.inputs)
        .filter((f) => f.includes('node_modules/'))
        .map((f) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(f)[1]),
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
    // commander is CommonJS: its require() of node: builtins goes through esbuild's __require helper,
    // which needs a `require` in scope. Given to the one chunk defining the helper, not as a banner on
    // every chunk: createRequire per chunk cost ~4 ms of a 160 ms profiled `hash` run (21 chunks).
    const helper = readdirSync(tmp).filter((f) => f.endsWith('.js') && /^var __require = /m.test(readFileSync(join(tmp, f), 'utf8')));
    for (const f of helper) {
      const code = readFileSync(join(tmp, f), 'utf8');
      const nl = code.indexOf('\n') + 1;
      writeFileSync(join(tmp, f), `${code.slice(0, nl)}import { createRequire as __modelsealCreateRequire } from 'node:module';\nconst require = __modelsealCreateRequire(import.meta.url);\n${code.slice(nl)}`);
    }
    const old = `${OUT_DIR}.old-${process.pid}`;
    if (existsSync(OUT_DIR)) renameSync(OUT_DIR, old);
    renameSync(tmp, OUT_DIR);
    rmSync(old, { recursive: true, force: true });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (!process.argv.includes('--if-stale') || bundleIsStale()) await bundleCli();
}
