/**
 * The vectors tier: tests that read the external test vectors (never copied into the repository).
 * This module is also vitest's globalSetup, so it says once per run whether the tier runs: absent
 * vectors skip it with one line; under MODELSEAL_REQUIRE_VECTORS=1 (CI) their absence fails the run
 * before any test starts. It must not import vitest's test API (globalSetup runs outside a test file).
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** The vectors live beside the checkout (CI has the same copy); MODELSEAL_VECTORS=DIR points elsewhere. */
export const VECTORS_DIR = process.env.MODELSEAL_VECTORS ?? resolve(REPO_ROOT, '..', 'shared', 'vectors');
/** True when the external vectors are present. */
export const HAVE_VECTORS = existsSync(VECTORS_DIR);
/** CI sets MODELSEAL_REQUIRE_VECTORS=1: there the tier runs (and fails) even when the vectors are absent. */
export const REQUIRE_VECTORS = process.env.MODELSEAL_REQUIRE_VECTORS === '1';

/** The one line a run prints when the tier is skipped. */
export const VECTORS_SKIP_LINE =
  `vectors tier skipped: no test vectors at ${VECTORS_DIR}; run it with MODELSEAL_VECTORS=/path/to/vectors npm test ` +
  '(MODELSEAL_REQUIRE_VECTORS=1 makes their absence a failure)';

export default function setup(): void {
  if (HAVE_VECTORS) return;
  if (REQUIRE_VECTORS) {
    // Before any worker starts, so one clear line (no stack trace from vitest's setup loader) and exit 1.
    console.error(`\nvectors tier required (MODELSEAL_REQUIRE_VECTORS=1) but there are no test vectors at ${VECTORS_DIR}; set MODELSEAL_VECTORS=DIR to where they are\n`);
    process.exit(1);
  }
  console.log(`\n${VECTORS_SKIP_LINE}\n`);
}
