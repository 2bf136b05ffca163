#!/usr/bin/env node
// What each bundled CLI command loads at start-up: the files and bytes reached by the static imports of
// dist/cli-bundle/main.js and the command's chunk (lazy `import()`s are not followed), and the dist/
// source modules inside them. Issue 13 target 5 (verify's fixed cost over hash).
//   npm run build:ts && node bench/cli-load-size.mjs [hash verify sign ...] [--sources]
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'cli-bundle');
const args = process.argv.slice(2);
const showSources = args.includes('--sources');
const commands = args.filter((a) => !a.startsWith('--'));
if (!existsSync(join(DIR, 'main.js'))) throw new Error('no dist/cli-bundle/main.js: run `npm run build:ts` first');

function reach(entries) {
  const seen = new Map();
  const walk = (f) => {
    if (seen.has(f)) return;
    const code = readFileSync(f, 'utf8');
    seen.set(f, code);
    for (const m of code.matchAll(/^\s*(?:import|export)\s[^;]*?from\s*["']([^"']+)["']|^\s*import\s*["']([^"']+)["']/gm)) {
      const s = m[1] ?? m[2];
      if (s.startsWith('.')) walk(resolve(dirname(f), s));
    }
  };
  for (const e of entries) walk(e);
  return seen;
}

for (const cmd of commands.length ? commands : ['hash', 'verify', 'sign']) {
  const chunk = readdirSync(DIR).find((f) => f.startsWith(`${cmd}-`) && f.endsWith('.js'));
  if (!chunk) throw new Error(`no chunk for command ${cmd}`);
  const seen = reach([join(DIR, 'main.js'), join(DIR, chunk)]);
  const bytes = [...seen.values()].reduce((a, c) => a + c.length, 0);
  console.log(`${cmd.padEnd(8)} ${String(seen.size).padStart(3)} files ${(bytes / 1024).toFixed(0).padStart(5)} KB`);
  if (showSources) {
    const src = new Set();
    for (const c of seen.values()) for (const m of c.matchAll(/^\/\/ (dist\/\S+\.js)$/gm)) src.add(m[1]);
    console.log(`  ${[...src].sort().join(' ')}`);
  }
}
