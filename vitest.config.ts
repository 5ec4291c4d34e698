import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Live tests bind UDP/TCP ports and spawn collectors: keep files in separate workers, two at a time (2 cores).
    maxWorkers: 2,
    globalSetup: ['test/support/temporary-directory.ts'],
  },
});
