#!/usr/bin/env node
/**
 * The layering check (DESIGN §8), run by `npm test` (test/unit/layering.test.ts) and by hand:
 *   node scripts/check-layers.mjs        exit 0 clean, 1 with one line per violation
 *
 * It reads every src/**\/*.ts file with the TypeScript compiler's own parser and resolver (the same
 * NodeNext resolution tsc uses, `.js` specifiers to `.ts` files), so the graph is the compiler's:
 * static imports, `export … from`, `import type`, `import('…')` types and dynamic `import()` of a
 * string literal or of a `const` holding one (the lazy-loading idiom used here). Written
 * over `typescript` (already a dev dependency) rather than with dependency-cruiser or madge because
 * the three rules below need folder-level cycles and an allow-list of exact file edges, which take a
 * few lines here and configuration plus a new dependency tree there.
 *
 * Rules, each over the graph with the allow-listed edges removed:
 *   1. no import cycle between files;
 *   2. no import cycle between folders (every directory, nested ones included; an import between a
 *      folder and one inside it is not a folder edge, see folderGraph);
 *   3. imports point down the layers of LAYERS; plan/, manifest/ and backends/ (one layer) do not
 *      import one another's folders except plan/ -> manifest/ (OMS names and order); the CLI imports
 *      only src/index.ts and src/errors.ts.
 * An allow-list entry that matches no violating edge is itself a violation, so the list only shrinks.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Layers, lowest first (DESIGN §8: cli → index → verify → sign → attest/engine →
 * backends/plan/manifest → hash vocabulary → native/errors). Keys are paths under src/ (a folder or a
 * top-level file); a file takes the layer of its longest matching key. Folders in one layer may import
 * each other as long as no folder cycle results. A new top-level folder must be given a layer here.
 */
export const LAYERS = {
  'errors.ts': 0,
  // the error-code catalogue that errors.ts types its codes with
  'error-codes.ts': 0,
  native: 0,
  // hostile-input mechanisms (issue 11): opening, reading and writing files, JSON depth, globs
  io: 0,
  match: 0,
  hash: 1,
  backends: 2,
  plan: 2,
  manifest: 2,
  // one module per format or primitive, shared by sign/ and attest/ (DESIGN §8)
  crypto: 2,
  // tensor-file header parsers (safetensors, GGUF): hostile-input readers over bytes, no I/O
  formats: 2,
  attest: 3,
  engine: 3,
  sign: 4,
  verify: 5,
  // modelseal bench: runs the engine and backends, imported only by index.ts (and so the CLI)
  bench: 5,
  'index.ts': 6,
  // the modelseal/webgpu entry point (package.json exports), a public surface beside index.ts
  'webgpu.ts': 6,
  cli: 7,
};

/**
 * Folder pairs of one layer that must not import each other: the planner never knows which backend
 * runs its plan, a backend never knows about manifests, and the vocabulary they share lives below
 * them (src/hash/). [from, to] as LAYERS keys.
 */
export const SEPARATE = [
  ['plan', 'backends'],
  ['manifest', 'backends'],
  ['backends', 'plan'],
  ['backends', 'manifest'],
];

/** What src/cli/ may import outside itself. */
export const CLI_MAY_IMPORT = ['src/index.ts', 'src/errors.ts'];

/**
 * Known violations that live in areas other branches are reworking now; each is an exact file edge
 * [from, to]. Remove entries as those branches land (an entry that no longer matches a violating edge
 * fails the check). Empty is the goal.
 */
export const ALLOWED_EDGES = [
  // None: attestation joined the library (attestBundle / checkAttestation / writeVerificationReceipt),
  // the CLI's attest commands import src/index.ts, and the simulated marker lives in attest/roots/.
];

function walkTs(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...walkTs(p));
    else if (e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out.sort();
}

/** Module specifiers a file imports, with the compiler's parser (see the header for which forms). */
export function importSpecifiers(fileName, text) {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  // `const X = '…'` anywhere in the file, for `import(X)` (names are not scoped: a same-named const
  // elsewhere in the file would only add an edge, never hide one)
  const consts = new Map();
  const collectConsts = (node) => {
    if (ts.isVariableDeclarationList(node) && node.flags & ts.NodeFlags.Const) {
      for (const d of node.declarations) {
        if (ts.isIdentifier(d.name) && d.initializer && ts.isStringLiteralLike(d.initializer)) consts.set(d.name.text, d.initializer.text);
      }
    }
    ts.forEachChild(node, collectConsts);
  };
  collectConsts(sf);
  const specs = [];
  const visit = (node) => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteralLike(node.moduleSpecifier)) {
      specs.push(node.moduleSpecifier.text);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference) && ts.isStringLiteralLike(node.moduleReference.expression)) {
      specs.push(node.moduleReference.expression.text);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteralLike(node.argument.literal)) {
      specs.push(node.argument.literal.text);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments.length > 0) {
      const a = node.arguments[0];
      if (ts.isStringLiteralLike(a)) specs.push(a.text);
      else if (ts.isIdentifier(a) && consts.has(a.text)) specs.push(consts.get(a.text));
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return specs;
}

const COMPILER_OPTIONS = { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, allowJs: false };

/**
 * The import graph of `root`/src as repo-relative POSIX paths: Map<file, Set<file>>. Imports of
 * packages and Node built-ins are not edges; an import that resolves to no file is reported.
 */
export function buildGraph(root = ROOT) {
  const srcDir = join(root, 'src');
  const graph = new Map();
  const unresolved = [];
  const host = ts.sys;
  const rel = (p) => relative(root, p).split(sep).join('/');
  for (const file of walkTs(srcDir)) {
    const deps = new Set();
    for (const spec of importSpecifiers(file, readFileSync(file, 'utf8'))) {
      if (!spec.startsWith('.')) continue;
      const r = ts.resolveModuleName(spec, file, COMPILER_OPTIONS, host).resolvedModule;
      if (!r || r.isExternalLibraryImport || !existsSync(r.resolvedFileName)) {
        unresolved.push(`${rel(file)}: cannot resolve '${spec}'`);
        continue;
      }
      const target = rel(r.resolvedFileName);
      if (target.startsWith('src/')) deps.add(target);
    }
    graph.set(rel(file), deps);
  }
  return { graph, unresolved };
}

/** The layer of a src/ file, or undefined when LAYERS has no key for it. */
export function layerOf(file, layers = LAYERS) {
  const inSrc = file.replace(/^src\//, '');
  let best;
  for (const key of Object.keys(layers)) {
    if ((inSrc === key || inSrc.startsWith(`${key}/`)) && (best === undefined || key.length > best.length)) best = key;
  }
  return best === undefined ? undefined : layers[best];
}

/** Strongly connected components with more than one node, or a node importing itself (Tarjan). */
export function cycles(graph) {
  let index = 0;
  const idx = new Map();
  const low = new Map();
  const stack = [];
  const on = new Set();
  const out = [];
  const strong = (v) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        strong(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
    }
    if (low.get(v) === idx.get(v)) {
      const scc = [];
      let w;
      do {
        w = stack.pop();
        on.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || graph.get(v)?.has(v)) out.push(scc.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!idx.has(v)) strong(v);
  return out;
}

/** One shortest cycle through `start` inside an SCC, for a readable message. */
function cyclePath(graph, scc, start) {
  const inScc = new Set(scc);
  const prev = new Map([[start, null]]);
  const queue = [start];
  while (queue.length) {
    const v = queue.shift();
    for (const w of graph.get(v) ?? []) {
      if (!inScc.has(w)) continue;
      if (w === start) {
        const path = [v];
        for (let p = prev.get(v); p !== null && p !== undefined; p = prev.get(p)) path.push(p);
        return [...path.reverse(), start].join(' -> ');
      }
      if (!prev.has(w)) {
        prev.set(w, v);
        queue.push(w);
      }
    }
  }
  return scc.join(' -> ');
}

/**
 * Checks a graph (Map<file, Set<file>>) against the rules. Returns the violations as sentences.
 * `allowed` edges are taken out of the graph first; one that was not a violation is reported as stale.
 */
export function checkGraph(graph, { layers = LAYERS, cliMayImport = CLI_MAY_IMPORT, separate = SEPARATE, allowed = ALLOWED_EDGES } = {}) {
  const violations = [];
  const allowedKeys = new Set(allowed.map(([a, b]) => `${a} -> ${b}`));
  const used = new Set();
  const kept = new Map();
  for (const [from, deps] of graph) {
    const keep = new Set();
    for (const to of deps) {
      const key = `${from} -> ${to}`;
      if (allowedKeys.has(key)) used.add(key);
      else keep.add(to);
    }
    kept.set(from, keep);
  }

  // Which allow-listed edges are still needed: those that break a layer or CLI rule, or that close a
  // file or folder cycle in the full graph.
  const edgeViolation = (from, to) => {
    const lf = layerOf(from, layers);
    const lt = layerOf(to, layers);
    if (from.startsWith('src/cli/') && !to.startsWith('src/cli/') && !cliMayImport.includes(to)) {
      return `${from} imports ${to}: the CLI imports only ${cliMayImport.join(' and ')} (export what it needs from src/index.ts)`;
    }
    if (lf !== undefined && lt !== undefined && lt > lf) return `${from} (layer ${lf}) imports ${to} (layer ${lt}): imports point down the layers only`;
    const under = (file, key) => file === `src/${key}` || file.startsWith(`src/${key}/`);
    for (const [a, b] of separate) {
      if (under(from, a) && under(to, b)) return `${from} imports ${to}: ${a}/ and ${b}/ share a layer and never import each other (shared words go in src/hash/vocabulary.ts)`;
    }
    return undefined;
  };

  for (const file of graph.keys()) {
    if (layerOf(file, layers) === undefined) violations.push(`${file} is in no layer: give its folder a layer in scripts/check-layers.mjs LAYERS (DESIGN §8)`);
  }
  for (const [from, deps] of kept) for (const to of deps) {
    const v = edgeViolation(from, to);
    if (v) violations.push(v);
  }
  for (const scc of cycles(kept)) violations.push(`import cycle between files ${scc.join(', ')}: e.g. ${cyclePath(kept, scc, scc[0])}`);
  const folders = folderGraph(kept);
  for (const scc of cycles(folders)) {
    const via = (a, b) => [...kept].flatMap(([f, ds]) => (folderOf(f) === a ? [...ds].filter((t) => folderOf(t) === b).map((t) => `${f} -> ${t}`) : []));
    const path = cyclePath(folders, scc, scc[0]).split(' -> ');
    const edges = path.slice(1).map((b, i) => via(path[i], b)[0]);
    violations.push(`import cycle between folders ${scc.join(', ')}: e.g. ${path.join(' -> ')} (${edges.join('; ')})`);
  }

  // Stale entries: an allowed edge that is absent, or that breaks no rule and closes no cycle.
  const fileCycleEdge = (from, to) => cycles(withEdge(kept, from, to)).some((s) => s.includes(from) && s.includes(to));
  const folderCycleEdge = (from, to) => {
    const a = folderOf(from);
    const b = folderOf(to);
    return !nested(a, b) && cycles(withEdge(folders, a, b)).some((s) => s.includes(a) && s.includes(b));
  };
  for (const [from, to] of allowed) {
    const key = `${from} -> ${to}`;
    if (!used.has(key)) violations.push(`allow-list entry ${key} matches no import any more: remove it from ALLOWED_EDGES`);
    else if (!edgeViolation(from, to) && !fileCycleEdge(from, to) && !folderCycleEdge(from, to)) {
      violations.push(`allow-list entry ${key} breaks no rule any more: remove it from ALLOWED_EDGES`);
    }
  }
  return violations;
}

function withEdge(graph, from, to) {
  const g = new Map([...graph].map(([k, v]) => [k, new Set(v)]));
  if (!g.has(from)) g.set(from, new Set());
  g.get(from).add(to);
  return g;
}

/** The folder a file counts in; the top-level files of src/ (index.ts, errors.ts) each count alone. */
export function folderOf(file) {
  const d = dirname(file);
  return d === 'src' ? file : d;
}

/** Whether one folder contains the other (or they are the same). */
function nested(a, b) {
  return a === b || a.startsWith(`${b}/`) || b.startsWith(`${a}/`);
}

/**
 * The graph between folders: folderOf(a) -> folderOf(b) for every file edge across folders that do
 * not contain one another. A folder's files importing its subfolders and back (attest/index.ts ->
 * attest/snp/ -> attest/core/input.ts) stay inside that folder, so they are its own business; the file
 * graph still forbids cycles there.
 */
export function folderGraph(graph) {
  const g = new Map();
  for (const [from, deps] of graph) {
    const a = folderOf(from);
    if (!g.has(a)) g.set(a, new Set());
    for (const to of deps) {
      const b = folderOf(to);
      if (!nested(a, b)) g.get(a).add(b);
    }
  }
  return g;
}

/** Builds the graph of this repository and checks it. */
export function checkRepository(root = ROOT) {
  const { graph, unresolved } = buildGraph(root);
  return [...unresolved, ...checkGraph(graph)];
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const violations = checkRepository();
  for (const v of violations) process.stderr.write(`${v}\n`);
  process.stdout.write(violations.length ? `layering: ${violations.length} violation(s)\n` : 'layering: ok\n');
  process.exitCode = violations.length ? 1 : 0;
}
