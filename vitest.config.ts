import { defineConfig } from 'vitest/config';
import { WxtVitest } from 'wxt/testing/vitest-plugin';
import { DEXIE_MODERN } from './wxt.config';

export default defineConfig({
  plugins: [WxtVitest()],
  // Unit tests run as a store build: no demo backend compiled in (see wxt.config.ts).
  define: { __PACE_DEMO_URL__: JSON.stringify('') },
  // The Dexie build the extension ships.
  resolve: { alias: DEXIE_MODERN },
  test: {
    include: ['tests/unit/**/*.test.{ts,tsx}'],
    setupFiles: ['fake-indexeddb/auto', 'tests/unit/setup.ts'],
    environment: 'node',
    restoreMocks: true,
  },
});
