import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** Writes to the `jobs` table: only lib/queue/job-store.ts makes them. */
const JOBS_WRITES = [
  "CallExpression[callee.object.property.name='jobs'][callee.property.name=/^(add|put|upsert|update|delete|clear|bulk\\w*)$/]",
  "CallExpression[callee.property.name=/^(modify|delete)$/]:has(CallExpression > MemberExpression.callee > MemberExpression.object[property.name='jobs'])",
  // The table by another name, whose writes the selectors above would not see.
  "CallExpression[callee.property.name='table'][arguments.0.value='jobs']",
  "MemberExpression[computed=true][property.value='jobs']",
  "VariableDeclarator:matches([init.name=/db$/i], [init.callee.name='getDb']) > ObjectPattern > Property[key.name='jobs']",
].map((selector) => ({ selector, message: 'Only lib/queue/job-store.ts writes jobs: call one of its operations.' }));

export default tseslint.config(
  { ignores: ['.output/**', '.wxt/**', 'node_modules/**', 'test-results/**', '.tmp/**'] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  ...tseslint.configs.recommendedTypeCheckedOnly,
  {
    languageOptions: {
      globals: { ...globals.browser, ...globals.node },
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      'no-empty': ['error', { allowEmptyCatch: false }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    // Test fakes stand in for async interfaces with bodies that need no await (`async () => value`).
    files: ['tests/**'],
    rules: { '@typescript-eslint/require-await': 'off' },
  },
  {
    // The plain JS files (this config, scripts/*.mjs) are outside the type-checked program.
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
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
            {
              group: ['@/entrypoints/*', '~/entrypoints/*', '**/entrypoints/*', '../entrypoints/*'],
              message: 'lib/ must not import entrypoints/.',
            },
            {
              group: ['@/components/*', '~/components/*', '**/components/*', '../components/*'],
              message: 'lib/ must not import components/.',
            },
            { group: ['react', 'react-dom', 'react/*', 'zustand'], message: 'lib/ is free of React and UI state.' },
          ],
        },
      ],
    },
  },
  {
    // Pages never touch background-only modules: the key, the runner, the SDK client.
    files: [
      'components/**',
      'entrypoints/popup/**',
      'entrypoints/sidepanel/**',
      'entrypoints/options/**',
      'entrypoints/usage/**',
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                '@/lib/background/*',
                '**/lib/background/*',
                '@/lib/key/key-*',
                '**/lib/key/key-*',
                '**/chat-runner',
                '**/batch-runner',
                '**/read-ahead',
                '**/cached-answers',
                '**/measure-job',
                '**/stored-settings',
                '**/base-url-watch',
                '**/reach-menus',
                '**/*-notifications',
                '**/gateway-key-info',
                '**/badge-updater',
              ],
              message: 'Background-only module: talk to it through lib/protocol.ts.',
            },
            {
              group: [
                '@/lib/claude/client',
                '@/lib/claude/errors',
                '**/lib/claude/client',
                '**/lib/claude/errors',
                '@anthropic-ai/sdk',
                '@anthropic-ai/sdk/*',
              ],
              message: 'Only the background calls the API.',
            },
          ],
        },
      ],
    },
  },
  {
    // One owner per record type: only the job store writes the `jobs` table (see lib/queue/job-store.ts).
    files: ['lib/**', 'components/**', 'entrypoints/**'],
    ignores: ['lib/queue/job-store.ts'],
    rules: {
      'no-restricted-syntax': ['error', ...JOBS_WRITES],
    },
  },
  {
    // Pages do no storage work: they read through lib/ functions and write through the background.
    files: [
      'components/**',
      'entrypoints/popup/**',
      'entrypoints/sidepanel/**',
      'entrypoints/options/**',
      'entrypoints/usage/**',
    ],
    rules: {
      // Both rules apply to pages: a later config replaces a rule's options, so this one repeats JOBS_WRITES.
      'no-restricted-syntax': [
        'error',
        ...JOBS_WRITES,
        {
          selector: "CallExpression[callee.property.name='setValue']",
          message:
            'Pages do not write storage items: send the background a request (lib/protocol.ts), which checks and saves.',
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
          selector: 'ImportSpecifier[imported.name=/^(confirmKeyOrigin|storedPrefs|storedPromptCacheModes)$/]',
          message: 'Background-only storage write: send the background a request (lib/protocol.ts).',
        },
      ],
    },
  },
);
