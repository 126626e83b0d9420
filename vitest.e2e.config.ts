import { defineConfig } from 'vitest/config';

// Real-browser tests: each file builds nothing itself; `npm test` builds the extension first.
export default defineConfig({
  test: {
    include: ['tests/e2e/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    environment: 'node',
  },
});
