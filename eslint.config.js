import { readFileSync } from 'node:fs';
import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/**
 * One owner per table: the module that writes it, so every write goes through a named operation.
 * Each table declared in lib/storage/db.ts must be listed here (the config refuses to load otherwise),
 * and a write to it anywhere else in lib/, components/ or entrypoints/ fails lint. Reads are free.
 */
const TABLE_OWNERS = {
  conversations: ['lib/chat/conversation-store.ts'],
  // Two writers: the conversation store adds a send's two messages, restarts one for a retry and
  // deletes them with their conversation; the job store writes the answer as its job moves.
  messages: ['lib/chat/conversation-store.ts', 'lib/queue/job-store.ts'],
  jobs: ['lib/queue/job-store.ts'],
  // Two writers: the limiter's records, and admission counting a send in the transaction that admits it.
  counters: ['lib/limits/limiter-store.ts', 'lib/limits/admit.ts'],
  // One row per key, each with its own writer: limits, pause and server (the limiter store; admission
  // marks the pause's probe used), tokens (token store), cacheBytes (response cache), budget and spend
  // (budget store), templates, gatewayBudget, alerts and budgetAlerts (their modules), devices (browser sync's other devices).
  meta: [
    'lib/limits/limiter-store.ts',
    'lib/limits/admit.ts',
    'lib/limits/token-store.ts',
    'lib/cache/response-cache.ts',
    'lib/limits/budget-store.ts',
    'lib/reach/template-store.ts',
    'lib/usage/gateway-budget.ts',
    'lib/usage/usage-notifications.ts',
    'lib/usage/budget-notifications.ts',
    'lib/sync/devices-store.ts',
  ],
  cache: ['lib/cache/response-cache.ts'],
  usage: ['lib/usage/ledger-store.ts'],
  usageDays: ['lib/usage/ledger-store.ts'],
  usageMonths: ['lib/usage/ledger-store.ts'],
  batches: ['lib/batch/batch-store.ts'],
  attachments: ['lib/attachments/attachment-store.ts'],
};

const DECLARED_TABLES = [
  ...readFileSync(new URL('lib/storage/db.ts', import.meta.url), 'utf8').matchAll(/^\s+(\w+)!: EntityTable</gm),
].map((m) => m[1]);
const unowned = DECLARED_TABLES.filter((t) => !Object.hasOwn(TABLE_OWNERS, t));
const undeclared = Object.keys(TABLE_OWNERS).filter((t) => !DECLARED_TABLES.includes(t));
if (unowned.length > 0 || undeclared.length > 0)
  throw new Error(
    `eslint.config.js TABLE_OWNERS must name the owner of each table in lib/storage/db.ts: unowned ${unowned.join(', ') || '-'}; not declared ${undeclared.join(', ') || '-'}`,
  );

/** The selectors of a write to `table`: its write methods, a query's modify or delete, and the table by another name. */
const tableWrites = (table) =>
  [
    `CallExpression[callee.object.property.name='${table}'][callee.property.name=/^(add|put|upsert|update|delete|clear|bulk(Add|Put|Update|Delete))$/]`,
    `CallExpression[callee.property.name=/^(modify|delete)$/]:has(CallExpression > MemberExpression.callee > MemberExpression.object[property.name='${table}'])`,
    // The table by another name, whose writes the selectors above would not see.
    `CallExpression[callee.property.name='table'][arguments.0.value='${table}']`,
    `MemberExpression[computed=true][property.value='${table}']`,
    `VariableDeclarator:matches([init.name=/db$/i], [init.callee.name='getDb']) > ObjectPattern > Property[key.name='${table}']`,
  ].map((selector) => ({
    selector,
    message: `Only ${TABLE_OWNERS[table].join(' or ')} writes ${table}: call one of its operations.`,
  }));

const OWNER_FILES = [...new Set(Object.values(TABLE_OWNERS).flat())];
/** Every table's writes: what a module that owns no table may not make. */
const TABLE_WRITES = DECLARED_TABLES.flatMap(tableWrites);
/** The writes `file` may not make: those of the tables it does not own. */
const writesOutside = (file) => DECLARED_TABLES.filter((t) => !TABLE_OWNERS[t].includes(file)).flatMap(tableWrites);

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
    // One owner per table (TABLE_OWNERS): a module that owns none writes none.
    files: ['lib/**', 'components/**', 'entrypoints/**'],
    ignores: OWNER_FILES,
    rules: {
      'no-restricted-syntax': ['error', ...TABLE_WRITES],
    },
  },
  // An owner writes its own tables and no other.
  ...OWNER_FILES.map((file) => ({
    files: [file],
    rules: { 'no-restricted-syntax': ['error', ...writesOutside(file)] },
  })),
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
      // Both rules apply to pages: a later config replaces a rule's options, so this one repeats TABLE_WRITES.
      'no-restricted-syntax': [
        'error',
        ...TABLE_WRITES,
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
