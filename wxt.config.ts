import { defineConfig } from 'wxt';
import { inlineStylesheets, startModulesAfterComposer } from './scripts/popup-html';

// The demo backend (tests/support/demo-server.ts) is compiled in only by `npm start`, which sets
// PACE_DEMO_URL and builds into .output/demo; store builds never contain it.
const demoUrl = process.env.PACE_DEMO_URL ?? '';
// The first-word bench's baseline page (entrypoints/bench-firstword) is built only by
// `npm run bench -- firstword`, which sets PACE_BENCH and builds into .output/bench.
const benchBuild = process.env.PACE_BENCH === '1';
/**
 * Dexie's ES2021 build instead of the ES5 one its package gives bundlers (the same version and
 * source, 13 KB smaller in the worker). Every import of 'dexie' goes to it, so each script holds
 * one Dexie; unit tests use it too (vitest.config.ts).
 */
export const DEXIE_MODERN = [{ find: /^dexie$/, replacement: 'dexie/dist/modern/dexie.mjs' }];

const NATIVE_STRUCTURED_CLONE = '\0pace:native-structured-clone';

export default defineConfig({
  modules: ['@wxt-dev/module-react'],
  imports: false,
  // PACE_OUT_DIR lets two builds (say, two people's test runs on one checkout) not overwrite each other.
  outDir: process.env.PACE_OUT_DIR ?? (demoUrl ? '.output/demo' : benchBuild ? '.output/bench' : '.output'),
  hooks: {
    // Every script is minified by terser, two passes, instead of Vite's default esbuild. The worker:
    // 2.8 KB smaller (249,788 -> 246,938 bytes, under issue 10's 250 KB with room). The pages (issue
    // 23): what the popup loads in all, 164,733 -> 159,450 bytes gzip. A third pass, `module` and
    // `ecma: 2020` took off about 100 bytes more for twice the build time: not used.
    'vite:build:extendConfig': (_entrypoints, config) => {
      config.build = { ...config.build, minify: 'terser', terserOptions: { compress: { passes: 2 } } };
    },
    // The popup and the side panel (the same App) are built apart from the options and usage pages
    // (issue 23). Built together, the pages share chunks, and a module any page uses is whole in
    // them: the popup loaded the options' settings checks, protocol and prices with React. Apart,
    // each page's chunks hold only what it imports (React is in both builds' chunks, each page loads
    // one). What the popup loads in all, gzip: 159,450 -> 151,524 bytes.
    'entrypoints:grouped': (_wxt, groups) => {
      const chat = new Set(['popup', 'sidepanel']);
      const pages = groups.find((g) => Array.isArray(g) && g.some((e) => chat.has(e.name)));
      if (!Array.isArray(pages) || pages.every((e) => chat.has(e.name))) return;
      groups.push(pages.filter((e) => chat.has(e.name)));
      groups.splice(
        groups.indexOf(pages),
        1,
        pages.filter((e) => !chat.has(e.name)),
      );
    },
    'entrypoints:resolved': (_wxt, entrypoints) => {
      if (benchBuild) return;
      const at = entrypoints.findIndex((e) => e.name === 'bench-firstword');
      if (at >= 0) entrypoints.splice(at, 1);
    },
  },
  vite: () => ({
    define: { __PACE_DEMO_URL__: JSON.stringify(demoUrl) },
    // No modulepreload polyfill: Chrome has had modulepreload since 66 and Firefox since 115 (Pace
    // asks for 142). The popup's chunk, gzip: 77,636 -> 77,413 bytes.
    build: { modulePreload: { polyfill: false } },
    resolve: { alias: DEXIE_MODERN },
    plugins: [
      {
        // mdast-util-to-hast (the popup's Markdown) clones with @ungap/structured-clone, a polyfill
        // whose default export, given no options as there, calls the browser's structuredClone:
        // every browser Pace supports has it. That call alone, without the polyfill's serializer
        // (issue 23: 1,130 bytes gzip off the popup's Markdown chunk).
        name: 'pace:native-structured-clone',
        enforce: 'pre',
        resolveId: (id) => (id === '@ungap/structured-clone' ? NATIVE_STRUCTURED_CLONE : undefined),
        load: (id) =>
          id === NATIVE_STRUCTURED_CLONE ? 'export default (value) => structuredClone(value);' : undefined,
      },
      {
        name: 'pace:popup-modules-after-composer',
        apply: 'build',
        transformIndexHtml: {
          order: 'post',
          handler: (html, ctx) => {
            if (!/[\\/]popup[\\/]index\.html$/.test(ctx.filename)) return html;
            const asset = (href: string) => {
              const file = ctx.bundle?.[href.replace(/^\//, '')];
              if (file?.type !== 'asset') return undefined;
              return typeof file.source === 'string' ? file.source : new TextDecoder().decode(file.source);
            };
            return inlineStylesheets(startModulesAfterComposer(html), asset);
          },
        },
      },
    ],
  }),
  manifest: ({ browser, manifestVersion }) => {
    const anyOrigin = ['http://*/*', 'https://*/*'];
    return {
      name: 'Pace - Claude within your limits',
      short_name: 'Pace',
      description: 'Chat with Claude from the toolbar with your own API key, inside the request limits you set.',
      // activeTab + scripting: "Ask about this page" and the selection shortcut read the tab the user
      // acted on, and no other; contextMenus: the menu on selected text (docs/guide.md: Permissions).
      permissions: ['storage', 'alarms', 'notifications', 'activeTab', 'scripting', 'contextMenus'],
      // The default API origin is granted at install; any other base URL is asked for from the
      // user's click on the options page.
      ...(manifestVersion === 3
        ? {
            host_permissions: ['https://api.anthropic.com/*'],
            optional_host_permissions: anyOrigin,
          }
        : {
            permissions: [
              'storage',
              'alarms',
              'notifications',
              'activeTab',
              'scripting',
              'contextMenus',
              'https://api.anthropic.com/*',
            ],
            optional_permissions: anyOrigin,
          }),
      action: { default_title: 'Pace' },
      commands: {
        // Taken, so not used: Alt+Shift+A (Chrome's "jump to an unfocused dialog", Dark Reader's site
        // toggle), Alt+Shift+S / Alt+Shift+D (ChromeOS, Dark Reader), and Alt+Shift+P, C and W, which
        // Chromium 156 refuses to assign to an extension. It assigns U, K and Y (checked in
        // tests/e2e/chromium/reach.test.ts); Firefox uses none of them.
        [manifestVersion === 3 ? '_execute_action' : '_execute_browser_action']: {
          suggested_key: { default: 'Alt+Shift+U' },
          description: 'Open Pace',
        },
        ...(browser === 'firefox'
          ? {
              _execute_sidebar_action: {
                suggested_key: { default: 'Alt+Shift+K' },
                description: 'Open Pace in the sidebar',
              },
            }
          : {
              'open-side-panel': {
                suggested_key: { default: 'Alt+Shift+K' },
                description: 'Open Pace in the side panel',
              },
            }),
        'ask-selection': {
          suggested_key: { default: 'Alt+Shift+Y' },
          description: 'Ask Claude about the selected text',
        },
      },
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
