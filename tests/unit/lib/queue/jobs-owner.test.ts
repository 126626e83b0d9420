/** Project rule: only lib/queue/job-store.ts writes `jobs` (eslint.config.js). Shows the rule catches each way in. */
import { ESLint } from 'eslint';
import { expect, it } from 'vitest';

const eslint = new ESLint();
// A real file's path: the type-aware parser only lints files of the project (the text given here stands in for its own).
const problems = async (body: string, filePath = 'lib/queue/scheduler.ts') =>
  (await eslint.lintText(`import type { PaceDB } from '@/lib/storage/db';\n${body}\n`, { filePath })).flatMap((r) =>
    r.messages.filter((m) => m.ruleId === 'no-restricted-syntax').map((m) => m.message),
  );

it('refuses writes to jobs outside the job store, however the table is reached, and allows reads', async () => {
  const writes = [
    "export const w = (db: PaceDB) => db.jobs.update('a', { state: 'done' });",
    "export const w = (db: PaceDB) => db.jobs.upsert('a', { state: 'done' });",
    "export const w = (db: PaceDB) => db.jobs.where('state').equals('queued').modify({ state: 'done' });",
    "export const w = (db: PaceDB) => db.table('jobs').clear();",
    "export const w = (db: PaceDB) => db['jobs'].clear();",
    'export const w = (db: PaceDB) => { const { jobs } = db; return jobs.clear(); };',
  ];
  for (const body of writes)
    expect(await problems(body), body).toEqual([
      'Only lib/queue/job-store.ts writes jobs: call one of its operations.',
    ]);
  expect(await problems(writes[0]!, 'lib/queue/job-store.ts')).toEqual([]);
  expect(await problems("export const r = (db: PaceDB) => db.jobs.where('state').equals('queued').toArray();")).toEqual(
    [],
  );
}, 60_000);
