import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Prints the vectors tier's one skip line (or fails under MODELSEAL_REQUIRE_VECTORS=1).
    globalSetup: ['test/vectors-tier.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // The machines have 2 cores; heavy suites (multi-GB files, lavapipe) must not all run at once.
    maxWorkers: 2,
  },
});
