/**
 * vitest globalSetup: rebuilds the CLI bundle (dist/cli-bundle/, scripts/bundle-cli.mjs) when it is
 * missing or older than tsc's dist/cli/main.js, so tests that spawn bin/modelseal.js after a plain
 * `tsc` run the bundled CLI users get (bin falls back to dist/cli/ while the bundle is stale). Nothing
 * to do without dist/ (the CLI tests then report the missing build themselves).
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
// @ts-expect-error: a build script in plain JavaScript, without declarations
import { bundleCli, bundleIsStale } from '../scripts/bundle-cli.mjs';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export default async function setup(): Promise<void> {
  if (existsSync(resolve(REPO_ROOT, 'dist', 'cli', 'main.js')) && (bundleIsStale as () => boolean)()) await (bundleCli as () => Promise<void>)();
}
