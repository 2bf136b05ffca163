/**
 * Issue 13 targets 1-3: the CLI runs from build-time bundles (scripts/bundle-cli.mjs, dist/cli-bundle/:
 * one CommonJS file per command, with a V8 code cache) so its start-up reads one file, not ~140
 * modules. What must hold: bin/modelseal.js runs the invoked command's bundle while it is fresh and
 * the unbundled dist/cli/ otherwise; a command's bundle holds only its own code; the code caches are
 * accepted; the bundled CLI answers exactly as the unbundled one, with every file it finds by path
 * (native addon, WASM module, piscina worker, package.json) where it was. The bundles are built by
 * the test run's global setup (test/cli-bundle-setup.ts) or `npm run build:ts`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
// @ts-expect-error: a build script in plain JavaScript, without declarations
import { DIST, rewriteModule } from '../../scripts/bundle-cli.mjs';
import { REPO_ROOT, fill251, tempDir } from '../helpers.js';

const BIN = join(REPO_ROOT, 'bin', 'modelseal.js');
const BUNDLE_DIR = join(REPO_ROOT, 'dist', 'cli-bundle');
type Run = { status: number | null; stdout: string; stderr: string };

let d: { path: string; cleanup: () => void };
/** Runs dist/cli/main.js directly: the unbundled CLI, whatever the bundle's state. */
let unbundledRunner: string;
/** A loader hook that appends every URL the main thread loads to the file in its `data`. */
let hook: string;
/** A preload that appends the CommonJS modules and the dist/ files read in the main thread, at exit, to MODELSEAL_TEST_LOADED. */
let preload: string;

const run = (file: string, args: string[], nodeArgs: string[] = []): Run =>
  spawnSync(process.execPath, [...nodeArgs, file, ...args], { encoding: 'utf8', timeout: 120_000 });
const bundled = (args: string[]) => run(BIN, args);
const unbundled = (args: string[]) => run(unbundledRunner, args);

/**
 * The files a bundled run loads in its main thread, the dist/ source modules inside the bundle it
 * runs (`sources`), and those it initialized (`initialized`: esbuild wraps a module reached through
 * `import()` in an init function named by its path, run on first use; V8's coverage counts the calls).
 */
function loadedBy(args: string[]): { files: string[]; sources: Set<string>; initialized: Set<string>; r: Run } {
  const log = join(d.path, `loaded-${Math.random().toString(36).slice(2)}.txt`);
  writeFileSync(log, '');
  const coverage = join(d.path, `coverage-${Math.random().toString(36).slice(2)}`);
  const reg = join(d.path, 'register.mjs');
  writeFileSync(reg, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hook).href)}, { data: ${JSON.stringify(log)} });\n`);
  const r = spawnSync(process.execPath, ['--import', pathToFileURL(reg).href, '--require', preload, BIN, ...args], {
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, MODELSEAL_TEST_LOADED: log, NODE_V8_COVERAGE: coverage },
  });
  const files = [
    ...new Set(
      readFileSync(log, 'utf8')
        .split('\n')
        .filter((u) => u.startsWith('file:') || u.startsWith('/'))
        .map((u) => (u.startsWith('file:') ? new URL(u).pathname : u)),
    ),
  ];
  const sources = new Set<string>();
  for (const f of files.filter((f) => f.startsWith(BUNDLE_DIR) && f.endsWith('.cjs'))) {
    for (const m of readFileSync(f, 'utf8').matchAll(/^\/\/ (dist\/\S+\.js)$/gm)) sources.add(m[1]!);
  }
  const wrapped = new Set<string>();
  for (const f of files.filter((f) => f.startsWith(BUNDLE_DIR) && f.endsWith('.cjs'))) {
    for (const m of readFileSync(f, 'utf8').matchAll(/^ {2}"(dist\/\S+\.js)"\(\) \{$/gm)) wrapped.add(m[1]!);
  }
  const ran = new Set<string>();
  for (const c of readdirSync(coverage)) {
    const { result } = JSON.parse(readFileSync(join(coverage, c), 'utf8')) as { result: Array<{ url: string; functions: Array<{ functionName: string; ranges: Array<{ count: number }> }> }> };
    for (const script of result.filter((x) => x.url.startsWith(pathToFileURL(BUNDLE_DIR).href))) {
      for (const fn of script.functions) if (wrapped.has(fn.functionName) && fn.ranges[0]!.count > 0) ran.add(fn.functionName);
    }
  }
  const initialized = new Set([...sources].filter((x) => !wrapped.has(x) || ran.has(x)));
  return { files, sources, initialized, r };
}

/** The result line of `hash --json` (after the progress lines), without the fields that vary run to run. */
const hashJson = (r: Run) => {
  const j = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
  expect(j.type).toBe('result');
  for (const k of ['seconds', 'bytesPerSecond', 'peakRssBytes', 'phases']) delete j[k];
  return j;
};

beforeAll(() => {
  d = tempDir('modelseal-bundle-');
  unbundledRunner = join(d.path, 'unbundled.mjs');
  writeFileSync(
    unbundledRunner,
    `const { main } = await import(${JSON.stringify(pathToFileURL(join(REPO_ROOT, 'dist', 'cli', 'main.js')).href)});\nprocess.exitCode = await main(process.argv);\n`,
  );
  hook = join(d.path, 'hook.mjs');
  writeFileSync(
    hook,
    `import { appendFileSync } from 'node:fs';\nlet log;\nexport function initialize(data) { log = data; }\nexport async function load(url, context, next) { appendFileSync(log, url + '\\n'); return next(url, context); }\n`,
  );
  preload = join(d.path, 'preload.cjs');
  writeFileSync(
    preload,
    `const fs = require('node:fs');\nconst dist = ${JSON.stringify(join(REPO_ROOT, 'dist') + '/')};\nconst read = [];\nconst orig = fs.readFileSync;\n` +
      `fs.readFileSync = function (p, ...rest) { if (typeof p === 'string' && p.startsWith(dist)) read.push(p); return orig.call(this, p, ...rest); };\n` +
      `process.on('exit', () => fs.appendFileSync(process.env.MODELSEAL_TEST_LOADED, [...read, ...Object.keys(require.cache)].join('\\n') + '\\n'));\n`,
  );
  mkdirSync(join(d.path, 'tiny'));
  writeFileSync(join(d.path, 'tiny', 'w.bin'), 'abc');
  // over the 1 MiB in-thread limit (engine/hash-model.ts): hashed on the piscina pool
  mkdirSync(join(d.path, 'big'));
  writeFileSync(join(d.path, 'big', 'a.bin'), fill251(3 * 2 ** 20 + 7));
  writeFileSync(join(d.path, 'big', 'b.bin'), fill251(2 ** 20 + 1, 3));
});
afterAll(() => d.cleanup());

describe('bin/modelseal.js runs the bundle', () => {
  it('hash of a tiny file loads its bundle only, and only the hash command code (no signing, attestation, benchmark or GPU code)', () => {
    const { files, sources, initialized, r } = loadedBy(['hash', join(d.path, 'tiny'), '--json']);
    expect(r.status, r.stderr).toBe(0);
    expect(hashJson(r)).toEqual(hashJson(unbundled(['hash', join(d.path, 'tiny'), '--json'])));
    const distFiles = files.filter((f) => f.startsWith(join(REPO_ROOT, 'dist') + '/'));
    expect(distFiles.filter((f) => f.endsWith('.cjs'))).toEqual([join(BUNDLE_DIR, 'hash.cjs')]);
    expect(distFiles.filter((f) => !f.startsWith(BUNDLE_DIR + '/'))).toEqual([]);
    // node-gyp-build: the native layer's lookup of the addon (src/native/addon.ts), CommonJS, not CLI code
    expect(files.filter((f) => f.includes('/node_modules/') && !f.includes('/node_modules/node-gyp-build/'))).toEqual([]);
    expect(initialized).toContain('dist/cli/commands/hash.js');
    expect(initialized).toContain('dist/engine/hash-model.js');
    // the bundle holds no other command's code; the WASM and GPU backends are in it for
    // `--backend`, initialized only when chosen
    expect([...sources].filter((s) => /^dist\/(attest|sign|bench|formats)\/|^dist\/crypto\/(dsse|x509|pem)\.js|^dist\/cli\/commands\/(?!hash\.js)/.test(s))).toEqual([]);
    expect([...initialized].filter((s) => /^dist\/backends\/(webgpu|wasm)/.test(s))).toEqual([]);
    expect(sources).toContain('dist/backends/wasm.js');
  });

  it('--version loads no command', () => {
    const { files, sources, r } = loadedBy(['--version']);
    expect(r.status).toBe(0);
    expect(files.filter((f) => f.startsWith(BUNDLE_DIR) && f.endsWith('.cjs'))).toEqual([join(BUNDLE_DIR, '_version.cjs')]);
    expect(r.stdout.trim()).toBe(JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).version);
    expect([...sources].filter((s) => s.startsWith('dist/cli/commands/'))).toEqual([]);
  });

  it('sign --key and verify --key load no attestation or open-verified code; verify --attestation loads it from the bundle, answering as unbundled', () => {
    const key = join(d.path, 'lazy-key.pem');
    const pub = join(d.path, 'lazy-pub.pem');
    const k = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(key, k.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(pub, k.publicKey.export({ type: 'spki', format: 'pem' }));
    const sig = join(d.path, 'lazy.sig');
    const lazyOnly = /^dist\/attest\/(?!modes\.js)|^dist\/verify\/(attestation|attest-steps|open-verified)\.js|^dist\/sign\/attest-|^dist\/crypto\/x509\.js|^dist\/formats\//;
    const s = loadedBy(['sign', join(d.path, 'tiny'), '--key', key, '--output', sig]);
    expect(s.r.status, s.r.stderr).toBe(0);
    expect(s.initialized).toContain('dist/cli/commands/sign.js');
    expect([...s.initialized].filter((x) => lazyOnly.test(x))).toEqual([]);
    const v = loadedBy(['verify', join(d.path, 'tiny'), '--sig', sig, '--key', pub, '--json']);
    expect(v.r.status, v.r.stderr).toBe(0);
    expect(v.initialized).toContain('dist/verify/verify-model.js');
    expect([...v.initialized].filter((x) => lazyOnly.test(x))).toEqual([]);
    // --attestation with no <bundle>.att beside the bundle: the steps load (from the bundle, so the
    // error is the bundle's own ModelsealError class) and refuse as the unbundled CLI does.
    const args = ['verify', join(d.path, 'tiny'), '--sig', sig, '--key', pub, '--attestation'];
    const a = loadedBy(args);
    const u = unbundled(args);
    expect(a.r.status).toBe(u.status);
    expect(a.r.status).not.toBe(0);
    expect(a.r.status).not.toBe(70);
    expect(a.r.stderr).toBe(u.stderr);
    expect(a.initialized).toContain('dist/verify/attestation.js');
    expect(a.files.filter((f) => f.startsWith(join(REPO_ROOT, 'dist') + '/') && !f.startsWith(BUNDLE_DIR + '/'))).toEqual([]);
  });
});

describe('the bundled CLI answers as the unbundled one', () => {
  it('hash --json of a model over the in-thread limit: same manifest, hashed on worker threads (the worker file resolved from the bundle)', () => {
    const b = bundled(['hash', join(d.path, 'big'), '--json', '--workers', '2']);
    const u = unbundled(['hash', join(d.path, 'big'), '--json', '--workers', '2']);
    expect(b.status, b.stderr).toBe(0);
    expect(u.status, u.stderr).toBe(0);
    expect(hashJson(b)).toEqual(hashJson(u));
    expect(hashJson(b).workers).toBeGreaterThan(0);
  });

  it('hash --backend wasm (the WASM module found by path from the bundle)', () => {
    const b = bundled(['hash', join(d.path, 'big'), '--json', '--backend', 'wasm', '--workers', '1']);
    const u = unbundled(['hash', join(d.path, 'big'), '--json', '--backend', 'wasm', '--workers', '1']);
    expect(b.status, b.stderr).toBe(0);
    expect(hashJson(b)).toEqual(hashJson(u));
    expect(hashJson(b).backend).toBe('wasm');
  });

  it('doctor --json: the same native addon (path and origin), the same backends', () => {
    const b = bundled(['doctor', '--json']);
    const u = unbundled(['doctor', '--json']);
    expect(b.status, b.stderr).toBe(u.status);
    const [jb, ju] = [JSON.parse(b.stdout), JSON.parse(u.stdout)];
    expect(jb.native).toEqual(ju.native);
    expect(jb.backends.map((x: { name: string; ok: boolean }) => [x.name, x.ok])).toEqual(ju.backends.map((x: { name: string; ok: boolean }) => [x.name, x.ok]));
    expect(jb.preference).toEqual(ju.preference);
  });

  it('sign then verify: the same exit codes and messages; a bad flag and a missing model: exit 2, the same sentence', () => {
    const key = join(d.path, 'key.pem');
    const pub = join(d.path, 'pub.pem');
    const k = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(key, k.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(pub, k.publicKey.export({ type: 'spki', format: 'pem' }));
    const sig = join(d.path, 'tiny.sig');
    const s = bundled(['sign', join(d.path, 'tiny'), '--key', key, '--output', sig]);
    expect(s.status, s.stderr).toBe(0);
    for (const [code, args] of [
      [0, ['verify', join(d.path, 'tiny'), '--sig', sig, '--key', pub, '--json']],
      [2, ['hash', join(d.path, 'no-such-model')]],
      [2, ['hash', '--no-such-flag']],
      [2, ['no-such-command']],
    ] as const) {
      const [b, u] = [bundled([...args]), unbundled([...args])];
      expect(b.status, args.join(' ')).toBe(code);
      expect(u.status, args.join(' ')).toBe(code);
      expect(b.stdout.replace(/"seconds":[\d.e-]+/g, '')).toBe(u.stdout.replace(/"seconds":[\d.e-]+/g, ''));
      expect(b.stderr.replace(/\d+(\.\d+)? ?(ms|s)\b/g, 'T')).toBe(u.stderr.replace(/\d+(\.\d+)? ?(ms|s)\b/g, 'T'));
    }
  });
});

describe('bin/modelseal.js picks the bundle only while it is fresh', () => {
  // a copy of bin/ beside stub dist/ entries, to set their times without touching the real build
  const layout = () => {
    const root = join(d.path, `layout-${Math.random().toString(36).slice(2)}`);
    mkdirSync(join(root, 'bin'), { recursive: true });
    copyFileSync(BIN, join(root, 'bin', 'modelseal.js'));
    copyFileSync(join(REPO_ROOT, 'bin', 'package.json'), join(root, 'bin', 'package.json'));
    writeFileSync(join(root, 'package.json'), '{"type":"module"}');
    mkdirSync(join(root, 'dist', 'cli'), { recursive: true });
    mkdirSync(join(root, 'dist', 'cli-bundle'), { recursive: true });
    const cli = join(root, 'dist', 'cli', 'main.js');
    writeFileSync(cli, `export async function main() { process.stdout.write('unbundled'); return 0; }\n`);
    const bundle = (name: string) => {
      const f = join(root, 'dist', 'cli-bundle', `${name}.cjs`);
      writeFileSync(f, `exports.main = async () => { process.stdout.write(${JSON.stringify(`bundled ${name}`)}); return 0; };\n`);
      return f;
    };
    return { root, cli, all: bundle('_all'), hash: bundle('hash') };
  };
  const which = (root: string, args: string[] = []) => run(join(root, 'bin', 'modelseal.js'), args).stdout;
  const at = (f: string, s: number) => utimesSync(f, s, s);

  it('bundle newer or as new (an installed package: one time stamp): the bundle; the invoked command’s own, else the one with all commands', () => {
    const l = layout();
    at(l.cli, 1000);
    at(l.all, 2000);
    at(l.hash, 2000);
    expect(which(l.root)).toBe('bundled _all');
    expect(which(l.root, ['hash', 'x'])).toBe('bundled hash');
    expect(which(l.root, ['no-such-command'])).toBe('bundled _all');
    expect(which(l.root, ['--help'])).toBe('bundled _all');
    at(l.all, 1000);
    expect(which(l.root)).toBe('bundled _all');
  });

  it('tsc ran after the bundle, or no bundle: dist/cli/', () => {
    const l = layout();
    at(l.all, 1000);
    at(l.hash, 1000);
    at(l.cli, 2000);
    expect(which(l.root)).toBe('unbundled');
    expect(which(l.root, ['hash', 'x'])).toBe('unbundled');
    const m = layout();
    rmSync(join(m.root, 'dist', 'cli-bundle'), { recursive: true });
    expect(which(m.root)).toBe('unbundled');
  });
});

describe('the code caches (V8 cachedData, made at build time for Node 20, which has no compile cache)', () => {
  const bundles = () => readdirSync(BUNDLE_DIR).filter((f) => f.endsWith('.cjs'));
  const loader = createRequire(import.meta.url)(BIN) as {
    cacheFileOf: (file: string, source: string) => string | undefined;
    compileBundle: (file: string, source: string, cachedData?: Buffer) => { cachedDataRejected?: boolean };
  };

  it('every bundle is ASCII and has a cache carrying its build id', () => {
    expect(bundles()).toContain('hash.cjs');
    expect(bundles()).toContain('_all.cjs');
    for (const f of bundles()) {
      const source = readFileSync(join(BUNDLE_DIR, f), 'latin1');
      expect(/[^\x00-\x7f]/.test(source), f).toBe(false);
      const cache = loader.cacheFileOf(join(BUNDLE_DIR, f), source);
      expect(cache, f).toBeDefined();
      expect(existsSync(cache!), `${f}: ${cache}`).toBe(true);
    }
  });

  // Node >= 22.1 loads the bundles with require() and its own compile cache instead
  it.skipIf(typeof (createRequire(import.meta.url)('node:module') as { enableCompileCache?: unknown }).enableCompileCache === 'function')(
    'V8 accepts each cache for its bundle in this Node (a rejected cache would compile from source: slower, still right)',
    () => {
      for (const f of bundles()) {
        const file = join(BUNDLE_DIR, f);
        const source = readFileSync(file, 'latin1');
        const script = loader.compileBundle(file, source, readFileSync(loader.cacheFileOf(file, source)!));
        expect(script.cachedDataRejected, f).toBe(false);
      }
    },
  );
});

describe('scripts/bundle-cli.mjs rewrites (tsc output in, bundle input out)', () => {
  const file = (p: string) => join(DIST as string, p);
  const rewrite = rewriteModule as (code: string, file: string) => { code?: string; error?: string };

  it('import.meta.url becomes the module’s own dist/ URL, relative to the bundle folder', () => {
    const r = rewrite(`const here = import.meta.url;\n`, file('engine/pool.js'));
    expect(r.code).toBe(`const here = new URL("../engine/pool.js", import.meta.url).href;\n`);
  });

  it('import() of a module-level const joins the bundle; any other non-literal import() fails the build', () => {
    const ok = rewrite(`const NATIVE_MODULE = './native.js';\nconst m = await import(NATIVE_MODULE);\n`, file('backends/registry.js'));
    expect(ok.code).toContain(`await import("./native.js")`);
    const bad = rewrite(`const m = await import(someName);\n`, file('backends/registry.js'));
    expect(bad.error).toMatch(/non-literal dynamic import in dist\/backends\/registry\.js:1/);
  });

  it('imports through index.js go to the modules that define the names (the CLI’s one import, DESIGN §8, kept in src/)', () => {
    if (!existsSync(file('index.js'))) throw new Error('dist/index.js is missing: run `npm run build:ts` first');
    const r = rewrite(`import { hashModel, writeOutputFile as w, EXIT_USAGE } from '../index.js';\n`, file('cli/x.js'));
    expect(r.code).toContain(`import { hashModel } from '../engine/hash-model.js';`);
    expect(r.code).toContain(`import { writeOutputFile as w } from '../io/output-file.js';`);
    expect(r.code).toContain(`import { EXIT_USAGE } from '../errors.js';`);
    expect(r.code).not.toContain('index.js');
  });
});
