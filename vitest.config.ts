import { defineConfig } from 'vitest/config';
import { WxtVitest } from 'wxt/testing/vitest-plugin';

export default defineConfig({
  plugins: [WxtVitest()],
  // Unit tests run as a store build: no demo backend compiled in (see wxt.config.ts).
  define: { __PACE_DEMO_URL__: JSON.stringify('') },
  test: {
    include: ['tests/unit/**/*.test.{ts,tsx}'],
    setupFiles: ['fake-indexeddb/auto', 'tests/unit/setup.ts'],
    environment: 'node',
    restoreMocks: true,
  },
});
