/** Project rule: pages do no storage work (eslint.config.js). Shows the rule catches each way back in. */
import { ESLint } from 'eslint';
import { expect, it } from 'vitest';

const eslint = new ESLint();
// Real files' paths: the type-aware parser only lints files of the project (the text given here stands in for theirs).
const problems = async (code: string, filePath = 'components/settings/SettingsForm.tsx') =>
  (await eslint.lintText(code, { filePath })).flatMap((r) =>
    r.messages.filter((m) => m.ruleId === 'no-restricted-syntax').map((m) => m.message),
  );

it('refuses storage writes, Dexie table access and background-only writes in components/ and the pages', async () => {
  for (const code of [
    "import { settingsItem } from '@/lib/settings/settings-items';\nexport const save = () => settingsItem.setValue({} as never);\n",
    "import { getDb } from '@/lib/storage/db';\nexport const n = () => getDb().cache.count();\n",
    "import { getDb } from '@/lib/storage/db';\nexport const n = () => { const db = getDb(); return db.jobs.toArray(); };\n",
    "import { confirmKeyOrigin } from '@/lib/settings/settings-items';\nexport const yes = confirmKeyOrigin;\n",
  ]) {
    expect(await problems(code), code).toHaveLength(1);
    expect(await problems(code, 'entrypoints/options/App.tsx'), code).toHaveLength(1);
  }
}, 60_000);

it('allows reading through lib/ functions, and the same code in lib/', async () => {
  expect(
    await problems(
      "import { readQueue } from '@/lib/queue/read-queue';\nimport { getDb } from '@/lib/storage/db';\nexport const q = () => readQueue(getDb());\n",
    ),
  ).toEqual([]);
  expect(
    await problems(
      "import { settingsItem } from './settings-items';\nexport const save = () => settingsItem.setValue({} as never);\n",
      'lib/settings/settings-items.ts',
    ),
  ).toEqual([]);
}, 60_000);

it('finds no storage work in the components and pages as they are', async () => {
  const results = await eslint.lintFiles([
    'components',
    'entrypoints/popup',
    'entrypoints/options',
    'entrypoints/usage',
  ]);
  expect(
    results.flatMap((r) =>
      r.messages.filter((m) => m.ruleId === 'no-restricted-syntax').map((m) => `${r.filePath}: ${m.message}`),
    ),
  ).toEqual([]);
}, 60_000);
