import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Prints the vectors tier's one skip line (or fails under MODELSEAL_REQUIRE_VECTORS=1); rebuilds a
    // stale CLI bundle (scripts/bundle-cli.mjs) so CLI tests run what users run.
    globalSetup: ['test/vectors-tier.ts', 'test/cli-bundle-setup.ts'],
    // A limit for hung tests, not a speed check: on a shared 2-core machine (load ~26) the lavapipe test
    // streaming 256 MiB (test/gpu/webgpu-backend.test.ts) took 152 s alone, over the former 120 s.
    testTimeout: 300_000,
    hookTimeout: 300_000,
    pool: 'forks',
    // The machines have 2 cores; heavy suites (multi-GB files, lavapipe) must not all run at once.
    maxWorkers: 2,
  },
});
