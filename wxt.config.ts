import { defineConfig } from 'wxt';

// The demo backend (tests/support/demo-server.ts) is compiled in only by `npm start`, which sets
// PACE_DEMO_URL and builds into .output/demo; store builds never contain it.
const demoUrl = process.env.PACE_DEMO_URL ?? '';
// The first-word bench's baseline page (entrypoints/bench-firstword) is built only by
// `npm run bench -- firstword`, which sets PACE_BENCH and builds into .output/bench.
const benchBuild = process.env.PACE_BENCH === '1';

export default defineConfig({
  modules: ['@wxt-dev/module-react'],
  imports: false,
  // PACE_OUT_DIR lets two builds (say, two people's test runs on one checkout) not overwrite each other.
  outDir: process.env.PACE_OUT_DIR ?? (demoUrl ? '.output/demo' : benchBuild ? '.output/bench' : '.output'),
  hooks: {
    'entrypoints:resolved': (_wxt, entrypoints) => {
      if (benchBuild) return;
      const at = entrypoints.findIndex((e) => e.name === 'bench-firstword');
      if (at >= 0) entrypoints.splice(at, 1);
    },
  },
  vite: () => ({
    define: { __PACE_DEMO_URL__: JSON.stringify(demoUrl) },
  }),
  manifest: ({ browser, manifestVersion }) => {
    const anyOrigin = ['http://*/*', 'https://*/*'];
    return {
      name: 'Pace - Claude within your limits',
      short_name: 'Pace',
      description:
        'Chat with Claude from the toolbar with your own API key, inside the request limits you set.',
      permissions: ['storage', 'alarms', 'notifications'],
      // The default API origin is granted at install; any other base URL is asked for from the
      // user's click on the options page.
      ...(manifestVersion === 3
        ? {
            host_permissions: ['https://api.anthropic.com/*'],
            optional_host_permissions: anyOrigin,
          }
        : {
            permissions: ['storage', 'alarms', 'notifications', 'https://api.anthropic.com/*'],
            optional_permissions: anyOrigin,
          }),
      action: { default_title: 'Pace' },
      ...(browser === 'firefox'
        ? {
            browser_specific_settings: {
              gecko: {
                id: 'pace@pace-extension.org',
                strict_min_version: '142.0',
                data_collection_permissions: { required: ['none'] },
              },
            },
          }
        : {}),
    };
  },
});
