/** Project rule: each Dexie table has its owners (eslint.config.js TABLE_OWNERS), and no other module writes it. */
import { ESLint } from 'eslint';
import { expect, it } from 'vitest';
import { PaceDB } from '@/lib/storage/db';

const eslint = new ESLint();
// Real files' paths: the type-aware parser only lints files of the project (the text given here stands in for its own).
const problems = async (body: string, filePath: string) =>
  (await eslint.lintText(`import type { PaceDB } from '@/lib/storage/db';\n${body}\n`, { filePath })).flatMap((r) =>
    r.messages.filter((m) => m.ruleId === 'no-restricted-syntax').map((m) => m.message),
  );

const OWNERS: Record<string, string> = {
  conversations: 'lib/chat/conversation-store.ts',
  messages: 'lib/queue/job-store.ts',
  jobs: 'lib/queue/job-store.ts',
  counters: 'lib/limits/limiter-store.ts',
  meta: 'lib/limits/budget-store.ts',
  cache: 'lib/cache/response-cache.ts',
  usage: 'lib/usage/ledger-store.ts',
  usageDays: 'lib/usage/ledger-store.ts',
  usageMonths: 'lib/usage/ledger-store.ts',
  batches: 'lib/batch/batch-store.ts',
  attachments: 'lib/attachments/attachment-store.ts',
};

it('names an owner for every table of the schema', () => {
  expect(Object.keys(OWNERS).sort()).toEqual(new PaceDB('owners-test').tables.map((t) => t.name).sort());
});

it('refuses a write to each table outside its owners, and lets its owner write it', async () => {
  for (const [table, owner] of Object.entries(OWNERS)) {
    const write = `export const w = (db: PaceDB) => db.${table}.clear();`;
    const elsewhere = await problems(write, 'lib/queue/scheduler.ts');
    expect(elsewhere, table).toHaveLength(1);
    expect(elsewhere[0], table).toMatch(new RegExp(`^Only .*${owner.replace(/\./g, '\\.')}.* writes ${table}:`));
    expect(await problems(write, owner), table).toEqual([]);
    // An owner of one table is refused another's writes.
    const other = table === 'batches' ? 'jobs' : 'batches';
    expect(await problems(`export const w = (db: PaceDB) => db.${other}.clear();`, owner), table).toHaveLength(1);
  }
}, 120_000);

it('allows reads anywhere', async () => {
  expect(
    await problems(
      'export const r = (db: PaceDB) => Promise.all([db.meta.bulkGet(["a"]), db.usageMonths.get("m"), db.messages.count()]);',
      'lib/queue/scheduler.ts',
    ),
  ).toEqual([]);
}, 60_000);
