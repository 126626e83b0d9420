import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['.output/**', '.wxt/**', 'node_modules/**', 'test-results/**', '.tmp/**'] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
    rules: {
      'no-empty': ['error', { allowEmptyCatch: false }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    files: ['**/*.tsx', 'components/**/*.ts'],
    plugins: { 'react-hooks': reactHooks },
    rules: { 'react-hooks/rules-of-hooks': 'error', 'react-hooks/exhaustive-deps': 'error' },
  },
  {
    // The engine never depends on the UI or on entrypoints.
    files: ['lib/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@/entrypoints/*', '~/entrypoints/*', '**/entrypoints/*', '../entrypoints/*'], message: 'lib/ must not import entrypoints/.' },
            { group: ['@/components/*', '~/components/*', '**/components/*', '../components/*'], message: 'lib/ must not import components/.' },
            { group: ['react', 'react-dom', 'react/*', 'zustand'], message: 'lib/ is free of React and UI state.' },
          ],
        },
      ],
    },
  },
  {
    // Pages never touch background-only modules: the key, the runner, the SDK client.
    files: ['components/**', 'entrypoints/popup/**', 'entrypoints/options/**', 'entrypoints/usage/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@/lib/background/*', '**/lib/background/*'], message: 'Background-only module: talk to it through lib/protocol.ts.' },
            { group: ['@/lib/claude/client', '@/lib/claude/errors', '**/lib/claude/client', '**/lib/claude/errors', '@anthropic-ai/sdk', '@anthropic-ai/sdk/*'], message: 'Only the background calls the API.' },
          ],
        },
      ],
    },
  },
  {
    // Pages do no storage work: they read through lib/ functions and write through the background.
    files: ['components/**', 'entrypoints/popup/**', 'entrypoints/options/**', 'entrypoints/usage/**'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.property.name='setValue']",
          message: 'Pages do not write storage items: send the background a request (lib/protocol.ts), which checks and saves.',
        },
        {
          selector: "MemberExpression[object.type='CallExpression'][object.callee.name='getDb']",
          message: 'Pages do not touch Dexie tables: pass getDb() to a lib/ function that reads them.',
        },
        {
          selector: "VariableDeclarator[init.type='CallExpression'][init.callee.name='getDb']",
          message: 'Pages do not touch Dexie tables: pass getDb() to a lib/ function that reads them.',
        },
        {
          selector: "ImportSpecifier[imported.name=/^(confirmKeyOrigin|storedPrefs|storedPromptCacheModes)$/]",
          message: 'Background-only storage write: send the background a request (lib/protocol.ts).',
        },
      ],
    },
  },
);
