#!/usr/bin/env node
// Writes the scratch consumer's package.json and package-lock.json for scripts/consumer-test.sh: the
// consumer depends on the packed tarball, and every package it pulls in is pinned to the version and
// integrity this repository's lockfile already holds, so `npm ci --offline` installs it from the
// local tarball plus the npm cache alone (a plain install would need the registry's metadata).
// Usage: consumer-lock.mjs REPO TARBALL CONSUMER_DIR
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

const [repo, tarball, dir] = process.argv.slice(2);
const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));
const lock = JSON.parse(readFileSync(join(repo, 'package-lock.json'), 'utf8'));
const tools = ['typescript', '@types/node']; // the test's type checker, dev dependencies of the consumer

const devDependencies = Object.fromEntries(tools.map((t) => [t, pkg.devDependencies[t]]));
const consumer = {
  name: 'modelseal-consumer',
  version: '1.0.0',
  private: true,
  type: 'module',
  dependencies: { modelseal: `file:${basename(tarball)}` },
  devDependencies,
};

// The production closure of modelseal in the repo's lockfile (same hoisted paths), plus the tools.
const packages = lock.packages;
const keep = new Set();
const visit = (path) => {
  if (keep.has(path)) return;
  keep.add(path);
  const e = packages[path];
  for (const name of Object.keys({ ...e.dependencies, ...e.optionalDependencies })) {
    // Node's resolution: the nearest node_modules up the path.
    let base = path;
    for (;;) {
      const candidate = `${base ? `${base}/` : ''}node_modules/${name}`;
      if (packages[candidate]) {
        visit(candidate);
        break;
      }
      if (!base) throw new Error(`${path} needs ${name}, which the lockfile lacks`);
      const i = base.lastIndexOf('/node_modules/');
      base = i < 0 ? '' : base.slice(0, i);
    }
  }
};
for (const name of Object.keys(pkg.dependencies)) visit(`node_modules/${name}`);
for (const t of tools) visit(`node_modules/${t}`);

const out = {
  name: consumer.name,
  version: consumer.version,
  lockfileVersion: 3,
  requires: true,
  packages: {
    '': { name: consumer.name, version: consumer.version, dependencies: consumer.dependencies, devDependencies },
    'node_modules/modelseal': {
      version: pkg.version,
      resolved: `file:${basename(tarball)}`,
      integrity: `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`,
      hasInstallScript: true,
      license: pkg.license,
      dependencies: pkg.dependencies,
      peerDependencies: pkg.peerDependencies,
      peerDependenciesMeta: pkg.peerDependenciesMeta,
      bin: pkg.bin,
      engines: pkg.engines,
    },
  },
};
for (const path of [...keep].sort()) {
  const e = { ...packages[path] };
  // This lockfile omits registry URLs; with them npm fetches each tarball by integrity from the cache
  // instead of asking the registry for metadata first.
  const name = path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
  e.resolved ??= `https://registry.npmjs.org/${name}/-/${name.split('/').pop()}-${e.version}.tgz`;
  const dev = tools.some((t) => path === `node_modules/${t}`);
  delete e.dev;
  delete e.devOptional;
  if (dev) e.dev = true;
  out.packages[path] = e;
}
writeFileSync(join(dir, 'package.json'), JSON.stringify(consumer, null, 2) + '\n');
writeFileSync(join(dir, 'package-lock.json'), JSON.stringify(out, null, 2) + '\n');
